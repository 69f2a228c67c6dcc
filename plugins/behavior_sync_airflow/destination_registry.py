"""Which code loads each destination type: capabilities (as data) and a factory building the client.

A destination module registers itself here when it lands (Meta: issue #5, done; HubSpot: #6,
lists and properties, done; Google: #7, CleverTap: #8, done). A type without a loader is planned (so dry
runs and history show what would be sent) but not loaded: its load task ends skipped with
``not_implemented``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from behavior_sync.config import Behavior
from behavior_sync.config import Destination as DestinationConfig
from behavior_sync.destinations.clevertap import EVENTS_SENDING, EVENTS_SENT
from behavior_sync.identity.rules import RULE_SETS
from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.execute import Destination
from behavior_sync.sync.keying import Keying
from behavior_sync.sync.plan import Capabilities


@dataclass(frozen=True)
class LoadTarget:
    """What a factory gets besides the destination's settings: the behavior, the state database
    (remembered audiences), the run (it keys upload sessions), the committed audience size and the
    run's day (the end of its data window: it fills {date}/{year}/{quarter} in name templates)."""

    behavior: Behavior
    db: StateDatabase
    run_id: str
    committed_members: int
    run_day: dt.date
    full_resync: bool = False  # the run re-sends every member (a lost list may be refilled)
    destination_dir: str = ""  # the run's artifacts folder of this destination (request logs)


Factory = Callable[[DestinationConfig, LoadTarget], Destination]

# Batches of whole members; removal batches are smaller where the API is. Meta's DELETE carries the rows in
# the URL: measured with the real SDK against the sandbox, a 7-key row (EMAIL, PHONE, FN, LN, ZIP, COUNTRY,
# MADID) costs ~490 URL bytes, so 267 rows fill the sandbox's 128 KiB URL limit and 133 fill the 64 KiB
# budget (MAX_DELETE_QUERY_BYTES, half of it, below the public failure reports). 120 keeps a margin for
# longer tokens; wider schemas are split further by the client (meta_rows.delete_chunks).
# Keying (docs/adr/0010-what-a-destination-keys-on.md): the key types are each rule set's strong identifiers.


def _strong(destination_type: str) -> frozenset[str]:
    """Identifier types that identify a person alone in ``destination_type`` (its rule set's strong rules)."""
    return frozenset(rule.id_type for rule in RULE_SETS[destination_type] if rule.strong)


CAPABILITIES: dict[str, Capabilities] = {
    # Meta stores a row per person; a removal row takes every stored row sharing an e-mail, phone, mobile or
    # external id with it.
    "meta": Capabilities(10_000, 120, supports_replace=True, keying=Keying.ROW, key_types=_strong("meta")),
    # Google removes every stored member sharing an identifier with a removed one. A full re-sync through the Data
    # Manager API replaces the list (RemoveAllAudienceMembers, then the re-ingest; docs/adr/0019).
    "google_ads": Capabilities(
        10_000, 10_000, supports_replace=True, keying=Keying.ROW, key_types=_strong("google_ads")
    ),
    # One HubSpot contact per e-mail: list membership and property values belong to the contact.
    "hubspot": Capabilities(100, 100, supports_replace=True, keying=Keying.VALUE, key_types=_strong("hubspot")),
    # One CleverTap profile per identity; a batch whose event upload started may hold events already.
    "clevertap": Capabilities(
        1_000,
        1_000,
        keying=Keying.VALUE,
        key_types=frozenset({"identity"}),  # identity.rules.rules_for adds it: the profile's identity
        applied_stages=frozenset({EVENTS_SENDING, EVENTS_SENT}),
    ),
}
PENDING: dict[str, str] = {}  # type -> the issue building its loader (every type has one now)


def pending(destination: DestinationConfig) -> str | None:
    """Why the destination cannot load yet (its type has no loader), or None."""
    return None if destination.type in FACTORIES else PENDING[destination.type]


def already_exported(destination: DestinationConfig, last_success: dt.datetime | None, full_resync: bool) -> str | None:
    """Why a one-time export (a HubSpot static list) sends nothing in this run, or None."""
    if destination.type != "hubspot":
        return None
    from behavior_sync.destinations.hubspot_lists import static_export_done

    return static_export_done(destination.settings, last_success, full_resync)


def check_mapping(destination: DestinationConfig, behavior: Behavior) -> None:
    """Field discovery before planning (HubSpot properties): raises ``HubSpotError`` with what to do when the
    portal holds the destination's property with another type; other destinations need no check."""
    if destination.type != "hubspot" or destination.settings.get("mode") != "property":
        return
    from behavior_sync.destinations.hubspot_discovery import check_property, discover
    from behavior_sync.destinations.hubspot_errors import HubSpotError
    from behavior_sync_airflow.hooks.destinations import HubSpotHook

    label = f"behavior {behavior.slug}, destination {destination.id} (HubSpot, connection {destination.connection})"
    prop = destination.settings.get("property") or {}
    fields = discover(HubSpotHook(destination.connection).get_conn(label))
    status, message = check_property(fields, str(prop["name"]), str(prop.get("kind") or "multi_checkbox"))
    if status == "wrong_type":
        raise HubSpotError(f"{label}: {message}")


