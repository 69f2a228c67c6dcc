"""``profileData`` of a profile record: validation into operations, and applying them to stored properties.

Values (each key is 1-120 bytes, else 521):

* a scalar (string <= 512 bytes, number, boolean) sets the property; standard keys are checked:
  ``Gender`` M/F (514), ``Email`` (515), ``Phone`` ``+<country code><number>`` (516), ``Employed`` Y/N
  (517), ``Education`` School/College/Graduate (518), ``Married`` Y/N (519), ``Age`` 1-120 (520);
* a list of strings sets a multi-value property (a set of strings, at most 100 values of <= 512 bytes);
* an operator object (UNCONFIRMED for the server API, see README): ``{"$add": [..]}`` /
  ``{"$remove": [..]}`` edit a multi-value property, ``{"$delete": 1}`` removes the property,
  ``{"$incr": n}`` / ``{"$decr": n}`` change a number. Disabled by ``multi_value_operators: false``.

Anything else (null, nested objects, unknown operators, multi-values on the standard keys the SDK
reserves) fails the record with 512. Per-record codes 512/521 for profiles are the sandbox's choice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

MAX_KEY_BYTES = 120
MAX_VALUE_BYTES = 512
MAX_MULTI_VALUES = 100  # CleverTap SDK Constants.MAX_MULTI_VALUE_ARRAY_LENGTH
STANDARD_KEYS = frozenset(
    {"Name", "Email", "Phone", "Gender", "Employed", "Education", "Married", "Age", "DOB", "Photo", "Identity"}
    | {"MSG-email", "MSG-push", "MSG-sms", "MSG-whatsapp", "MSG-dndPhone", "MSG-dndEmail"}
)
# Keys the SDK refuses as multi-value (Validator.RestrictedMultiValueFields).
RESTRICTED_MULTI_VALUE = frozenset(
    {"Name", "Email", "Education", "Married", "DOB", "Gender", "Phone", "Age", "FBID", "GPID", "Birthday"}
)
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_PHONE = re.compile(r"\+[1-9][0-9]{6,14}")
_INVALID = "Profile data is incorrect. "
_STANDARD_CHECKS: dict[str, tuple[int, str, Callable[[Any], bool]]] = {
    "Gender": (514, "Gender needs to be M/F.", lambda v: v in ("M", "F")),
    "Email": (515, "Email is not valid.", lambda v: isinstance(v, str) and _EMAIL.fullmatch(v) is not None),
    "Phone": (516, "Phone number is not valid.", lambda v: isinstance(v, str) and _PHONE.fullmatch(v) is not None),
    "Employed": (517, "Employment status needs to be Y/N.", lambda v: v in ("Y", "N")),
    "Education": (
        518,
        "Education needs to be School/College/Graduate.",
        lambda v: v in ("School", "College", "Graduate"),
    ),
    "Married": (519, "Marital status needs to be Y/N.", lambda v: v in ("Y", "N")),
    "Age": (520, "Age is invalid.", lambda v: _age(v) is not None),
}


class RecordRejected(Exception):
    """CleverTap skipped a record: its per-record ``code`` and ``message`` (no record values in it)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class PropertyOp:
    """One change to a profile: ``op`` is set, set_multi, add, remove, delete, incr or decr."""

    key: str
    op: str
    value: Any = None


def parse_profile_data(data: Any, operators: bool) -> tuple[PropertyOp, ...]:
    """Validate ``profileData``; raises ``RecordRejected``. ``operators`` enables the ``$`` operators."""
    if not isinstance(data, dict):
        raise RecordRejected(512, "Invalid profile structure: profileData must be an object. ")
    ops = []
    for key, value in data.items():
        if not key or len(key.encode("utf-8")) > MAX_KEY_BYTES:
            raise RecordRejected(521, f"Profile property keys are 1-{MAX_KEY_BYTES} bytes. ")
        if isinstance(value, dict):
            if not operators:
                raise RecordRejected(512, "Invalid profile structure: objects are not property values. ")
            ops.append(_operator(key, value))
        elif isinstance(value, list):
            ops.append(PropertyOp(key, "set_multi", _multi_values(key, value)))
        else:
            ops.append(PropertyOp(key, "set", _scalar(key, value)))
    return tuple(ops)


