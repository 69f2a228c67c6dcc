"""The CleverTap sandbox's state: per account, its profiles and the events it received, in order.

Every profile has a CleverTap id (``guid``, the ``objectId`` of the upload API). A profile first
named by ``identity`` (or ``FBID``/``GPID``) gets a sandbox guid ``sbx-<28 hex>``, stable for that
identifier; a profile first named by ``objectId`` has that value as guid. One re-entrant lock guards
everything (``Store.lock``); an upload holds it for its whole batch, so each call sees and leaves a
consistent state. Events are an append-only arrival log (deleting a profile keeps its events).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.clevertap.profile_data import STANDARD_KEYS, RecordRejected, apply_ops, custom_keys
from sandbox.clevertap.records import EventRecord, ProfileRecord, Subject

STATE_VERSION = 1


@dataclass
class Profile:
    """One user profile: guid, its other identifiers (field -> value) and its properties."""

    guid: str
    ids: dict[str, str] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The persisted and inspected form (multi-values are sorted lists already)."""
        return {"guid": self.guid, "ids": dict(self.ids), "properties": dict(self.properties)}


@dataclass(frozen=True)
class StoredEvent:
    """An accepted event: arrival number, upload call number, profile and the event itself."""

    seq: int
    call: int
    guid: str
    subject: Subject
    name: str
    ts: int
    data: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The persisted and inspected form; the identifier appears under its own field name."""
        return {
            "seq": self.seq,
            "call": self.call,
            "guid": self.guid,
            self.subject.field: self.subject.value,
            "evtName": self.name,
            "ts": self.ts,
            "evtData": dict(self.data),
        }


@dataclass
class AccountData:
    """Everything one account holds, plus the identifier index and the account's custom keys."""

    profiles: dict[str, Profile] = field(default_factory=dict)
    index: dict[tuple[str, str], str] = field(default_factory=dict)
    events: list[StoredEvent] = field(default_factory=list)
    custom_keys: set[str] = field(default_factory=set)

    def find(self, subject: Subject) -> Profile | None:
        """The profile a subject names, or None."""
        if subject.field == "objectId":
            return self.profiles.get(subject.value)
        guid = self.index.get((subject.field, subject.value))
        return None if guid is None else self.profiles.get(guid)

    def find_or_create(self, subject: Subject) -> Profile:
        """The profile a subject names, created (empty) when CleverTap has none yet."""
        profile = self.find(subject)
        if profile is not None:
            return profile
        if subject.field == "objectId":
            profile = Profile(subject.value)
        else:
            digest = hashlib.sha256(f"{subject.field}:{subject.value}".encode()).hexdigest()[:28]
            profile = Profile(f"sbx-{digest}", {subject.field: subject.value})
        self.add(profile)
        return profile

    def add(self, profile: Profile) -> None:
        """Register a profile and its identifiers."""
        self.profiles[profile.guid] = profile
        for id_field, value in profile.ids.items():
            self.index[(id_field, value)] = profile.guid
        self.custom_keys |= set(profile.properties) - STANDARD_KEYS

    def remove(self, guid: str) -> bool:
        """Forget a profile and its identifiers; False when there was none."""
        profile = self.profiles.pop(guid, None)
        if profile is None:
            return False
        for id_field, value in profile.ids.items():
            self.index.pop((id_field, value), None)
        return True


class Store:
    """All accounts' data and the event counter."""

    def __init__(self, account_ids: Iterable[str]) -> None:
        self.lock = threading.RLock()
        self.accounts: dict[str, AccountData] = {account_id: AccountData() for account_id in account_ids}
        self._next_seq = 1

    def upload_profile(self, account_id: str, record: ProfileRecord, max_custom_keys: int) -> None:
        """Merge a profile update; raises ``RecordRejected`` (522 over the account's custom keys, or an op error)."""
        with self.lock:
            data = self.accounts[account_id]
            new_keys = custom_keys(record.ops) - data.custom_keys
            if len(data.custom_keys) + len(new_keys) > max_custom_keys:
                raise RecordRejected(522, f"Custom profile property limit of {max_custom_keys} exceeded. ")
            existing = data.find(record.subject)
            updated = apply_ops(existing.properties if existing is not None else {}, record.ops)
            profile = existing if existing is not None else data.find_or_create(record.subject)
            profile.properties = updated
            data.custom_keys |= new_keys

    def upload_event(self, account_id: str, record: EventRecord, call: int) -> None:
        """Append an event (creating its profile when unknown)."""
        with self.lock:
            data = self.accounts[account_id]
            profile = data.find_or_create(record.subject)
            data.events.append(StoredEvent(self._next_seq, call, profile.guid, record.subject, *_event(record)))
            self._next_seq += 1

    def delete(self, account_id: str, id_field: str, values: Iterable[str]) -> int:
        """Delete profiles by ``identity`` or by ``guid``; returns how many existed."""
        with self.lock:
            data = self.accounts[account_id]
            deleted = 0
            for value in values:
                guid = value if id_field == "guid" else data.index.get((id_field, value))
                if guid is not None and data.remove(guid):
                    deleted += 1
            return deleted

    def to_json(self) -> dict[str, Any]:
        """The persisted state."""
        with self.lock:
            accounts = {
                account_id: {
                    "profiles": [profile.to_json() for profile in data.profiles.values()],
                    "events": [event.to_json() for event in data.events],
                }
                for account_id, data in self.accounts.items()
            }
            return {"version": STATE_VERSION, "next_seq": self._next_seq, "accounts": accounts}

    def load_json(self, document: Mapping[str, Any]) -> None:
        """Replace the state of configured accounts with a persisted one (others in the document are
        ignored); raises ``ValueError`` on an unknown version."""
        if document.get("version") != STATE_VERSION:
            raise ValueError("unknown CleverTap sandbox state version")
        with self.lock:
            for account_id, saved in document.get("accounts", {}).items():
                if account_id in self.accounts:
                    self.accounts[account_id] = _load_account(saved)
            self._next_seq = max(self._next_seq, int(document.get("next_seq", 1)))


def _event(record: EventRecord) -> tuple[str, int, dict[str, Any]]:
    return record.name, record.ts, dict(record.data)


def _load_account(saved: Mapping[str, Any]) -> AccountData:
    data = AccountData()
    for row in saved.get("profiles", []):
        data.add(Profile(str(row["guid"]), dict(row.get("ids", {})), dict(row.get("properties", {}))))
    for row in saved.get("events", []):
        id_field = next(f for f in ("identity", "objectId", "FBID", "GPID") if f in row)
        subject = Subject(id_field, str(row[id_field]))
        data.events.append(
            StoredEvent(
                int(row["seq"]), int(row["call"]), str(row["guid"]), subject, row["evtName"], row["ts"], row["evtData"]
            )
        )
    return data
