"""A small Google Ads Query Language (GAQL) matcher for the queries Behavior Sync sends.

Supported: ``SELECT <field>, ... FROM <resource> [WHERE <condition> [AND <condition>] ...] [LIMIT n]``.
A field is ``<row field>.<field>[.<sub>...]`` of ``GoogleAdsRow`` (kept as its protobuf path): the FROM
resource's own fields, those of the resources it is attributed to (e.g. ``campaign.name`` FROM ad_group),
``metrics.*`` and ``segments.*`` where the resource reports them (``search.SELECTABLE``). A condition is
``<field> <op> <value>`` (op: = != > >= < <=), ``<field> IN (<value>, ...)`` or
``<field> BETWEEN <value> AND <value>``; values are quoted strings (``'...'`` or ``"..."``), integers or
enum names (TRUE and FALSE included). Selecting ``segments.date`` needs a finite date range on it
(``BETWEEN``, or ``>=`` with ``<=``), as Google asks. Anything else is a ``QueryError``
(``BAD_RESOURCE_TYPE_IN_FROM_CLAUSE``, ``UNRECOGNIZED_FIELD``, ``PROHIBITED_RESOURCE_TYPE_IN_SELECT_CLAUSE``,
``PROHIBITED_METRIC_IN_SELECT_OR_WHERE_CLAUSE``, ``EXPECTED_FILTERS_ON_DATE_RANGE``, ``QUERY_ERROR`` for
syntax the sandbox does not parse, e.g. ORDER BY or DURING).
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from sandbox.google_ads.errors import ads_error

_QUERY = re.compile(
    r"\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<resource>\w+)(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*",
    re.IGNORECASE | re.DOTALL,
)
_VALUE = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|-?\d+|[A-Z_][A-Z0-9_]*"
_CONDITION = re.compile(
    rf"\s*([\w.]+)\s*(?:(BETWEEN)\s+({_VALUE})\s+AND\s+({_VALUE})|(IN)\s*\(([^)]*)\)|(>=|<=|!=|=|>|<)\s*({_VALUE}))"
    r"\s*(?:AND\b|$)",
    re.IGNORECASE,
)
REPORTED = frozenset({"metrics", "segments"})
_COMPARE = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
DATE = "segments.date"


@dataclass(frozen=True)
class Condition:
    """One WHERE condition: a field path, an operator (=, !=, >, >=, <, <=, IN, BETWEEN) and its values."""

    path: str
    op: str
    values: tuple[str, ...]

    def holds(self, value: str) -> bool:
        """Whether a row's ``value`` of ``path`` satisfies the condition (numbers compare as numbers)."""
        if self.op in {"=", "IN"}:
            return value in self.values
        if self.op == "!=":
            return value not in self.values
        if self.op == "BETWEEN":
            return _key(self.values[0]) <= _key(value) <= _key(self.values[1])
        return bool(_COMPARE[self.op](_key(value), _key(self.values[0])))


@dataclass(frozen=True)
class Query:
    """A parsed query: FROM resource, selected field paths (``<row field>.<path>``), conditions, limit."""

    resource: str
    fields: tuple[str, ...]
    filters: tuple[Condition, ...]
    limit: int | None

    def values_of(self, path: str) -> list[str]:
        """Every literal the conditions compare ``path`` with."""
        return [value for c in self.filters if c.path == path for value in c.values]

    def date_range(self) -> tuple[dt.date, dt.date] | None:
        """The finite ``segments.date`` range of the conditions (inclusive), or None when there is none."""
        low = [c.values[0] for c in self.filters if c.path == DATE and c.op in {"BETWEEN", ">=", "="}]
        high = [c.values[-1] for c in self.filters if c.path == DATE and c.op in {"BETWEEN", "<=", "="}]
        if not low or not high:
            return None
        try:
            return dt.date.fromisoformat(max(low)), dt.date.fromisoformat(min(high))
        except ValueError:
            raise _query_error("INVALID_DATE_FORMAT", "segments.date values are 'YYYY-MM-DD'") from None


