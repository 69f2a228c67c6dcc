"""The HubSpot sandbox's state: per portal, its contacts, lists and property catalog.

One re-entrant lock guards everything (``Store.lock``): endpoints and inspection hold it for the
whole call, so each call sees and leaves a consistent state. Record ids (contacts) and list ids
are unique across portals, so inspection can address them without a portal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.hubspot.config import PortalConfig
from sandbox.hubspot.contacts import ContactBook
from sandbox.hubspot.lists import HubList, ListBook
from sandbox.hubspot.properties import PropertyCatalog

FIRST_CONTACT_ID = 101
FIRST_LIST_ID = 1
STATE_VERSION = 1


@dataclass
class PortalData:
    """Everything one portal holds."""

    contacts: ContactBook = field(default_factory=ContactBook)
    lists: ListBook = field(default_factory=ListBook)
    catalog: PropertyCatalog = field(default_factory=PropertyCatalog)


class Store:
    """All portals' data plus the id counters."""

    def __init__(self, portals: Mapping[int, PortalConfig], clock: Callable[[], float]) -> None:
        self.lock = threading.RLock()
        self._clock = clock
        self.portals: dict[int, PortalData] = {portal_id: PortalData() for portal_id in portals}
        self._next_contact = FIRST_CONTACT_ID
        self._next_list = FIRST_LIST_ID

    def new_contact_id(self) -> str:
        """A fresh record id."""
        with self.lock:
            self._next_contact += 1
            return str(self._next_contact - 1)

    def new_list_id(self) -> str:
        """A fresh list (ILS) id."""
        with self.lock:
            self._next_list += 1
            return str(self._next_list - 1)

    def seed(self, portals: Mapping[int, PortalConfig]) -> int:
        """Create the configured seed contacts that are missing; returns how many were created."""
        created = 0
        with self.lock:
            for portal_id, portal in portals.items():
                data = self.portals[portal_id]
                for seed in portal.contacts:
                    email = seed.email.strip().lower()
                    if data.contacts.find(email, "email") is None:
                        values = {**seed.properties, "email": email}
                        data.contacts.create(self.new_contact_id(), values, self._clock())
                        created += 1
        return created

    def find_list(self, list_id: str) -> tuple[int, HubList] | None:
        """The portal holding list ``list_id`` and the list, or None."""
        with self.lock:
            for portal_id, data in self.portals.items():
                item = data.lists.get(list_id)
                if item is not None:
                    return portal_id, item
            return None

    def to_json(self) -> dict[str, Any]:
        """The persisted state."""
        with self.lock:
            portals = {
                str(portal_id): {
                    "contacts": data.contacts.to_json(),
                    "lists": data.lists.to_json(),
                    "catalog": data.catalog.to_json(),
                }
                for portal_id, data in self.portals.items()
            }
            counters = {"next_contact_id": self._next_contact, "next_list_id": self._next_list}
            return {"version": STATE_VERSION, **counters, "portals": portals}

    def load_json(self, document: Mapping[str, Any]) -> None:
        """Replace the state of configured portals with a persisted one (other portals in the
        document are ignored); raises ``ValueError`` on an unknown version."""
        if document.get("version") != STATE_VERSION:
            raise ValueError("unknown HubSpot sandbox state version")
        with self.lock:
            for key, saved in document.get("portals", {}).items():
                if int(key) not in self.portals:
                    continue
                data = PortalData()
                data.contacts.load_json(saved["contacts"])
                data.lists.load_json(saved["lists"])
                data.catalog.load_json(saved["catalog"])
                self.portals[int(key)] = data
            self._next_contact = max(self._next_contact, int(document["next_contact_id"]))
            self._next_list = max(self._next_list, int(document["next_list_id"]))
