"""Contact properties and property groups: create, read one or all, update (PATCH).

Rules: a property's ``type`` and ``fieldType`` must go together (``string``/``text``,
``bool``/``booleancheckbox``, ``enumeration``/``checkbox`` for multi-checkbox...); its group must
exist; option values are unique non-empty strings; only ``enumeration`` and ``bool`` take options
(``bool`` gets Yes/No = true/false when none are given). PATCH ``options`` replaces the whole
list, so adding an option means sending the old ones too, as in HubSpot. Duplicate names: 409
OBJECT_ALREADY_EXISTS. HubSpot-defined properties are read-only here.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from sandbox.hubspot.calls import Call, Reply, json_object, optional_bool, optional_int, string_field
from sandbox.hubspot.errors import already_exists, invalid_field, not_found
from sandbox.hubspot.properties import FIELD_TYPES, PropertyDef

logger = logging.getLogger(__name__)

CONTACT_TYPES = frozenset({"contacts", "contact", "0-1"})
INTERNAL_NAME = re.compile(r"[a-z][a-z0-9_]{0,99}")
UPDATE_FIELDS: tuple[str, ...] = ("groupName", "hidden", "options", "displayOrder", "description", "label")
UPDATE_FIELDS += ("calculationFormula", "type", "fieldType", "formField")
CREATE_FIELDS = (*UPDATE_FIELDS, "name", "hasUniqueValue", "referencedObjectType", "externalOptions")
OPTION_FIELDS = ("label", "value", "displayOrder", "hidden", "description")
BOOL_OPTIONS = [
    {"label": "Yes", "value": "true", "displayOrder": 0, "hidden": False, "description": ""},
    {"label": "No", "value": "false", "displayOrder": 1, "hidden": False, "description": ""},
]


def create_property(call: Call) -> Reply:
    """POST /crm/v3/properties/{objectType}: 201 with the property."""
    _object_type(call)
    body = json_object(call.body(), CREATE_FIELDS, ("name", "label", "type", "fieldType", "groupName"))
    name = str(string_field(body, "name"))
    if not INTERNAL_NAME.fullmatch(name):
        raise invalid_field("name", "name must be lower-case letters, digits and _, starting with a letter (<= 100)")
    if call.data.catalog.get(name) is not None:
        raise already_exists(f"Property named '{name}' already exists.", sub_category="PROPERTY_EXISTS")
    definition = PropertyDef(name, "", "", "", "", created_at=call.now)
    _apply(call, definition, body)
    definition.has_unique_value = optional_bool(body, "hasUniqueValue", False)
    call.data.catalog.properties[name] = definition
    logger.info(
        "property %s created in portal %s (%s/%s)", name, call.portal.portal_id, definition.type, definition.field_type
    )
    return Reply(201, definition.to_api())


def update_property(call: Call) -> Reply:
    """PATCH /crm/v3/properties/{objectType}/{propertyName}: 200 with the property."""
    definition = _property(call)
    body = json_object(call.body(), UPDATE_FIELDS)
    if definition.hubspot_defined:
        raise invalid_field("name", f"(sandbox) the HubSpot-defined property '{definition.name}' is read-only")
    _apply(call, definition, {**_current(definition), **body})
    logger.info("property %s updated (%d options)", definition.name, len(definition.options))
    return Reply(200, definition.to_api())


def get_property(call: Call) -> Reply:
    """GET /crm/v3/properties/{objectType}/{propertyName}."""
    return Reply(200, _property(call).to_api())


def get_properties(call: Call) -> Reply:
    """GET /crm/v3/properties/{objectType}: ``{"results": [...]}`` (none when ``archived=true``)."""
    _object_type(call)
    if call.query_bool("archived"):
        return Reply(200, {"results": []})
    return Reply(200, {"results": [p.to_api() for p in call.data.catalog.properties.values()]})


def create_group(call: Call) -> Reply:
    """POST /crm/v3/properties/{objectType}/groups: 201 with the group."""
    _object_type(call)
    body = json_object(call.body(), ("name", "label", "displayOrder"), ("name", "label"))
    name, label = str(string_field(body, "name")), str(string_field(body, "label"))
    if not INTERNAL_NAME.fullmatch(name):
        raise invalid_field("name", "name must be lower-case letters, digits and _, starting with a letter (<= 100)")
    if name in call.data.catalog.groups:
        raise already_exists(f"Property group named '{name}' already exists.", sub_category="PROPERTY_GROUP_EXISTS")
    group = {"name": name, "label": label, "displayOrder": optional_int(body, "displayOrder", -1), "archived": False}
    call.data.catalog.groups[name] = group
    logger.info("property group %s created in portal %s", name, call.portal.portal_id)
    return Reply(201, dict(group))


def get_group(call: Call) -> Reply:
    """GET /crm/v3/properties/{objectType}/groups/{groupName}."""
    _object_type(call)
    group = call.data.catalog.groups.get(call.params["group_name"])
    if group is None:
        raise not_found(f"Property group '{call.params['group_name'][:100]}' does not exist.")
    return Reply(200, dict(group))


def get_groups(call: Call) -> Reply:
    """GET /crm/v3/properties/{objectType}/groups."""
    _object_type(call)
    return Reply(200, {"results": [dict(group) for group in call.data.catalog.groups.values()]})


def _object_type(call: Call) -> None:
    object_type = call.params["object_type"]
    if object_type not in CONTACT_TYPES:
        raise not_found(f"(sandbox) only contact properties are emulated; unknown object type {object_type[:60]!r}")


def _property(call: Call) -> PropertyDef:
    _object_type(call)
    definition = call.data.catalog.get(call.params["property_name"])
    if definition is None:
        raise not_found(f"Property {call.params['property_name'][:100]!r} does not exist.")
    return definition


def _current(definition: PropertyDef) -> dict[str, Any]:
    return {
        "label": definition.label,
        "type": definition.type,
        "fieldType": definition.field_type,
        "groupName": definition.group_name,
        "options": definition.options,
    }


def _apply(call: Call, definition: PropertyDef, body: dict[str, Any]) -> None:
    """Check and apply the definition fields of a create or (merged) update body; raises 400."""
    type_, field_type = body["type"], body["fieldType"]
    if type_ not in FIELD_TYPES:
        raise invalid_field("type", f"type must be one of {', '.join(sorted(FIELD_TYPES))}")
    if field_type not in FIELD_TYPES[type_]:
        raise invalid_field("fieldType", f"fieldType {str(field_type)[:40]!r} is not valid for type {type_}")
    group = str(string_field(body, "groupName"))
    if group not in call.data.catalog.groups:
        raise invalid_field("groupName", f"Property group '{group[:100]}' does not exist")
    definition.label = str(string_field(body, "label"))
    definition.type, definition.field_type, definition.group_name = type_, field_type, group
    definition.options = _options(type_, body.get("options"))
    definition.description = str(body.get("description") or definition.description)
    definition.display_order = optional_int(body, "displayOrder", definition.display_order)
    definition.hidden = optional_bool(body, "hidden", definition.hidden)
    definition.form_field = optional_bool(body, "formField", definition.form_field)
    definition.updated_at = call.now


def _options(type_: str, raw: Any) -> list[dict[str, Any]]:
    if raw is None or raw == []:
        return [dict(option) for option in BOOL_OPTIONS] if type_ == "bool" else []
    if type_ not in {"enumeration", "bool"}:
        raise invalid_field("options", f"properties of type {type_} take no options")
    if not isinstance(raw, list):
        raise invalid_field("options", "options must be an array")
    options = []
    for index, item in enumerate(raw):
        option = json_object(item, OPTION_FIELDS, ("label", "value"), f"options[{index}]")
        value = str(string_field(option, "value", f"options[{index}]"))
        label = str(string_field(option, "label", f"options[{index}]"))
        if ";" in value:
            raise invalid_field(f"options[{index}].value", "an option value cannot contain ';'")
        order, hidden = optional_int(option, "displayOrder", index), optional_bool(option, "hidden", False)
        options.append(
            {
                "label": label,
                "value": value,
                "displayOrder": order,
                "hidden": hidden,
                "description": str(option.get("description") or ""),
            }
        )
    values = [option["value"] for option in options]
    if len(set(values)) != len(values):
        raise invalid_field("options", "option values must be unique")
    if type_ == "bool" and set(values) != {"true", "false"}:
        raise invalid_field("options", "bool properties take exactly the options true and false")
    return options
