"""One broken behavior or import file never hides another (issue 17.2, ADR 0012).

The generated corpus (tests/support/bad_behavior_files.py: ~80 broken files next to the good examples) goes
through one real DagBag parse of the project's DAG folder, shared by the assertions, and through
``python -m behavior_sync validate``: no import error, every good DAG loads as itself, and every broken file
has its own placeholder (and validate lines) naming the file and what is wrong with which field.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from behavior_sync.cli import main as cli_main
from behavior_sync.config import display_path
from behavior_sync.file_guard import FILE_SECONDS_ENV
from tests.support.bad_behavior_files import Corpus, write_corpus

ROOT = Path(__file__).resolve().parents[2]
INVALID_TAG = "invalid-behavior-file"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    written = write_corpus(tmp_path_factory.mktemp("corpus"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BEHAVIOR_SYNC_BEHAVIORS_DIR", str(written.behaviors))
        patch.setenv("BEHAVIOR_SYNC_IMPORTS_DIR", str(written.imports))
        patch.setenv(FILE_SECONDS_ENV, "2")  # the endless notifier module costs this, twice
        patch.syspath_prepend(str(written.modules))
        yield written


@pytest.fixture(scope="module")
def bag(airflow_db: Path, corpus: Corpus) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def placeholder_file(dag: Any) -> str:
    """The file a placeholder DAG is about, from its documentation's title."""
    title = dag.doc_md.split("\n", 1)[0]
    assert title.startswith("# Invalid behavior file `"), title
    return str(title.split("`")[1])


def test_no_broken_file_makes_an_import_error_and_every_good_dag_loads_as_itself(bag: Any, corpus: Corpus) -> None:
    assert bag.import_errors == {}
    for slug in corpus.good_behaviors:
        dag = bag.get_dag(f"behavior__{slug}")
        assert INVALID_TAG not in dag.tags, dag.doc_md
        assert set(dag.params) == {
            "dry_run",
            "full_resync",
            "override_guardrails",
            "destinations",
            "reconcile",
            "repair",
        }
    for twin in ("comfort_seekers", "trend_followers", "value_hunters"):  # a clashing file did not replace them
        assert f"* File: `{corpus.behaviors / twin}.yaml`" in bag.get_dag(f"behavior__{twin}").doc_md
    for name in corpus.good_imports:
        assert INVALID_TAG not in bag.get_dag(f"import__{name}").tags


def test_every_broken_file_has_its_own_placeholder_naming_the_file_and_the_problem(bag: Any, corpus: Corpus) -> None:
    placeholders = [dag for dag in bag.dags.values() if INVALID_TAG in dag.tags]
    by_file = {placeholder_file(dag): dag for dag in placeholders}
    assert len(placeholders) == len(by_file) == len(corpus.bad)  # one each: none replaced another
    behavior_and_import_dags = [dag_id for dag_id in bag.dags if dag_id != "behavior_sync__performance"]
    assert len(behavior_and_import_dags) == len(corpus.bad) + len(corpus.good_behaviors) + len(corpus.good_imports)
    unmet = []
    for bad in corpus.bad:
        dag = by_file[display_path(corpus.path(bad))]
        assert dag.schedule is None and dag.task_ids == ["report_invalid_file"]
        unmet += [(bad.name, fragment) for fragment in bad.expected if fragment not in dag.doc_md]
    assert unmet == []


def test_placeholder_texts_are_capped_single_lines(bag: Any) -> None:
    for dag in bag.dags.values():
        if INVALID_TAG in dag.tags:
            assert len(dag.description) <= 1000 and "\n" not in dag.dag_display_name
            assert max(len(line) for line in dag.doc_md.splitlines()) < 800, dag.dag_id


def test_every_dag_serializes_and_schedules_as_the_dag_processor_needs(bag: Any) -> None:
    """What the dag-processor does next with each DAG of the file must not fail either (it would for all)."""
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.timetables.base import TimeRestriction

    for dag in bag.dags.values():
        data = DagSerialization.to_dict(dag)
        json.dumps(data, ensure_ascii=False).encode("utf-8")  # no unpaired surrogate from a file name
        timetable = DagSerialization.from_dict(data).timetable
        restriction = TimeRestriction(earliest=dag.start_date, latest=None, catchup=dag.catchup)
        timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
        assert dag.start_date <= dt.datetime(2100, 12, 31, tzinfo=dt.UTC)


def test_validate_agrees_naming_every_broken_file_and_passing_every_good_one(
    corpus: Corpus, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["validate"]) == 1
    out, err = capsys.readouterr()
    good = len(corpus.good_behaviors) + len(corpus.good_imports)
    assert f"{good} valid, {len(corpus.bad)} invalid" in err
    for slug in corpus.good_behaviors:
        assert f"/{slug}.y" in out
    unmet = []
    for bad in corpus.bad:
        prefix = f"{display_path(corpus.path(bad))}: "
        said = "\n".join(line for line in err.splitlines() if line.startswith(prefix))
        unmet += [(bad.name, fragment) for fragment in bad.expected if fragment not in said]
    assert unmet == []
    assert max(len(line) for line in err.splitlines()) < 800


def test_a_worker_parsing_for_a_placeholder_finds_it(bag: Any, corpus: Corpus, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.dag_processing.dagbag import DagBag

    by_file = {placeholder_file(dag): dag for dag in bag.dags.values() if INVALID_TAG in dag.tags}
    wanted = by_file[display_path(corpus.behaviors / "value hunters.yaml")].dag_id
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", wanted)
    assert DagBag(dag_folder=str(ROOT / "dags" / "behavior_dags.py")).dag_ids == [wanted]
