"""The Meta sandbox's state: audiences, their memberships and replace sessions. Thread-safe.

Replace sessions (``/usersreplace``), as emulated here:
* ``batch_seq == 1`` starts a session: an empty pending membership (an unfinished earlier
  replace session of the audience is abandoned);
* later batches must carry the same ``session_id`` (else code 100) and add to the pending set;
* the batch with ``last_batch_flag: true`` swaps the pending set in, replacing the membership.
Until then reads and ``/users`` writes see the old membership (``/users`` changes made during a
replace are overwritten by the swap). No session timeout is emulated.

Upload sessions (``GET /{id}/sessions``) count every ``/users`` and ``/usersreplace`` request; an audience
with ``sessions_stuck`` (inspection control) keeps the sessions it receives in stage ``uploading`` with
``num_matched`` -1 for good, as Meta sometimes does (facebook-java-business-sdk#492).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sandbox.meta.errors import invalid_parameter
from sandbox.meta.membership import Membership, approximate_bounds
from sandbox.meta.payload import Row, UploadSession

FIRST_AUDIENCE_ID = 23850000000000001
MIN_READY_ROWS = 100  # UNCONFIRMED: below this delivery_status says "too small" (help center: avoid < 100)


@dataclass
class ReplaceSession:
    """An unfinished ``/usersreplace`` upload."""

    session_id: int
    pending: Membership
    batches: int = 0


@dataclass
class Audience:
    """One customer-file custom audience."""

    id: str
    account_id: str
    name: str
    description: str
    customer_file_source: str
    time_created: int
    time_content_updated: int
    subtype: str = "CUSTOM"
    flagged: bool = False
    sessions_stuck: bool = False  # its upload sessions stay "uploading" (num_matched -1)
    members: Membership = field(default_factory=Membership)
    replace: ReplaceSession | None = None

    def graph_fields(self) -> dict[str, Any]:
        """Every field the sandbox emulates, as Graph returns them."""
        lower, upper = approximate_bounds(len(self.members))
        if self.flagged:
            operation = {"code": 471, "description": "This audience was flagged: its users can no longer be updated."}
        else:
            operation = {"code": 200, "description": "Normal"}
        if len(self.members) >= MIN_READY_ROWS:
            delivery = {"code": 200, "description": "This audience is ready for use."}
        else:
            delivery = {"code": 300, "description": "This audience is too small to use."}
        return {
            "id": self.id,
            "account_id": self.account_id,
            "name": self.name,
            "description": self.description,
            "subtype": self.subtype,
            "customer_file_source": self.customer_file_source,
            "approximate_count_lower_bound": lower,
            "approximate_count_upper_bound": upper,
            "operation_status": operation,
            "delivery_status": delivery,
            "time_created": self.time_created,
            "time_updated": self.time_content_updated,
            "time_content_updated": self.time_content_updated,
        }

    def to_json(self) -> dict[str, Any]:
        """The persisted form (replace sessions in progress are not persisted)."""
        fields = {k: v for k, v in vars(self).items() if k not in {"members", "replace"}}
        return {**fields, "members": [[list(pair) for pair in row] for row in self.members.sorted_rows()]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Audience:
        """Inverse of ``to_json``."""
        rows = (tuple((str(k), str(v)) for k, v in row) for row in data["members"])
        fields = {k: v for k, v in data.items() if k != "members"}
        return cls(**fields, members=Membership(rows))


class AudienceStore:
    """All audiences, by id. Every method takes the store lock; returned dicts are copies."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.RLock()
        self._clock = clock
        self._audiences: dict[str, Audience] = {}
        self._ids = itertools.count(FIRST_AUDIENCE_ID)
        self._session_ids = itertools.count(int(clock()) * 1000)
        self._sessions: dict[str, dict[int, dict[str, Any]]] = {}  # audience -> session id -> its counts

    def create(self, account_id: str, name: str, description: str, source: str, flagged: bool) -> str:
        """Create an audience and return its id."""
        with self._lock:
            audience_id = str(next(self._ids))
            now = int(self._clock())
            self._audiences[audience_id] = Audience(
                audience_id, account_id, name, description, source, now, now, flagged=flagged
            )
            return audience_id

    def owner(self, audience_id: str) -> str | None:
        """The ad account owning the audience, or None when it does not exist."""
        with self._lock:
            audience = self._audiences.get(audience_id)
            return None if audience is None else audience.account_id

    def is_flagged(self, audience_id: str) -> bool:
        """True when writes to the audience are blocked."""
        with self._lock:
            return self._audiences[audience_id].flagged

    def set_flagged(self, audience_id: str, flagged: bool) -> None:
        """Flag or unflag an audience; raises ``KeyError`` when it does not exist."""
        with self._lock:
            self._audiences[audience_id].flagged = flagged

    def delete(self, audience_id: str) -> None:
        """Delete an audience; raises ``KeyError`` when it does not exist."""
        with self._lock:
            del self._audiences[audience_id]

    def fields(self, audience_id: str) -> dict[str, Any]:
        """The audience's Graph fields; raises ``KeyError`` when it does not exist."""
        with self._lock:
            return self._audiences[audience_id].graph_fields()

    def account_audience_ids(self, account_id: str) -> list[str]:
        """The ids of the account's audiences, oldest first."""
        with self._lock:
            return [a.id for a in self._audiences.values() if a.account_id == account_id]

    def members(self, audience_id: str) -> list[Row]:
        """The stored rows of an audience; raises ``KeyError`` when it does not exist."""
        with self._lock:
            return self._audiences[audience_id].members.sorted_rows()

    def new_session_id(self) -> int:
        """A server-chosen upload session id (for ``/users`` calls without ``session``)."""
        with self._lock:
            return next(self._session_ids)

    def set_sessions_stuck(self, audience_id: str, stuck: bool) -> None:
        """Whether the upload sessions the audience receives from now on stay stuck; ``KeyError`` when unknown."""
        with self._lock:
            self._audiences[audience_id].sessions_stuck = stuck

    def record_session(self, audience_id: str, session_id: int, counts: tuple[int, int, int], last: bool) -> None:
        """Count one ``/users`` or ``/usersreplace`` request, ``counts`` (received, invalid, matched), into its
        upload session (``GET /{id}/sessions``); a session received while the audience's sessions are stuck stays
        ``uploading``."""
        received, invalid, matched = counts
        now = int(self._clock())
        with self._lock:
            sessions = self._sessions.setdefault(audience_id, {})
            fresh = {"session_id": str(session_id), "start_time": now, "num_received": 0, "num_invalid_entries": 0}
            entry = sessions.setdefault(session_id, fresh | {"num_matched": 0, "stuck": False})
            entry["stuck"] = entry["stuck"] or self._audiences[audience_id].sessions_stuck
            entry["num_received"] += received
            entry["num_invalid_entries"] += invalid
            entry["num_matched"] += matched
            entry["stage"] = "finished" if last and not entry["stuck"] else "uploading"
            entry["end_time"] = now if last and not entry["stuck"] else 0

    def sessions(self, audience_id: str) -> list[dict[str, Any]]:
        """The audience's upload sessions, newest first (not persisted); raises ``KeyError`` for an unknown audience."""
        with self._lock:
            if audience_id not in self._audiences:
                raise KeyError(audience_id)
            return [_session_fields(e) for e in reversed(list(self._sessions.get(audience_id, {}).values()))]

    def add_rows(self, audience_id: str, rows: Iterable[Row]) -> int:
        """Add rows; returns how many were new. Bumps time_content_updated when any was."""
        with self._lock:
            audience = self._audiences[audience_id]
            added = sum(audience.members.add(row) for row in rows)
            if added:
                self._touch(audience)
            return added

    def remove_rows(self, audience_id: str, rows: Iterable[Row]) -> int:
        """Remove the rows matching each given row; returns how many stored rows went."""
        with self._lock:
            audience = self._audiences[audience_id]
            removed = sum(audience.members.remove_matching(row) for row in rows)
            if removed:
                self._touch(audience)
            return removed

    def replace_batch(self, audience_id: str, session: UploadSession, rows: Iterable[Row]) -> bool:
        """Apply one ``/usersreplace`` batch (module rules); True when it completed the replace."""
        with self._lock:
            audience = self._audiences[audience_id]
            if session.batch_seq == 1:
                audience.replace = ReplaceSession(session.session_id, Membership())
            current = audience.replace
            if current is None or current.session_id != session.session_id:
                raise invalid_parameter(
                    f"Replace session {session.session_id} is not in progress for this audience; "
                    "start it with batch_seq=1"
                )
            for row in rows:
                current.pending.add(row)
            current.batches += 1
            if not session.last_batch_flag:
                return False
            audience.members, audience.replace = current.pending, None
            self._touch(audience)
            return True

    def summaries(self) -> list[dict[str, Any]]:
        """One line per audience for the inspection endpoint."""
        with self._lock:
            return [
                {
                    "id": a.id,
                    "account_id": a.account_id,
                    "name": a.name,
                    "rows": len(a.members),
                    "flagged": a.flagged,
                    "replace_in_progress": None
                    if a.replace is None
                    else {
                        "session_id": a.replace.session_id,
                        "batches": a.replace.batches,
                        "pending_rows": len(a.replace.pending),
                    },
                }
                for a in self._audiences.values()
            ]

    def to_json(self) -> dict[str, Any]:
        """The persisted state."""
        with self._lock:
            return {"version": 1, "audiences": [a.to_json() for a in self._audiences.values()]}

    def load_json(self, document: dict[str, Any]) -> None:
        """Replace the state with a persisted one; raises ``ValueError`` on an unknown version."""
        if document.get("version") != 1:
            raise ValueError("unknown Meta sandbox state version")
        with self._lock:
            self._audiences = {a["id"]: Audience.from_json(a) for a in document["audiences"]}
            highest = max((int(i) for i in self._audiences), default=FIRST_AUDIENCE_ID - 1)
            self._ids = itertools.count(highest + 1)

    def _touch(self, audience: Audience) -> None:
        audience.time_content_updated = max(int(self._clock()), audience.time_content_updated + 1)


def _session_fields(entry: dict[str, Any]) -> dict[str, Any]:
    """A session as Graph answers it: counts as strings, ``num_matched`` -1 while stuck."""
    fields = {k: v for k, v in entry.items() if k != "stuck"}
    counts = ("num_received", "num_invalid_entries", "num_matched")
    return fields | {name: str(entry[name]) for name in counts} | ({"num_matched": "-1"} if entry["stuck"] else {})
