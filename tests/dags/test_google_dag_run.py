"""Google Customer Match (Data Manager API) through whole behavior DAGs: the sandbox is ``google_ads_default``.

The run loads, then the wait task defers to the trigger (``dag.test()`` runs it inline) that polls the
sandbox until it processed the requests (1 s on its real clock); commit and record follow. The list must
hold exactly the committed identifiers, and no member whose consent is not GRANTED.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyarrow.parquet as pq
import pytest
import requests

from behavior_sync.artifacts import RunArtifacts
from behavior_sync.history import HistoryStore
from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.objects import DestinationObjects
from behavior_sync.sync.state import StateStore
from tests.dags.helpers import history, load_dag, states
from tests.support.google_dm_harness import GDM_ACCOUNT

pytestmark = pytest.mark.slow
DAY = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


def held_identifiers(run_env: dict[str, str], list_id: str) -> set[frozenset[str]]:
    lists = requests.get(f"{run_env['google']}/_sandbox/user_lists", params={"account": GDM_ACCOUNT}, timeout=10)
    return {frozenset(m) for ul in lists.json()["user_lists"] if ul["id"] == list_id for m in ul["members"]}


def committed(
    run_env: dict[str, str], behavior: str = "value_hunters", destination: str = "google_ads"
) -> tuple[set[frozenset[str]], str]:
    """The destination's committed members as ``type:value`` sets, and its remembered list id."""
    db = StateDatabase(run_env["state"])
    try:
        state = StateStore(db, run_env["artifacts"]).current(behavior, destination)
        stored = DestinationObjects(db).recall(behavior, destination, "user_list")
    finally:
        db.close()
    assert state is not None and stored is not None
    by_member: dict[str, set[str]] = {}
    for row in pq.read_table(state.uri).to_pylist():
        by_member.setdefault(row["member_key"], set()).add(f"{row['id_type']}:{row['value']}")
    return {frozenset(ids) for ids in by_member.values()}, stored.object_id


def test_a_demo_behavior_fills_its_google_list_after_a_deferred_wait_and_history_records_size_and_warnings(
    run_env: dict[str, str],
) -> None:
    dag_run = load_dag("behavior__value_hunters").test(logical_date=DAY, run_conf={"destinations": ["google_ads"]})
    steps = ("plan", "load", "wait", "commit", "record")
    assert {s: states(dag_run)[f"google_ads.{s}"] for s in steps} == dict.fromkeys(steps, "success")
    members, list_id = committed(run_env)
    assert held_identifiers(run_env, list_id) == members and len(members) > 50

    (record,) = [r for r in history(run_env, "value_hunters") if r.run_id == dag_run.run_id]
    processing = record.details["processing"]
    assert record.status == "success" and record.audience_size == len(members)
    assert processing["by_status"] == {"SUCCESS": processing["requests"]} and record.match_rate is not None
    assert any("1,000 Search needs" in w for w in record.details["warnings"])  # a demo list is small
    assert any("Display, YouTube and Gmail" in w for w in record.details["warnings"])

    artifacts = RunArtifacts(run_env["artifacts"], "value_hunters", dag_run.run_id)
    identities = pq.read_table(f"{artifacts.identity_dir}/identities.parquet").to_pylist()
    not_granted = {
        str(m["member_key"])
        for m in identities
        if m["consent_ad_user_data"] != "GRANTED" or m["consent_ad_personalization"] != "GRANTED"
    }
    prepared = {str(k) for k in pq.read_table(artifacts.prepared_uri("google_ads")).column("member_key").to_pylist()}
    assert not_granted and not prepared & not_granted  # consent denied or unknown: never uploaded
    assert record.details["identity"]["quarantine_reasons"]["consent_not_granted"] > 0


def test_the_trigger_only_polls_and_fires_when_google_settled_every_request(run_env: dict[str, str]) -> None:
    from google.ads import datamanager_v1 as dm

    from behavior_sync.destinations.google_dm import UserListSpec
    from behavior_sync.destinations.google_dm_client import (
        DataManagerClient,
        DataManagerCredentials,
        google_credentials,
    )
    from behavior_sync.destinations.google_dm_members import user_identifier
    from behavior_sync_airflow.triggers import DataManagerRequestsTrigger

    endpoint = run_env["google"]
    credentials = DataManagerCredentials(google_credentials({}, endpoint), GDM_ACCOUNT, None, endpoint, True)
    client = DataManagerClient(credentials, "trigger test")
    user_list = client.create_user_list(UserListSpec("Trigger test", "", 30))
    member = dm.AudienceMember(user_data=dm.UserData(user_identifiers=[user_identifier("email", "a" * 64)]))
    request_id = client.ingest(str(user_list.id), [member]).request_id

    trigger = DataManagerRequestsTrigger("google_ads_default", [request_id], 0.2, "trigger test")
    path, kwargs = trigger.serialize()
    rebuilt = DataManagerRequestsTrigger(**json.loads(json.dumps(kwargs)))  # JSON primitives only

    async def first_event() -> Any:
        async for event in rebuilt.run():
            return event.payload

    requests_before = len(requests.get(f"{run_env['google']}/_sandbox/requests", timeout=10).json()["requests"])
    payload = asyncio.run(first_event())
    requests_after = len(requests.get(f"{run_env['google']}/_sandbox/requests", timeout=10).json()["requests"])
    assert path == "behavior_sync_airflow.triggers.DataManagerRequestsTrigger"
    assert payload["status"] == "done" and payload["outcomes"][0]["status"] == "SUCCESS"
    assert payload["outcomes"][0]["records"] == 1 and requests_after == requests_before  # nothing submitted


