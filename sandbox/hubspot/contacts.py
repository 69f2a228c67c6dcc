"""Contacts of one portal: records with string properties, found by id or by e-mail.

``hs_object_id``, ``createdate`` and ``lastmodifieddate`` are computed, never stored. E-mail is
the dedup key (lower-cased). Not thread-safe on its own (the store lock guards it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.hubspot.properties import iso

DEFAULT_READ_PROPERTIES = ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname")


@dataclass
class Contact:
    """One contact record. ``properties`` holds non-empty stored values only."""

    id: str
    created_at: float
    updated_at: float
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def email(self) -> str | None:
        """The contact's e-mail (lower-case), if any."""
        return self.properties.get("email")

    def values(self) -> dict[str, str]:
        """Stored values plus the computed ones."""
        computed = {
            "hs_object_id": self.id,
            "createdate": iso(self.created_at),
            "lastmodifieddate": iso(self.updated_at),
        }
        return {**self.properties, **computed}

    def to_api(self, names: Iterable[str] | None = None, archived: bool = False) -> dict[str, Any]:
        """``SimplePublicObject`` JSON: every value (``names`` None) or the named ones (null when unset)."""
        values = self.values()
        shown = values if names is None else {name: values.get(name) for name in names}
        return {
            "id": self.id,
            "properties": shown,
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
            "archived": archived,
        }


class ContactBook:
    """The portal's contacts, by id and by e-mail."""

    def __init__(self) -> None:
        self._by_id: dict[str, Contact] = {}
        self._by_email: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Contact]:
        return iter(sorted(self._by_id.values(), key=lambda c: int(c.id)))

    def get(self, contact_id: str) -> Contact | None:
        """The contact with this record id, or None."""
        return self._by_id.get(contact_id)

    def find(self, key: str, id_property: str | None) -> Contact | None:
        """The contact whose ``id_property`` (``email``, or the record id when None/hs_object_id) is ``key``."""
        if id_property == "email":
            contact_id = self._by_email.get(key.strip().lower())
            return None if contact_id is None else self._by_id[contact_id]
        return self._by_id.get(key)

    def create(self, contact_id: str, values: Mapping[str, str | None], now: float) -> Contact:
        """Store a new contact; the caller checked that its e-mail is free."""
        contact = Contact(contact_id, now, now)
        self._by_id[contact_id] = contact
        self.update(contact, values, now)
        return contact

    def update(self, contact: Contact, values: Mapping[str, str | None], now: float) -> None:
        """Apply checked values (None clears); keeps the e-mail index right."""
        old_email = contact.email
        for name, value in values.items():
            if value is None:
                contact.properties.pop(name, None)
            else:
                contact.properties[name] = value
        if contact.email != old_email:
            if old_email is not None:
                self._by_email.pop(old_email, None)
            if contact.email is not None:
                self._by_email[contact.email] = contact.id
        contact.updated_at = max(now, contact.updated_at)

    def to_json(self) -> list[dict[str, Any]]:
        """Persisted form."""
        return [
            {"id": c.id, "created_at": c.created_at, "updated_at": c.updated_at, "properties": c.properties}
            for c in self
        ]

    def load_json(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Restore contacts saved by ``to_json``."""
        for row in rows:
            contact = Contact(str(row["id"]), float(row["created_at"]), float(row["updated_at"]))
            self._by_id[contact.id] = contact
            self.update(contact, dict(row["properties"]), contact.updated_at)
