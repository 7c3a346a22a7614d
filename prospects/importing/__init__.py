"""Importing CRM exports (CSV or Excel) through a declarative mapping (docs/import.md).

No CRM exports the canonical extract of docs/data.md. A mapping file (TOML) says, without
code, how the columns of one or more exports become the nine canonical tables. The
stages, one module each, in the order an import runs them:

* :mod:`.mapping` reads the mapping file into the objects of :mod:`.spec` and checks it
  (:mod:`.valuespec`: the value specs, their modifiers and conditions);
* :mod:`.sources` reads each source (a CSV file or an Excel sheet) as text;
* :mod:`.values` parses values — maps, dates, amounts, lookups — and :mod:`.evaluate`
  evaluates each value spec over the rows of a source;
* :mod:`.build` builds the target tables (:mod:`.names`: the org tree, people and
  entities made from names, :mod:`.logins` their logins; :mod:`.cells`: rows under
  construction);
* :mod:`.result` validates them with every rule of the contract
  (:func:`prospects.loading.validate_tables`) and reconciles each source row;
* :mod:`.report` writes what ``--check`` and an import print; :mod:`.command` loads
  (atomically, :func:`prospects.db.replace_all`) and runs ``prospects import``;
  :mod:`.drop` runs the nightly import of a drop folder (``--from-folder``).

Nothing is lost silently: a value the mapping cannot turn into a contract value
rejects the target row it belongs to, with the source file, row and column; rows read
= rows imported + rows rejected for each source, and loading's counts per table.
"""

from __future__ import annotations

from .build import Built, MappingIssue, build
from .command import ImportFailed, import_command, import_crm, import_into, run_import_command
from .drop import run_from_folder
from .mapping import read_mapping
from .report import check_report, format_issues, format_source_counts, summary
from .result import (
    SOURCE_REJECT_COLUMNS,
    ImportResult,
    SourceCount,
    default_rejects_path,
    prepare,
    write_rejects,
)
from .sources import Source, read_source, source_files
from .spec import NO_DOCUMENT, ImportMapping, MappingError

__all__ = [
    "NO_DOCUMENT",
    "SOURCE_REJECT_COLUMNS",
    "Built",
    "ImportFailed",
    "ImportMapping",
    "ImportResult",
    "MappingError",
    "MappingIssue",
    "Source",
    "SourceCount",
    "build",
    "check_report",
    "default_rejects_path",
    "format_issues",
    "format_source_counts",
    "import_command",
    "import_crm",
    "import_into",
    "prepare",
    "read_mapping",
    "read_source",
    "run_from_folder",
    "run_import_command",
    "source_files",
    "summary",
    "write_rejects",
]