def capabilities_for(destination_type: str, settings: Mapping[str, Any] | None = None) -> Capabilities:
    """Capabilities of a destination type with the destination's ``settings`` (KeyError for an unknown type).

    A HubSpot contact property has no replace: emptying it would clear other behaviors' options too, and a
    full re-sync must still remove the leavers' option, so it re-sends everyone and removes the leavers.
    Google through the Google Ads API (``api: google_ads_api``) has no replace either: its jobs run in Google's
    order, so a remove-all job could follow an add job of the same re-sync; a full re-sync there re-sends everyone
    and removes the leavers.
    """
    capabilities = CAPABILITIES[destination_type]
    if destination_type == "hubspot" and (settings or {}).get("mode") == "property":
        return replace(capabilities, supports_replace=False)
    if destination_type == "google_ads" and (settings or {}).get("api") == "google_ads_api":
        return replace(capabilities, supports_replace=False)
    return capabilities


def build(destination: DestinationConfig, target: LoadTarget) -> Destination | None:
    """The destination's loader, or None when its type has none yet."""
    factory = FACTORIES.get(destination.type)
    return None if factory is None else factory(destination, target)


def _meta(destination: DestinationConfig, target: LoadTarget) -> Destination:
    """Meta Custom Audiences through the destination's ``meta_ads`` connection."""
    from behavior_sync.destinations.meta import MetaDestination, MetaTarget
    from behavior_sync.destinations.meta_audience import AudienceSpec, LoadKey
    from behavior_sync.sync.objects import DestinationObjects
    from behavior_sync_airflow.hooks.destinations import MetaAdsHook

    b = target.behavior
    label = f"behavior {b.slug}, destination {destination.id} (Meta, connection {destination.connection})"
    client = MetaAdsHook(destination.connection).get_conn(label)
    spec = AudienceSpec.from_settings(destination.settings, b.name, b.slug, b.description, target.run_day)
    meta_target = MetaTarget(spec, LoadKey(b.slug, destination.id, target.committed_members > 0), target.run_id)
    return MetaDestination(client, DestinationObjects(target.db), meta_target, capabilities_for("meta"))


def _clevertap(destination: DestinationConfig, target: LoadTarget) -> Destination:
    """CleverTap profiles (and events) through the destination's ``clevertap`` connection."""
    from behavior_sync.destinations.clevertap import CleverTapDestination
    from behavior_sync.destinations.clevertap_records import Membership
    from behavior_sync_airflow.hooks.destinations import CleverTapHook

    b = target.behavior
    label = f"behavior {b.slug}, destination {destination.id} (CleverTap, connection {destination.connection})"
    client = CleverTapHook(destination.connection).client(label)
    membership = Membership(b.slug, b.name, destination.id, bool(destination.settings.get("events")))
    return CleverTapDestination(client, membership, capabilities_for("clevertap"))


def _hubspot(destination: DestinationConfig, target: LoadTarget) -> Destination:
    """A HubSpot list or contact property (``mode``) through the destination's ``hubspot`` connection."""
    from behavior_sync.destinations import LoadKey
    from behavior_sync.destinations.hubspot import HubSpotListDestination, HubSpotTarget
    from behavior_sync.destinations.hubspot_lists import ListSpec
    from behavior_sync.destinations.hubspot_properties import PropertySpec
    from behavior_sync.destinations.hubspot_property import HubSpotPropertyDestination
    from behavior_sync_airflow.hooks.destinations import HubSpotHook

    b, settings = target.behavior, destination.settings
    label = f"behavior {b.slug}, destination {destination.id} (HubSpot, connection {destination.connection})"
    client = HubSpotHook(destination.connection).get_conn(label)
    create = bool(settings.get("create_missing_contacts", False))
    if settings.get("mode") == "property":
        spec = PropertySpec.from_settings(settings, b.name, b.slug)
        return HubSpotPropertyDestination(client, spec, capabilities_for("hubspot", settings), create)
    key = LoadKey(b.slug, destination.id, target.committed_members > 0)
    list_spec = ListSpec.from_settings(settings, b.name, b.slug, target.run_day)
    return HubSpotListDestination(client, target.db, HubSpotTarget(list_spec, key, create), capabilities_for("hubspot"))


def _google_ads(destination: DestinationConfig, target: LoadTarget) -> Destination:
    """Google Customer Match through the Data Manager API (``api: data_manager``, the default) or the Google Ads
    API (``api: google_ads_api``): one destination class, the client chosen by ``api``."""
    from behavior_sync.destinations import LoadKey
    from behavior_sync.destinations.google_dm import GoogleDataManagerDestination, GoogleTarget, UserListSpec
    from behavior_sync.destinations.google_dm_client import MAX_MEMBERS_PER_REQUEST
    from behavior_sync.destinations.google_dm_status import RequestLog
    from behavior_sync.sync.objects import DestinationObjects
    from behavior_sync_airflow.hooks.destinations import GoogleAdsHook

    b, settings = target.behavior, destination.settings
    label = f"behavior {b.slug}, destination {destination.id} (Google, connection {destination.connection})"
    if not target.destination_dir:
        raise ValueError(f"{label}: LoadTarget.destination_dir is required (the run's request logs go there)")
    spec = UserListSpec.from_settings(settings, b.name, b.slug, b.description, target.run_day)
    google_target = GoogleTarget(
        spec,
        LoadKey(b.slug, destination.id, target.committed_members > 0),
        target.full_resync,
        RequestLog(f"{target.destination_dir}/requests"),
        int(settings.get("members_per_request") or MAX_MEMBERS_PER_REQUEST),
    )
    api, per_request = str(settings.get("api") or "data_manager"), settings.get("identifiers_per_request")
    client = GoogleAdsHook(destination.connection).client_for(api, label, identifiers_per_request=per_request)
    objects = DestinationObjects(target.db)
    return GoogleDataManagerDestination(client, objects, google_target, capabilities_for("google_ads", settings))


FACTORIES: dict[str, Factory] = {
    "meta": _meta,
    "hubspot": _hubspot,
    "clevertap": _clevertap,
    "google_ads": _google_ads,
}
