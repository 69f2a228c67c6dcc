"""Which HubSpot list a behavior's list destination loads into.

Active lists (``list_type: active``): one MANUAL list per behavior destination, kept in sync by
adds and removes every run. It is found in this order: the list remembered in the state database
(``DestinationObjects``), the portal's list named like the rendered ``list_name``, else a new one.
The remembered list keeps its id and name in later runs. When it is gone (deleted in HubSpot), only
a full re-sync may fill a successor: a delta would leave it incomplete, so that is refused with
the command to run.

Static lists (``list_type: static``): a one-time export. The first run creates a new list named
from the template with the run's day (`` - {date}`` is appended when the template has no
``{date}``) and fills it; later runs do not touch it (the plan step reports ``not_due``, see
``static_export_done``). A full re-sync exports again into a new list named with that run's day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from behavior_sync.destinations import LoadKey
from behavior_sync.destinations.hubspot_client import HubSpotClient, ListInfo
from behavior_sync.destinations.hubspot_errors import HubSpotError, HubSpotNotFound
from behavior_sync.naming import render_name
from behavior_sync.sync.objects import DestinationObjects, StoredObject

KIND = "list"
DEFAULT_LIST_NAME = "BEH - {name}"  # the product documents' prefix convention (also the schema's default)
WRITABLE = frozenset({"MANUAL", "SNAPSHOT"})  # HubSpot changes members by API only on these


@dataclass(frozen=True)
class ListSpec:
    """The list a destination wants: its rendered name and whether it is a static (one-time) export."""

    name: str
    static: bool

    @classmethod
    def from_settings(cls, settings: Any, behavior_name: str, slug: str, day: dt.date) -> ListSpec:
        """From a HubSpot list destination's settings (``list_name``, ``list_type``; ``day`` is the run's).

        Raises ``HubSpotError`` for a bad template.
        """
        static = str(settings.get("list_type") or "static") == "static"
        template = str(settings.get("list_name") or DEFAULT_LIST_NAME)
        if static and "{date}" not in template:
            template += " - {date}"
        try:
            return cls(render_name(template, behavior_name, slug, day), static)
        except ValueError as exc:
            raise HubSpotError(f"list_name: {exc}") from None


def static_export_done(settings: Any, last_success: dt.datetime | None, full_resync: bool) -> str | None:
    """Why a static list destination sends nothing in this run (it was exported already), or None."""
    if str(settings.get("mode")) != "list" or str(settings.get("list_type") or "static") != "static":
        return None
    if last_success is None or full_resync:
        return None
    return (
        f"static list exported on {last_success.date().isoformat()}: a static list is filled once and never "
        'updated; trigger with conf {"full_resync": true} to export a new list named with the run\'s day'
    )


def resolve_list(client: HubSpotClient, objects: DestinationObjects, key: LoadKey, spec: ListSpec, op: str) -> ListInfo:
    """The list to load into (see the module docstring); remembers it. Raises ``HubSpotError``."""
    stored = objects.recall(key.behavior, key.destination_id, KIND)
    if stored is not None and stored.account == client.portal_id and (not spec.static or stored.name == spec.name):
        try:
            return client.get_list(stored.object_id)
        except HubSpotNotFound:
            objects.forget(key.behavior, key.destination_id, KIND)
    if (stored is not None or key.has_committed_members) and op != "replace":
        what = "the static list was exported already" if spec.static else "the list synced before is gone"
        raise HubSpotError(
            f"{client.label}: {what} (deleted in HubSpot, or the connection now names another portal); a new "
            f"list must be filled whole by a full re-sync: {key.resync_command()}"
        )
    found = client.find_list(spec.name) or client.create_list(spec.name)
    if found.processing_type not in WRITABLE:
        raise HubSpotError(
            f"{client.label}: list {found.list_id} ({spec.name!r}) is a {found.processing_type} list, whose members "
            "HubSpot maintains by its filters: rename list_name in the behavior file or delete that list"
        )
    objects.remember(key.behavior, key.destination_id, KIND, StoredObject(found.list_id, spec.name, client.portal_id))
    return found