def apply_ops(properties: dict[str, Any], ops: Iterable[PropertyOp]) -> dict[str, Any]:
    """A new property dict with ``ops`` applied in order; raises ``RecordRejected`` (nothing applied)."""
    result = dict(properties)
    for op in ops:
        if op.op in ("set", "set_multi"):
            result[op.key] = sorted(op.value) if op.op == "set_multi" else op.value
        elif op.op == "delete":
            result.pop(op.key, None)
        elif op.op in ("add", "remove"):
            _edit_multi(result, op)
        else:
            _step_number(result, op)
    return result


def custom_keys(ops: Iterable[PropertyOp]) -> set[str]:
    """The non-standard keys the operations create or change (``delete`` creates nothing)."""
    return {op.key for op in ops if op.op != "delete" and op.key not in STANDARD_KEYS}


def _scalar(key: str, value: Any) -> Any:
    if value is None or not isinstance(value, str | int | float | bool):
        raise RecordRejected(512, "Invalid profile structure: property values are strings, numbers or booleans. ")
    if isinstance(value, str) and len(value.encode("utf-8")) > MAX_VALUE_BYTES:
        raise RecordRejected(521, f"Profile property values are at most {MAX_VALUE_BYTES} bytes. ")
    check = _STANDARD_CHECKS.get(key)
    if check is not None and not check[2](value):
        raise RecordRejected(check[0], _INVALID + check[1])
    return value


def _age(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and 1 <= value <= 120 else None


def _operator(key: str, value: dict[str, Any]) -> PropertyOp:
    if len(value) != 1:
        raise RecordRejected(512, "Invalid profile structure: an operator object holds exactly one operator. ")
    ((name, argument),) = value.items()
    if name in ("$add", "$remove"):
        items = argument if isinstance(argument, list) else [argument]
        return PropertyOp(key, name[1:], _multi_values(key, items))
    if name == "$delete" and argument in (1, True) and not isinstance(argument, float):
        return PropertyOp(key, "delete")
    if name in ("$incr", "$decr") and isinstance(argument, int | float) and not isinstance(argument, bool):
        return PropertyOp(key, name[1:], argument)
    raise RecordRejected(512, "Invalid profile structure: unknown operator or operator value. ")


def _multi_values(key: str, items: list[Any]) -> frozenset[str]:
    if key in RESTRICTED_MULTI_VALUE:
        raise RecordRejected(512, "Invalid profile structure: this standard property cannot be multi-valued. ")
    if not all(isinstance(item, str) and item for item in items):
        raise RecordRejected(512, "Invalid profile structure: multi-values are non-empty strings. ")
    if any(len(item.encode("utf-8")) > MAX_VALUE_BYTES for item in items):
        raise RecordRejected(521, f"Multi-values are at most {MAX_VALUE_BYTES} bytes each. ")
    values = frozenset(items)
    if len(values) > MAX_MULTI_VALUES:
        raise RecordRejected(521, f"A multi-value property holds at most {MAX_MULTI_VALUES} values. ")
    return values


def _edit_multi(result: dict[str, Any], op: PropertyOp) -> None:
    current = result.get(op.key)
    if current is None:
        values: set[str] = set()
    elif isinstance(current, list):
        values = set(current)
    elif isinstance(current, str):
        values = {current}
    else:
        raise RecordRejected(512, "Invalid profile structure: $add/$remove on a property that is not a string. ")
    values = values | op.value if op.op == "add" else values - op.value
    if len(values) > MAX_MULTI_VALUES:
        raise RecordRejected(521, f"A multi-value property holds at most {MAX_MULTI_VALUES} values. ")
    if values:
        result[op.key] = sorted(values)
    else:
        result.pop(op.key, None)


def _step_number(result: dict[str, Any], op: PropertyOp) -> None:
    current = result.get(op.key, 0)
    if isinstance(current, bool) or not isinstance(current, int | float):
        raise RecordRejected(512, "Invalid profile structure: $incr/$decr on a property that is not a number. ")
    result[op.key] = current + op.value if op.op == "incr" else current - op.value
