"""Contact property definitions and contact property writes, through a ``HubSpotClient``.

Definitions: read one or all contact properties, create a property group and a property, replace a
property's options (HubSpot's PATCH replaces the whole list). Writes: batch updates by contact id,
100 a request; inputs HubSpot refuses (207, or 400 split down) are returned with HubSpot's refusal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from hubspot.crm.contacts.models import BatchInputSimplePublicObjectBatchInput, SimplePublicObjectBatchInput
from hubspot.crm.properties.models import OptionInput, PropertyCreate, PropertyGroupCreate, PropertyUpdate

from behavior_sync.destinations.hubspot_batch import Sent, batched, refused_inputs
from behavior_sync.destinations.hubspot_client import HubSpotClient
from behavior_sync.destinations.hubspot_errors import HubSpotNotFound, Refusal

OBJECT_TYPE = "contacts"


def get_property(client: HubSpotClient, name: str) -> Any | None:
    """The contact property ``name`` (SDK ``ModelProperty``), or None when the portal has none."""
    api = client.sdk.crm.properties.core_api
    try:
        return client.call(f"reading property {name}", partial(client.sdk_call, api.get_by_name_with_http_info,
                                                               OBJECT_TYPE, name))  # fmt: skip
    except HubSpotNotFound:
        return None


def all_properties(client: HubSpotClient) -> list[Any]:
    """Every contact property of the portal (HubSpot-defined and custom)."""
    api = client.sdk.crm.properties.core_api
    answer = client.call("reading the contact properties", partial(client.sdk_call, api.get_all_with_http_info,
                                                                    OBJECT_TYPE))  # fmt: skip
    return list(answer.results or ())


def ensure_group(client: HubSpotClient, name: str, label: str) -> None:
    """Creates the contact property group ``name`` when the portal has none."""
    api = client.sdk.crm.properties.groups_api
    try:
        client.call(f"reading property group {name}", partial(client.sdk_call, api.get_by_name_with_http_info,
                                                             OBJECT_TYPE, name))  # fmt: skip
    except HubSpotNotFound:
        group = PropertyGroupCreate(name=name, label=label)
        client.call(f"creating property group {name}", partial(client.sdk_call, api.create_with_http_info,
                                                              OBJECT_TYPE, group))  # fmt: skip


def create_property(client: HubSpotClient, definition: PropertyCreate) -> None:
    """Creates a contact property."""
    api = client.sdk.crm.properties.core_api
    client.call(f"creating property {definition.name}", partial(client.sdk_call, api.create_with_http_info,
                                                               OBJECT_TYPE, definition))  # fmt: skip


def set_options(client: HubSpotClient, name: str, options: Sequence[OptionInput]) -> None:
    """Replaces the options of property ``name`` (pass the existing ones plus the new)."""
    api = client.sdk.crm.properties.core_api
    update = PropertyUpdate(options=list(options))
    client.call(f"adding an option to property {name}", partial(client.sdk_call, api.update_with_http_info,
                                                               OBJECT_TYPE, name, update))  # fmt: skip


def update_contacts(client: HubSpotClient, values: Mapping[str, Mapping[str, str]]) -> dict[str, Refusal]:
    """Sets contact properties (contact id -> {property: value}; "" clears); returns id -> HubSpot's refusal of
    the refused ones (a value HubSpot or the portal's validation rules refuse), the others are written (207
    answers; a batch refused whole is split to find them, see ``batched``)."""
    api = client.sdk.crm.contacts.batch_api

    def send(part: Sequence[str]) -> Sent:
        inputs = [SimplePublicObjectBatchInput(id=cid, properties=dict(values[cid])) for cid in part]
        request = BatchInputSimplePublicObjectBatchInput(inputs=inputs)
        answer = client.call(f"updating {len(part)} contacts", partial(client.sdk_call, api.update_with_http_info,
                                                                      request))  # fmt: skip
        return {}, refused_inputs(part, getattr(answer, "errors", None) or ())

    return batched(sorted(values), send)[1]
