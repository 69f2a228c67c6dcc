"""Contact property definitions and groups of one portal, and the rules for property values.

Values are stored as strings, as HubSpot returns them: booleans ``"true"``/``"false"``,
multi-checkbox (``enumeration``/``checkbox``) options joined with ``;``, e-mails lower-cased.
An empty string or null clears a value. Not thread-safe on its own (the store lock guards it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

FIELD_TYPES: dict[str, frozenset[str]] = {
    "string": frozenset({"text", "textarea", "file", "html", "phonenumber"}),
    "number": frozenset({"number"}),
    "bool": frozenset({"booleancheckbox"}),
    "enumeration": frozenset({"checkbox", "select", "radio", "booleancheckbox"}),
    "date": frozenset({"date"}),
    "datetime": frozenset({"date"}),
}
READ_ONLY = frozenset({"hs_object_id", "createdate", "lastmodifieddate"})
DEFAULT_GROUP = "contactinformation"
MAX_STRING_CHARS = 65_536
_EMAIL = re.compile(r"[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LIFECYCLE = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer")


def iso(epoch_seconds: float) -> str:
    """Epoch seconds as HubSpot's timestamp form, ``2025-01-31T12:00:00.000Z``."""
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def is_email(value: str) -> bool:
    """True for a plausible e-mail address (HubSpot's own check is stricter; UNCONFIRMED)."""
    return len(value) <= 254 and _EMAIL.fullmatch(value) is not None


class ValueProblem(Exception):
    """A property value HubSpot would refuse: ``code`` (e.g. INVALID_EMAIL) and a message without the value."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class PropertyDef:
    """One property definition, in the sandbox's own (persisted) form."""

    name: str
    label: str
    type: str
    field_type: str
    group_name: str
    description: str = ""
    options: list[dict[str, Any]] = field(default_factory=list)
    display_order: int = -1
    has_unique_value: bool = False
    hidden: bool = False
    form_field: bool = True
    hubspot_defined: bool = False
    created_at: float = 0.0
    updated_at: float = 0.0

    def to_api(self) -> dict[str, Any]:
        """The ``ModelProperty`` JSON the SDK reads."""
        read_only = self.name in READ_ONLY
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "groupName": self.group_name,
            "description": self.description,
            "options": [dict(option) for option in self.options],
            "displayOrder": self.display_order,
            "hasUniqueValue": self.has_unique_value,
            "hidden": self.hidden,
            "formField": self.form_field,
            "hubspotDefined": self.hubspot_defined,
            "calculated": False,
            "externalOptions": False,
            "archived": False,
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": read_only,
                "readOnlyOptions": self.hubspot_defined,
            },
        }

    def option_values(self) -> list[str]:
        """The allowed option values, in order."""
        return [str(option["value"]) for option in self.options]

    def check(self, raw: Any) -> str | None:
        """The stored form of ``raw`` (None clears the value); raises ``ValueProblem``."""
        if self.name in READ_ONLY:
            raise ValueProblem("READ_ONLY_VALUE", f'Property "{self.name}" is read-only')
        if raw is None or raw == "":
            return None
        if isinstance(raw, bool):
            raw = "true" if raw else "false"
        if isinstance(raw, int | float):
            raw = str(raw)
        if not isinstance(raw, str):
            raise ValueProblem("INVALID_VALUE", f'Property "{self.name}" takes a string value')
        if len(raw) > MAX_STRING_CHARS:
            raise ValueProblem("VALUE_TOO_LONG", f'Property "{self.name}" is longer than {MAX_STRING_CHARS} characters')
        return self._check_typed(raw)

    def _check_typed(self, value: str) -> str:
        if self.name == "email":
            if not is_email(value.strip()):
                raise ValueProblem("INVALID_EMAIL", 'Property "email" is not a valid e-mail address')
            return value.strip().lower()
        if self.type == "bool":
            if value.lower() not in {"true", "false"}:
                raise ValueProblem("INVALID_OPTION", f'Property "{self.name}" takes "true" or "false"')
            return value.lower()
        if self.type == "enumeration":
            return self._check_options(value)
        if self.type == "number":
            try:
                float(value)
            except ValueError:
                raise ValueProblem("INVALID_FLOAT", f'Property "{self.name}" takes a number') from None
        if self.type in {"date", "datetime"} and not (value.isdigit() or _ISO_DATE.match(value)):
            raise ValueProblem("INVALID_DATE", f'Property "{self.name}" takes epoch milliseconds or an ISO 8601 date')
        return value

    def _check_options(self, value: str) -> str:
        chosen = [token for token in value.split(";") if token] if self.field_type == "checkbox" else [value]
        allowed = self.option_values()
        for token in chosen:
            if token not in allowed:
                shown = token if len(token) <= 80 else token[:80] + "..."
                raise ValueProblem(
                    "INVALID_OPTION",
                    f'"{shown}" was not one of the allowed options of property "{self.name}": [{", ".join(allowed)}]',
                )
        return ";".join(dict.fromkeys(chosen))


def _builtin(name: str, label: str, type_: str = "string", field_type: str = "text", **extra: Any) -> PropertyDef:
    return PropertyDef(name, label, type_, field_type, DEFAULT_GROUP, hubspot_defined=True, **extra)


def builtin_properties() -> list[PropertyDef]:
    """The HubSpot-defined contact properties the sandbox emulates."""
    lifecycle = [{"label": v, "value": v, "displayOrder": i, "hidden": False} for i, v in enumerate(_LIFECYCLE)]
    return [
        _builtin("email", "Email", has_unique_value=True),
        _builtin("firstname", "First Name"),
        _builtin("lastname", "Last Name"),
        _builtin("phone", "Phone Number", field_type="phonenumber"),
        _builtin("company", "Company Name"),
        _builtin("city", "City"),
        _builtin("country", "Country/Region"),
        _builtin("zip", "Postal Code"),
        _builtin("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", options=lifecycle),
        _builtin("hs_object_id", "Record ID", "number", "number", form_field=False),
        _builtin("createdate", "Create Date", "datetime", "date", form_field=False),
        _builtin("lastmodifieddate", "Last Modified Date", "datetime", "date", form_field=False),
    ]


class PropertyCatalog:
    """Property definitions and groups by name (HubSpot-defined ones included)."""

    def __init__(self) -> None:
        self.properties: dict[str, PropertyDef] = {p.name: p for p in builtin_properties()}
        self.groups: dict[str, dict[str, Any]] = {
            DEFAULT_GROUP: {"name": DEFAULT_GROUP, "label": "Contact information", "displayOrder": 0, "archived": False}
        }

    def get(self, name: str) -> PropertyDef | None:
        """The definition named ``name``, or None."""
        return self.properties.get(name)

    def to_json(self) -> dict[str, Any]:
        """Persisted form: custom properties and groups only (built-ins are recreated)."""
        custom = [asdict(p) for p in self.properties.values() if not p.hubspot_defined]
        return {"properties": custom, "groups": list(self.groups.values())}

    def load_json(self, document: Mapping[str, Any]) -> None:
        """Restore custom properties and groups saved by ``to_json``."""
        for data in document.get("properties", []):
            definition = PropertyDef(**data)
            self.properties[definition.name] = definition
        for group in document.get("groups", []):
            self.groups[group["name"]] = dict(group)
