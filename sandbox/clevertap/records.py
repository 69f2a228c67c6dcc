"""One ``/1/upload`` record: who it is about, when, and what (a profile update or an event). Pure functions.

``parse_record`` returns a ``ProfileRecord`` or an ``EventRecord``, or raises ``RecordRejected``
with CleverTap's per-record code. Checks run in this order (the recorded answers show the identity
checked before the timestamp, and both before the profile data):

1. an object whose ``type`` is ``profile`` or ``event`` (else 524);
2. an ``objectId``, when given, that looks like a CleverTap id (else 526);
3. one usable identifier among ``identity``, ``objectId``, ``FBID``, ``GPID``: a non-blank string of at
   most 120 characters, or an integer (else 523);
4. ``ts`` in epoch **seconds**: an integer in 1..9,999,999,999; optional for profiles, required for
   events (else 525: a millisecond timestamp has 13 digits);
5. events: ``evtName`` (509), not a restricted system event (513), ``evtData`` of scalar values (512),
   at most ``max_event_properties`` properties (522), keys <= 120 bytes and strings <= 512 bytes (521);
   profiles: see ``profile_data``.

Messages are CleverTap's where a recorded answer shows them; they never quote record values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.clevertap.profile_data import PropertyOp, RecordRejected, parse_profile_data

ID_FIELDS = ("identity", "objectId", "FBID", "GPID")
MAX_IDENTITY_CHARS = 120
MAX_EPOCH_SECONDS = 9_999_999_999  # 2286-11-20; any epoch in milliseconds is above it
MAX_KEY_BYTES = 120
MAX_VALUE_BYTES = 512
# System events the SDK refuses to raise (CleverTap Android SDK, validation/Validator.java restrictedNames).
RESTRICTED_EVENTS = frozenset(
    name.lower()
    for name in (
        "Stayed",
        "Notification Clicked",
        "Notification Viewed",
        "UTM Visited",
        "Notification Sent",
        "App Launched",
        "wzrk_d",
        "App Uninstalled",
        "Notification Bounced",
        "Geocluster Entered",
        "Geocluster Exited",
    )
)
_OBJECT_ID = re.compile(r"[A-Za-z0-9_-]{1,120}")
_IDENTITY_MESSAGE = "'identity' or 'fbId' or 'gpId' or 'objectId' is necessary under 120 chars to identify the user. "
_TS_MESSAGE = "Timestamp should be present in the Unix Epoch format. "


@dataclass(frozen=True)
class RecordRules:
    """Account-independent per-record limits (from the sandbox config)."""

    max_event_properties: int = 100
    multi_value_operators: bool = True


@dataclass(frozen=True)
class Subject:
    """The identifier a record names: field (``identity``, ``objectId``, ``FBID``, ``GPID``) and value."""

    field: str
    value: str


@dataclass(frozen=True)
class ProfileRecord:
    """A valid profile record: its subject, optional timestamp and the property operations, in order."""

    subject: Subject
    ts: int | None
    ops: tuple[PropertyOp, ...]


@dataclass(frozen=True)
class EventRecord:
    """A valid event record."""

    subject: Subject
    ts: int
    name: str
    data: Mapping[str, Any]


def parse_record(record: Any, rules: RecordRules) -> ProfileRecord | EventRecord:
    """Validate one element of ``d``; raises ``RecordRejected`` (code, message) when CleverTap would skip it."""
    if not isinstance(record, dict) or record.get("type") not in ("profile", "event"):
        raise RecordRejected(524, "Record type should be either 'event' or 'profile'. ")
    subject = _subject(record)
    if record["type"] == "profile":
        ts = _timestamp(record, required=False)
        return ProfileRecord(subject, ts, parse_profile_data(record.get("profileData"), rules.multi_value_operators))
    ts = _timestamp(record, required=True)
    assert ts is not None
    name = _event_name(record.get("evtName"))
    return EventRecord(subject, ts, name, _event_data(name, record.get("evtData", {}), rules))


def _subject(record: Mapping[str, Any]) -> Subject:
    object_id = record.get("objectId")
    if object_id not in (None, "") and not (isinstance(object_id, str) and _OBJECT_ID.fullmatch(object_id)):
        raise RecordRejected(526, "objectId is invalid. ")
    for field in ID_FIELDS:
        value = _identifier(record.get(field))
        if value is not None:
            return Subject(field, value)
    raise RecordRejected(523, _IDENTITY_MESSAGE)


def _identifier(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip() and len(value) <= MAX_IDENTITY_CHARS:
        return value.strip()
    return None


def _timestamp(record: Mapping[str, Any], required: bool) -> int | None:
    if "ts" not in record and not required:
        return None
    ts = record.get("ts")
    if isinstance(ts, bool) or not isinstance(ts, int) or not 0 < ts <= MAX_EPOCH_SECONDS:
        raise RecordRejected(525, _TS_MESSAGE)
    return ts


def _event_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise RecordRejected(509, "Event name is mandatory. ")
    if name.strip().lower() in RESTRICTED_EVENTS:
        raise RecordRejected(513, "Event name is restricted (a system event). ")
    if len(name.encode("utf-8")) > MAX_VALUE_BYTES:
        raise RecordRejected(521, "Event name is too long. ")
    return name.strip()


def _event_data(name: str, data: Any, rules: RecordRules) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise RecordRejected(512, "Invalid event structure: evtData must be an object. ")
    if len(data) > rules.max_event_properties:
        raise RecordRejected(522, f"Event properties limit of {rules.max_event_properties} exceeded. ")
    for key, value in data.items():
        if not key or len(key.encode("utf-8")) > MAX_KEY_BYTES:
            raise RecordRejected(521, f"Event property keys are 1-{MAX_KEY_BYTES} bytes. ")
        if name == "Charged" and key == "Items" and isinstance(value, list):
            for item in value:
                _check_item(item)
        else:
            _check_scalar(value)
    return dict(data)


def _check_item(item: Any) -> None:
    if not isinstance(item, dict):
        raise RecordRejected(512, "Invalid event structure: Charged Items must be objects. ")
    for value in item.values():
        _check_scalar(value)


def _check_scalar(value: Any) -> None:
    if not isinstance(value, str | int | float | bool):
        raise RecordRejected(512, "Invalid event structure: property values must be scalars. ")
    if isinstance(value, str) and len(value.encode("utf-8")) > MAX_VALUE_BYTES:
        raise RecordRejected(521, f"Event property values are at most {MAX_VALUE_BYTES} bytes. ")
