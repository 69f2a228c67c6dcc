"""HubSpot (list and property modes) and CleverTap as ``SyncTarget``s (see ``sync_targets``): one contact or
profile per e-mail, so members sharing an e-mail share it; the destination holds the set of distinct values.

HubSpot's CRM holds a contact for every pool e-mail (``shared_identifiers.pool_email``) and for the foreign
people; a member the vendor refuses has an e-mail no contact has (``not_in_crm``). CleverTap refuses a
profile whose Phone is not E.164 (code 516). CleverTap events are checked per identity transition
(``Transitions``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Set
from dataclasses import dataclass, field
from typing import Any

import requests
from hubspot.crm.contacts.models import BatchInputSimplePublicObjectBatchInput, SimplePublicObjectBatchInput
from hubspot.crm.properties.models import OptionInput, PropertyCreate

from behavior_sync.destinations import LoadKey
from behavior_sync.destinations.clevertap import CleverTapDestination
from behavior_sync.destinations.clevertap_client import CleverTapClient, credential_headers
from behavior_sync.destinations.clevertap_records import ENTERED, Membership
from behavior_sync.destinations.hubspot import HubSpotListDestination, HubSpotTarget
from behavior_sync.destinations.hubspot_client import HubSpotClient, HubSpotCredentials
from behavior_sync.destinations.hubspot_lists import ListSpec
from behavior_sync.destinations.hubspot_properties import PropertySpec
from behavior_sync.destinations.hubspot_property import HubSpotPropertyDestination
from behavior_sync.destinations.hubspot_throttle import PortalWindow
from behavior_sync.sync.execute import Destination
from tests.support.clevertap_harness import CT_ACCOUNT, CT_PASSCODE, CleverTapHarness
from tests.support.engine_run import EngineRun, Row
from tests.support.hubspot_harness import HS_PORTAL, HS_PORTALS, HS_START, HS_TOKEN, HubSpotHarness
from tests.support.shared_identifiers import POOL, Person, pool_email
from tests.support.sync_targets import BEHAVIOR, FAST

FOREIGN_EMAILS = [f"foreign{i}@example.org" for i in range(4)]
CRM_EMAILS = [pool_email(n) for n in range(POOL)] + FOREIGN_EMAILS
LIST_NAME = "[Behavior] Value Hunters - Active"
PROPERTY = {"name": "customer_behaviors", "kind": "multi_checkbox", "label": "Customer Behaviors"}


def crm_portals() -> dict[str, dict[str, Any]]:
    """The test portals, the professional one holding ``CRM_EMAILS`` as contacts and its 10 s window lifted
    (the sandbox's clock is fake: the window never rolls)."""
    crm = {"tier": "professional", "contacts": CRM_EMAILS, "ten_second_limit": 1_000_000}
    return HS_PORTALS | {str(HS_PORTAL): crm}


class FakeTime:
    """A clock that moves only when slept on (the HubSpot client's request window and its waits)."""

    def __init__(self) -> None:
        self.now = HS_START

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class HubSpotListSandboxTarget:
    """A HubSpot MANUAL list: contacts are added and removed by e-mail (one contact per e-mail)."""

    sandbox: HubSpotHarness
    engine: EngineRun
    destination_id: str = "hubspot_list"
    refuses_values: bool = True
    time: FakeTime = field(default_factory=FakeTime)
    _foreign: frozenset[str] = frozenset()
    _snapshot: tuple[dict[str, dict[str, str]], list[str], str] = ({}, [], "")

    def client(self) -> HubSpotClient:
        credentials = HubSpotCredentials(HS_TOKEN, str(HS_PORTAL), "professional", self.sandbox.base_url)
        window = PortalWindow(190, clock=self.time)
        return HubSpotClient(credentials, f"behavior {BEHAVIOR}, destination {self.destination_id}", FAST,
                             sleep=self.time.sleep, window=window)  # fmt: skip

    def rows(self, person: Person) -> list[Row]:
        return [(person.key, "email", f"nocrm.{person.email}" if person.refused else person.email)]

    def destination(self, run_id: str, full_resync: bool) -> Destination:
        settings = {"mode": "list", "list_type": "active", "list_name": "[Behavior] {name} - Active"}
        spec = ListSpec.from_settings(settings, "Value Hunters", BEHAVIOR, dt.date(2026, 11, 23))
        state = self.engine.store.current(BEHAVIOR, self.destination_id)
        key = LoadKey(BEHAVIOR, self.destination_id, state is not None and state.members > 0)
        return HubSpotListDestination(self.client(), self.engine.db, HubSpotTarget(spec, key), self.engine.capabilities)

    def _ids(self) -> dict[str, str]:
        return {c["email"]: str(c["id"]) for c in self.sandbox.get("contacts", portal=HS_PORTAL)["contacts"]}

    def seed_foreign(self) -> None:
        client, ids = self.client(), self._ids()
        ours = client.create_list(LIST_NAME)
        client.change_members(ours.list_id, "add", [ids[e] for e in FOREIGN_EMAILS[:2]])
        other = client.create_list("Newsletter - weekly")
        client.change_members(other.list_id, "add", [ids[e] for e in FOREIGN_EMAILS])
        self._foreign = frozenset(FOREIGN_EMAILS[:2])
        self._snapshot = (self._foreign_contacts(), self.sandbox.members(other.list_id), other.list_id)

    def _foreign_contacts(self) -> dict[str, dict[str, str]]:
        return {e: p for e, p in self.sandbox.contacts().items() if e in FOREIGN_EMAILS}

    def arm_transient_fault(self) -> None:
        fault = {"match": "contacts/batch", "count": 1, "http_status": 429, "policy_name": "TEN_SECONDLY_ROLLING"}
        self.sandbox.control("faults", {"scripted": [fault]})

    def held(self) -> Set[object]:
        emails = {v: k for k, v in self._ids().items()}
        lists = [item for item in self.sandbox.get("lists")["lists"] if item["name"] == LIST_NAME]
        assert len(lists) == 1, "the behavior's list was created twice"
        return {emails[str(i)] for i in lists[0]["members"]}

    def expected(self, people: Iterable[Person], replaced: bool) -> Set[object]:
        held = {p.email for p in people if not p.refused}
        return held | (set() if replaced else self._foreign)

    def check_foreign(self) -> None:
        contacts, members, other = self._snapshot
        assert self._foreign_contacts() == contacts, "foreign contacts changed"
        assert self.sandbox.members(other) == members, "another list of the portal changed"

    def check_events(self, full_resync: bool, completed: bool) -> None:
        return None


@dataclass
class HubSpotPropertySandboxTarget(HubSpotListSandboxTarget):
    """A multi-checkbox contact property: the behavior's option is set on its members' contacts (one contact per
    e-mail); an option set by hand on foreign contacts stays."""

    destination_id: str = "hubspot_property"

    def destination(self, run_id: str, full_resync: bool) -> Destination:
        spec = PropertySpec.from_settings({"property": PROPERTY}, "Value Hunters", BEHAVIOR)
        return HubSpotPropertyDestination(self.client(), spec, self.engine.capabilities)

    def seed_foreign(self) -> None:
        """What a person did in HubSpot: the property with a "vip" option, set on the foreign contacts."""
        sdk = self.sandbox.client()
        options = [OptionInput(label="VIP", value="vip", display_order=0, hidden=False)]
        sdk.crm.properties.core_api.create("contacts", PropertyCreate(
            name=PROPERTY["name"], label=PROPERTY["label"], type="enumeration", field_type="checkbox",
            group_name="contactinformation", options=options))  # fmt: skip
        ids = self._ids()
        inputs = [SimplePublicObjectBatchInput(id=ids[e], properties={PROPERTY["name"]: "vip"}) for e in FOREIGN_EMAILS]
        sdk.crm.contacts.batch_api.update(BatchInputSimplePublicObjectBatchInput(inputs=inputs))
        self._snapshot = (self._foreign_contacts(), [], "")

    def held(self) -> Set[object]:
        return {(e, frozenset(p[PROPERTY["name"]].split(";"))) for e, p in self.sandbox.contacts().items()
                if p.get(PROPERTY["name"])}  # fmt: skip

    def expected(self, people: Iterable[Person], replaced: bool) -> Set[object]:
        ours = {(p.email, frozenset({BEHAVIOR})) for p in people if not p.refused}
        return ours | {(e, frozenset({"vip"})) for e in FOREIGN_EMAILS}

    def check_foreign(self) -> None:
        assert self._foreign_contacts() == self._snapshot[0], "foreign contacts changed"


@dataclass
class Transitions:
    """Per identity, whether the event log last said it entered. A run's events must be at most one per
    identity, each a transition: Entered for an identity not in, Exited for one in, whatever crashed before
    (ADR 0007: never twice by retries, cleared tasks or crashes). Only a full re-sync may re-send Entered
    (ADR 0007: CleverTap has no replace)."""

    inside: set[str] = field(default_factory=set)
    seen: int = 0

    def check(self, events: list[tuple[str, str]], full_resync: bool) -> None:
        new, self.seen = events[self.seen :], len(events)
        twice = sorted(i for i, n in Counter(i for _, i in new).items() if n > 1)
        assert not twice, f"{len(twice)} identities got several events in one run"
        wrong = []
        for name, identity in new:
            entering = name == ENTERED
            if entering == (identity in self.inside) and not (full_resync and entering):
                wrong.append(f"{name} for an identity {'already in' if entering else 'not in'}")
            (self.inside.add if entering else self.inside.discard)(identity)
        assert not wrong, f"{len(wrong)} events are no transition: {sorted(Counter(wrong).items())}"


@dataclass
class CleverTapSandboxTarget:
    """CleverTap profiles (identity: the e-mail) with ``behavior_value_hunters`` and Entered/Exited events."""

    sandbox: CleverTapHarness
    engine: EngineRun
    destination_id: str = "clevertap"
    refuses_values: bool = True
    transitions: Transitions = field(default_factory=Transitions)
    sleeps: list[float] = field(default_factory=list)
    _foreign: dict[str, dict[str, Any]] = field(default_factory=dict)

    def rows(self, person: Person) -> list[Row]:
        rows = [(person.key, "identity", person.email), (person.key, "email", person.email)]
        if person.phone is not None:  # "+0…": not E.164, CleverTap refuses the profile (516)
            rows.append((person.key, "phone", f"+0{person.phone[1:]}" if person.refused else person.phone))
        return rows

    def destination(self, run_id: str, full_resync: bool) -> Destination:
        session = requests.Session()
        session.headers.update(credential_headers(CT_ACCOUNT, CT_PASSCODE))
        client = CleverTapClient(session, f"{self.sandbox.base_url}/us1", CT_ACCOUNT, BEHAVIOR, FAST,
                                 sleep=self.sleeps.append)  # fmt: skip
        membership = Membership(BEHAVIOR, "Value Hunters", self.destination_id, True)
        return CleverTapDestination(client, membership, self.engine.capabilities, clock=lambda: 1_790_000_000)

    def seed_foreign(self) -> None:
        ts = 1_780_000_000
        profile = {"Name": "Foreign", "plan": "gold"}
        records = [{"type": "profile", "identity": e, "ts": ts, "profileData": profile} for e in FOREIGN_EMAILS]
        other = {"behavior": "comfort_seekers"}  # another behavior's event on a foreign profile
        records.append({"type": "event", "identity": FOREIGN_EMAILS[0], "ts": ts, "evtName": ENTERED, "evtData": other})
        assert self.sandbox.upload(records).json()["status"] == "success"
        self._foreign = self._foreign_profiles()

    def _foreign_profiles(self) -> dict[str, dict[str, Any]]:
        return {i: p for i, p in self.sandbox.profiles().items() if i in FOREIGN_EMAILS}

    def arm_transient_fault(self) -> None:
        self.sandbox.control("faults", {"scripted": [{"match": "upload", "count": 1, "http_status": 503}]})

    def held(self) -> Set[object]:
        return {i for i, p in self.sandbox.profiles().items() if p.get(f"behavior_{BEHAVIOR}") is True}

    def expected(self, people: Iterable[Person], replaced: bool) -> Set[object]:
        return {p.email for p in people if not p.refused}

    def check_foreign(self) -> None:
        assert self._foreign_profiles() == self._foreign, "foreign profiles changed"
        ours = {e["identity"] for e in self.sandbox.events() if e["evtData"].get("behavior") == BEHAVIOR}
        assert not ours & set(FOREIGN_EMAILS), "foreign profiles got the behavior's events"

    def check_events(self, full_resync: bool, completed: bool) -> None:
        events = [(e["evtName"], e["identity"]) for e in self.sandbox.events()
                  if e["evtData"].get("behavior") == BEHAVIOR]  # fmt: skip
        self.transitions.check(events, full_resync)
        if completed:
            assert self.transitions.inside == self.held(), "the event log and the profiles disagree"
