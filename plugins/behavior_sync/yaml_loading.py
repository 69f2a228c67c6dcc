"""Reading one behavior or import file into a YAML document, with what the file may cost bounded first.

In order, each step only when the one before found nothing wrong:

1. the path must be a regular file (not a directory, FIFO, device or dangling link) of at most
   ``MAX_FILE_BYTES``, UTF-8 encoded (a UTF-8 byte order mark is accepted);
2. its YAML event stream is scanned (libyaml's parser keeps an explicit stack: no recursion): at most
   ``MAX_DEPTH`` nested collections, and at most ``MAX_VALUES`` values and ``MAX_TEXT_CHARS`` characters
   of text *counting every alias expansion*, so an alias bomb ("billion laughs") is refused after a few
   hundred events instead of costing minutes of CPU and all memory, and deep nesting is refused before
   the (recursive) composer could overflow the C stack;
3. the document is constructed with a safe loader that refuses duplicated keys, keeps unquoted dates as
   text (``start_date: 2026-02-30`` is judged by the schema, naming the field) and turns constructor
   errors (``!!int abc``) into a problem with line and column.

``read_document`` never raises for a bad file: every problem is returned. What is left unbounded here
(time) is bounded by ``behavior_sync.file_guard``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from behavior_sync.schema_validation import Problem, clip

MAX_FILE_BYTES = 1 << 20
MAX_DEPTH = 32
MAX_VALUES = 10_000
MAX_TEXT_CHARS = MAX_FILE_BYTES

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"


def read_document(path: Path) -> tuple[Any, list[Problem]]:
    """The YAML document of ``path`` and, when it cannot be used, the problems (then the document is None)."""
    text, problem = _read_text(path)
    if problem is None:
        problem = _structure_problem(text)
    if problem is not None:
        return None, [problem]
    try:
        return yaml.load(text, Loader=_StrictLoader), []
    except yaml.YAMLError as exc:
        return None, [_yaml_problem(exc)]


def _read_text(path: Path) -> tuple[str, Problem | None]:
    """The file's text, or why it cannot be read; opening never blocks (a FIFO is refused, not waited on)."""
    try:
        with os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode):
                return "", Problem("", "not a regular file (a directory, device or FIFO): nothing was read")
            if info.st_size > MAX_FILE_BYTES:
                return "", Problem("", f"the file has {info.st_size:,} bytes; the limit is {MAX_FILE_BYTES:,}")
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return "", Problem("", f"cannot read the file: {type(exc).__name__}: {exc.strerror or exc}")
    if len(data) > MAX_FILE_BYTES:
        return "", Problem("", f"the file has more than {MAX_FILE_BYTES:,} bytes (the limit)")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "", Problem("", "the file is UTF-16 text: save it as UTF-8")
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return "", Problem("", f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start:,})")


@dataclass
class _Scan:
    """The document's size with every alias expanded, fed one parser event at a time."""

    values: int = 0
    chars: int = 0
    anchors: dict[str, tuple[int, int]] = field(default_factory=dict)  # anchor -> its node's expanded size
    open_collections: list[tuple[str | None, tuple[int, int]]] = field(default_factory=list)
    open_anchors: set[str | None] = field(default_factory=set)  # latest definition still an open collection

    def feed(self, event: yaml.Event) -> str | None:
        """Account for ``event``; returns why the document is refused, or None."""
        if isinstance(event, yaml.CollectionStartEvent):
            if len(self.open_collections) == MAX_DEPTH:
                return f"nested more than {MAX_DEPTH} levels deep"
            self._open(event.anchor)
        elif isinstance(event, yaml.CollectionEndEvent):
            self._close(*self.open_collections.pop())
        elif isinstance(event, yaml.ScalarEvent):
            self._open(event.anchor)
            self.chars += len(event.value)
            self._close(*self.open_collections.pop())
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor in self.open_anchors:
                return f"alias *{event.anchor} refers to a collection that contains it (endless)"
            values, chars = self.anchors.get(event.anchor, (1, 0))  # an unknown one: the composer reports it
            self.values, self.chars = self.values + values, self.chars + chars
        return self._too_big()

    def _open(self, anchor: str | None) -> None:
        self.open_collections.append((anchor, (self.values, self.chars)))
        self.open_anchors.add(anchor)
        self.values += 1

    def _close(self, anchor: str | None, start: tuple[int, int]) -> None:
        self.open_anchors.discard(anchor)
        if anchor is not None:
            self.anchors[anchor] = (self.values - start[0], self.chars - start[1])

    def _too_big(self) -> str | None:
        if self.values > MAX_VALUES:
            return f"the document has more than {MAX_VALUES:,} values (aliases counted as expanded)"
        if self.chars > MAX_TEXT_CHARS:
            return f"the document has more than {MAX_TEXT_CHARS:,} characters of text (aliases counted as expanded)"
        return None


def _structure_problem(text: str) -> Problem | None:
    """Why the document is too deep or too big once aliases are expanded (None when it is not); stops early."""
    scan = _Scan()
    try:
        for event in yaml.parse(text, Loader=_StrictLoader):
            if (problem := scan.feed(event)) is not None:
                return _at(event, problem)
    except yaml.YAMLError as exc:
        return _yaml_problem(exc)
    return None


def _at(event: yaml.Event, message: str) -> Problem:
    mark = event.start_mark
    return Problem("", f"{message} (line {mark.line + 1}, column {mark.column + 1})" if mark else message)


def _yaml_problem(exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
    reason = getattr(exc, "problem", None) or str(exc)
    return Problem("", f"invalid YAML{where}: {reason}")


class _StrictLoader(_BaseLoader):  # type: ignore[misc]
    """Safe loader (libyaml when available: ~10x faster) that refuses duplicated keys, keeps dates as text and
    reports constructor errors with their position.

    PyYAML silently keeps the last of two equal keys, and lets ``ValueError`` & co. of its constructors escape.
    """

    yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[str, Any]]]] = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != _TIMESTAMP_TAG]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. ValueError of `!!int abc`, KeyError of `!!bool maybe`
            shown = clip(repr(node.value), 40) if isinstance(node, yaml.ScalarNode) else f"a {node.id}"
            reason = f"{shown} cannot be read as {node.tag.rsplit(':', 1)[-1]} ({type(exc).__name__}: {exc})"
            raise yaml.constructor.ConstructorError(None, None, reason, node.start_mark) from None


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == _MERGE_TAG:
            continue  # `<<: *base` merges; SafeConstructor flattens it (explicit keys win)
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, Hashable):
            break  # SafeConstructor reports the unhashable key
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicated key {key!r}", key_node.start_mark)
        seen.add(key)
    mapping: dict[Any, Any] = yaml.constructor.SafeConstructor.construct_mapping(loader, node, deep=deep)
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
