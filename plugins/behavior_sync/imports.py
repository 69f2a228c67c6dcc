"""Import files (``include/imports/<name>.yaml``): a HubSpot list's membership read into a warehouse table.

Each valid file becomes DAG ``import__<name>``; the schema ``include/schemas/import.schema.json``
is the truth for the fields. Loading never raises for a bad file: it is returned with its problems.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from behavior_sync.config import BehaviorFileError
from behavior_sync.paths import imports_dir
from behavior_sync.schema_validation import parse_yaml, read_text, validate_with_defaults


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

    @property
    def dag_id(self) -> str:
        """``import__<name>``."""
        return f"import__{self.name}"


def load_import(path: Path) -> ImportSpec:
    """One import file; raises ``BehaviorFileError`` naming the file and its problems."""
    text, problems = read_text(path)
    document, yaml_problems = parse_yaml(text) if text is not None else (None, [])
    problems += yaml_problems
    if not problems:
        document, problems = validate_with_defaults(document, "import.schema.json")
    if problems or not isinstance(document, dict):
        raise BehaviorFileError(path, problems)
    return ImportSpec(path.stem, **{k: document[k] for k in ImportSpec.__dataclass_fields__ if k != "name"})


def load_imports(folder: Path | None = None) -> tuple[list[ImportSpec], list[BehaviorFileError]]:
    """Every ``*.yaml`` import file of ``folder`` (default ``include/imports``), sorted; bad files as errors."""
    specs, errors = [], []
    for path in sorted((folder or imports_dir()).glob("*.yaml")):
        try:
            specs.append(load_import(path))
        except BehaviorFileError as exc:
            errors.append(exc)
    return specs, errors
