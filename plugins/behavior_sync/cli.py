"""Command line of Behavior Sync (no Airflow needed).

python -m behavior_sync validate [FILES...]      check behavior and import files; exit 1 if any is invalid
python -m behavior_sync demo-warehouse [...]     (re)generate the demo DuckDB warehouse
python -m behavior_sync history [...]            print recent sync history
python -m behavior_sync identify [...] VALUE     how one identifier is validated, normalized and sent
python -m behavior_sync reconcile BEHAVIOR [...] read back the destinations and record (or --repair) the drift
python -m behavior_sync health VIEW [...]        audience health: growth, churn, entries/exits, age, overlap
python -m behavior_sync performance [...]        campaign performance per behavior (table, JSON or CSV)
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from behavior_sync import config, imports
from behavior_sync.cli_args import add_state_url
from behavior_sync.config import Behavior, BehaviorFileError, display_path, load_behavior
from behavior_sync.file_guard import load_slot
from behavior_sync.file_slots import FileSlot, assign_slots, slot_in_folder, yaml_files
from behavior_sync.identity.spec import behavior_warnings
from behavior_sync.imports import ImportSpec, load_import
from behavior_sync.paths import behaviors_dir, default_data_dir, imports_dir


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    return int(args.handler(args))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m behavior_sync", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    validate = sub.add_parser(
        "validate", help="check behavior and import files as Airflow builds them (schema, cross-field rules, DAG ids)"
    )
    validate.add_argument(
        "files",
        nargs="*",
        type=Path,
        help="files to check, each next to the other files of its folder; files in the imports folder are import "
        "files (default: every file in include/behaviors and include/imports)",
    )
    validate.set_defaults(handler=_validate)
    demo = sub.add_parser("demo-warehouse", help="generate the demo DuckDB warehouse (deterministic per seed and date)")
    demo.add_argument("--path", type=Path, default=default_data_dir() / "warehouse.duckdb")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        default=dt.datetime.now(dt.UTC).date(),
        help="last day of data, YYYY-MM-DD (default: today, UTC); a later date simulates churn",
    )
    demo.add_argument("--customers", type=int, default=100_000)
    demo.set_defaults(handler=_demo_warehouse)
    history = sub.add_parser("history", help="print recent sync history, newest first")
    history.add_argument("--behavior", help="only this behavior (slug)")
    history.add_argument("--destination", help="only this destination id")
    history.add_argument("--last", type=int, default=20, help="number of rows (default 20)")
    add_state_url(history)
    history.set_defaults(handler=_history)
    _add_identify(sub)
    from behavior_sync.health_cli import register as add_health_command
    from behavior_sync.hubspot_cli import add_hubspot_commands
    from behavior_sync.performance_cli import register as add_performance_command
    from behavior_sync.reconcile_cli import add_reconcile_command

    add_hubspot_commands(sub)
    add_reconcile_command(sub)
    add_health_command(sub)
    add_performance_command(sub)
    return parser


def _add_identify(sub: Any) -> None:
    from behavior_sync.identity.identify import CLI_FIELDS, DESTINATIONS

    identify = sub.add_parser(
        "identify",
        help="validate one identifier and show what a destination receives (exit 1 when invalid)",
        description="Runs VALUE through the same validation, normalization and hashing as a behavior run and "
        "prints the verdict (valid or a reason code), the normalized form and the value sent (the SHA-256 hex "
        "where the destination hashes).",
    )
    identify.add_argument("--destination", required=True, choices=sorted(DESTINATIONS))
    identify.add_argument("--field", required=True, choices=sorted(CLI_FIELDS))
    identify.add_argument("--country", help="the member's country (code or name): phone region, postal code shape")
    identify.add_argument("--default-region", default="US", help="phone region when no --country (default US)")
    identify.add_argument("value", metavar="VALUE")
    identify.set_defaults(handler=_identify)


def _identify(args: argparse.Namespace) -> int:
    from behavior_sync.identity.identify import identify

    verdict = identify(args.destination, args.field, args.value, args.country, args.default_region)
    print("\n".join(verdict.lines()))
    return 0 if verdict.valid else 1


def _validate(args: argparse.Namespace) -> int:
    targets = _validation_targets(args.files)
    if not targets:
        print("no behavior or import files found", file=sys.stderr)
        return 1
    invalid = sum(not _report(slot, is_import) for slot, is_import in targets)
    print(f"{len(targets) - invalid} valid, {invalid} invalid", file=sys.stderr if invalid else sys.stdout)
    return 1 if invalid else 0


def _validation_targets(files: Sequence[Path]) -> list[tuple[FileSlot, bool]]:
    """(slot, is an import file) of each file to check, with the DAG id and collisions Airflow sees in its folder."""
    if not files:
        behavior_slots = assign_slots(yaml_files(behaviors_dir()), config.PREFIX)
        import_slots = assign_slots(yaml_files(imports_dir()), imports.PREFIX)
        return [(slot, False) for slot in behavior_slots] + [(slot, True) for slot in import_slots]
    folder = imports_dir().absolute()
    is_import = [path.absolute().parent == folder for path in files]
    prefixes = [imports.PREFIX if flag else config.PREFIX for flag in is_import]
    return [(slot_in_folder(p, prefix), flag) for p, prefix, flag in zip(files, prefixes, is_import, strict=True)]


def _report(slot: FileSlot, is_import: bool) -> bool:
    """Print the file's verdict (problems on stderr); True when it is valid."""
    outcome: Behavior | ImportSpec | BehaviorFileError = load_slot(slot, load_import if is_import else load_behavior)
    if isinstance(outcome, BehaviorFileError):
        print(outcome, file=sys.stderr)
        return False
    path = display_path(slot.path)
    if isinstance(outcome, ImportSpec):
        print(f"{path}: ok ({outcome.dag_id})")
        return True
    print(f"{path}: ok ({outcome.dag_id}, {len(outcome.destinations)} destination(s))")
    for warning in behavior_warnings(outcome):
        print(f"{path}: warning: {warning}", file=sys.stderr)
    return True


