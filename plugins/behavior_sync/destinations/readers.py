"""Which read-back a destination has (``readback``), built on its connection: exact for HubSpot lists and
properties, sampled for CleverTap, a count for Meta and Google.

A destination that keeps an object (a list, an audience, a user list) is read through the object the loads
remembered (``DestinationObjects``): None when no sync created or found one yet (nothing to read back).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from behavior_sync.connections import ConnectionValues
from behavior_sync.destinations.connection_clients import client_for
from behavior_sync.destinations.readback import ReadBack
from behavior_sync.sync.objects import DestinationObjects

# The kind each destination type remembers its object under (``DestinationObjects``); none for the others.
OBJECT_KINDS = {"meta": "audience", "google_ads": "user_list", "hubspot": "list"}


@dataclass(frozen=True)
class ReadTarget:
    """A destination of a behavior as a read-back needs it (plain values of the behavior file)."""

    behavior: str  # slug
    behavior_name: str
    destination_id: str
    destination_type: str
    connection: str
    settings: Mapping[str, Any]

    @property
    def label(self) -> str:
        """How errors name it (never a value or a secret)."""
        return (
            f"behavior {self.behavior}, destination {self.destination_id} "
            f"({self.destination_type}, connection {self.connection})"
        )


def reader_for(
    target: ReadTarget, conn: ConnectionValues, objects: DestinationObjects, match_rate: float | None
) -> ReadBack | None:
    """The destination's read-back on ``conn``; None when it has no object to read yet. ``match_rate``: the last
    rate the destination reported (Google). Raises ``ConnectionSettingsError`` or the destination's error type."""
    settings = target.settings
    property_mode = target.destination_type == "hubspot" and settings.get("mode") == "property"
    kind = None if property_mode else OBJECT_KINDS.get(target.destination_type)
    stored = objects.recall(target.behavior, target.destination_id, kind) if kind else None
    if kind is not None and stored is None:
        return None
    client: Any = client_for(target.destination_type, settings, target.connection, conn, target.label)
    object_id = "" if stored is None else stored.object_id
    if target.destination_type == "hubspot":
        return _hubspot(target, client, object_id)
    if target.destination_type == "clevertap":
        from behavior_sync.destinations.clevertap_readback import CleverTapReadBack
        from behavior_sync.destinations.clevertap_records import Membership

        return CleverTapReadBack(client, Membership(target.behavior, target.behavior_name, "", False).property_name)
    if target.destination_type == "meta":
        from behavior_sync.destinations.meta_readback import MetaReadBack

        return MetaReadBack(client, object_id)
    from behavior_sync.destinations.google_readback import GoogleReadBack

    return GoogleReadBack(client, object_id, match_rate)


def _hubspot(target: ReadTarget, client: Any, list_id: str) -> ReadBack:
    from behavior_sync.destinations.hubspot_readback import HubSpotListReadBack, HubSpotPropertyReadBack

    if not list_id:
        from behavior_sync.destinations.hubspot_properties import PropertySpec

        spec = PropertySpec.from_settings(target.settings, target.behavior_name, target.behavior)
        return HubSpotPropertyReadBack(client, spec)
    return HubSpotListReadBack(client, list_id)
