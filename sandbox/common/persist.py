"""JSON state files for sandboxes: atomic writes and a background flusher."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


def load_json(path: Path) -> Any:
    """The JSON document at ``path``, or None when the file does not exist."""
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def save_json_atomic(path: Path, document: Any) -> None:
    """Write ``document`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, separators=(",", ":"))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class PeriodicFlusher:
    """Calls ``flush`` every ``interval`` seconds while ``mark_dirty`` was called since the last one.

    ``stop`` flushes one last time when dirty and joins the thread; idempotent.
    """

    def __init__(self, flush: Callable[[], None], interval: float = 2.0) -> None:
        self._flush = flush
        self._interval = interval
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-state-flusher", daemon=True)
        self._thread.start()

    def mark_dirty(self) -> None:
        """Note that the state changed."""
        self._dirty.set()

    def stop(self) -> None:
        """Stop the thread, flushing pending changes."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._thread.join(timeout=10)
        self._flush_if_dirty()

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            self._flush_if_dirty()

    def _flush_if_dirty(self) -> None:
        if not self._dirty.is_set():
            return
        self._dirty.clear()
        try:
            self._flush()
        except OSError as exc:
            self._dirty.set()
            logger.error("could not save sandbox state: %s", exc)


class StateFile:
    """A sandbox's optional state file: loaded once at construction, saved in the background after changes.

    With ``path`` None nothing is read or written and every method does nothing. Otherwise an existing
    file is handed to ``load`` (a missing one is skipped), and after ``mark_changed`` a background
    flusher writes ``dump()`` atomically; ``close`` writes pending changes and stops it (idempotent).
    """

    def __init__(self, path: Path | None, load: Callable[[Any], None], dump: Callable[[], Any]) -> None:
        self._path = path
        self._dump = dump
        self._flusher: PeriodicFlusher | None = None
        if path is not None:
            document = load_json(path)
            if document is not None:
                load(document)
            self._flusher = PeriodicFlusher(self._save)

    def mark_changed(self) -> None:
        """Note a state change, to be saved by the flusher."""
        if self._flusher is not None:
            self._flusher.mark_dirty()

    def close(self) -> None:
        """Save pending changes and stop the flusher."""
        if self._flusher is not None:
            self._flusher.stop()

    def _save(self) -> None:
        assert self._path is not None
        save_json_atomic(self._path, self._dump())