def parse(text: str, row: Descriptor, selectable: Mapping[str, frozenset[str]]) -> Query:
    """Parse ``text`` against ``GoogleAdsRow``'s descriptor; ``selectable`` maps each FROM resource to the row
    fields it may select. Raises ``AdsError`` with a QueryError."""
    match = _QUERY.fullmatch(text)
    if match is None:
        raise _query_error("QUERY_ERROR", "the sandbox parses SELECT ... FROM ... [WHERE ...] [LIMIT n] only")
    resource = match["resource"].lower()
    if resource not in selectable:
        raise _query_error("BAD_RESOURCE_TYPE_IN_FROM_CLAUSE", f"the sandbox serves {sorted(selectable)} only")
    allowed = selectable[resource]
    fields = tuple(_field(name.strip(), row, allowed) for name in match["fields"].split(","))
    query = Query(resource, fields, _filters(match["where"] or "", row, allowed), _limit(match["limit"]))
    if DATE in fields and query.date_range() is None:
        raise _query_error("EXPECTED_FILTERS_ON_DATE_RANGE", "segments.date needs a finite date range in WHERE")
    return query


def matches(row: Message, query: Query) -> bool:
    """Whether ``row`` (a raw protobuf ``GoogleAdsRow``) passes every condition of ``query``."""
    return all(condition.holds(_value_at(row, condition.path)) for condition in query.filters)


def _limit(raw: str | None) -> int | None:
    return int(raw) if raw else None


def _filters(where: str, row: Descriptor, allowed: frozenset[str]) -> tuple[Condition, ...]:
    filters: list[Condition] = []
    position = 0
    while position < len(where):
        found = _CONDITION.match(where, position)
        if found is None or found.end() == position:
            raise _query_error("QUERY_ERROR", "the sandbox understands =, !=, <, <=, >, >=, IN (...) and BETWEEN")
        path = _field(found[1], row, allowed)
        if found[2]:
            op, raw = "BETWEEN", [found[3], found[4]]
        elif found[5]:
            op, raw = "IN", re.findall(_VALUE, found[6])
        else:
            op, raw = found[7], [found[8]]
        filters.append(Condition(path, op.upper(), tuple(_literal(value) for value in raw)))
        position = found.end()
    return tuple(filters)


def _field(name: str, row: Descriptor, allowed: frozenset[str]) -> str:
    prefix, _, path = name.partition(".")
    if prefix not in row.fields_by_name or not path:
        raise _query_error("UNRECOGNIZED_FIELD", f"{name!r} is not a field")
    if prefix not in allowed:
        code = (
            "PROHIBITED_METRIC_IN_SELECT_OR_WHERE_CLAUSE"
            if prefix in REPORTED
            else "PROHIBITED_RESOURCE_TYPE_IN_SELECT_CLAUSE"
        )
        raise _query_error(code, f"{name!r} cannot be used with this FROM resource")
    current: Descriptor | None = row.fields_by_name[prefix].message_type
    parts = [prefix]
    for part in path.split("."):
        fields = current.fields_by_name if current is not None else {}
        field = fields.get(part) or fields.get(f"{part}_")  # proto-plus renames reserved words: type -> type_
        if field is None:
            raise _query_error("UNRECOGNIZED_FIELD", f"{name!r} is not a field of {prefix}")
        parts.append(field.name)
        current = field.message_type
    return ".".join(parts)


def gaql_name(path: str) -> str:
    """The GAQL spelling of a protobuf field path (``ad_group_criterion.type_`` -> ``ad_group_criterion.type``)."""
    return ".".join(part.removesuffix("_") for part in path.split("."))


def _value_at(message: Message, path: str) -> str:
    value: object = message
    field: FieldDescriptor | None = None
    for part in path.split("."):
        assert isinstance(value, Message)
        field = value.DESCRIPTOR.fields_by_name[part]
        value = getattr(value, part)
    if field is not None and field.enum_type is not None and isinstance(value, int):
        return str(field.enum_type.values_by_number[value].name)
    if isinstance(value, bool):
        return str(value).upper()
    return str(value)


def _key(value: str) -> tuple[int, float | str]:
    """Numbers sort as numbers, anything else (dates, names) as text."""
    try:
        return 0, float(value)
    except ValueError:
        return 1, value


def _literal(raw: str) -> str:
    if raw[:1] in {"'", '"'}:
        return re.sub(r"\\(.)", r"\1", raw[1:-1])
    return raw.upper()  # enum names and TRUE / FALSE


def _query_error(code: str, message: str) -> Exception:
    return ads_error("query_error", code, message)
