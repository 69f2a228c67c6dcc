"""A portal's property validation rules, as HubSpot applies them to API writes.

Two families (HubSpot changelogs "Property Validations Rules will be enforced for APIs" (2023) and
"CRM API Write Validation Enforcement Starting with the 2026-09 API Version"):

- value rules on one property (``MAX_LENGTH``, ``MIN_NUMBER``, ``MAX_NUMBER``; arguments ``[limit]``),
  enforced on every API version;
- ``CONDITIONALLY_REQUIRED`` (arguments ``[trigger property, trigger value]``): the rule's property must
  hold a value once the trigger property holds the trigger value (for a multi-checkbox: among its
  options). Enforced from the ``2026-09`` version on only, as HubSpot does; legacy ``v3`` and earlier
  dated versions ignore it.

A broken rule fails its input like any invalid value (``api_contacts``); the error codes are the
sandbox's (HubSpot's exact codes for these rules are UNCONFIRMED): ``INVALID_<RULE_TYPE>``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

VALUE_RULES = frozenset({"MAX_LENGTH", "MIN_NUMBER", "MAX_NUMBER"})
CONDITIONALLY_REQUIRED = "CONDITIONALLY_REQUIRED"
CONDITIONAL_FROM_VERSION = "2026-09"  # the first API version that enforces conditionally required properties


@dataclass(frozen=True)
class ValidationRule:
    """One rule of a portal: the property it guards, its type and its arguments."""

    property_name: str
    rule_type: str
    arguments: tuple[str, ...]

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ValidationRule:
        """``{"property", "rule_type", "arguments"}``; raises ``ValueError`` on unknown keys or bad values."""
        unknown = set(data) - {"property", "rule_type", "arguments"}
        if unknown:
            raise ValueError(f"unknown validation rule settings: {sorted(unknown)}")
        arguments = tuple(str(a) for a in data.get("arguments", ()))
        rule = cls(str(data["property"]), str(data["rule_type"]), arguments)
        wanted = 2 if rule.rule_type == CONDITIONALLY_REQUIRED else 1
        if rule.rule_type not in VALUE_RULES | {CONDITIONALLY_REQUIRED} or len(rule.arguments) != wanted:
            raise ValueError(f"bad validation rule {rule.rule_type!r} on {rule.property_name!r} ({wanted} argument(s))")
        if rule.rule_type in VALUE_RULES:
            float(rule.arguments[0])  # raises ValueError for a limit that is not a number
        return rule

    @property
    def code(self) -> str:
        """The error code of an input breaking this rule."""
        return f"INVALID_{self.rule_type}"

    def applies_to(self, written: Collection[str]) -> bool:
        """Whether a write of the properties ``written`` is checked against this rule (it writes the guarded
        property, or a conditional rule's trigger)."""
        trigger = self.arguments[0] if self.rule_type == CONDITIONALLY_REQUIRED else None
        return self.property_name in written or trigger in written

    def enforced_on(self, version: str | None) -> bool:
        """Whether a call on API ``version`` (``v3``, ``YYYY-MM``) is held to this rule."""
        if self.rule_type != CONDITIONALLY_REQUIRED:
            return True
        return version is not None and version[:1].isdigit() and version >= CONDITIONAL_FROM_VERSION

    def broken_by(self, values: Mapping[str, str | None]) -> str | None:
        """Why the contact's values after a write (stored form; None or absent: unset) break the rule, or None."""
        value = values.get(self.property_name)
        if self.rule_type == CONDITIONALLY_REQUIRED:
            trigger, wanted = self.arguments
            held = (values.get(trigger) or "").split(";")
            missing = wanted in held and not value
            return f"{self.property_name} is required when {trigger} is {wanted}" if missing else None
        if value is None:
            return None
        limit = float(self.arguments[0])
        if self.rule_type == "MAX_LENGTH":
            return f"{self.property_name} is longer than {limit:g} characters" if len(value) > limit else None
        number = _number(value)
        if number is None:
            return None
        if self.rule_type == "MIN_NUMBER" and number < limit:
            return f"{self.property_name} must be at least {limit:g}"
        if self.rule_type == "MAX_NUMBER" and number > limit:
            return f"{self.property_name} must be at most {limit:g}"
        return None


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None
