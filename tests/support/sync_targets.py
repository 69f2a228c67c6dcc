"""Destinations under test for the shared-identifier property tests: the real destination against its sandbox,
what it should hold for a member table, and what it holds (the sandbox's inspection API).

Every target implements ``SyncTarget``: the rows the identity layer would prepare for a ``Person``
(``identity.rules``), the destination a run loads through, foreign content seeded beforehand (rows,
contacts or profiles none of our members ever had), a transient fault the client's retries survive, and
the checks. This module holds the protocol and the ad platforms (Meta, Google Data Manager), whose stores
are person rows; ``crm_sync_targets`` holds HubSpot and CleverTap, which keep one contact/profile per value.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Set
from dataclasses import dataclass, field
from typing import Protocol

from behavior_sync.destinations.google_dm import GoogleDataManagerDestination, GoogleTarget, UserListSpec
from behavior_sync.destinations.google_dm_client import DataManagerClient, DataManagerCredentials, google_credentials
from behavior_sync.destinations.google_dm_members import audience_member
from behavior_sync.destinations.google_dm_status import RequestLog
from behavior_sync.destinations.meta import MetaDestination, MetaTarget
from behavior_sync.destinations.meta_audience import AudienceSpec, LoadKey
from behavior_sync.destinations.meta_client import MetaClient, MetaCredentials
from behavior_sync.destinations.meta_rows import WIRE_KEYS
from behavior_sync.destinations.retry import RetryPolicy
from behavior_sync.sync.execute import Destination
from behavior_sync.sync.objects import DestinationObjects
from tests.support.engine_run import EngineRun, Row
from tests.support.google_dm_harness import GDM_ACCOUNT, GDM_DELAY, GoogleDataManagerHarness
from tests.support.meta_harness import ACCOUNT, TOKEN, MetaHarness
from tests.support.shared_identifiers import Person

BEHAVIOR = "value_hunters"
META_AUDIENCE = AudienceSpec(
    "[Behavior] - Value Hunters", "Customers who mostly buy on discount.", "USER_PROVIDED_ONLY"
)
GOOGLE_LIST = UserListSpec("[Behavior] - Value Hunters", "Customers who mostly buy on discount.", 180)
FAST = RetryPolicy(attempts=4, backoff_seconds=0.01, max_backoff_seconds=0.02, throttle_budget_seconds=900)


def sha(value: str) -> str:
    """Lower-case hex SHA-256, as the identity layer hashes normalized values."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class SyncTarget(Protocol):
    """One destination type against its sandbox (see the module docstring)."""

    engine: EngineRun  # the engine (state database, plan/load/commit) of this destination
    destination_id: str
    refuses_values: bool  # whether the vendor refuses some members' values row by row

    def rows(self, person: Person) -> list[Row]:
        """The prepared rows of one member."""
        ...

    def destination(self, run_id: str, full_resync: bool) -> Destination:
        """The real destination a run loads through (a new client, as a new task attempt builds)."""
        ...

    def seed_foreign(self) -> None:
        """Puts content we never add into the vendor account (some of it in our audience/list)."""
        ...

    def arm_transient_fault(self) -> None:
        """Scripts a sandbox fault the client's retries survive (a throttle or a 5xx burst)."""
        ...

    def held(self) -> Set[object]:
        """What the destination holds for the behavior now (after the vendor's processing)."""
        ...

    def expected(self, people: Iterable[Person], replaced: bool) -> Set[object]:
        """What it should hold for ``people``; ``replaced``: a full re-sync replaced the audience (it drops
        foreign rows inside it, by design)."""
        ...

    def check_foreign(self) -> None:
        """Asserts the foreign content outside our audience is untouched."""
        ...

    def check_events(self, full_resync: bool, completed: bool) -> None:
        """Checks the events sent since the last call (destinations without events: nothing); ``completed``: the
        run completed, so the events must agree with what the destination holds."""
        ...


@dataclass
class MetaSandboxTarget:
    """Meta Custom Audiences: one row per person, a remove takes every row sharing EMAIL or PHONE."""

    sandbox: MetaHarness
    engine: EngineRun
    destination_id: str = "meta"
    refuses_values: bool = True
    spec: AudienceSpec = META_AUDIENCE
    sleeps: list[float] = field(default_factory=list)
    _foreign: frozenset[frozenset[tuple[str, str]]] = frozenset()
    _other: tuple[str, list[dict[str, str]]] = ("", [])

    def rows(self, person: Person) -> list[Row]:
        email = sha(person.email)
        rows = [(person.key, "email", email.upper() if person.refused else email)]  # upper-case hex: refused
        if person.phone is not None:
            rows.append((person.key, "phone", sha(person.phone.removeprefix("+"))))
        return rows

    def destination(self, run_id: str, full_resync: bool) -> Destination:
        client = MetaClient(MetaCredentials(TOKEN, f"act_{ACCOUNT}", base_url=self.sandbox.base_url),
                            f"behavior {BEHAVIOR}, destination meta", FAST, sleep=self.sleeps.append)  # fmt: skip
        state = self.engine.store.current(BEHAVIOR, self.destination_id)
        key = LoadKey(BEHAVIOR, self.destination_id, state is not None and state.members > 0)
        target = MetaTarget(self.spec, key, run_id)
        return MetaDestination(client, DestinationObjects(self.engine.db), target, self.engine.capabilities)

    def seed_foreign(self) -> None:
        ours = self.sandbox.create_audience(self.spec.name)
        foreign = [[sha(f"foreign{i}@example.org"), sha(f"4420700{i:05d}")] for i in range(3)]
        self.sandbox.audience(ours).add_users(["EMAIL", "PHONE"], foreign, is_raw=True, pre_hashed=True)
        self._foreign = frozenset(frozenset(zip(("EMAIL", "PHONE"), row, strict=True)) for row in foreign)
        other = self.sandbox.create_audience("[Agency] - Lookalike seed")
        rows = [[sha(f"agency{i}@example.net")] for i in range(4)]
        self.sandbox.audience(other).add_users(["EMAIL"], rows, is_raw=True, pre_hashed=True)
        self._other = (other, self.sandbox.members(other))

    def arm_transient_fault(self) -> None:
        self.sandbox.control("faults", {"scripted": [{"match": "/users$", "count": 2, "http_status": 503}]})

    def held(self) -> Set[object]:
        stored = DestinationObjects(self.engine.db).recall(BEHAVIOR, self.destination_id, "audience")
        assert stored is not None
        return {frozenset(row.items()) for row in self.sandbox.members(stored.object_id)}

    def expected(self, people: Iterable[Person], replaced: bool) -> Set[object]:
        """Every accepted member's pivoted row (``meta_rows.pivot``: one row of its EMAIL and PHONE)."""
        rows = {frozenset((WIRE_KEYS[t], v) for _, t, v in self.rows(p)) for p in people if not p.refused}
        return rows | (set() if replaced else self._foreign)

    def check_foreign(self) -> None:
        audience, rows = self._other
        assert self.sandbox.members(audience) == rows, "another audience of the account changed"

    def check_events(self, full_resync: bool, completed: bool) -> None:
        return None


