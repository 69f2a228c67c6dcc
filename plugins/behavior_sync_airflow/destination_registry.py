"""Which code loads each destination type: capabilities (as data) and a factory building the client.

A destination module registers itself here when it lands (Meta: issue #5, HubSpot: #6, Google: #7,
CleverTap: #8). A type without a factory is planned (so dry runs and history show what would be sent)
but not loaded: its load task ends skipped with ``not_implemented``.
"""

from __future__ import annotations

from collections.abc import Callable

from behavior_sync.config import Destination as DestinationConfig
from behavior_sync.sync.execute import Destination
from behavior_sync.sync.plan import Capabilities

Factory = Callable[[DestinationConfig], Destination]

# Batches of whole members; removal batches are smaller where the API is (Meta's DELETE puts rows in the URL).
CAPABILITIES: dict[str, Capabilities] = {
    "meta": Capabilities(add_batch_members=10_000, remove_batch_members=100, supports_replace=True),
    "google_ads": Capabilities(add_batch_members=10_000, remove_batch_members=10_000),
    "hubspot": Capabilities(add_batch_members=100, remove_batch_members=100),
    "clevertap": Capabilities(add_batch_members=1_000, remove_batch_members=1_000),
}
FACTORIES: dict[str, Factory] = {}
PENDING = {
    "meta": "loading into Meta Custom Audiences (issue #5)",
    "hubspot": "loading into HubSpot (issue #6)",
    "google_ads": "loading into Google Customer Match (issue #7)",
    "clevertap": "loading into CleverTap (issue #8)",
}


def capabilities_for(destination_type: str) -> Capabilities:
    """Capabilities of a destination type (KeyError for an unknown type)."""
    return CAPABILITIES[destination_type]


def build(destination: DestinationConfig) -> Destination | None:
    """The destination's loader, or None when its type has none yet."""
    factory = FACTORIES.get(destination.type)
    return None if factory is None else factory(destination)
