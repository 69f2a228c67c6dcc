"""Read-back, drift and repair against the sandboxes (issue 18, requirement 1), through the real destination
classes, SDKs and the sync engine (``EngineRun``: plan -> load -> commit as a DAG run does).

Each scenario syncs a small segment, then changes the destination the way the world does (a person edits the
list by hand, the vendor drops members, a shared value is removed), reads it back with ``check_destination``
and checks the drift record's counts; with repair, the next plan re-sends exactly what is missing and removes
exactly the unexpected values we had added, and a second read-back is in sync with foreign members untouched.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hubspot.crm.contacts.models import BatchInputSimplePublicObjectBatchInput, SimplePublicObjectBatchInput

from behavior_sync.config import Behavior, load_behaviors
from behavior_sync.connections import ConnectionValues
from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.reconcile import DriftRecord, latest_drift, record_drift
from behavior_sync.sync.reconcile_run import ReconcileOptions, check_destination, reconcile_behavior
from behavior_sync_airflow.destination_registry import capabilities_for
from tests.support.crm_sync_targets import FOREIGN_EMAILS, HubSpotListSandboxTarget, crm_portals
from tests.support.engine_run import EngineRun, Row
from tests.support.hubspot_harness import HS_PORTAL, HS_TOKEN, HubSpotHarness, hubspot_starter
from tests.support.shared_identifiers import pool_email
from tests.support.sync_targets import BEHAVIOR

NOW = dt.datetime(2026, 12, 7, 6, tzinfo=dt.UTC)


def value_hunters(**reconcile: Any) -> Behavior:
    (behavior,) = load_behaviors(only=[BEHAVIOR]).behaviors
    return dataclasses.replace(behavior, reconcile={"schedule": "weekly", "sample_size": 384} | reconcile)


def destination(behavior: Behavior, destination_id: str) -> Any:
    return next(d for d in behavior.destinations if d.id == destination_id)


def options(run_id: str, repair: bool = False) -> ReconcileOptions:
    return ReconcileOptions(run_id, NOW, repair=repair, forced=True)


@dataclasses.dataclass
class ListWorld:
    """A HubSpot list synced through the engine: members ``m<n>`` hold ``pool_email(n)``."""

    target: HubSpotListSandboxTarget
    engine: EngineRun
    sandbox: HubSpotHarness
    runs: int = 0

    def sync(self, rows: list[Row]) -> None:
        self.runs += 1
        run_id = f"run{self.runs}"
        plan = self.engine.plan(run_id, rows)
        self.engine.load(plan, self.target.destination(run_id, False))
        self.engine.commit(plan)

    def connection(self, _conn_id: str) -> ConnectionValues:
        extra = {"portal_id": str(HS_PORTAL), "account_tier": "professional"}
        return ConnectionValues("hubspot", self.sandbox.base_url, HS_TOKEN, extra)

    def check(self, run_id: str, repair: bool = False) -> DriftRecord:
        behavior = value_hunters()
        chosen = destination(behavior, "hubspot_list")
        found = check_destination(behavior, chosen, self.engine.db, self.connection, options(run_id, repair))
        record_drift(self.engine.db, found)
        return found

    def list_id(self) -> str:
        from behavior_sync.sync.objects import DestinationObjects

        stored = DestinationObjects(self.engine.db).recall(BEHAVIOR, "hubspot_list", "list")
        assert stored is not None
        return stored.object_id

    def ids(self) -> dict[str, str]:
        return {c["email"]: str(c["id"]) for c in self.sandbox.get("contacts", portal=HS_PORTAL)["contacts"]}

    def by_hand(self, op: str, emails: list[str]) -> None:
        """What a person does in HubSpot: members added to or removed from the list."""
        memberships = self.sandbox.client().crm.lists.memberships_api
        ids = [self.ids()[e] for e in emails]
        (memberships.add if op == "add" else memberships.remove)(self.list_id(), ids)

    def held(self) -> set[str]:
        emails = {v: k for k, v in self.ids().items()}
        return {emails[i] for i in self.sandbox.members(self.list_id())}


@contextmanager
def list_world(tmp_path: Path) -> Iterator[ListWorld]:
    with hubspot_starter() as start:
        sandbox = start(portals=crm_portals())
        db = StateDatabase(f"sqlite:///{tmp_path}/state.db")
        db.ensure_schema()
        engine = EngineRun(tmp_path, db, capabilities_for("hubspot"), BEHAVIOR, "hubspot_list")
        try:
            yield ListWorld(HubSpotListSandboxTarget(sandbox, engine), engine, sandbox)
        finally:
            db.close()


def members(numbers: range | list[int], email: Callable[[int], str] = pool_email) -> list[Row]:
    return [(f"m{n:03d}", "email", email(n)) for n in numbers]


def test_a_hand_edit_is_found_exactly_and_repair_restores_our_members_and_keeps_the_foreign_one(
    tmp_path: Path,
) -> None:
    with list_world(tmp_path) as world:
        world.sync(members(range(10)))
        assert world.check("check0").status == "in_sync"
        world.by_hand("remove", [pool_email(1), pool_email(2)])  # two of ours removed by hand
        world.by_hand("add", [FOREIGN_EMAILS[0]])  # a foreign contact added by hand
        world.sync(members(range(10)) + members([10]))  # an incremental run does not notice: nothing changed
        drift = world.check("check1", repair=True)
        assert (drift.method, drift.status, drift.committed, drift.observed) == ("exact", "drift", 11, 10)
        assert (drift.missing, drift.unexpected, drift.foreign_members) == (2, 1, 1)
        assert (drift.repaired_missing, drift.repaired_unexpected) == (2, 0)
        keys = drift.details["artifact"]
        assert pool_email(1) not in Path(keys).read_bytes().decode("latin-1")  # hashed keys only
        world.sync(members(range(11)))  # the next run's plan re-sends the two, through the ledger
        assert world.held() == {pool_email(n) for n in range(11)} | {FOREIGN_EMAILS[0]}
        after = world.check("check2")
        assert (after.status, after.missing, after.unexpected, after.foreign_members) == ("in_sync", 0, 1, 1)


def test_a_value_we_had_added_back_in_the_list_is_removed_by_repair_and_a_foreign_one_never(tmp_path: Path) -> None:
    with list_world(tmp_path) as world:
        world.sync(members(range(6)))
        world.sync(members(range(4)))  # m004 and m005 left: removed from the list
        world.by_hand("add", [pool_email(5), FOREIGN_EMAILS[1]])  # one of ours put back, one foreign
        drift = world.check("check1", repair=True)
        assert (drift.status, drift.missing, drift.unexpected, drift.foreign_members) == ("drift", 0, 2, 1)
        assert (drift.repaired_missing, drift.repaired_unexpected) == (0, 1)
        world.sync(members(range(4)))
        assert world.held() == {pool_email(n) for n in range(4)} | {FOREIGN_EMAILS[1]}
        assert world.check("check2").status == "in_sync"


def test_a_vendor_side_merge_and_a_shared_value_removal_are_found_and_repaired_exactly(tmp_path: Path) -> None:
    shared = [("m100", "email", pool_email(0)), ("m101", "email", pool_email(0))]  # two members, one contact
    with list_world(tmp_path) as world:
        world.sync(members(range(1, 5)) + shared)
        world.by_hand("remove", [pool_email(0)])  # the shared value taken away (e.g. by another tool)
        merged = SimplePublicObjectBatchInput(id=world.ids()[pool_email(3)], properties={"email": "merged@example.org"})
        contacts = world.sandbox.client().crm.contacts.batch_api  # HubSpot merged a contact: its e-mail changed
        contacts.update(BatchInputSimplePublicObjectBatchInput(inputs=[merged]))
        drift = world.check("check1", repair=True)
        assert (drift.committed, drift.missing, drift.unexpected, drift.foreign_members) == (5, 2, 1, 1)
        assert (drift.repaired_missing, drift.repaired_unexpected) == (3, 0)  # both holders of the shared value
        world.sync(members(range(1, 5)) + shared)
        assert world.held() == {pool_email(n) for n in (0, 1, 2, 4)} | {"merged@example.org"}
        after = world.check("check2")  # no contact has the old e-mail now (not_in_crm): still missing, reported
        assert (after.status, after.missing, after.foreign_members) == ("drift", 1, 1)
        assert [r.run_id for r in latest_drift(world.engine.db, BEHAVIOR)] == ["check2"]


def test_nothing_committed_or_a_vendor_that_cannot_answer_is_unknown_never_an_error(tmp_path: Path) -> None:
    with list_world(tmp_path) as world:
        assert "nothing committed yet" in world.check("check0").message
        world.sync(members(range(3)))
        world.sandbox.control("faults", {"scripted": [{"match": "memberships", "count": 1, "http_status": 401}]})
        failed = world.check("check1")
        assert failed.status == "unknown" and "read-back failed" in failed.message and HS_TOKEN not in failed.message
        behavior = value_hunters()

        def scheduled(run_id: str) -> list[DriftRecord]:
            chosen = ReconcileOptions(run_id, NOW, destinations=["hubspot_list"])
            return reconcile_behavior(behavior, world.engine.db, world.connection, chosen)

        assert [r.run_id for r in scheduled("check2")] == ["check2"]  # an unanswered check does not count as done
        assert scheduled("check3") == []  # answered a moment ago: a weekly check is not due


def test_the_cli_reads_back_records_and_repairs_and_prints_counts_never_addresses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from behavior_sync.cli import main
    from tests.support.hubspot_harness import hubspot_connection

    with list_world(tmp_path) as world:
        monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_DEFAULT", hubspot_connection(world.sandbox.base_url))
        world.sync(members(range(8)))
        world.by_hand("remove", [pool_email(4)])
        state = ["--state-url", f"sqlite:///{tmp_path}/state.db"]
        assert main(["reconcile", BEHAVIOR, "--destination", "hubspot_list", "--repair", *state]) == 1
        printed = capsys.readouterr().out
        assert "hubspot_list" in printed and "drift" in printed and "exact" in printed and "@" not in printed
        world.sync(members(range(8)))  # the next sync sends the repair
        assert main(["reconcile", BEHAVIOR, "--destination", "hubspot_list", "--json", *state]) == 0
        (checked,) = json.loads(capsys.readouterr().out)
        assert (checked["status"], checked["committed"], checked["missing"]) == ("in_sync", 8, 0)
        assert main(["reconcile", BEHAVIOR, "--latest", "--json", *state]) == 0
        (latest,) = json.loads(capsys.readouterr().out)
        assert latest["run_id"] == checked["run_id"]
        assert main(["reconcile", BEHAVIOR, "--destination", "nope", *state]) == 1
