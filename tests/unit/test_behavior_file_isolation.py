"""One file's cost and failures stay its own (ADR 0012): the time limit, capped problems, DAG ids from file names.

The whole corpus of broken files runs through a DagBag and validate in tests/dags/test_broken_behavior_files.py;
these pin the rules underneath on their own.
"""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from behavior_sync.config import load_behaviors
from behavior_sync.file_guard import FILE_SECONDS_ENV, BehaviorFileError, TimeLimitExceeded, contained, time_limit
from behavior_sync.file_slots import SLUG_PATTERN, assign_slots
from behavior_sync.schema_validation import Problem

AIRFLOW_KEY = re.compile(r"^[\w.-]{1,250}$")  # airflow.sdk.definitions._internal.node.KEY_REGEX and its length


@pytest.fixture()
def outer_timer() -> Iterator[list[int]]:
    """An outer SIGALRM timer of 30 s (as Airflow's dagbag_import_timeout sets one); records when it fires."""
    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    remaining = signal.setitimer(signal.ITIMER_REAL, 30)
    try:
        yield fired
    finally:
        signal.setitimer(signal.ITIMER_REAL, *remaining)
        signal.signal(signal.SIGALRM, previous)


def test_time_limit_stops_an_endless_loop_and_gives_the_outer_timer_back_its_time(outer_timer: list[int]) -> None:
    started = time.monotonic()
    with pytest.raises(TimeLimitExceeded, match=r"took longer than 0\.2 s"), time_limit(0.2):
        while True:
            pass
    assert 0.2 <= time.monotonic() - started < 2
    left, _ = signal.getitimer(signal.ITIMER_REAL)
    assert 27 < left <= 29.8 and outer_timer == []
    signal.raise_signal(signal.SIGALRM)  # the outer handler is back in place
    assert outer_timer == [signal.SIGALRM]


def test_when_the_outer_timer_runs_out_first_the_file_being_loaded_is_charged(outer_timer: list[int]) -> None:
    signal.setitimer(signal.ITIMER_REAL, 0.1)
    with pytest.raises(TimeLimitExceeded, match="ran out of the DAG file's import time"), time_limit(5):
        time.sleep(3)
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0 and outer_timer == []


def endless() -> None:
    while True:
        pass


def exits() -> None:
    raise SystemExit(3)


def interrupted() -> None:
    raise KeyboardInterrupt


def recurses() -> None:
    recurses()


def out_of_memory() -> None:
    raise MemoryError


def refused() -> None:
    raise ValueError("Airflow refused it")


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (exits, "SystemExit(3) was raised while loading the file"),
        (interrupted, "KeyboardInterrupt() was raised while loading the file"),
        (recurses, "the file cannot be loaded: RecursionError (nested too deeply)"),
        (out_of_memory, "the file cannot be loaded: MemoryError (ran out of memory)"),
        (endless, "loading the file took longer than 0.2 s (limit: BEHAVIOR_SYNC_FILE_SECONDS)"),
        (refused, "the file cannot be loaded: ValueError: Airflow refused it"),
    ],
)
def test_whatever_loading_or_building_a_file_raises_becomes_its_problem(
    action: Callable[[], None], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FILE_SECONDS_ENV, "0.2")
    with pytest.raises(BehaviorFileError) as info:
        contained(Path("include/behaviors/x_y.yaml"), "behavior__x_y", action)
    assert info.value.dag_id == "behavior__x_y" and str(info.value).startswith("include/behaviors/x_y.yaml: ")
    (problem,) = info.value.problems
    assert str(problem).startswith(message)


def test_a_problem_is_one_printable_line_of_bounded_length() -> None:
    problem = Problem("bad\nfield" * 100, "x" * 20_000_000)
    assert len(problem.field) < 200 and "\n" not in problem.field and problem.field.startswith("bad\\nfield")
    assert problem.message == "x" * 300 + "… (cut: 20,000,000 characters)"
    assert Problem("", "a\u200bb\udcff").message == "a\\u200bb\\udcff"


def test_an_error_keeps_twenty_problems_and_says_how_many_more(tmp_path: Path) -> None:
    error = BehaviorFileError(tmp_path / "x.yaml", [Problem(f"f{i:03}", "wrong") for i in range(100)])
    assert [p.field for p in error.problems[:2]] == ["f000", "f001"] and len(error.problems) == 21
    assert str(error.problems[-1]) == "… and 80 more problems"


@pytest.mark.parametrize(
    "name",
    ["n" * 250 + ".yaml", "value hunters.yaml", "Value_Hunters.yaml", "été.yaml", "-.yaml", "a.b.c.yaml", "x.yaml"],
)
def test_a_badly_named_file_gets_a_valid_placeholder_id_no_good_file_can_have(name: str) -> None:
    (slot,) = assign_slots([Path(name)], "behavior")
    assert AIRFLOW_KEY.fullmatch(slot.dag_id) and len(slot.dag_id) <= 81
    assert not SLUG_PATTERN.fullmatch(slot.dag_id.removeprefix("behavior__"))


def test_a_twin_is_refused_naming_both_files_and_the_yaml_file_keeps_the_dag() -> None:
    yml, yaml_, spaced, other = (Path(n) for n in ("x_y.yml", "x_y.yaml", "x y.yaml", "solo.yml"))
    slots = {s.path: s for s in assign_slots([yml, spaced, yaml_, other], "behavior")}
    assert slots[yaml_].dag_id == "behavior__x_y" and slots[yaml_].refusal is None
    assert slots[other].dag_id == "behavior__solo" and slots[other].refusal is None  # .yml alone is fine
    for twin in (yml, spaced):
        assert slots[twin].dag_id.startswith("behavior__x_y-") and slots[twin].refusal is not None
        assert f"{str(twin)!r} is ignored: 'x_y.yaml' already has DAG behavior__x_y" in slots[twin].refusal.message


def test_a_notifier_module_that_exits_is_its_files_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bsync_unit_exits.py").write_text("raise SystemExit('bye')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    behaviors = tmp_path / "behaviors"
    behaviors.mkdir()
    example = (Path(__file__).resolve().parents[2] / "include" / "behaviors" / "value_hunters.yaml").read_text()
    (behaviors / "exits.yaml").write_text(example + "notifications: {on_failure: [{notifier: 'bsync_unit_exits:N'}]}\n")
    (behaviors / "fine.yaml").write_text(example)
    loaded = load_behaviors(behaviors)
    assert [b.slug for b in loaded.behaviors] == ["fine"]
    (error,) = loaded.errors
    assert error.dag_id == "behavior__exits"
    assert str(error.problems[0]) == (
        "notifications.on_failure[0].notifier: cannot load 'bsync_unit_exits:N' (SystemExit: bye)"
    )
