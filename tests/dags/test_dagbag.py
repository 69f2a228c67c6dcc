"""The DAG folder: every example behavior becomes a well-formed DAG; a broken file never hides the others."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.examples import EXAMPLE_BEHAVIORS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = list(EXAMPLE_BEHAVIORS)


def dag_bag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


@pytest.fixture(scope="module")
def bag(airflow_db: Path) -> Any:
    return dag_bag()


def test_every_example_behavior_and_import_loads_without_import_errors(bag: Any) -> None:
    assert bag.import_errors == {}
    imports = sorted(f"import__{p.stem}" for p in (ROOT / "include" / "imports").glob("*.yaml"))
    assert imports == ["import__loyal_regulars_in_hubspot"]
    assert sorted(bag.dag_ids) == sorted(
        [f"behavior__{slug}" for slug in EXAMPLES] + ["behavior_sync__performance"] + imports
    )
    assert [d.dag_id for d in bag.dags.values() if "invalid-behavior-file" in d.tags] == []


@pytest.mark.parametrize("slug", EXAMPLES)
def test_behavior_dag_shape(bag: Any, slug: str) -> None:
    spec = yaml.safe_load((ROOT / "include" / "behaviors" / f"{slug}.yaml").read_text())
    dag = bag.get_dag(f"behavior__{slug}")
    assert dag.max_active_runs == 1 and dag.catchup is False
    assert {"behavior-sync", *spec.get("tags", [])} == set(dag.tags)
    assert dag.default_args["owner"] == spec["owner"]
    assert spec["name"] in dag.doc_md and spec["description"].split("\n")[0] in dag.doc_md
    assert set(dag.params) == {"dry_run", "full_resync", "override_guardrails", "destinations", "reconcile", "repair"}
    expected_schedule = {"daily": "@daily", "weekly": "@weekly"}.get(spec["schedule"], spec["schedule"])
    assert dag.schedule == expected_schedule
    groups = [
        d.get("id") or (f"hubspot_{d['mode']}" if d["type"] == "hubspot" else d["type"]) for d in spec["destinations"]
    ]
    expected_tasks = {"extract", "validate", "reconcile", "prepare"} | {
        f"{g}.{step}" for g in groups for step in ("plan", "load", "commit", "record")
    }
    waits = {f"{g}.wait" for g, d in zip(groups, spec["destinations"], strict=True) if d["type"] == "google_ads"}
    assert set(dag.task_ids) == expected_tasks | waits
    assert dag.get_task("validate").upstream_task_ids == {"extract"}
    assert dag.get_task("prepare").upstream_task_ids == {"validate", "reconcile"}
    for wait in waits:  # Google: load -> wait -> commit
        group = wait.split(".")[0]
        assert dag.get_task(wait).upstream_task_ids == {f"{group}.load"}
        assert dag.get_task(f"{group}.commit").upstream_task_ids == {wait}
    for group in groups:
        assert dag.get_task(f"{group}.plan").upstream_task_ids == {"prepare"}
        assert dag.get_task(f"{group}.record").upstream_task_ids == {f"{group}.commit"}
        assert dag.get_task(f"{group}.record").trigger_rule == "all_done"


def test_destinations_param_offers_the_behaviors_destination_ids(bag: Any) -> None:
    param = bag.get_dag("behavior__value_hunters").params.get_param("destinations")
    ids = ["meta", "google_ads", "hubspot_list", "hubspot_property", "clevertap"]
    assert param.value == ids and param.schema["items"]["enum"] == ids


def test_every_pool_the_dags_use_is_created_by_airflow_settings(bag: Any) -> None:
    settings = yaml.safe_load((ROOT / "airflow_settings.yaml").read_text())
    declared = {p["pool_name"] for p in settings["airflow"]["pools"]}
    used = {task.pool for dag in bag.dags.values() for task in dag.tasks} - {"default_pool"}
    assert used and used <= declared


@pytest.fixture()
def behaviors_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "behaviors"
    folder.mkdir()
    (tmp_path / "imports").mkdir()
    monkeypatch.setenv("BEHAVIOR_SYNC_BEHAVIORS_DIR", str(folder))
    monkeypatch.setenv("BEHAVIOR_SYNC_IMPORTS_DIR", str(tmp_path / "imports"))
    yield folder


def test_a_broken_file_becomes_a_visible_placeholder_and_the_others_still_load(
    airflow_db: Path, behaviors_dir: Path
) -> None:
    shutil.copy(ROOT / "include" / "behaviors" / "value_hunters.yaml", behaviors_dir)
    (behaviors_dir / "broken.yaml").write_text(
        "name: Broken\nquery: nope.sql\nmember_key: id\nidentifiers: {email: e}\n"
        "destinations: [{type: google_ads, membership_days: 9000}]\n"
    )
    (behaviors_dir / "bad_cron.yaml").write_text(
        (ROOT / "include" / "behaviors" / "value_hunters.yaml")
        .read_text()
        .replace("schedule: daily", "schedule: '99 * * * *'")
    )
    bag = dag_bag()
    assert bag.import_errors == {}
    assert sorted(bag.dag_ids) == [
        "behavior__bad_cron",
        "behavior__broken",
        "behavior__value_hunters",
        "behavior_sync__performance",
    ]
    broken = bag.get_dag("behavior__broken")
    assert broken.schedule is None and "invalid-behavior-file" in broken.tags
    assert broken.dag_display_name == (
        f"INVALID {behaviors_dir / 'broken.yaml'}: "
        "destinations[0].membership_days: 9000 is greater than the maximum of 540"
    )
    assert broken.owner == "behavior-sync"
    assert "destinations[0].membership_days: 9000 is greater than the maximum of 540" in broken.doc_md
    assert "schedule: '99 * * * *' is not daily, weekly, manual" in bag.get_dag("behavior__bad_cron").description
    assert bag.get_dag("behavior__value_hunters").schedule == "@daily"


def test_a_broken_import_file_becomes_a_visible_placeholder(airflow_db: Path, behaviors_dir: Path) -> None:
    imports = behaviors_dir.parent / "imports"
    (imports / "fine.yaml").write_text("list_name: VIPs\ntable: hubspot_vips\n")
    (imports / "broken.yaml").write_text("list_name: VIPs\ntable: Not A Table\n")
    bag = dag_bag()
    assert bag.import_errors == {} and sorted(bag.dag_ids) == ["import__broken", "import__fine"]
    broken = bag.get_dag("import__broken")
    assert broken.schedule is None and "invalid-behavior-file" in broken.tags and "table" in broken.description
    assert bag.get_dag("import__fine").schedule == "@daily"


def test_behavior_sync_is_a_provider_with_connection_forms(airflow_db: Path) -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "behavior-sync" in manager.providers
    types = {"warehouse", "sync_state", "meta_ads", "google_ads", "hubspot", "clevertap"}
    assert types <= set(manager.hooks)
    assert manager.field_behaviours["meta_ads"]["relabeling"]["password"] == "Access token"
    widgets = manager.connection_form_widgets
    assert "extra__meta_ads__ad_account_id" in widgets and widgets["extra__meta_ads__app_secret"].is_sensitive
    assert "extra__clevertap__region" in widgets and "extra__hubspot__portal_id" in widgets


def test_an_unloadable_failure_notifier_makes_its_behavior_an_invalid_placeholder_naming_the_field(
    airflow_db: Path, behaviors_dir: Path
) -> None:
    source = (ROOT / "include" / "behaviors" / "value_hunters.yaml").read_text()
    (behaviors_dir / "notified.yaml").write_text(
        source + "notifications: {on_failure: [{email: {to: [data@example.com]}}, {notifier: 'tests.support:NOPE'}]}\n"
    )
    (behaviors_dir / "emailed.yaml").write_text(
        source + "notifications: {on_failure: [{email: {to: [data@example.com], connection: smtp_team}}]}\n"
    )
    bag = dag_bag()
    assert bag.import_errors == {}
    broken = bag.get_dag("behavior__notified")
    assert "invalid-behavior-file" in broken.tags
    assert "notifications.on_failure[1].notifier: cannot load 'tests.support:NOPE'" in broken.dag_display_name
    (callback,) = bag.get_dag("behavior__emailed").get_task("extract").on_failure_callback
    assert type(callback).__name__ == "SmtpNotifier" and callback.to == ["data@example.com"]
    assert callback.smtp_conn_id == "smtp_team" and "task {{ ti.task_id }} failed" in callback.subject


def test_airflow_builds_every_project_hook_from_its_connection_as_the_test_button_does(airflow_db: Path) -> None:
    from airflow.models.connection import Connection

    for conn_type in ("warehouse", "sync_state", "meta_ads", "google_ads", "hubspot", "clevertap"):
        hook = Connection(conn_id=f"my_{conn_type}", conn_type=conn_type).get_hook()
        assert hook.conn_type == conn_type and hook.conn_id == f"my_{conn_type}"
