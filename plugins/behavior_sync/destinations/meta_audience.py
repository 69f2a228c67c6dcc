"""Which Meta audience a behavior's destination loads into, and what Meta says about it afterwards.

Resolution order: the audience remembered in the state database (``DestinationObjects``), else the
account's audience named exactly like the destination's ``audience_name`` template, else a new
customer-file audience (subtype CUSTOM). A remembered audience Meta no longer knows is forgotten and
re-resolved. When the audience that held the committed members is gone, only a full re-sync
(``replace``) may fill its successor: a delta would leave it incomplete, so that is refused with the
command to run. A flagged audience (operation_status 471) is refused with what to do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from behavior_sync.destinations import AudienceReport
from behavior_sync.destinations import LoadKey as LoadKey
from behavior_sync.destinations.meta_client import MetaClient
from behavior_sync.destinations.meta_errors import MetaAudienceMissing, MetaError
from behavior_sync.naming import render_name
from behavior_sync.sync.objects import DestinationObjects, StoredObject

KIND = "audience"
FLAGGED = 471


@dataclass(frozen=True)
class AudienceSpec:
    """The audience a destination wants: its name (template rendered), description and file source."""

    name: str
    description: str
    customer_file_source: str

    @classmethod
    def from_settings(
        cls, settings: Any, behavior_name: str, slug: str, description: str, day: dt.date
    ) -> AudienceSpec:
        """From a Meta destination's settings (``audience_name``: see ``behavior_sync.naming``; ``day`` is the
        run's). The name is what a new audience is created with and what an unknown one is looked up by;
        a remembered audience keeps the name it was created with. Raises MetaError for a bad template.
        """
        template = str(settings.get("audience_name") or "[Behavior] - {name}")
        try:
            name = render_name(template, behavior_name, slug, day)
        except ValueError as exc:
            raise MetaError(f"audience_name: {exc}") from None
        text = str(settings.get("audience_description") or description.strip() or behavior_name)
        return cls(name, text[:500], str(settings.get("customer_file_source") or "USER_PROVIDED_ONLY"))


def resolve_audience(client: MetaClient, objects: DestinationObjects, key: LoadKey, spec: AudienceSpec, op: str) -> str:
    """The audience id to load into (see the module docstring); remembers it. Raises MetaError."""
    stored = objects.recall(key.behavior, key.destination_id, KIND)
    if stored is not None and stored.account == client.account_id:
        try:
            _refuse_flagged(client, client.read_audience(stored.object_id))
            return stored.object_id
        except MetaAudienceMissing:
            pass
    if stored is not None:
        objects.forget(key.behavior, key.destination_id, KIND)
    audience_id = client.find_audience(spec.name)
    if audience_id is None:
        audience_id = client.create_audience(spec.name, spec.description, spec.customer_file_source)
    else:
        _refuse_flagged(client, client.read_audience(audience_id))
    if (stored is not None or key.has_committed_members) and op != "replace":
        raise MetaError(
            f"{client.label}: the audience synced before is gone (deleted in Meta, or the connection now names "
            f"another ad account); audience {audience_id} ({spec.name!r}) does not hold those members, so only a "
            f"full re-sync may fill it: {key.resync_command()}"
        )
    objects.remember(key.behavior, key.destination_id, KIND, StoredObject(audience_id, spec.name, client.account_id))
    return audience_id


def _refuse_flagged(client: MetaClient, fields: dict[str, Any]) -> None:
    if _code(fields.get("operation_status")) == FLAGGED:
        raise MetaError(
            f"{client.label}: Meta flagged audience {fields.get('id')} ({fields.get('name')!r}; operation status "
            "471): uploads are blocked. Its name or content suggests a sensitive category: change the behavior's "
            "audience_name/description, delete the flagged audience in Ads Manager, then run a full re-sync",
            100,
            1713230,
        )


def read_report(client: MetaClient, audience_id: str) -> AudienceReport:
    """The audience's name, approximate size bounds and statuses, read back from Meta."""
    fields = client.read_audience(audience_id)
    return AudienceReport(
        audience_id=audience_id,
        name=str(fields.get("name", "")),
        size_lower_bound=int(fields.get("approximate_count_lower_bound") or 0),
        size_upper_bound=int(fields.get("approximate_count_upper_bound") or 0),
        operation_status=_status(fields.get("operation_status")),
        delivery_status=_status(fields.get("delivery_status")),
    )


def _code(status: Any) -> int | None:
    return int(status["code"]) if isinstance(status, dict) and "code" in status else None


def _status(status: Any) -> str:
    """``"200 Normal"`` from ``{code, description}``."""
    if not isinstance(status, dict):
        return ""
    return f"{status.get('code', '')} {status.get('description', '')}".strip()
