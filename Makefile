# prospects — run `make help` for the list of targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DB ?= data/prospects.db
PYTEST_ARGS ?=

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "; printf "Targets:\n"} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/prospects: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	@touch $@

HUB_PROXY := node_modules/.bin/configurable-http-proxy

# JupyterHub's proxy (npm), for the Hub tests and benchmarks: the version of package-lock.json, in node_modules/
# (without npm: one line saying so, and the Hub tests skip, or fail in CI; make system-deps installs it)
$(HUB_PROXY): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "make: npm not found, configurable-http-proxy not installed (make system-deps installs nodejs and npm)"; fi

.PHONY: hub-proxy
hub-proxy: $(HUB_PROXY) ## Install configurable-http-proxy (npm, package-lock.json) for the JupyterHub tests

.PHONY: install
install: $(BIN)/prospects $(HUB_PROXY) ## Create the virtual environment and install the package with its test tools (configurable-http-proxy too)

.PHONY: system-deps
system-deps: ## Install the Debian packages the tests drive (postgresql, chromium, nginx, nodejs) when missing
	@bash .ci/system-deps.sh

$(DB): | $(BIN)/prospects
	$(BIN)/prospects --db sqlite:///$(abspath $(DB)) demo --size small

.PHONY: demo
demo: $(DB) ## Create the small demo database (data/prospects.db) if it is missing

PORT ?= 8866
DASHBOARD_USER ?=

.PHONY: dashboard
dashboard: install demo ## Set up everything and serve the dashboard on http://127.0.0.1:8866 as a demo validator (the main job)
	$(BIN)/prospects --db sqlite:///$(abspath $(DB)) serve --auth local --port $(PORT) $(if $(DASHBOARD_USER),--user $(DASHBOARD_USER))

.PHONY: test
# system-deps first: npm must be there before install's configurable-http-proxy (make builds a target once per run)
test: system-deps install ## Run the whole test suite (SQLite, PostgreSQL, browser, JupyterHub)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

.PHONY: lint
lint: install ## Lint with ruff
	$(BIN)/ruff check prospects tests bench

.PHONY: format
format: install ## Format imports and fix what ruff can fix
	$(BIN)/ruff check --fix prospects tests bench

.PHONY: bench
bench: system-deps install ## Run every benchmark (figure store, dashboard, serving, reports, import; writes docs/performance.md)
	$(BIN)/python bench/figures.py
	$(BIN)/python bench/dashboard.py --sizes small medium large
	$(BIN)/python bench/serving.py
	$(BIN)/python bench/reports.py
	$(BIN)/python bench/importing.py

.PHONY: clean
clean: ## Remove the virtual environment, demo database and caches
	rm -rf $(VENV) data node_modules .pytest_cache .ruff_cache .hypothesis
