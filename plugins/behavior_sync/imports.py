"""Import files (``include/imports/<name>.yaml``): a HubSpot list's membership read into a warehouse table.

Each valid file becomes DAG ``import__<name>``; the schema ``include/schemas/import.schema.json``
is the truth for the fields. Loading never raises for a bad file: it is returned with its problems,
under the same isolation, bounds and file-name rules as behavior files (ADR 0012).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from behavior_sync.config import BehaviorFileError, cron_problem
from behavior_sync.file_guard import load_files
from behavior_sync.file_slots import assign_slots, dag_id, name_problem, yaml_files
from behavior_sync.paths import imports_dir
from behavior_sync.schema_validation import Problem, validate_with_defaults
from behavior_sync.yaml_loading import read_document

PREFIX = "import"
CRON_PRESETS = frozenset({"@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly"})


@dataclass(frozen=True)
class ImportSpec:
    """One import: the list (by name) in a HubSpot connection's portal, the warehouse table it fills."""

    name: str
    description: str
    schedule: str | None
    connection: str
    list_name: str
    warehouse: str
    table: str
    source_file: Path = field(compare=False)

    @property
    def dag_id(self) -> str:
        """``import__<name>``."""
        return dag_id(PREFIX, self.name)


def load_import(path: Path) -> ImportSpec:
    """One import file; raises ``BehaviorFileError`` naming the file and its problems (see ``load_slot``)."""
    document, problems = read_document(path)
    if not problems:
        document, problems = validate_with_defaults(document, "import.schema.json")
    if not problems and isinstance(document, dict):
        problems = _name_and_schedule_problems(path, document.get("schedule"))
    if problems or not isinstance(document, dict):
        raise BehaviorFileError(path, problems)
    fields = {k: document[k] for k in ImportSpec.__dataclass_fields__ if k not in {"name", "source_file"}}
    return ImportSpec(path.stem, source_file=path, **fields)


def load_imports(folder: Path | None = None) -> tuple[list[ImportSpec], list[BehaviorFileError]]:
    """Every import file of ``folder`` (default ``include/imports``), sorted; bad files as errors with DAG ids."""
    return load_files(assign_slots(yaml_files(folder or imports_dir()), PREFIX), load_import)


def _name_and_schedule_problems(path: Path, schedule: str | None) -> list[Problem]:
    problems = [Problem("name", problem)] if (problem := name_problem(path)) is not None else []
    if schedule is not None and schedule not in CRON_PRESETS and (problem := cron_problem(schedule)) is not None:
        problems.append(Problem("schedule", f"{schedule!r} is not null, one of {sorted(CRON_PRESETS)} or {problem}"))
    return problems
