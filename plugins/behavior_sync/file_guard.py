"""One behavior or import file, isolated: whatever loading it raises, or however long it takes, is its problem.

``contained`` runs loading, validating or building one file (including importing its notifier modules)
so that only ``BehaviorFileError`` leaves it: ``SystemExit``, ``KeyboardInterrupt``, ``RecursionError``,
``MemoryError`` and every other exception become a problem naming the file (ADR 0012). It runs under
``time_limit(file_seconds())``: a wall-clock limit from ``SIGALRM``, available in the main thread
(the dag-processor, the DagBag, the CLI) and a no-op elsewhere, where the size and structure bounds of
``behavior_sync.yaml_loading`` still apply. The limit nests inside the same timer that Airflow's
``dagbag_import_timeout`` and pytest-timeout use: the outer timer is put back with the time it has left,
and when the outer one runs out during a file, that file is charged with it (its load stops, the next
files load as usual).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TypeVar

from behavior_sync.file_slots import FileSlot
from behavior_sync.paths import PROJECT_DIR
from behavior_sync.schema_validation import Problem, printable

T = TypeVar("T")
FILE_SECONDS_ENV = "BEHAVIOR_SYNC_FILE_SECONDS"
DEFAULT_FILE_SECONDS = 5.0
MAX_PROBLEMS = 20


class BehaviorFileError(Exception):
    """A behavior (or import) file that cannot be used; ``str()`` gives one line per problem, each naming the file.

    At most ``MAX_PROBLEMS`` problems are kept (then one saying how many more). ``dag_id``: the id of the
    file's placeholder DAG, when known (``behavior_sync.file_slots``).
    """

    def __init__(self, file: Path, problems: Sequence[Problem], dag_id: str | None = None) -> None:
        self.file = file
        self.dag_id = dag_id
        extra = len(problems) - MAX_PROBLEMS
        more = [Problem("", f"… and {extra} more problems")] if extra > 0 else []
        self.problems = (*problems[:MAX_PROBLEMS], *more)
        super().__init__("\n".join(f"{display_path(file)}: {p}" for p in self.problems))


def display_path(path: Path) -> str:
    """Path relative to the project root when inside it (what people see in messages), made printable."""
    try:
        return printable(str(path.resolve().relative_to(PROJECT_DIR)))
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop
        return printable(str(path))


def load_slot(slot: FileSlot, load: Callable[[Path], T]) -> T | BehaviorFileError:
    """``load(slot.path)`` isolated by ``contained``, or the file's error (carrying ``slot.dag_id``)."""
    if slot.refusal is not None:
        return BehaviorFileError(slot.path, [slot.refusal], slot.dag_id)
    try:
        return contained(slot.path, slot.dag_id, lambda: load(slot.path))
    except BehaviorFileError as exc:
        return exc


def load_files(slots: Iterable[FileSlot], load: Callable[[Path], T]) -> tuple[list[T], list[BehaviorFileError]]:
    """``load_slot`` of each slot, in order: (what loaded, the errors)."""
    loaded: list[T] = []
    errors: list[BehaviorFileError] = []
    for slot in slots:
        outcome = load_slot(slot, load)
        if isinstance(outcome, BehaviorFileError):
            errors.append(outcome)
        else:
            loaded.append(outcome)
    return loaded, errors


def contained(file: Path, dag_id: str, action: Callable[[], T]) -> T:
    """``action()`` under the per-file time limit; raises only ``BehaviorFileError`` (with ``dag_id``).

    Any other exception, ``BaseException`` included (``SystemExit``, ``KeyboardInterrupt``, ``RecursionError``,
    ``MemoryError``, the time limit), becomes a problem of ``file``: one file never stops the others.
    """
    try:
        with time_limit(file_seconds()):
            return action()
    except BehaviorFileError as exc:
        exc.dag_id = dag_id
        raise
    except BaseException as exc:  # noqa: BLE001 - isolate this file, whatever it raised
        raise BehaviorFileError(file, [Problem("", describe_failure(exc))], dag_id) from None


class TimeLimitExceeded(BaseException):
    """Loading one file took too long. A ``BaseException``, so a notifier's ``except Exception`` cannot hide it."""


def file_seconds() -> float:
    """Seconds one file may take (``BEHAVIOR_SYNC_FILE_SECONDS``, default 5; 0 or less: no limit)."""
    try:
        return float(os.environ.get(FILE_SECONDS_ENV) or DEFAULT_FILE_SECONDS)
    except ValueError:
        return DEFAULT_FILE_SECONDS


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise ``TimeLimitExceeded`` in the block after ``seconds`` (main thread with ``setitimer`` only).

    Restores the previous ``SIGALRM`` handler and re-arms an outer timer with what it has left.
    """
    if seconds <= 0 or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return
    previous = signal.getsignal(signal.SIGALRM)
    outer_left, outer_interval = signal.getitimer(signal.ITIMER_REAL)
    limit = min(seconds, outer_left) if outer_left else seconds
    reason = f"took longer than {seconds:g} s" if limit == seconds else "ran out of the DAG file's import time"

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeLimitExceeded(reason)

    started = time.monotonic()
    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
        left = outer_left - (time.monotonic() - started)
        if outer_left and left > 0:
            signal.setitimer(signal.ITIMER_REAL, left, outer_interval)


def describe_failure(exc: BaseException) -> str:
    """One line saying what an unexpected exception while loading a file means for the person fixing it."""
    if isinstance(exc, TimeLimitExceeded):
        return f"loading the file {exc} (limit: {FILE_SECONDS_ENV}); is a notifier module slow to import?"
    if isinstance(exc, RecursionError):
        return "the file cannot be loaded: RecursionError (nested too deeply)"
    if isinstance(exc, MemoryError):
        return "the file cannot be loaded: MemoryError (ran out of memory)"
    if isinstance(exc, SystemExit | KeyboardInterrupt):
        return f"{type(exc).__name__}({exc}) was raised while loading the file (e.g. by a module it imports)"
    return f"the file cannot be loaded: {type(exc).__name__}: {exc}"
