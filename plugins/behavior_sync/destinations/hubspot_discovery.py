"""Field discovery: a portal's contact properties, and whether the behaviors' HubSpot mappings fit them.

``discover`` reads every contact property (name, label, type, field type, options, group).
``check_mappings`` compares the property destinations of behavior files with them: a property of
another type than the destination's ``kind`` needs is a problem (the load would fail); a missing
property is fine (the first load creates it) and is reported as such. The plan step and the CLI
(``python -m behavior_sync hubspot discover``) run the same check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from behavior_sync.config import Behavior
from behavior_sync.destinations.hubspot_client import HubSpotClient
from behavior_sync.destinations.hubspot_crm import all_properties
from behavior_sync.destinations.hubspot_properties import KINDS


@dataclass(frozen=True)
class Field:
    """One contact property as HubSpot describes it."""

    name: str
    label: str
    type: str
    field_type: str
    group: str
    options: tuple[str, ...]
    hubspot_defined: bool

    def row(self) -> list[str]:
        """Cells for a table: name, label, type/fieldType, group, options (first ones)."""
        shown = ", ".join(self.options[:6]) + (", ..." if len(self.options) > 6 else "")
        return [self.name, self.label, f"{self.type}/{self.field_type}", self.group, shown]


def discover(client: HubSpotClient) -> dict[str, Field]:
    """Every contact property of the client's portal, by name."""
    fields = (
        Field(str(p.name), str(p.label or ""), str(p.type), str(p.field_type), str(p.group_name or ""),
              tuple(str(o.value) for o in p.options or ()), bool(p.hubspot_defined))
        for p in all_properties(client)
    )  # fmt: skip
    return {f.name: f for f in fields}


@dataclass(frozen=True)
class MappingCheck:
    """The verdict on one property destination: ``ok`` (fits), ``missing`` (created by the first load) or
    ``wrong_type``, with a message naming the behavior, the destination and the fix."""

    behavior: str
    destination_id: str
    status: str
    message: str


def check_property(fields: Mapping[str, Field], name: str, kind: str) -> tuple[str, str]:
    """(status, message) for property ``name`` used as ``kind``."""
    want_type, want_field = KINDS[kind]
    found = fields.get(name)
    if found is None and kind == "lifecycle_stage":
        return "wrong_type", f"property {name!r} does not exist: a lifecycle_stage needs an existing stage property"
    if found is None:
        return "missing", f"property {name!r} does not exist yet: the first load creates it ({want_type}/{want_field})"
    if (found.type, found.field_type) != (want_type, want_field):
        return "wrong_type", (
            f"property {name!r} is {found.type}/{found.field_type} in HubSpot, but a {kind} needs "
            f"{want_type}/{want_field}: name another property in the behavior file, or delete or change it in HubSpot"
        )
    return "ok", f"property {name!r} is {found.type}/{found.field_type}: fits {kind}"


def check_mappings(fields: Mapping[str, Field], behaviors: Iterable[Behavior], connection: str) -> list[MappingCheck]:
    """Verdicts of every HubSpot property destination of ``behaviors`` that uses ``connection``."""
    checks = []
    for behavior in behaviors:
        for d in behavior.destinations:
            if d.type != "hubspot" or d.connection != connection or d.settings.get("mode") != "property":
                continue
            prop = d.settings.get("property") or {}
            status, message = check_property(fields, str(prop["name"]), str(prop.get("kind") or "multi_checkbox"))
            checks.append(MappingCheck(behavior.slug, d.id, status, message))
    return checks
