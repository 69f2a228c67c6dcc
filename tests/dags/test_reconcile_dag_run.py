"""The reconcile task in real behavior DAG runs (dag.test()): a hand edit of the HubSpot list is found by a run
whose conf asks for a repair, the same run's plan re-sends what was missing, the foreign member stays, a webhook
announces the drift, and the next run's read-back is in sync."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.objects import DestinationObjects
from behavior_sync.sync.reconcile import DriftRecord, drift_history
from behavior_sync.sync.state import StateStore
from tests.dags.helpers import ROOT, load_dag, states
from tests.support.hubspot_harness import HS_PORTAL, HubSpotHarness
from tests.support.webhook_receiver import webhook_receiver

WEEK1 = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
SLUG = "regulars_reconciled"


def behavior_file(folder: Path, hook_url: str) -> None:
    text = (ROOT / "include" / "behaviors" / "loyal_regulars.yaml").read_text()
    head = text.split("destinations:")[0]
    (folder / f"{SLUG}.yaml").write_text(
        head + "destinations:\n"
        '  - {type: hubspot, mode: list, list_type: active, list_name: "[Behavior] {name} - Active", '
        "create_missing_contacts: true}\n"
        f"webhooks: [{{connection: hooks_test, url: '{hook_url}', events: [drift_detected]}}]\n"
    )


def run(when: dt.datetime, **conf: Any) -> Any:
    return load_dag(f"behavior__{SLUG}").test(logical_date=when, run_conf=conf)


def checks(run_env: dict[str, str]) -> tuple[list[DriftRecord], set[str], str]:
    """(drift records newest first, the e-mails the list holds, the list id)."""
    db = StateDatabase(run_env["state"])
    try:
        stored = DestinationObjects(db).recall(SLUG, "hubspot_list", "list")
        records = drift_history(db, SLUG, "hubspot_list")
    finally:
        db.close()
    assert stored is not None
    sandbox = hubspot(run_env)
    emails = {str(c["id"]): c["email"] for c in sandbox.get("contacts", portal=HS_PORTAL)["contacts"]}
    return records, {emails[i] for i in sandbox.members(stored.object_id)}, stored.object_id


def hubspot(run_env: dict[str, str]) -> HubSpotHarness:
    import os

    host = json.loads(os.environ["AIRFLOW_CONN_HUBSPOT_DEFAULT"])["host"]
    return HubSpotHarness(host, app=None, clock=None)  # type: ignore[arg-type]


def committed_emails(run_env: dict[str, str]) -> set[str]:
    import pyarrow.parquet as pq

    db = StateDatabase(run_env["state"])
    try:
        state = StateStore(db, run_env["artifacts"]).current(SLUG, "hubspot_list")
    finally:
        db.close()
    assert state is not None
    return {r["value"] for r in pq.read_table(state.uri).to_pylist() if r["id_type"] == "email"}


@pytest.mark.slow
def test_a_hand_edit_is_repaired_by_the_run_that_finds_it_and_the_webhook_announces_the_drift(
    run_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with webhook_receiver() as receiver:
        monkeypatch.setenv("AIRFLOW_CONN_HOOKS_TEST", receiver.connection())
        monkeypatch.setenv("BEHAVIOR_SYNC_BEHAVIORS_DIR", str(tmp_path))
        behavior_file(tmp_path, receiver.url)
        first = run(WEEK1)
        assert states(first)["reconcile"] == "success" and states(first)["hubspot_list.commit"] == "success"
        (nothing,), held, list_id = checks(run_env)
        assert nothing.status == "unknown" and "nothing committed yet" in nothing.message

        gone = sorted(held)[:3]
        sdk = hubspot(run_env).client()
        ids = {c["email"]: str(c["id"]) for c in hubspot(run_env).get("contacts", portal=HS_PORTAL)["contacts"]}
        sdk.crm.lists.memberships_api.remove(list_id, [ids[e] for e in gone])  # a person edits the list
        foreign = next(e for e in ids if e not in held)
        sdk.crm.lists.memberships_api.add(list_id, [ids[foreign]])

        repaired = run(WEEK1 + dt.timedelta(days=1), repair=True)
        assert states(repaired)["reconcile"] == "success" and states(repaired)["hubspot_list.load"] == "success"
        drift = checks(run_env)[0][0]
        assert (drift.run_id, drift.status, drift.method) == (repaired.run_id, "drift", "exact")
        assert (drift.missing, drift.unexpected, drift.foreign_members, drift.repaired_missing) == (3, 1, 1, 3)
        assert drift.details["webhooks"][0]["status"] == "delivered"
        _, held_now, _ = checks(run_env)
        assert held_now == committed_emails(run_env) | {foreign}  # re-sent by the same run; the foreign one kept

        again = run(WEEK1 + dt.timedelta(days=2), reconcile=True)
        assert states(again)["reconcile"] == "success"
        assert checks(run_env)[0][0].status == "in_sync"
    assert receiver.events() == ["drift_detected"] and all(r.signed for r in receiver.requests)
    announced = receiver.requests[0].document
    assert announced["drift"]["missing"] == 3 and announced["destination"]["id"] == "hubspot_list"
    assert b"@" not in receiver.requests[0].body  # counts only, never an e-mail address