def test_a_mobile_id_destination_fills_a_device_id_list_of_its_app_next_to_the_contact_list(
    run_env: dict[str, str],
) -> None:
    dag_run = load_dag("behavior__cart_abandoners").test(
        logical_date=DAY, run_conf={"destinations": ["google_app_users"]}
    )
    steps = ("plan", "load", "wait", "commit", "record")
    assert {s: states(dag_run)[f"google_app_users.{s}"] for s in steps} == dict.fromkeys(steps, "success")
    db = StateDatabase(run_env["state"])
    try:
        state = StateStore(db, run_env["artifacts"]).current("cart_abandoners", "google_app_users")
        stored = DestinationObjects(db).recall("cart_abandoners", "google_app_users", "user_list")
    finally:
        db.close()
    assert state is not None and stored is not None
    rows = pq.read_table(state.uri).to_pylist()
    lists = requests.get(f"{run_env['google']}/_sandbox/user_lists", params={"account": GDM_ACCOUNT}, timeout=10)
    (user_list,) = [ul for ul in lists.json()["user_lists"] if ul["id"] == stored.object_id]

    assert {r["id_type"] for r in rows} == {"mobile_id"} and len(rows) > 10
    assert {frozenset(m) for m in user_list["members"]} == {frozenset({f"mobile:{r['value']}"}) for r in rows}
    info = user_list["ingested_user_list_info"]
    assert info["uploadKeyTypes"] == [2] and info["mobileIdInfo"]["appId"] == "com.example.shop"  # MOBILE_ID
    assert user_list["display_name"] == "[Behavior] - Cart Abandoners (app users)"
    (record,) = [r for r in history(run_env, "cart_abandoners") if r.run_id == dag_run.run_id]
    assert record.status == "success" and record.audience_size == len(rows) and record.match_rate is None


def test_the_trigger_fires_an_error_event_when_google_refuses_the_status_read(run_env: dict[str, str]) -> None:
    from behavior_sync_airflow.triggers import DataManagerRequestsTrigger

    trigger = DataManagerRequestsTrigger("google_ads_default", ["no-such-request"], 0.1, "trigger test")

    async def first_event() -> Any:
        async for event in trigger.run():
            return event.payload

    payload = asyncio.run(first_event())
    assert payload["status"] == "error"
    assert payload["message"].startswith("trigger test: reading the request status: Google error (HTTP 400")


def sandbox_control(run_env: dict[str, str], path: str, body: dict[str, Any] | None = None) -> None:
    """POST (``body``) or DELETE (None) a Data Manager sandbox control endpoint."""
    url = f"{run_env['google']}/_sandbox/{path}"
    answer = requests.delete(url, timeout=10) if body is None else requests.post(url, json=body, timeout=10)
    answer.raise_for_status()


def add_by_hand(run_env: dict[str, str], list_id: str, email: str) -> None:
    """A member someone adds to the list outside Behavior Sync (the official client against the sandbox)."""
    from behavior_sync.destinations.google_dm_client import (
        DataManagerClient,
        DataManagerCredentials,
        google_credentials,
    )
    from behavior_sync.destinations.google_dm_members import audience_member

    endpoint = run_env["google"]
    credentials = DataManagerCredentials(google_credentials({}, endpoint), GDM_ACCOUNT, None, endpoint, True)
    DataManagerClient(credentials, "by hand").ingest(list_id, [audience_member([("email", email)])])


@contextmanager
def pending_rows(run_env: dict[str, str], behavior: str) -> Iterator[dict[str, str]]:
    """Collects, while the block runs, the ``pending`` history rows of ``behavior`` (run id -> message): a thread
    reads history every 50 ms while ``dag.test()`` runs the wait task's trigger inline (it polls every 0.5 s)."""
    seen: dict[str, str] = {}
    stop = threading.Event()

    def watch() -> None:
        store = HistoryStore(run_env["state"])
        try:
            while not stop.wait(0.05):
                seen.update(
                    {r.run_id: r.message for r in store.recent(behavior=behavior, limit=20) if r.status == "pending"}
                )
        finally:
            store.close()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield seen
    finally:
        stop.set()
        watcher.join(timeout=10)


def without_retries(dag_id: str) -> Any:
    """The behavior DAG with task retries off, so a failing task fails the test run at once."""
    dag = load_dag(dag_id)
    for task in dag.tasks:
        task.retries = 0
    return dag