@dataclass
class GoogleSandboxTarget:
    """Google Customer Match (Data Manager API): members are stored as uploaded (an identical one once), and a
    remove drops every stored member sharing an identifier with it. Google refuses whole requests, never rows
    (fast fail), so no member is refused row by row. A full re-sync replaces the list (RemoveAllAudienceMembers,
    then the re-ingest), which drops foreign members inside it."""

    sandbox: GoogleDataManagerHarness
    engine: EngineRun
    destination_id: str = "google_ads"
    refuses_values: bool = False
    spec: UserListSpec = GOOGLE_LIST
    sleeps: list[float] = field(default_factory=list)
    _foreign: frozenset[frozenset[str]] = frozenset()
    _other: tuple[str, Set[object]] = ("", frozenset())

    def client(self) -> DataManagerClient:
        endpoint = self.sandbox.base_url
        credentials = DataManagerCredentials(google_credentials({}, endpoint), GDM_ACCOUNT, None, endpoint, True)
        return DataManagerClient(credentials, f"behavior {BEHAVIOR}, destination google_ads", FAST,
                                 sleep=self.sleeps.append)  # fmt: skip

    def rows(self, person: Person) -> list[Row]:
        rows = [(person.key, "email", sha(person.email))]
        return rows + ([(person.key, "phone", sha(person.phone))] if person.phone is not None else [])

    def destination(self, run_id: str, full_resync: bool) -> Destination:
        state = self.engine.store.current(BEHAVIOR, self.destination_id)
        key = LoadKey(BEHAVIOR, self.destination_id, state is not None and state.members > 0)
        log = RequestLog(str(self.engine.folder / run_id / "requests"))
        self.sandbox.clock.advance(1)  # a task attempt starts after the last one's requests (the remove-all time)
        target = GoogleTarget(self.spec, key, full_resync, log, members_per_request=2, clock=self.sandbox.clock)
        objects = DestinationObjects(self.engine.db)
        return GoogleDataManagerDestination(self.client(), objects, target, self.engine.capabilities)

    def seed_foreign(self) -> None:
        client = self.client()
        ours = client.create_user_list(self.spec)
        foreign = [[("email", sha(f"foreign{i}@example.org")), ("phone", sha(f"+4420700{i:05d}"))] for i in range(3)]
        client.ingest(str(ours.id), [audience_member(pairs) for pairs in foreign])
        other = client.create_user_list(UserListSpec("[Agency] - Lookalike seed", "Not ours.", 30))
        client.ingest(str(other.id), [audience_member([("email", sha(f"agency{i}@example.net"))]) for i in range(4)])
        self._foreign = frozenset(frozenset(f"{t}:{v}" for t, v in pairs) for pairs in foreign)
        self.sandbox.clock.advance(GDM_DELAY)
        self._other = (str(other.id), self._members(str(other.id)))

    def arm_transient_fault(self) -> None:
        self.sandbox.control("faults", {"scripted": [{"match": "audienceMembers", "count": 2, "http_status": 503}]})

    def _members(self, list_id: str) -> Set[object]:
        lists = self.sandbox.get("user_lists", account=GDM_ACCOUNT)["user_lists"]
        found: list[list[str]] = [m for ul in lists if ul["id"] == list_id for m in ul["members"]]
        held = [frozenset(m) for m in found]
        assert len(held) == len(set(held)), "the list stores one member twice"
        return set(held)

    def held(self) -> Set[object]:
        self.sandbox.clock.advance(GDM_DELAY)  # Google applies accepted requests after its processing time
        stored = DestinationObjects(self.engine.db).recall(BEHAVIOR, self.destination_id, "user_list")
        assert stored is not None
        return self._members(stored.object_id)

    def expected(self, people: Iterable[Person], replaced: bool) -> Set[object]:
        """The accepted members' identifier sets (identical ones once), and the foreign members unless replaced."""
        ids = {frozenset(f"{t}:{v}" for _, t, v in self.rows(p)) for p in people if not p.refused}
        return ids | (set() if replaced else self._foreign)

    def check_foreign(self) -> None:
        list_id, members = self._other
        assert self._members(list_id) == members, "another user list of the account changed"

    def check_events(self, full_resync: bool, completed: bool) -> None:
        return None
