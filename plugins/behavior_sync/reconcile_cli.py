"""``python -m behavior_sync reconcile BEHAVIOR [--destination ID] [--repair] [--latest] [--json]``.

Reads back what each destination of the behavior holds now (whatever its reconcile schedule), compares it with
the committed state, records the drift in the state database and prints it; ``--repair`` queues the repair that
the behavior's next DAG run sends (docs/adr/0015). ``--latest`` prints the newest recorded check of each
destination without calling any vendor. Connections are read as the other commands read them
(``AIRFLOW_CONN_<ID>`` or ``airflow connections get``). Webhooks fire from DAG runs only. Exit code 1 when a
destination is in drift (or the behavior cannot be loaded), else 0. Counts only: no value is ever printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

from behavior_sync.cli_args import add_state_url

COLUMNS = ("destination_id", "method", "status", "committed", "observed", "sample_size", "missing", "unexpected",
           "foreign_members", "repaired_missing", "repaired_unexpected", "checked_at", "message")  # fmt: skip


def add_reconcile_command(sub: Any) -> None:
    """Registers ``reconcile`` on the CLI's subparsers."""
    command = sub.add_parser(
        "reconcile",
        help="read back what a behavior's destinations hold and record the drift from the committed state",
        description=__doc__.split("\n\n")[1],
    )
    command.add_argument("behavior", help="the behavior's slug (its file name without .yaml)")
    command.add_argument("--destination", action="append", help="only this destination id (repeatable)")
    command.add_argument("--repair", action="store_true", help="queue the repair the next DAG run sends")
    command.add_argument("--latest", action="store_true", help="print the latest recorded checks; call no vendor")
    command.add_argument("--json", action="store_true", help="print the records as JSON")
    add_state_url(command)
    command.set_defaults(handler=_reconcile)


def _reconcile(args: argparse.Namespace) -> int:
    from behavior_sync.config import load_behaviors
    from behavior_sync.connections import read_connection
    from behavior_sync.statedb import StateDatabase
    from behavior_sync.sync.reconcile import latest_drift
    from behavior_sync.sync.reconcile_run import ReconcileOptions, reconcile_behavior

    loaded = load_behaviors(only=[args.behavior])
    if not loaded.behaviors:
        print(f"error: no valid behavior {args.behavior!r}" + "".join(f"\n{e}" for e in loaded.errors))
        return 1
    behavior = loaded.behaviors[0]
    unknown = sorted(set(args.destination or ()) - {d.id for d in behavior.destinations})
    if unknown:
        print(f"error: behavior {behavior.slug} has no destination {', '.join(unknown)}")
        return 1
    db = StateDatabase(args.state_url)
    try:
        db.ensure_schema()
        if args.latest:
            records = [r for r in latest_drift(db, behavior.slug) if _chosen(args, r.destination_id)]
        else:
            now = dt.datetime.now(dt.UTC)
            options = ReconcileOptions(f"cli__{now:%Y%m%dT%H%M%S.%fZ}", now, args.destination, args.repair, True)
            records = reconcile_behavior(behavior, db, read_connection, options)
    finally:
        db.close()
    _print(records, args.json)
    return 1 if any(r.status == "drift" for r in records) else 0


def _chosen(args: argparse.Namespace, destination_id: str) -> bool:
    return not args.destination or destination_id in args.destination


def _print(records: list[Any], as_json: bool) -> None:
    from behavior_sync.cli import format_table

    if as_json:
        print(json.dumps([r.as_dict() for r in records], indent=2, sort_keys=True, default=str))
        return
    if not records:
        print("no drift checks")
        return
    rows = [[_cell(r.as_dict()[c]) for c in COLUMNS] for r in records]
    print(format_table(COLUMNS, rows, max_width=200))
    for record in records:
        print(f"{record.destination_id}: tolerance: {record.tolerance}")


def _cell(value: object) -> str:
    return "" if value is None else str(value)
