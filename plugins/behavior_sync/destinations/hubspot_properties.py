"""A behavior as a HubSpot contact property: its definition, and the value each member's contact gets.

Kinds (the product document's three "property structures"):

- ``multi_checkbox`` (enumeration/checkbox, e.g. "Customer Behaviors", shared by behaviors): each
  behavior adds or removes only its own option (its slug); other options, set by other behaviors
  or by people, are kept.
- ``single_select`` (enumeration/select, e.g. "Primary Behavior"): a joiner's contact gets the
  behavior's option when it is empty, or holds a Behavior Sync option of a lower priority (a larger
  ``priority`` number), or ``overwrite_existing`` is on; a leaver's contact is cleared only when it
  holds this behavior's option. Options Behavior Sync creates carry ``MANAGED`` in their
  description and the priority as display order; other options count as manual values.
- ``boolean`` (bool/booleancheckbox, one yes/no property per behavior): a joiner's contact gets
  "true" when empty (or always with ``overwrite_existing``), a leaver's "true" is cleared.
- ``lifecycle_stage`` (HubSpot's ``lifecyclestage``, or another existing radio/select property
  whose options are ordered stages): a joiner's contact moves forward to the behavior's ``stage``
  when that stage comes later (option display order) than its current one; never backwards, and
  leavers keep their stage. The property is never created or changed.
- ``score`` (number, e.g. a lead score): a joiner's contact gets the behavior's ``points`` added, a
  leaver's subtracted. Which behaviors are counted is kept on the contact in a companion
  multi-checkbox ``<name>_behaviors`` written in the same update, so a re-sent batch never counts a
  behavior twice.

``ensure_property`` creates the group, the property and the behavior's option when missing, and
refuses (``HubSpotError``) an existing property of another type with what to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from hubspot.crm.properties.models import OptionInput, PropertyCreate

from behavior_sync.destinations.hubspot_client import HubSpotClient
from behavior_sync.destinations.hubspot_crm import create_property, ensure_group, get_property, set_options
from behavior_sync.destinations.hubspot_errors import HubSpotError

KINDS: dict[str, tuple[str, str]] = {
    "multi_checkbox": ("enumeration", "checkbox"),
    "single_select": ("enumeration", "select"),
    "boolean": ("bool", "booleancheckbox"),
    "lifecycle_stage": ("enumeration", "radio"),
    "score": ("number", "number"),
}
DEFAULT_GROUP = "behavior_sync"
MANAGED = "Managed by Behavior Sync"


@dataclass(frozen=True)
class PropertySpec:
    """The property a destination maintains and this behavior's part of it."""

    name: str
    label: str
    kind: str
    group: str
    option: str  # the behavior's slug: its option value (enumerations); lifecycle_stage: the stage
    option_label: str  # the behavior's display name
    priority: int = 100  # single_select: lower wins
    overwrite_existing: bool = False
    points: int = 0  # score: added while a member

    @classmethod
    def from_settings(cls, settings: Any, behavior_name: str, slug: str) -> PropertySpec:
        """From a HubSpot property destination's settings (``property``, ``overwrite_existing``)."""
        prop = dict(settings.get("property") or {})
        name, kind = str(prop["name"]), str(prop.get("kind") or "multi_checkbox")
        return cls(
            name=name,
            label=str(prop.get("label") or name.replace("_", " ").capitalize()),
            kind=kind,
            group=str(prop.get("group") or DEFAULT_GROUP),
            option=str(prop.get("stage") or "") if kind == "lifecycle_stage" else slug,
            option_label=behavior_name,
            priority=int(prop.get("priority", 100)),
            overwrite_existing=bool(settings.get("overwrite_existing", False)),
            points=int(prop.get("points", 0)),
        )

    @property
    def companion(self) -> str:
        """score: the multi-checkbox of the behaviors whose points the contact's score holds."""
        return f"{self.name}_behaviors"

    @property
    def reads(self) -> tuple[str, ...]:
        """The contact properties a batch reads and may write."""
        return (self.name, self.companion) if self.kind == "score" else (self.name,)

    @property
    def target(self) -> str:
        """The value a member's contact gets for this behavior."""
        return "true" if self.kind == "boolean" else self.option

    def our_option(self) -> OptionInput:
        """The behavior's option (enumerations)."""
        return OptionInput(label=self.option_label, value=self.option, display_order=self.priority,
                           hidden=False, description=f"{MANAGED} (behavior {self.option})")  # fmt: skip


