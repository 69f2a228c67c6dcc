"""Contacts endpoints: batch read, create, update, upsert (by e-mail), and read one.

Batch rules: ``inputs`` holds 1..``max_batch_inputs`` (100) items, else 400. A malformed request
(wrong shapes, unknown fields, duplicate ids) is refused whole with 400. Bad property values
(unknown property, invalid e-mail, option that does not exist...) and writes breaking one of the
portal's validation rules (``rules.py``) fail only their input: the others are applied and the
answer is 207 with one ``errors[]`` entry per failed input, whose ``context`` names it
(``inputIndexes``, and ``ids`` when the input has one), and whose ``errors[]`` name each property
(``in``) and code. With ``invalid_values: reject_batch`` such inputs refuse the whole batch with 400
instead. The message lists the problems as HubSpot documents it (``Property values were not valid:
[{"isValid": false, "message", "error", "name"}]``). Logs carry counts only, never e-mails.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.hubspot.calls import Call, Reply, json_object, string_field, string_list
from sandbox.hubspot.contacts import DEFAULT_READ_PROPERTIES, Contact
from sandbox.hubspot.errors import already_exists, error_detail, invalid_field, not_found, validation
from sandbox.hubspot.properties import ValueProblem, is_email, iso

logger = logging.getLogger(__name__)

ID_PROPERTIES = frozenset({"email", "hs_object_id"})
NOT_FOUND_MESSAGE = "Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid."


@dataclass
class _Input:
    """One batch input after its shape was checked."""

    index: int
    key: str | None
    values: dict[str, str | None] = field(default_factory=dict)
    problems: list[dict[str, Any]] = field(default_factory=list)
    contact: Contact | None = None


def batch_read(call: Call) -> Reply:
    """POST .../batch/read: found contacts (requested or default properties); 207 lists missing ids."""
    body = json_object(call.body(), ("inputs", "idProperty", "properties", "propertiesWithHistory"), ("inputs",))
    id_property = _id_property(body.get("idProperty"), "idProperty")
    names = string_list(body.get("properties") or list(DEFAULT_READ_PROPERTIES), "properties")
    names = [name for name in names if call.data.catalog.get(name) is not None]
    results: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    for index, raw in enumerate(_inputs(call, body)):
        key = string_field(json_object(raw, ("id",), ("id",), f"inputs[{index}]"), "id", f"inputs[{index}]")
        assert key is not None
        contact = call.data.contacts.find(key, id_property)
        if contact is None:
            missing.append(key)
        else:
            results.setdefault(contact.id, contact.to_api(names))
    errors = []
    if missing:
        errors.append(
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": NOT_FOUND_MESSAGE,
                "errors": [],
                "context": {"ids": missing},
            }
        )
    logger.info("contacts batch read inputs=%d found=%d missing=%d", len(body["inputs"]), len(results), len(missing))
    return _reply(call, list(results.values()), errors, 200)


def batch_upsert(call: Call) -> Reply:
    """POST .../batch/upsert by ``idProperty: email``: creates (``new: true``) or updates each input."""
    staged = []
    for index, raw in enumerate(_inputs(call, json_object(call.body(), ("inputs",), ("inputs",)))):
        where = f"inputs[{index}]"
        item = json_object(raw, ("id", "idProperty", "objectWriteTraceId", "properties"), ("id", "idProperty"), where)
        if item["idProperty"] != "email":
            raise invalid_field(f"{where}.idProperty", "(sandbox) upserts are emulated by the unique property email")
        key = string_field(item, "id", where)
        assert key is not None
        entry = _stage(call, index, key.strip().lower(), item.get("properties", {}))
        if not is_email(entry.key or ""):
            entry.problems.insert(
                0, error_detail("The id is not a valid e-mail address", in_="id", code="INVALID_EMAIL")
            )
        entry.values["email"] = entry.key
        entry.contact = call.data.contacts.find(key, "email")
        _check_rules(call, entry)
        staged.append(entry)
    _refuse_duplicates(staged)
    results, created = [], 0
    for entry in _applicable(call, staged):
        is_new = entry.contact is None
        created += is_new
        contact = _write(call, entry)
        results.append({**contact.to_api(), "new": is_new})
    logger.info("contacts batch upsert inputs=%d created=%d updated=%d", len(staged), created, len(results) - created)
    return _reply(call, results, _input_errors(staged), 200)


def batch_create(call: Call) -> Reply:
    """POST .../batch/create: 201; a taken e-mail refuses the whole batch with 409 CONFLICT, as HubSpot does."""
    staged = []
    for index, raw in enumerate(_inputs(call, json_object(call.body(), ("inputs",), ("inputs",)))):
        item = json_object(
            raw, ("properties", "associations", "objectWriteTraceId"), ("properties",), f"inputs[{index}]"
        )
        if item.get("associations"):
            raise invalid_field(f"inputs[{index}].associations", "(sandbox) associations are not emulated")
        entry = _stage(call, index, None, item["properties"])
        email = entry.values.get("email")
        existing = None if email is None else call.data.contacts.find(email, "email")
        if existing is not None:
            raise already_exists(f"Contact already exists. Existing ID: {existing.id}", category="CONFLICT")
        entry.key = email
        _check_rules(call, entry)
        staged.append(entry)
    _refuse_duplicates([entry for entry in staged if entry.key is not None])
    results = [_write(call, entry).to_api() for entry in _applicable(call, staged)]
    logger.info("contacts batch create inputs=%d created=%d", len(staged), len(results))
    return _reply(call, results, _input_errors(staged), 201)


def batch_update(call: Call) -> Reply:
    """POST .../batch/update by record id (or ``idProperty: email``); unknown contacts fail their input."""
    staged = []
    for index, raw in enumerate(_inputs(call, json_object(call.body(), ("inputs",), ("inputs",)))):
        where = f"inputs[{index}]"
        item = json_object(raw, ("id", "idProperty", "objectWriteTraceId", "properties"), ("id", "properties"), where)
        id_property = _id_property(item.get("idProperty"), f"{where}.idProperty")
        key = string_field(item, "id", where)
        assert key is not None
        entry = _stage(call, index, key, item["properties"])
        entry.contact = call.data.contacts.find(key, id_property)
        if entry.contact is None:
            entry.problems.insert(0, error_detail("Object not found.", in_="id", code="OBJECT_NOT_FOUND"))
        _email_taken(call, entry)
        _check_rules(call, entry)
        staged.append(entry)
    _refuse_duplicates(staged)
    results = [_write(call, entry).to_api() for entry in _applicable(call, staged)]
    logger.info("contacts batch update inputs=%d updated=%d", len(staged), len(results))
    return _reply(call, results, _input_errors(staged), 200)


def get_contact(call: Call) -> Reply:
    """GET /crm/v3/objects/contacts/{contactId}?idProperty=&properties=: one contact or 404."""
    id_property = _id_property(call.request.query.get("idProperty"), "idProperty")
    contact = call.data.contacts.find(call.params["contact_id"], id_property)
    if contact is None:
        raise not_found("Object not found. objectId are usually numeric.")
    names = [n for n in call.query_list("properties") or DEFAULT_READ_PROPERTIES if call.data.catalog.get(n)]
    return Reply(200, contact.to_api(names))


def _inputs(call: Call, body: Mapping[str, Any]) -> list[Any]:
    inputs, limit = body["inputs"], call.config.max_batch_inputs
    if not isinstance(inputs, list):
        raise invalid_field("inputs", "inputs must be an array")
    if not 1 <= len(inputs) <= limit:
        detail = error_detail(f"size must be between 1 and {limit}", in_="inputs")
        raise validation(f"Batch input size is {len(inputs)}: the limit is {limit} inputs per request", errors=[detail])
    return inputs


def _id_property(value: Any, where: str) -> str | None:
    if value is not None and value not in ID_PROPERTIES:
        raise invalid_field(where, "(sandbox) idProperty must be email or hs_object_id (a unique property)")
    return None if value == "hs_object_id" else value


def _stage(call: Call, index: int, key: str | None, properties: Any) -> _Input:
    """Check every property value of one input (a non-object ``properties`` refuses the batch)."""
    if not isinstance(properties, dict):
        raise invalid_field(f"inputs[{index}].properties", "properties must be an object of property values")
    entry = _Input(index, key)
    for name, raw in properties.items():
        definition = call.data.catalog.get(name)
        if definition is None:
            problem = ValueProblem("PROPERTY_DOESNT_EXIST", f'Property "{name[:100]}" does not exist')
        else:
            try:
                entry.values[name] = definition.check(raw)
                continue
            except ValueProblem as exc:
                problem = exc
        entry.problems.append(error_detail(problem.message, in_=name[:100], code=problem.code))
    return entry


def _check_rules(call: Call, entry: _Input) -> None:
    """A problem on ``entry`` for each portal validation rule its write breaks (rules of the call's API version)."""
    after = {**(entry.contact.properties if entry.contact is not None else {}), **entry.values}
    for rule in call.portal.validation_rules:
        if rule.applies_to(entry.values) and rule.enforced_on(call.version):
            reason = rule.broken_by(after)
            if reason is not None:
                entry.problems.append(error_detail(reason, in_=rule.property_name, code=rule.code))


def _not_valid(problems: list[dict[str, Any]]) -> str:
    """HubSpot's message for refused property values, listing each problem (no values)."""
    listed = [
        {"isValid": False, "message": p["message"], "error": p.get("code"), "name": p.get("in")} for p in problems
    ]
    return f"Property values were not valid: {json.dumps(listed)}"


def _refuse_duplicates(staged: list[_Input]) -> None:
    keys = [entry.key.lower() for entry in staged if entry.key is not None]
    if len(set(keys)) != len(keys):
        raise validation(f"Duplicate IDs found in batch input ({len(keys) - len(set(keys))} duplicates)")


def _applicable(call: Call, staged: list[_Input]) -> list[_Input]:
    """The inputs without problems; in reject_batch mode any problem refuses the whole batch."""
    if call.config.invalid_values == "reject_batch" and any(entry.problems for entry in staged):
        details = [{**p, "context": {"inputIndexes": [str(e.index)]}} for e in staged for p in e.problems]
        raise validation(_not_valid(details), errors=details)
    return [entry for entry in staged if not entry.problems]


def _write(call: Call, entry: _Input) -> Contact:
    if entry.contact is None:
        return call.data.contacts.create(call.store.new_contact_id(), entry.values, call.now)
    call.data.contacts.update(entry.contact, entry.values, call.now)
    return entry.contact


def _email_taken(call: Call, entry: _Input) -> None:
    """A problem on ``entry`` when it would move its contact to an e-mail another contact holds."""
    email = entry.values.get("email")
    other = None if email is None else call.data.contacts.find(email, "email")
    if other is not None and entry.contact is not None and other.id != entry.contact.id:
        detail = error_detail(f"Contact already exists. Existing ID: {other.id}", in_="email", code="CONFLICT")
        entry.problems.append(detail)


def _input_errors(staged: list[_Input]) -> list[dict[str, Any]]:
    errors = []
    for entry in (e for e in staged if e.problems):
        context = {"inputIndexes": [str(entry.index)], **({"ids": [entry.key]} if entry.key else {})}
        category = "OBJECT_NOT_FOUND" if entry.problems[0].get("code") == "OBJECT_NOT_FOUND" else "VALIDATION_ERROR"
        message = "Object not found." if category == "OBJECT_NOT_FOUND" else _not_valid(entry.problems)
        errors.append(
            {"status": "error", "category": category, "message": message, "errors": entry.problems, "context": context}
        )
    return errors


def _reply(call: Call, results: list[dict[str, Any]], errors: list[dict[str, Any]], ok_status: int) -> Reply:
    stamp = iso(call.now)
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "requestedAt": stamp,
        "startedAt": stamp,
        "completedAt": stamp,
    }
    if errors:
        body.update(numErrors=len(errors), errors=errors)
        return Reply(207, body)
    return Reply(ok_status, body)