def _demo_warehouse(args: argparse.Namespace) -> int:
    from behavior_sync.demo_warehouse import generate_demo_warehouse  # heavy: only for this command

    summary = generate_demo_warehouse(args.path, seed=args.seed, as_of=args.as_of, customers=args.customers)
    print(
        f"demo warehouse {summary.path}: {summary.customer_rows:,} customer rows, {summary.order_rows:,} orders, "
        f"{summary.browse_rows:,} browse events (seed {summary.seed}, as of {summary.as_of}) in {summary.seconds:.1f} s"
    )
    return 0


HISTORY_COLUMNS = (
    "finished_at",
    "behavior",
    "destination_id",
    "status",
    "extracted_rows",
    "adds",
    "removes",
    "acknowledged",
    "rejected",
    "audience_size",
    "run_id",
    "message",
)


def _history(args: argparse.Namespace) -> int:
    from behavior_sync.history import HistoryStore

    store = HistoryStore(args.state_url)
    try:
        store.ensure_schema()
        records = store.recent(behavior=args.behavior, destination_id=args.destination, limit=args.last)
    finally:
        store.close()
    rows = [[_cell(getattr(r, c)) for c in HISTORY_COLUMNS] for r in records]
    print(format_table(HISTORY_COLUMNS, rows) if rows else "no sync history yet")
    return 0


def _cell(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return "" if value is None else str(value)


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]], max_width: int = 60) -> str:
    """Plain-text table with columns padded to their widest cell (cells cut at ``max_width``)."""
    cut = [[c if len(c) <= max_width else c[: max_width - 1] + "…" for c in row] for row in [list(header), *rows]]
    widths = [max(len(row[i]) for row in cut) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cut]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])