def ensure_property(client: HubSpotClient, spec: PropertySpec) -> dict[str, int]:
    """Creates what is missing (group, property, option); returns the managed options' priorities by value.

    Raises ``HubSpotError`` when the property exists with another type or field type.
    """
    found = get_property(client, spec.name)
    kind_type, field_type = KINDS[spec.kind]
    if spec.kind == "lifecycle_stage":
        return _stages(spec, found)
    if spec.kind == "score":
        label = f"{spec.label} (behaviors counted)"
        ensure_property(client, replace(spec, kind="multi_checkbox", name=spec.companion, label=label))
    enumerated = kind_type == "enumeration"
    if found is None:
        ensure_group(client, spec.group, "Behavior Sync" if spec.group == DEFAULT_GROUP else spec.group)
        options = [spec.our_option()] if enumerated else []
        create_property(client, PropertyCreate(name=spec.name, label=spec.label, type=kind_type, field_type=field_type,
                                               group_name=spec.group, options=options))  # fmt: skip
        return {spec.option: spec.priority} if enumerated else {}
    if (found.type, found.field_type) != (kind_type, field_type):
        raise HubSpotError(
            f"HubSpot property {spec.name!r} exists as type {found.type}/{found.field_type}, but a {spec.kind} "
            f"needs {kind_type}/{field_type}: name another property in the behavior file, or delete or change "
            "that property in HubSpot"
        )
    options = list(found.options or ())
    if enumerated and spec.option not in {o.value for o in options}:
        kept = [OptionInput(label=o.label, value=o.value, display_order=o.display_order, hidden=bool(o.hidden),
                            description=o.description) for o in options]  # fmt: skip
        set_options(client, spec.name, [*kept, spec.our_option()])
        options.append(spec.our_option())
    return _orders(options, managed_only=True)


def _orders(options: Any, managed_only: bool = False) -> dict[str, int]:
    """Display order by option value (``managed_only``: Behavior Sync's options only, i.e. their priorities)."""
    return {str(o.value): int(o.display_order or 0) for o in options
            if not managed_only or str(o.description or "").startswith(MANAGED)}  # fmt: skip


def managed_priorities(spec: PropertySpec, found: Any) -> dict[str, int]:
    """What ``ensure_property`` returns for the existing property ``found`` (SDK ``ModelProperty``), read only:
    the stages' order of a lifecycle stage property (its stage missing: nothing), else the managed options'
    priorities."""
    return _orders(found.options or (), managed_only=spec.kind != "lifecycle_stage")


def _stages(spec: PropertySpec, found: Any) -> dict[str, int]:
    """The stages' order (option display order) of an existing stage property; raises ``HubSpotError``."""
    stages = _orders(found.options or ()) if found is not None else {}
    if found is None or found.type != "enumeration" or spec.option not in stages:
        raise HubSpotError(
            f"lifecycle stage {spec.option!r} is not an option of HubSpot property {spec.name!r}"
            f"{' (the property does not exist)' if found is None else ''}: use one of {sorted(stages)} in the "
            "behavior file's property.stage"
        )
    return stages


def changes(spec: PropertySpec, op: str, current: Mapping[str, str], priorities: dict[str, int]) -> dict[str, str]:
    """The property values to write on a contact for a member joining (``add``/``replace``) or leaving
    (``remove``); empty to leave it as it is. ``current`` holds the ``reads`` properties ("" when unset)."""
    if spec.kind == "score":
        return _score_changes(spec, op, current)
    value = new_value(spec, op, current.get(spec.name, ""), priorities)
    return {} if value is None else {spec.name: value}


def _score_changes(spec: PropertySpec, op: str, current: Mapping[str, str]) -> dict[str, str]:
    held = {v for v in current.get(spec.companion, "").split(";") if v}
    counted = spec.option in held
    if counted == (op != "remove"):  # joining and counted already, or leaving and not counted
        return {}
    try:
        score = float(current.get(spec.name) or 0)
    except ValueError:
        score = 0.0
    score += -spec.points if counted else spec.points
    return {spec.companion: ";".join(sorted(held ^ {spec.option})), spec.name: f"{score:g}"}


def new_value(spec: PropertySpec, op: str, current: str, priorities: dict[str, int]) -> str | None:
    """The value to write for a member joining (``add``/``replace``) or leaving (``remove``), or None to
    leave the contact as it is. ``current`` is the contact's value ("" when unset)."""
    if spec.kind == "lifecycle_stage":
        later = priorities.get(spec.option, -1) > priorities.get(current, -1)
        return spec.option if op != "remove" and later else None
    if spec.kind == "multi_checkbox":
        held = {v for v in current.split(";") if v}
        wanted = held - {spec.option} if op == "remove" else held | {spec.option}
        return None if wanted == held else ";".join(sorted(wanted))
    if op == "remove":
        return "" if current == spec.target else None
    if current == spec.target:
        return None
    if not current or spec.overwrite_existing or _outranks(spec, current, priorities):
        return spec.target
    return None


def _outranks(spec: PropertySpec, current: str, priorities: dict[str, int]) -> bool:
    """single_select: the contact holds another behavior's option of a lower priority (manual values never)."""
    return spec.kind == "single_select" and current in priorities and priorities[current] > spec.priority
