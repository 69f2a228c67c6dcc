"""CleverTap through whole behavior DAGs (dag.test()): the CleverTap sandbox is ``clevertap_default`` of ``run_env``.

value_hunters has ``events: true``: every member synced gets its membership property and exactly one
Behavior Entered event; history and the committed state agree with what the sandbox holds.
"""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.state import StateStore
from tests.dags.helpers import history, load_dag, states
from tests.support.clevertap_harness import CT_ACCOUNT, clevertap_connection

pytestmark = pytest.mark.slow
WEEK1 = dt.datetime(2026, 11, 16, tzinfo=dt.UTC)


def sandbox_get(run_env: dict[str, str], path: str) -> dict[str, object]:
    answer: dict[str, object] = requests.get(
        f"{run_env['clevertap']}/_sandbox/{path}", params={"account": CT_ACCOUNT}, timeout=10
    ).json()
    return answer


def test_a_demo_behavior_sets_membership_on_profiles_and_sends_one_entered_event_per_member(
    run_env: dict[str, str],
) -> None:
    dag_run = load_dag("behavior__value_hunters").test(logical_date=WEEK1, run_conf={"destinations": ["clevertap"]})
    assert states(dag_run)["clevertap.load"] == "success" and states(dag_run)["clevertap.record"] == "success"
    (record,) = [r for r in history(run_env, "value_hunters") if r.run_id == dag_run.run_id]
    db = StateDatabase(run_env["state"])
    try:
        state = StateStore(db, run_env["artifacts"]).current("value_hunters", "clevertap")
    finally:
        db.close()
    assert state is not None and record.status == "success" and record.rejected == 0
    profiles = sandbox_get(run_env, "profiles")["profiles"]
    assert isinstance(profiles, dict)
    members = [p for p in profiles.values() if p.get("behavior_value_hunters") is True]
    assert len(members) == state.members == record.details["plan"]["add_members"] > 50
    events = sandbox_get(run_env, "events")["events"]
    assert isinstance(events, list)
    entered = [e for e in events if e["evtName"] == "Behavior Entered" and e["evtData"]["behavior"] == "value_hunters"]
    assert len(entered) == len({e["identity"] for e in entered}) == state.members
    assert entered[0]["evtData"] == {
        "behavior": "value_hunters",
        "behavior_name": "Value Hunters",
        "destination": "clevertap",
    }


def test_the_hook_builds_a_client_on_httphook_and_tests_the_passcode(
    run_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from behavior_sync_airflow.hooks.destinations import CleverTapHook

    hook = CleverTapHook()
    assert hook.account()[0] == CT_ACCOUNT and hook.account()[2] == f"{run_env['clevertap']}/us1"
    assert hook.test_connection()[0] is True
    monkeypatch.setenv("AIRFLOW_CONN_CLEVERTAP_DEFAULT", clevertap_connection(run_env["clevertap"], "WRONG-PASS"))
    ok, message = CleverTapHook().test_connection()
    assert not ok and "401" in message and "WRONG-PASS" not in message
    monkeypatch.setenv("AIRFLOW_CONN_CLEVERTAP_DEFAULT", clevertap_connection(None))
    assert CleverTapHook().account()[2] == "https://us1.api.clevertap.com"
