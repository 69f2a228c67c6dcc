"""Identity steps inside whole DAG runs: the quality gate stops a run, and no raw identifier leaks.

A poisoned warehouse holds canary e-mails and phones (valid and invalid, huge, SQL-looking). After
real ``dag.test()`` runs, the canaries must appear in no log line (stdout/stderr and Python logging
of the whole run, tracebacks included), no XCom value and no history row.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.dags.helpers import history, load_dag, states

pytestmark = pytest.mark.slow
CANARY = "canarytoken"
PHONE_CANARY = "6505559"  # digits every poisoned valid phone carries


def poisoned_rows() -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = [
        (i, f"{CANARY}.{i}@example.com", f"+1 650 555 9{i:03d}", f"{CANARY}name", "US") for i in range(150)
    ]
    rows += [(1000 + i, f"{CANARY}{i}@@example.com", f"{CANARY}-{i}", "X", "Narnia") for i in range(40)]
    rows += [(2000, f"'; DROP TABLE x; -- {CANARY}", f"{PHONE_CANARY}{'9' * 5000}", CANARY * 500, "US")]
    rows += [
        (2001, f"{CANARY}" * 2000 + "@example.com", None, None, None),
        (5, f"dup.{CANARY}@example.com", None, None, "US"),
    ]
    return rows


@pytest.fixture()
def poisoned(run_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    warehouse = tmp_path / "poisoned.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute(
        "CREATE TABLE poisoned_members (customer_id BIGINT, email VARCHAR, phone VARCHAR, "
        "first_name VARCHAR, country VARCHAR)"
    )
    con.executemany("INSERT INTO poisoned_members VALUES (?, ?, ?, ?, ?)", poisoned_rows())
    con.close()
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAREHOUSE_DEFAULT",
        json.dumps({"conn_type": "warehouse", "extra": {"url": f"duckdb:///{warehouse}"}}),
    )
    behaviors = tmp_path / "behaviors"
    behaviors.mkdir()
    common = (
        "query: tests/fixtures/sql/poisoned_members.sql\nmember_key: customer_id\nretries: 0\n"
        "identifiers: {email: email, phone: phone, first_name: first_name, country: country}\n"
        "destinations: [{type: meta}, {type: hubspot, mode: list}, {type: clevertap, events: true}]\n"
    )
    (behaviors / "poisoned_lenient.yaml").write_text(
        "name: Poisoned lenient\n"
        + common
        + "quality: {min_identifiable_share: 0.5, max_invalid_email_share: 0.5, max_invalid_phone_share: 0.5}\n"
    )
    (behaviors / "poisoned_strict.yaml").write_text("name: Poisoned strict\n" + common)
    monkeypatch.setenv("BEHAVIOR_SYNC_BEHAVIORS_DIR", str(behaviors))
    return tmp_path


def test_a_failed_quality_gate_fails_the_run_before_any_destination_and_records_why(
    poisoned: Path, run_env: dict[str, str]
) -> None:
    dag_run = load_dag("behavior__poisoned_strict").test()
    result = states(dag_run)
    assert str(dag_run.state) == "failed"
    assert result["extract"] == "success" and result["validate"] == "failed" and result["prepare"] == "upstream_failed"
    assert all(result[f"{d}.plan"] == "upstream_failed" for d in ("meta", "hubspot_list", "clevertap"))
    records = [r for r in history(run_env, "poisoned_strict") if r.run_id == dag_run.run_id]
    assert len(records) == 3
    for record in records:
        assert record.status == "failed" and "data-quality gate failed" in record.message
        assert "invalid_email_share expected <= 0.05" in record.message
        assert record.details["identity"]["quality_gate"]["success"] is False


def test_no_raw_identifier_reaches_logs_xcom_or_history(
    poisoned: Path, run_env: dict[str, str], capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    lenient = load_dag("behavior__poisoned_lenient").test()
    strict = load_dag("behavior__poisoned_strict").test()
    assert str(lenient.state) == "success" and str(strict.state) == "failed"
    captured = capfd.readouterr()
    texts = {"stdout": captured.out, "stderr": captured.err, "logging": caplog.text}
    for run in (lenient, strict):
        for ti in run.get_task_instances():
            for key in ("return_value", "identity"):
                texts[f"xcom {ti.task_id} {key}"] = json.dumps(ti.xcom_pull(task_ids=ti.task_id, key=key), default=str)
    for slug in ("poisoned_lenient", "poisoned_strict"):
        for record in history(run_env, slug):
            texts[f"history {slug} {record.destination_id}"] = json.dumps(record.__dict__, default=str)
    assert "validated" in captured.out + caplog.text  # the logs were captured at all
    assert len(texts) > 20
    for where, text in texts.items():
        assert CANARY not in text.lower(), f"a raw identifier reached {where}"
        assert PHONE_CANARY not in text, f"a raw phone reached {where}"