def test_a_full_resync_empties_the_list_says_so_while_google_processes_and_leaves_exactly_the_committed_members(
    run_env: dict[str, str],
) -> None:
    conf = {"destinations": ["google_ads"]}  # a DAG object keeps the conf of its last test run: one DAG a run
    load_dag("behavior__value_hunters").test(logical_date=DAY + dt.timedelta(days=1), run_conf=conf)
    add_by_hand(run_env, committed(run_env)[1], "f" * 64)

    with pending_rows(run_env, "value_hunters") as pending:
        resync = load_dag("behavior__value_hunters").test(
            logical_date=DAY + dt.timedelta(days=2), run_conf=conf | {"full_resync": True}
        )

    assert "this full re-sync emptied the list (RemoveAllAudienceMembers)" in pending[resync.run_id]
    (record,) = [r for r in history(run_env, "value_hunters") if r.run_id == resync.run_id]
    members, list_id = committed(run_env)
    assert record.status == "success" and record.details["processing"]["removed_all"] == 1
    assert "emptied the list (RemoveAllAudienceMembers) and Google re-ingested its members" in record.message
    assert held_identifiers(run_env, list_id) == members  # the member added by hand is gone


def test_partial_success_counts_reach_history_and_the_counted_records_the_rejections_table(
    run_env: dict[str, str],
) -> None:
    import sqlalchemy as sa

    from behavior_sync.statedb import rejections

    internal, generic = "PROCESSING_ERROR_REASON_INTERNAL_ERROR", "WARNING_REASON_GENERIC"
    diagnostics = {"errors": {internal: 4}, "warnings": {"PROCESSING_WARNING_REASON_INTERNAL_ERROR": 2}}
    sandbox_control(run_env, "diagnostics", diagnostics | {"field_warnings": {generic: 3}})
    try:
        run = load_dag("behavior__quality_enthusiasts").test(
            logical_date=DAY, run_conf={"destinations": ["google_ads"], "full_resync": True}
        )
    finally:
        sandbox_control(run_env, "diagnostics")  # nothing left for other tests' requests
    (record,) = [r for r in history(run_env, "quality_enthusiasts") if r.run_id == run.run_id]
    processing = record.details["processing"]
    db = StateDatabase(run_env["state"])
    try:
        query = sa.select(sa.func.count()).where(
            (rejections.c.run_id == run.run_id) & (rejections.c.id_type == "google_counted")
        )
        with db.engine.connect() as conn:
            counted = conn.execute(query).scalar()
    finally:
        db.close()
    members, list_id = committed(run_env, "quality_enthusiasts")

    assert record.status == "partial" and record.rejected == 4 and counted == 4
    assert processing["by_status"] == {"PARTIAL_SUCCESS": 1, "SUCCESS": 1}  # the ingest, and the remove-all
    assert processing["error_counts"] == {internal: 4} and processing["field_warnings"] == {generic: 3}
    assert processing["warning_counts"] == {"PROCESSING_WARNING_REASON_INTERNAL_ERROR": 2}
    assert {"code": internal, "count": 4} in record.errors and f"records not applied: {internal} 4" in record.message
    assert len(held_identifiers(run_env, list_id)) == len(members) - 4  # Google names none: all stay committed


def test_a_full_resync_google_fails_leaves_the_list_marked_emptied_until_another_full_resync(
    run_env: dict[str, str],
) -> None:
    conf, resync = {"destinations": ["google_ads"]}, {"destinations": ["google_ads"], "full_resync": True}

    def run(day: int, run_conf: dict[str, Any]) -> Any:
        return without_retries("behavior__loyal_regulars").test(
            logical_date=DAY + dt.timedelta(days=day), run_conf=run_conf
        )

    run(0, conf)
    sandbox_control(run_env, "diagnostics", {"errors": {"PROCESSING_ERROR_REASON_INTERNAL_ERROR": 100_000}})
    try:
        failed = run(1, resync)
    finally:
        sandbox_control(run_env, "diagnostics")
    refused = run(2, conf)
    db = StateDatabase(run_env["state"])
    try:
        emptied = DestinationObjects(db).recall("loyal_regulars", "google_ads", "user_list_emptied")
    finally:
        db.close()
    repaired = run(3, resync)

    assert states(failed)["google_ads.wait"] == "success" and states(failed)["google_ads.commit"] == "skipped"
    (failed_record,) = [r for r in history(run_env, "loyal_regulars") if r.run_id == failed.run_id]
    assert "did not apply all of the re-ingest: only another full re-sync loads the list now" in failed_record.message
    assert states(refused)["google_ads.load"] == "failed" and emptied is not None
    assert states(repaired)["google_ads.record"] == "success"
    members, list_id = committed(run_env, "loyal_regulars")
    assert held_identifiers(run_env, list_id) == members
    db = StateDatabase(run_env["state"])
    try:
        assert DestinationObjects(db).recall("loyal_regulars", "google_ads", "user_list_emptied") is None
    finally:
        db.close()
