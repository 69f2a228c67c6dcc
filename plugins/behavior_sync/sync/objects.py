"""Objects a destination created or found for a behavior (an audience, a list, a property), remembered.

A destination looks its object up here first (``recall``), then by exact name in the vendor account,
and creates it last; whatever it settles on is stored with ``remember`` so the next run goes straight
to it. ``forget`` drops a stored object the vendor reports deleted. Ids and names only, never members.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from behavior_sync.statedb import StateDatabase, destination_objects, now


@dataclass(frozen=True)
class StoredObject:
    """One remembered object: its vendor id, its name and the account it lives in."""

    object_id: str
    name: str
    account: str


class DestinationObjects:
    """The remembered objects of every (behavior, destination), in the state database."""

    def __init__(self, db: StateDatabase) -> None:
        self.db = db

    def recall(self, behavior: str, destination_id: str, kind: str) -> StoredObject | None:
        """The stored object of ``kind``, or None."""
        query = sa.select(destination_objects).where(_key(behavior, destination_id, kind))
        with self.db.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else StoredObject(row["object_id"], row["name"], row["account"])

    def remember(self, behavior: str, destination_id: str, kind: str, stored: StoredObject) -> None:
        """Stores (or replaces) the object of ``kind``."""
        values = {"object_id": stored.object_id, "name": stored.name, "account": stored.account, "updated_at": now()}
        with self.db.engine.begin() as conn:
            updated = conn.execute(
                destination_objects.update().where(_key(behavior, destination_id, kind)).values(values)
            )
            if updated.rowcount == 0:
                conn.execute(
                    destination_objects.insert().values(
                        behavior=behavior, destination_id=destination_id, kind=kind, **values
                    )
                )

    def forget(self, behavior: str, destination_id: str, kind: str) -> None:
        """Drops the stored object of ``kind`` (no error when there is none)."""
        with self.db.engine.begin() as conn:
            conn.execute(destination_objects.delete().where(_key(behavior, destination_id, kind)))


def _key(behavior: str, destination_id: str, kind: str) -> sa.ColumnElement[bool]:
    table = destination_objects.c
    return (table.behavior == behavior) & (table.destination_id == destination_id) & (table.kind == kind)
