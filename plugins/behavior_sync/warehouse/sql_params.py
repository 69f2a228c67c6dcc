r"""Named parameters of behavior SQL, bound the same way on DuckDB and through SQLAlchemy.

Behavior SQL uses SQLAlchemy-style named parameters, ``:name``. A parameter is recognised only in
SQL code, by SQLAlchemy's rule (not preceded by ``:``, a word character or ``\``; not followed by a
word character or a single ``:``), so ``::type`` casts, ``a:b`` and everything inside string
literals (``'...'``, ``E'...'``, dollar-quoted), quoted identifiers and comments are left alone.
Unlike plain ``text()``, a parameter directly followed by a cast (``:end::date``) is recognised.
``\:`` in code is a literal colon. Both paths give the same meaning to the same text: for DuckDB
the parameters become ``$name``; for SQLAlchemy colons inside literals are escaped so that
``text()`` does not take them for parameters.

Only the parameters the statement uses are bound. Timezone-aware datetimes are converted to naive
UTC before binding (the warehouse session also runs in UTC, see ``sources``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from behavior_sync.warehouse.errors import WarehouseError

_TOKENS = re.compile(
    r"""
    (?P<literal>
        (?<!\w)[eE]'(?:[^'\\]|\\.|'')*'?                      # E'escape string'
      | '(?:[^']|'')*'?                                       # 'string', '' escapes
      | "(?:[^"]|"")*"?                                       # "quoted identifier"
      | --[^\n]*                                              # line comment
      | /\*.*?(?:\*/|\Z)                                      # block comment
      | (?<!\w)\$(?P<tag>(?:[A-Za-z_]\w*)?)\$.*?(?:\$(?P=tag)\$|\Z)   # $tag$dollar quoted$tag$
    )
    | (?P<cast>::)
    | (?P<escaped>\\:)
    | (?<![:\w\\]):(?P<name>\w+)(?!\w)(?!:(?!:))         # :name, also right before a ::cast
    """,
    re.VERBOSE | re.DOTALL,
)
# What SQLAlchemy's text() takes for a parameter (sqlalchemy.sql.elements.TextClause).
_SQLALCHEMY_PARAM = re.compile(r"(?<![:\w\\]):\w+(?![:\w])")
_DUCKDB_NAME = re.compile(r"[A-Za-z_]\w*")


@dataclass(frozen=True)
class BoundSql:
    """A statement in a driver's parameter style, with the values of the parameters it uses."""

    text: str
    params: dict[str, Any]


def parameter_names(sql: str) -> list[str]:
    """The distinct ``:name`` parameters ``sql`` uses, in order of first use."""
    return list(dict.fromkeys(_rewrite(sql, lambda name: name, lambda text: text, ":")[1]))


def bind_for_duckdb(sql: str, params: Mapping[str, Any] | None) -> BoundSql:
    """``sql`` with ``:name`` rewritten to DuckDB's ``$name``, and the values it uses.

    Raises WarehouseError naming any parameter without a value, or whose name DuckDB cannot take
    (names must start with a letter or ``_``).
    """
    text, names = _rewrite(sql, lambda name: f"${name}", lambda literal: literal, ":")
    invalid = [name for name in dict.fromkeys(names) if not _DUCKDB_NAME.fullmatch(name)]
    if invalid:
        raise WarehouseError(
            f"the SQL uses parameter(s) {_listed(invalid)} whose names DuckDB cannot bind; "
            "rename them to start with a letter or an underscore"
        )
    return BoundSql(text, _values(names, params))


def bind_for_sqlalchemy(sql: str, params: Mapping[str, Any] | None) -> BoundSql:
    """``sql`` ready for ``sqlalchemy.text()`` (colons inside literals escaped), and the values it uses.

    Raises WarehouseError naming any parameter without a value.
    """
    text, names = _rewrite(sql, lambda name: f":{name}", _escape_for_text, "\\:")
    return BoundSql(text, _values(names, params))


def _rewrite(
    sql: str, param: Callable[[str], str], literal: Callable[[str], str], escaped_colon: str
) -> tuple[str, list[str]]:
    """Rewrites parameters, literals/comments and ``\\:`` with the given functions; returns the names used."""
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        if match.group("name") is not None:
            names.append(match.group("name"))
            cast_follows = sql.startswith("::", match.end())
            return param(match.group("name")) + (" " if cast_follows else "")
        if match.group("literal") is not None:
            return literal(match.group("literal"))
        if match.group("escaped") is not None:
            return escaped_colon
        return match.group(0)

    return _TOKENS.sub(replace, sql), names


def _escape_for_text(literal: str) -> str:
    r"""Escapes (``\:``) what text() would take for a parameter; its compiler turns ``\:`` back into ``:``."""
    return _SQLALCHEMY_PARAM.sub(lambda match: "\\" + match.group(0), literal)


def _values(names: list[str], params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The bindable values of ``names``; raises WarehouseError naming the ones without a value."""
    given = params or {}
    missing = [name for name in dict.fromkeys(names) if name not in given]
    if missing:
        raise WarehouseError(
            f"the SQL uses parameter(s) {_listed(missing)} but no value was given for them "
            f"(values were given for: {_listed(sorted(given)) or 'none'}); "
            "fix the parameter name in the SQL or pass a value for it"
        )
    return {name: bindable(given[name]) for name in dict.fromkeys(names)}


def bindable(value: Any) -> Any:
    """``value`` as it is bound: timezone-aware datetimes become naive UTC; anything else is unchanged."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _listed(names: list[str]) -> str:
    return ", ".join(f":{name}" for name in names)
