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

.PHONY: install
install: $(BIN)/prospects ## Create the virtual environment and install the package with its test tools

.PHONY: system-deps
system-deps: ## Install the Debian packages the tests drive (postgresql, chromium) when missing
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
test: install system-deps ## Run the whole test suite (SQLite, PostgreSQL, browser)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

.PHONY: lint
lint: install ## Lint with ruff
	$(BIN)/ruff check prospects tests bench

.PHONY: format
format: install ## Format imports and fix what ruff can fix
	$(BIN)/ruff check --fix prospects tests bench

.PHONY: bench
bench: install ## Run every benchmark (figure store, dashboard, serving, reports, import; writes docs/performance.md)
	$(BIN)/python bench/figures.py
	$(BIN)/python bench/dashboard.py --sizes small medium large
	$(BIN)/python bench/serving.py
	$(BIN)/python bench/reports.py
	$(BIN)/python bench/importing.py

.PHONY: clean
clean: ## Remove the virtual environment, demo database and caches
	rm -rf $(VENV) data .pytest_cache .ruff_cache .hypothesis
