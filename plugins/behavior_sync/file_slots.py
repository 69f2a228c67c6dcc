"""Which DAG id each behavior or import file gets, decided from the folder's file names alone (ADR 0012).

* A file named ``<slug>.yaml`` (slug: ``[a-z][a-z0-9_]{1,62}``) gets ``<prefix>__<slug>``, valid or broken
  (a broken one becomes a placeholder under that id, so its history stays attached).
* ``.yaml`` is the canonical extension: ``x.yml`` next to ``x.yaml`` is refused, naming both files, and
  so is a badly named file whose name normalizes to a slug another file holds (``value hunters.yaml``
  next to ``value_hunters.yaml``). The holder keeps its DAG (whether it is valid or not: a good DAG is
  never replaced, and nothing shares its state); the refused file is never read.
* Any other file (refused, or named with spaces, capitals, dashes, 241+ characters...) gets a placeholder id
  ``<prefix>__<name with [^A-Za-z0-9_] as _, cut to 60>-<10 hex of the name's SHA-256>``: always a valid
  Airflow id (at most 81 characters), and never a good DAG's id, since a slug holds no ``-``.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from behavior_sync.schema_validation import Problem

SLUG_PATTERN = re.compile(r"[a-z][a-z0-9_]{1,62}")
SUFFIXES = (".yaml", ".yml")
_NOT_ID = re.compile(r"[^A-Za-z0-9_]")
_NOT_SLUG = re.compile(r"[^a-z0-9_]")


@dataclass(frozen=True)
class FileSlot:
    """A file and the DAG id it gets; ``refusal`` says why the file is not used whatever it contains."""

    path: Path
    dag_id: str
    refusal: Problem | None = None


def dag_id(prefix: str, name: str) -> str:
    """``<prefix>__<name>``: the DAG id of a file's name (``behavior``, ``import``)."""
    return f"{prefix}__{name}"


def yaml_files(folder: Path) -> list[Path]:
    """The ``.yaml``/``.yml`` files of ``folder`` (suffix in any case, hidden files ignored), sorted by name."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES and not p.name.startswith("."))


def name_problem(path: Path) -> str | None:
    """Why the file's name cannot name a DAG (None when it can)."""
    if path.suffix not in SUFFIXES:
        return f"the file name {_shown(path.name)} must end in .yaml"
    if not SLUG_PATTERN.fullmatch(path.stem):
        return f"the file name {_shown(path.stem)} is not a valid slug (2-63 lowercase letters, digits, _)"
    return None


def _shown(name: str) -> str:
    """``name`` quoted and escaped (``repr``), its first 60 characters only when longer."""
    return repr(name) if len(name) <= 60 else f"{name[:60]!r}… ({len(name)} characters)"


def assign_slots(paths: Iterable[Path], prefix: str) -> list[FileSlot]:
    """The slot of every file of one folder, in the order of ``paths`` (pure: no file is read)."""
    ordered = sorted(paths, key=_claim_order)
    holders: dict[str, Path] = {}
    for path in ordered:
        if name_problem(path) is None:
            holders.setdefault(dag_id(prefix, path.stem), path)
    slots = {path: _slot(path, prefix, holders) for path in ordered}
    return [slots[path] for path in paths]


def slot_in_folder(path: Path, prefix: str) -> FileSlot:
    """The slot ``path`` gets next to the other files of its folder (what Airflow would give it)."""
    siblings = [p for p in yaml_files(path.parent) if p.name != path.name]
    return assign_slots([*siblings, path], prefix)[-1]


def placeholder_dag_id(path: Path, prefix: str) -> str:
    """The DAG id of a file that cannot hold its own name's id (see the module docstring)."""
    digest = hashlib.sha256(os.fsencode(path.name)).hexdigest()[:10]
    return dag_id(prefix, f"{_NOT_ID.sub('_', path.stem)[:60]}-{digest}")


def _claim_order(path: Path) -> tuple[str, bool, str]:
    return path.stem, path.suffix != ".yaml", path.name


def _slot(path: Path, prefix: str, holders: dict[str, Path]) -> FileSlot:
    wanted = dag_id(prefix, _NOT_SLUG.sub("_", path.stem.lower()))
    holder = holders.get(wanted)
    if holder == path:
        return FileSlot(path, wanted)
    refusal = None
    if holder is not None:
        mine, theirs = _shown(path.name), _shown(holder.name)
        refusal = Problem(
            "",
            f"{mine} is ignored: {theirs} already has DAG {wanted} ({mine} would replace it and share its "
            "state); delete or rename one of the two files",
        )
    return FileSlot(path, placeholder_dag_id(path, prefix), refusal)
