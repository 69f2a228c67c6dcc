"""Whole behavior DAGs syncing into the in-process test destination (registered as the Meta loader).

Two runs with churn (the demo warehouse moved a week on), then guardrails, dry runs, frequency and
a load killed mid-way: what the destination holds, what state says and what history records.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.plan import Capabilities
from behavior_sync.sync.state import StateStore
from tests.dags.helpers import history, load_dag, states
from tests.support.fake_destination import FakeDestination
from tests.support.webhook_receiver import webhook_receiver

pytestmark = pytest.mark.slow
WEEK1 = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
WEEK2 = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)


@pytest.fixture()
def fake(run_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDestination]:
    """The test destination as the Meta loader, a fresh state DB and artifacts, a warehouse for two dates."""
    from behavior_sync.demo_warehouse import generate_demo_warehouse
    from behavior_sync_airflow import destination_registry

    destination = FakeDestination(capabilities=Capabilities(add_batch_members=500, remove_batch_members=100))
    monkeypatch.setitem(destination_registry.FACTORIES, "meta", lambda _config, _target: destination)
    monkeypatch.setitem(destination_registry.CAPABILITIES, "meta", destination.capabilities)
    for when in (WEEK1, WEEK2):
        generate_demo_warehouse(tmp_path / f"w{when:%d}.duckdb", seed=7, as_of=when.date(), customers=3_000)
    monkeypatch.setenv(
        "AIRFLOW_CONN_SYNC_STATE_DEFAULT",
        json.dumps({"conn_type": "sync_state", "extra": {"url": f"sqlite:///{tmp_path}/state.db"}}),
    )
    monkeypatch.setenv("AIRFLOW_VAR_BEHAVIOR_SYNC_ARTIFACTS_BASE", str(tmp_path / "artifacts"))
    run_env["state"], run_env["artifacts"], run_env["tmp"] = (
        f"sqlite:///{tmp_path}/state.db",
        str(tmp_path / "artifacts"),
        str(tmp_path),
    )
    yield destination


def use_warehouse(run_env: dict[str, str], when: dt.datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"duckdb:///{run_env['tmp']}/w{when:%d}.duckdb"
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DEFAULT", json.dumps({"conn_type": "warehouse", "extra": {"url": url}}))


def committed_rows(run_env: dict[str, str], behavior: str) -> set[tuple[str, str, str]]:
    db = StateDatabase(run_env["state"])
    try:
        state = StateStore(db, run_env["artifacts"]).current(behavior, "meta")
    finally:
        db.close()
    assert state is not None
    return {(r["member_key"], r["id_type"], r["value"]) for r in pq.read_table(state.uri).to_pylist()}


def sync(behavior: str, when: dt.datetime, **conf: Any) -> Any:
    return load_dag(f"behavior__{behavior}").test(logical_date=when, run_conf={"destinations": ["meta"], **conf})


def meta_record(run_env: dict[str, str], behavior: str, dag_run: Any) -> Any:
    (record,) = [r for r in history(run_env, behavior) if r.run_id == dag_run.run_id and r.destination_id == "meta"]
    return record


def write_behavior(run_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, name: str, text: str) -> None:
    behaviors = Path(run_env["tmp"]) / "behaviors"
    behaviors.mkdir(exist_ok=True)
    (behaviors / f"{name}.yaml").write_text(text)
    monkeypatch.setenv("BEHAVIOR_SYNC_BEHAVIORS_DIR", str(behaviors))


def test_two_runs_with_churn_leave_the_destination_exactly_as_the_segment(
    fake: FakeDestination, run_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_warehouse(run_env, WEEK1, monkeypatch)
    first = sync("comfort_seekers", WEEK1)
    assert states(first)["meta.load"] == "success" and states(first)["meta.commit"] == "success"
    record = meta_record(run_env, "comfort_seekers", first)
    assert record.status == "success" and record.acknowledged == record.adds == len(fake.rows) > 0
    assert fake.rows == committed_rows(run_env, "comfort_seekers") and record.audience_size > 0

    use_warehouse(run_env, WEEK2, monkeypatch)
    second = sync("comfort_seekers", WEEK2)
    record2 = meta_record(run_env, "comfort_seekers", second)
    assert record2.status == "success" and record2.adds > 0 and record2.removes > 0  # members joined and left
    assert fake.rows == committed_rows(run_env, "comfort_seekers")


def test_dry_run_plans_but_sends_nothing_and_state_does_not_move(
    fake: FakeDestination, run_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_warehouse(run_env, WEEK1, monkeypatch)
    dag_run = sync("quality_enthusiasts", WEEK1, dry_run=True)
    record = meta_record(run_env, "quality_enthusiasts", dag_run)
    assert record.status == "dry_run" and record.adds > 0 and fake.calls == []
    assert states(dag_run)["meta.load"] == "skipped" and states(dag_run)["meta.commit"] == "skipped"


def test_mass_removal_is_blocked_until_overridden_and_webhooks_announce_each_outcome(
    fake: FakeDestination, run_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with webhook_receiver() as receiver:
        monkeypatch.setenv("AIRFLOW_CONN_HOOKS_TEST", receiver.connection())
        write_behavior(
            run_env,
            monkeypatch,
            "abandoners_guarded",
            (
                "name: Abandoners guarded\nquery: include/sql/behaviors/cart_abandoners.sql\nmember_key: customer_id\n"
                "identifiers: {email: email, phone: phone, country: country}\nguardrails: {max_removal_fraction: 0.2}\n"
                "destinations: [{type: meta}]\n"
                f"webhooks: [{{connection: hooks_test, url: '{receiver.url}', size_thresholds: [150]}}]\n"
            ),
        )
        use_warehouse(run_env, WEEK1, monkeypatch)
        first = sync("abandoners_guarded", WEEK1)  # a 7-day window: most members are gone a week later
        assert receiver.events() == ["sync_completed"]
        before = set(fake.rows)
        use_warehouse(run_env, WEEK2, monkeypatch)
        blocked = sync("abandoners_guarded", WEEK2)
        record = meta_record(run_env, "abandoners_guarded", blocked)
        assert record.status == "blocked" and "override_guardrails" in record.message and fake.rows == before
        assert receiver.events() == ["sync_completed", "blocked"]
        overridden = sync("abandoners_guarded", WEEK2, override_guardrails=True)
        done = meta_record(run_env, "abandoners_guarded", overridden)
        assert done.status == "success"
        assert fake.rows == committed_rows(run_env, "abandoners_guarded") != before
    # 141 members after the first run, 153 after the third: the crossing of 150 is announced once
    assert receiver.events() == ["sync_completed", "blocked", "sync_completed", "size_threshold_crossed"]
    assert all(r.signed for r in receiver.requests)
    crossing = receiver.requests[-1].document
    assert crossing["detail"] == {"threshold": 150, "direction": "up", "previous_size": 141}
    assert crossing["run"]["id"] == overridden.run_id and crossing["counts"]["removes"] == done.removes
    outcomes = done.details["webhooks"]
    assert [(o["event"], o["status"]) for o in outcomes] == [
        ("sync_completed", "delivered"),
        ("size_threshold_crossed", "delivered"),
    ]
    assert meta_record(run_env, "abandoners_guarded", first).details["webhooks"][0]["status"] == "delivered"
    raw = b"".join(r.body for r in receiver.requests)
    assert b"@" not in raw and b"passcode" not in raw  # no e-mail address or secret in any payload


def test_a_load_failing_at_batch_k_commits_what_was_acknowledged_and_the_next_run_sends_only_the_rest(
    fake: FakeDestination, run_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from behavior_sync_airflow import destination_registry

    write_behavior(
        run_env,
        monkeypatch,
        "trend_small_batches",
        (
            "name: Trend small batches\nquery: include/sql/behaviors/trend_followers.sql\nmember_key: customer_id\n"
            "retries: 0\nidentifiers: {email: email, phone: phone, country: country}\ndestinations: [{type: meta}]\n"
        ),
    )
    fake.capabilities = Capabilities(add_batch_members=100, remove_batch_members=100)
    monkeypatch.setitem(destination_registry.CAPABILITIES, "meta", fake.capabilities)
    use_warehouse(run_env, WEEK1, monkeypatch)
    fake.fail_batches = {("add", 1)}
    first = sync("trend_small_batches", WEEK1)
    record = meta_record(run_env, "trend_small_batches", first)
    assert str(first.state) == "failed" and states(first)["meta.load"] == "failed"
    assert record.status == "partial" and "not every batch was acknowledged" in record.message
    assert committed_rows(run_env, "trend_small_batches") == fake.rows and len(fake.calls) == 1  # batch 0 kept
    fake.fail_batches.clear()
    second = sync("trend_small_batches", WEEK1)  # the next run plans only what is missing
    assert meta_record(run_env, "trend_small_batches", second).status == "success"
    assert fake.rows == committed_rows(run_env, "trend_small_batches")
    assert sum(rows for op, _, rows in fake.calls if op == "add") == len(fake.rows)  # no row was sent twice


def test_a_weekly_destination_in_a_daily_behavior_is_not_due_until_a_week_passed(
    fake: FakeDestination, run_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_behavior(
        run_env,
        monkeypatch,
        "weekly_meta",
        (
            "name: Weekly Meta\nquery: include/sql/behaviors/value_hunters.sql\nmember_key: customer_id\n"
            "identifiers: {email: email, country: country}\ndestinations: [{type: meta, frequency: weekly}]\n"
        ),
    )
    use_warehouse(run_env, WEEK1, monkeypatch)
    first = sync("weekly_meta", WEEK1)
    assert meta_record(run_env, "weekly_meta", first).status == "success"
    calls = len(fake.calls)
    next_day = sync("weekly_meta", WEEK1 + dt.timedelta(days=1))
    record = meta_record(run_env, "weekly_meta", next_day)
    assert record.status == "not_due" and len(fake.calls) == calls
    assert states(next_day)["meta.load"] == "skipped"


def test_a_manual_destination_syncs_only_when_the_run_names_it(
    fake: FakeDestination, run_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_behavior(
        run_env,
        monkeypatch,
        "manual_meta",
        (
            "name: Manual Meta\nquery: include/sql/behaviors/value_hunters.sql\nmember_key: customer_id\n"
            "identifiers: {email: email}\ndestinations: [{type: meta, frequency: manual}]\n"
        ),
    )
    use_warehouse(run_env, WEEK1, monkeypatch)
    unnamed = load_dag("behavior__manual_meta").test(logical_date=WEEK1)
    assert meta_record(run_env, "manual_meta", unnamed).status == "not_due" and fake.calls == []
    named = sync("manual_meta", WEEK1 + dt.timedelta(hours=1))
    assert meta_record(run_env, "manual_meta", named).status == "success" and fake.calls


def test_a_segment_below_the_minimum_size_pauses_then_resumes(
    fake: FakeDestination, run_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    template = (
        "name: Small\nquery: include/sql/behaviors/value_hunters.sql\nmember_key: customer_id\n"
        "identifiers: {{email: email}}\ndestinations: [{{type: meta, min_audience_size: {minimum}}}]\n"
    )
    write_behavior(run_env, monkeypatch, "small_meta", template.format(minimum=1_000_000))
    use_warehouse(run_env, WEEK1, monkeypatch)
    paused = sync("small_meta", WEEK1)
    record = meta_record(run_env, "small_meta", paused)
    assert record.status == "paused_too_small" and "below the minimum of 1000000" in record.message
    assert fake.calls == [] and str(paused.state) == "success"
    write_behavior(run_env, monkeypatch, "small_meta", template.format(minimum=10))
    resumed = sync("small_meta", WEEK1 + dt.timedelta(hours=1))
    assert meta_record(run_env, "small_meta", resumed).status == "success" and fake.rows
