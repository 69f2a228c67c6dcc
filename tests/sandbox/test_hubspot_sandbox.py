"""The HubSpot sandbox, driven by the real hubspot-api-client; outcomes read back via /_sandbox."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from hubspot.crm.contacts import ApiException as ContactsApiException
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchReadInputSimplePublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
)
from hubspot.crm.lists import ApiException as ListsApiException
from hubspot.crm.lists import ListCreateRequest, ListSearchRequest, MembershipChangeRequest
from hubspot.crm.properties import ApiException as PropertiesApiException
from hubspot.crm.properties import OptionInput, PropertyCreate, PropertyGroupCreate, PropertyUpdate
from urllib3.util.retry import Retry

from sandbox.hubspot import HubSpotSandboxConfig
from tests.sandbox.conftest import (
    HS_LISTS_READ_TOKEN,
    HS_PORTAL,
    HS_PORTALS,
    HS_SECOND_TOKEN,
    HS_SEED_EMAILS,
    HS_STARTER_TOKEN,
    HS_TINY_TOKEN,
    HS_TOKEN,
    HubSpotHarness,
    StartHubSpot,
)
from tests.support.hubspot_harness import HS_READ_ONLY_KEY, HS_SERVICE_KEY

API_ERRORS = (ListsApiException, ContactsApiException, PropertiesApiException)
BEHAVIORS = "customer_behaviors"


def api_error(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The SDK's ApiException raised by ``call`` (fails the test when nothing is raised)."""
    with pytest.raises(API_ERRORS) as caught:
        call(*args, **kwargs)
    return caught.value


def body_of(error: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(error.body)
    return body


def create_list(
    hs: HubSpotHarness, name: str = "BEH - Value Hunters", kind: str = "MANUAL", token: str = HS_TOKEN
) -> str:
    request = ListCreateRequest(object_type_id="0-1", processing_type=kind, name=name)
    return str(hs.client(token).crm.lists.lists_api.create(request).list.list_id)


def upsert(hs: HubSpotHarness, rows: dict[str, dict[str, str]], token: str = HS_TOKEN) -> Any:
    inputs = [SimplePublicObjectBatchInputUpsert(id=e, id_property="email", properties=p) for e, p in rows.items()]
    batch = BatchInputSimplePublicObjectBatchInputUpsert(inputs=inputs)
    return hs.client(token).crm.contacts.batch_api.upsert_with_http_info(batch)


def seed_ids(hs: HubSpotHarness) -> list[str]:
    rows = hs.get("contacts", portal=HS_PORTAL)["contacts"]
    return [row["id"] for row in rows if row["email"] in HS_SEED_EMAILS]


def multi_checkbox(hs: HubSpotHarness, values: list[str]) -> Any:
    options = [OptionInput(label=v.title(), value=v, display_order=i, hidden=False) for i, v in enumerate(values)]
    create = PropertyCreate(
        name=BEHAVIORS,
        label="Customer behaviors",
        type="enumeration",
        field_type="checkbox",
        group_name="contactinformation",
        options=options,
    )
    return hs.client().crm.properties.core_api.create("contacts", create)


# --- account, auth, scopes --------------------------------------------------------------------------


def test_account_details_name_the_portal_and_carry_rate_headers(hubspot_sandbox: HubSpotHarness) -> None:
    answer = hubspot_sandbox.client().api_request({"method": "GET", "path": "/account-info/v3/details"})
    details = answer.json()

    assert answer.status_code == 200
    assert (details["portalId"], details["accountType"], details["timeZone"]) == (HS_PORTAL, "STANDARD", "US/Eastern")
    assert (details["utcOffset"], details["utcOffsetMilliseconds"]) == ("-04:00", -4 * 3600 * 1000)  # June: EDT
    assert details["companyCurrency"] == "USD" and details["uiDomain"] == "app.hubspot.com"
    assert answer.headers["X-HubSpot-RateLimit-Max"] == "190"
    assert answer.headers["X-HubSpot-RateLimit-Daily"] == "650000"
    assert answer.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "649999"


def test_bad_or_missing_token_is_401(hubspot_sandbox: HubSpotHarness) -> None:
    error = api_error(hubspot_sandbox.client("pat-na1-not-a-token").crm.lists.lists_api.get_by_id, "1")
    missing = requests.get(f"{hubspot_sandbox.base_url}/crm/v3/lists/1", timeout=10)

    assert error.status == 401 and body_of(error)["category"] == "INVALID_AUTHENTICATION"
    assert missing.status_code == 401 and missing.json()["category"] == "INVALID_AUTHENTICATION"
    assert {"status", "message", "correlationId", "category", "errors"} <= set(missing.json())
    assert hubspot_sandbox.get("state")["errors"] == {"401 INVALID_AUTHENTICATION": 2}


def test_missing_scope_is_403_naming_the_scopes(hubspot_sandbox: HubSpotHarness) -> None:
    list_id = create_list(hubspot_sandbox)
    error = api_error(create_list, hubspot_sandbox, "other", token=HS_LISTS_READ_TOKEN)
    body = body_of(error)
    read = hubspot_sandbox.client(HS_LISTS_READ_TOKEN).crm.lists.lists_api.get_by_id(list_id)

    assert error.status == 403 and body["category"] == "MISSING_SCOPES"
    assert error.headers["X-HubSpot-RateLimit-Max"] == "190"  # the portal is known: its headers are sent
    assert body["errors"][0]["context"]["requiredScopes"] == ["crm.lists.write"]
    assert read.list.name == "BEH - Value Hunters"  # crm.lists.read is enough to read
    error = api_error(upsert, hubspot_sandbox, {"a@example.com": {}}, token=HS_LISTS_READ_TOKEN)
    assert body_of(error)["errors"][0]["context"]["requiredScopes"] == ["crm.objects.contacts.write"]
    assert [row["name"] for row in hubspot_sandbox.get("lists")["lists"]] == ["BEH - Value Hunters"]


def test_unknown_path_404_and_trailing_slash_accepted(hubspot_sandbox: HubSpotHarness) -> None:
    list_id = create_list(hubspot_sandbox)  # the SDK posts to /crm/v3/lists/ (trailing slash)
    headers = {"Authorization": f"Bearer {HS_TOKEN}"}
    slashed = requests.get(f"{hubspot_sandbox.base_url}/crm/v3/lists/{list_id}/", headers=headers, timeout=10)
    unknown = requests.get(f"{hubspot_sandbox.base_url}/crm/v3/nothing", headers=headers, timeout=10)
    wrong_method = requests.post(f"{hubspot_sandbox.base_url}/crm/v3/lists/{list_id}", headers=headers, timeout=10)

    assert slashed.status_code == 200 and slashed.json()["list"]["listId"] == list_id
    assert unknown.status_code == 404 and unknown.json()["status"] == "error"
    assert wrong_method.status_code == 405


# --- lists ------------------------------------------------------------------------------------------


def test_create_manual_list_then_get_by_id_and_by_name(hubspot_sandbox: HubSpotHarness) -> None:
    name = "[Behavior] Comfort Seekers / Daily"  # brackets, spaces and a slash travel percent-encoded
    list_id = create_list(hubspot_sandbox, name)
    lists_api = hubspot_sandbox.client().crm.lists.lists_api
    by_id = lists_api.get_by_id(list_id).list
    by_name = lists_api.get_by_name(name.upper(), "0-1").list  # names are not case sensitive

    assert (by_id.name, by_id.processing_type, by_id.object_type_id, by_id.size) == (name, "MANUAL", "0-1", 0)
    assert by_name.list_id == list_id and isinstance(by_id.created_at, datetime)
    assert hubspot_sandbox.get(f"lists/{list_id}")["name"] == name
    assert api_error(lists_api.get_by_name, "no such list", "0-1").status == 404


def test_duplicate_list_name_is_409(hubspot_sandbox: HubSpotHarness) -> None:
    create_list(hubspot_sandbox, "BEH - Loyal Regulars")
    error = api_error(create_list, hubspot_sandbox, "beh - loyal regulars")

    assert isinstance(error, ListsApiException) and error.status == 409
    assert body_of(error)["status"] == "error" and body_of(error)["correlationId"]
    assert len(hubspot_sandbox.get("lists")["lists"]) == 1


def test_list_create_is_validated_server_side(hubspot_sandbox: HubSpotHarness) -> None:
    lists_api = hubspot_sandbox.client().crm.lists.lists_api
    for request in (
        ListCreateRequest(object_type_id="0-1", processing_type="STATIC", name="x"),
        ListCreateRequest(object_type_id="0-2", processing_type="MANUAL", name="x"),
        ListCreateRequest(object_type_id="0-1", processing_type="MANUAL"),
    ):
        error = api_error(lists_api.create, request)
        assert error.status == 400 and body_of(error)["category"] == "VALIDATION_ERROR"
    assert hubspot_sandbox.get("lists")["lists"] == []


def test_add_remove_and_page_through_memberships(hubspot_sandbox: HubSpotHarness) -> None:
    list_id = create_list(hubspot_sandbox)
    ids = seed_ids(hubspot_sandbox)
    memberships = hubspot_sandbox.client().crm.lists.memberships_api

    added = memberships.add(list_id, [*ids, "999999"])
    again = memberships.add(list_id, ids[:2])
    removed = memberships.remove(list_id, [ids[0], ids[1], "999998"])

    assert added.records_ids_added == ids and added.record_ids_missing == ["999999"]
    assert again.records_ids_added == [] and again.record_ids_missing == []  # members already: ignored
    assert removed.record_ids_removed == ids[:2] and removed.record_ids_missing == ["999998"]
    seen, after = [], None
    while True:
        page = memberships.get_page(list_id, limit=2, after=after)
        seen += [row.record_id for row in page.results]
        if page.paging is None or page.paging.next is None:
            break
        after = page.paging.next.after
    assert seen == ids[2:] == hubspot_sandbox.members(list_id)
    assert hubspot_sandbox.client().crm.lists.lists_api.get_by_id(list_id).list.size == 3


def test_membership_answers_carry_both_spellings_of_added(hubspot_sandbox: HubSpotHarness) -> None:
    list_id = create_list(hubspot_sandbox)
    url = f"{hubspot_sandbox.base_url}/crm/v3/lists/{list_id}/memberships/add"
    answer = requests.put(url, json=seed_ids(hubspot_sandbox)[:1], headers={"Authorization": f"Bearer {HS_TOKEN}"})

    assert answer.json()["recordsIdsAdded"] == answer.json()["recordIdsAdded"] == seed_ids(hubspot_sandbox)[:1]


def test_add_and_remove_in_one_call(hubspot_sandbox: HubSpotHarness) -> None:
    list_id = create_list(hubspot_sandbox, kind="SNAPSHOT")
    ids = seed_ids(hubspot_sandbox)
    memberships = hubspot_sandbox.client().crm.lists.memberships_api
    memberships.add(list_id, ids[:3])

    change = memberships.add_and_remove(
        list_id, MembershipChangeRequest(record_ids_to_add=ids[3:], record_ids_to_remove=ids[:1])
    )
    overlap = api_error(
        memberships.add_and_remove,
        list_id,
        MembershipChangeRequest(record_ids_to_add=ids[:1], record_ids_to_remove=ids[:1]),
    )

    assert change.records_ids_added == ids[3:] and change.record_ids_removed == ids[:1]
    assert overlap.status == 400
    assert hubspot_sandbox.members(list_id) == ids[1:]


def test_memberships_on_a_dynamic_list_are_refused(hubspot_sandbox: HubSpotHarness) -> None:
    list_id = create_list(hubspot_sandbox, "Active buyers", kind="DYNAMIC")
    error = api_error(hubspot_sandbox.client().crm.lists.memberships_api.add, list_id, seed_ids(hubspot_sandbox))

    assert error.status == 400 and body_of(error)["category"] == "VALIDATION_ERROR"
    assert "MANUAL or SNAPSHOT" in body_of(error)["message"]
    assert hubspot_sandbox.members(list_id) == []


def test_membership_caps_and_page_size(start_hubspot: StartHubSpot) -> None:
    hs = start_hubspot(max_membership_ids=3)
    list_id = create_list(hs)
    memberships = hs.client().crm.lists.memberships_api

    assert api_error(memberships.add, list_id, seed_ids(hs)[:4]).status == 400
    assert api_error(memberships.get_page, list_id, limit=251).status == 400
    assert memberships.add(list_id, seed_ids(hs)[:3]).records_ids_added == seed_ids(hs)[:3]


def test_search_and_delete_lists(hubspot_sandbox: HubSpotHarness) -> None:
    first = create_list(hubspot_sandbox, "BEH - Value Hunters")
    create_list(hubspot_sandbox, "BEH - Loyal Regulars", kind="DYNAMIC")
    create_list(hubspot_sandbox, "Newsletter")
    lists_api = hubspot_sandbox.client().crm.lists.lists_api

    found = lists_api.do_search(ListSearchRequest(query="beh -", processing_types=["MANUAL"]))
    assert (found.total, [item.list_id for item in found.lists], found.has_more) == (1, [first], False)

    lists_api.remove(first)
    assert api_error(lists_api.get_by_id, first).status == 404
    assert create_list(hubspot_sandbox, "BEH - Value Hunters") != first  # the name is free again


def test_a_token_sees_only_its_portal(hubspot_sandbox: HubSpotHarness) -> None:
    list_id = create_list(hubspot_sandbox)
    error = api_error(hubspot_sandbox.client(HS_STARTER_TOKEN).crm.lists.lists_api.get_by_id, list_id)

    assert error.status == 404
    assert hubspot_sandbox.contacts(portal=2000002) == {}


# --- contacts ---------------------------------------------------------------------------------------


def test_batch_upsert_by_email_then_batch_read_by_email(hubspot_sandbox: HubSpotHarness) -> None:
    first = upsert(hubspot_sandbox, {"Ana@Example.com": {"firstname": "Ana"}, HS_SEED_EMAILS[0]: {"lastname": "Seed"}})
    second = upsert(hubspot_sandbox, {"ana@example.com": {"firstname": "Ana Maria"}})
    inputs = [SimplePublicObjectId(id=email) for email in ("ANA@example.com", "nobody@example.com")]
    read = BatchReadInputSimplePublicObjectId(inputs=inputs, id_property="email", properties=["firstname", "email"])
    found, status, _ = hubspot_sandbox.client().crm.contacts.batch_api.read_with_http_info(read)

    assert first[1] == 200 and [r.new for r in first[0].results] == [True, False]
    assert second[0].results[0].new is False and second[0].results[0].id == first[0].results[0].id
    assert status == 207 and found.results[0].properties == {"firstname": "Ana Maria", "email": "ana@example.com"}
    assert found.errors[0].category == "OBJECT_NOT_FOUND" and found.errors[0].context == {"ids": ["nobody@example.com"]}
    contacts = hubspot_sandbox.contacts()
    assert contacts["ana@example.com"] == {"email": "ana@example.com", "firstname": "Ana Maria"}
    assert contacts[HS_SEED_EMAILS[0]]["lastname"] == "Seed" and len(contacts) == len(HS_SEED_EMAILS) + 1


def test_more_than_100_inputs_are_refused(hubspot_sandbox: HubSpotHarness) -> None:
    rows = {f"bulk.{i}@example.com": {} for i in range(101)}
    error = api_error(upsert, hubspot_sandbox, rows)

    assert error.status == 400 and body_of(error)["errors"][0]["in"] == "inputs"
    assert len(hubspot_sandbox.contacts()) == len(HS_SEED_EMAILS)
    assert upsert(hubspot_sandbox, dict(list(rows.items())[:100]))[1] == 200
    assert len(hubspot_sandbox.contacts()) == len(HS_SEED_EMAILS) + 100


def test_bad_values_fail_their_input_only_with_207(hubspot_sandbox: HubSpotHarness) -> None:
    multi_checkbox(hubspot_sandbox, ["value_hunters", "loyal_regulars"])
    rows = {
        "ok@example.com": {BEHAVIORS: "value_hunters;loyal_regulars"},
        "not-an-email": {BEHAVIORS: "value_hunters"},
        "typo@example.com": {BEHAVIORS: "value_hunters;no_such_behavior"},
        "ghost@example.com": {"no_such_property": "x"},
    }
    answer, status, _ = upsert(hubspot_sandbox, rows)

    assert status == 207 and answer.num_errors == 3
    codes = {e.context["inputIndexes"][0]: [d.code for d in e.errors] for e in answer.errors}
    assert codes == {"1": ["INVALID_EMAIL"], "2": ["INVALID_OPTION"], "3": ["PROPERTY_DOESNT_EXIST"]}
    assert answer.errors[1].context["ids"] == ["typo@example.com"]
    assert [r.properties[BEHAVIORS] for r in answer.results] == ["value_hunters;loyal_regulars"]
    assert set(hubspot_sandbox.contacts()) == {*HS_SEED_EMAILS, "ok@example.com"}


def test_reject_batch_mode_refuses_the_whole_batch(start_hubspot: StartHubSpot) -> None:
    hs = start_hubspot(invalid_values="reject_batch")
    error = api_error(upsert, hs, {"ok@example.com": {"firstname": "Ok"}, "bad": {}})

    assert error.status == 400 and body_of(error)["errors"][0]["code"] == "INVALID_EMAIL"
    assert "ok@example.com" not in hs.contacts()


def test_booleans_are_stored_as_strings(hubspot_sandbox: HubSpotHarness) -> None:
    create = PropertyCreate(
        name="is_value_hunter",
        label="Value hunter",
        type="bool",
        field_type="booleancheckbox",
        group_name="contactinformation",
    )
    created = hubspot_sandbox.client().crm.properties.core_api.create("contacts", create)
    answer, status, _ = upsert(
        hubspot_sandbox, {"a@example.com": {"is_value_hunter": "TRUE"}, "b@example.com": {"is_value_hunter": "yes"}}
    )

    assert [o.value for o in created.options] == ["true", "false"]
    assert status == 207 and answer.results[0].properties["is_value_hunter"] == "true"
    assert hubspot_sandbox.contacts()["a@example.com"]["is_value_hunter"] == "true"


def test_batch_create_conflict_and_batch_update(hubspot_sandbox: HubSpotHarness) -> None:
    batch_api = hubspot_sandbox.client().crm.contacts.batch_api
    taken = BatchInputSimplePublicObjectBatchInputForCreate(
        inputs=[SimplePublicObjectBatchInputForCreate(properties={"email": HS_SEED_EMAILS[1]}, associations=[])]
    )
    fresh = BatchInputSimplePublicObjectBatchInputForCreate(
        inputs=[SimplePublicObjectBatchInputForCreate(properties={"email": "new@example.com"}, associations=[])]
    )
    conflict = api_error(batch_api.create, taken)
    created, created_status, _ = batch_api.create_with_http_info(fresh)
    update = BatchInputSimplePublicObjectBatchInput(
        inputs=[
            SimplePublicObjectBatchInput(id=created.results[0].id, properties={"firstname": "New"}),
            SimplePublicObjectBatchInput(id="424242", properties={"firstname": "Nobody"}),
        ]
    )
    updated, updated_status, _ = batch_api.update_with_http_info(update)

    assert conflict.status == 409 and body_of(conflict)["category"] == "CONFLICT"
    assert created_status == 201 and updated_status == 207
    assert updated.errors[0].category == "OBJECT_NOT_FOUND"
    assert hubspot_sandbox.contacts()["new@example.com"]["firstname"] == "New"


def test_contact_search_filters_and_pages(hubspot_sandbox: HubSpotHarness) -> None:
    multi_checkbox(hubspot_sandbox, ["value_hunters", "loyal_regulars"])
    upsert(hubspot_sandbox, {f"s{i}@example.com": {BEHAVIORS: "value_hunters;loyal_regulars"} for i in range(3)})
    upsert(hubspot_sandbox, {"other@example.com": {BEHAVIORS: "loyal_regulars"}})
    search_api = hubspot_sandbox.client().crm.contacts.search_api
    flt = {"propertyName": BEHAVIORS, "operator": "CONTAINS_TOKEN", "value": "value_hunters"}
    request = PublicObjectSearchRequest(
        filter_groups=[{"filters": [flt]}], properties=["email"], limit=2, sorts=["email"]
    )

    first = search_api.do_search(request)
    request.after = first.paging.next.after
    second = search_api.do_search(request)

    assert first.total == 3 and [r.properties["email"] for r in first.results] == ["s0@example.com", "s1@example.com"]
    assert [r.properties["email"] for r in second.results] == ["s2@example.com"] and second.paging is None


FILTER = {"propertyName": "email", "operator": "HAS_PROPERTY"}
SEARCH, UPSERT = "/crm/v3/objects/contacts/search", "/crm/v3/objects/contacts/batch/upsert"
TWINS = [{"id": "a@example.com", "idProperty": "email"}, {"id": "A@example.com", "idProperty": "email"}]
NEW_LIST = {"name": "x", "objectTypeId": "0-1", "processingType": "MANUAL"}
MALFORMED = [
    ("POST", SEARCH, {"limit": 201}, "limit"),
    ("POST", SEARCH, {"filterGroups": [{"filters": [FILTER]}] * 6}, "filterGroups"),
    ("POST", SEARCH, {"filterGroups": [{"filters": [FILTER] * 7}]}, "filters"),
    ("POST", SEARCH, {"filterGroups": [{"filters": [{**FILTER, "operator": "LIKE"}]}]}, "operator"),
    ("POST", UPSERT, {"inputs": TWINS}, "Duplicate IDs"),
    ("POST", UPSERT, {"inputs": [{"id": "+15550100", "idProperty": "phone"}]}, "idProperty"),
    ("POST", "/crm/v3/objects/contacts/batch/create", {"inputs": []}, "Batch input size is 0"),
    ("PATCH", "/crm/v3/properties/contacts/email", {"label": "Mail"}, "read-only"),
    ("POST", "/crm/v3/lists/", {**NEW_LIST, "listType": "STATIC"}, "listType"),
]


@pytest.mark.parametrize(("method", "path", "body", "message_part"), MALFORMED)
def test_malformed_requests_are_refused_with_400(
    hubspot_sandbox: HubSpotHarness, method: str, path: str, body: dict[str, Any], message_part: str
) -> None:
    answer = hubspot_sandbox.client().api_request({"method": method, "path": path, "body": body})

    assert answer.status_code == 400 and answer.json()["category"] == "VALIDATION_ERROR"
    assert message_part in json.dumps(answer.json())
    assert set(hubspot_sandbox.contacts()) == set(HS_SEED_EMAILS) and hubspot_sandbox.get("lists")["lists"] == []


def test_read_only_properties_fail_their_input(hubspot_sandbox: HubSpotHarness) -> None:
    answer, status, _ = upsert(hubspot_sandbox, {"a@example.com": {"createdate": "0"}, "b@example.com": {}})

    assert status == 207 and answer.errors[0].errors[0].code == "READ_ONLY_VALUE"
    assert set(hubspot_sandbox.contacts()) == {*HS_SEED_EMAILS, "b@example.com"}


def test_get_several_lists_and_clear_memberships(hubspot_sandbox: HubSpotHarness) -> None:
    first, second = create_list(hubspot_sandbox, "one"), create_list(hubspot_sandbox, "two")
    client = hubspot_sandbox.client()
    client.crm.lists.memberships_api.add(first, seed_ids(hubspot_sandbox))
    several = client.crm.lists.lists_api.get_all(list_ids=[second, first, "999"])
    client.crm.lists.memberships_api.remove_all(first)

    assert [item.list_id for item in several.lists] == [second, first]
    assert several.lists[1].size == len(HS_SEED_EMAILS) and hubspot_sandbox.members(first) == []
    assert api_error(client.crm.lists.memberships_api.get_page, first, after="not-a-cursor").status == 400


# --- properties -------------------------------------------------------------------------------------


def test_create_multi_checkbox_then_add_an_option_with_patch(hubspot_sandbox: HubSpotHarness) -> None:
    created = multi_checkbox(hubspot_sandbox, ["value_hunters"])
    old = [
        OptionInput(label=o.label, value=o.value, display_order=o.display_order, hidden=False) for o in created.options
    ]
    new = OptionInput(label="Loyal regulars", value="loyal_regulars", display_order=1, hidden=False)
    core_api = hubspot_sandbox.client().crm.properties.core_api
    updated = core_api.update("contacts", BEHAVIORS, PropertyUpdate(options=[*old, new]))

    assert (created.type, created.field_type) == ("enumeration", "checkbox")
    assert [o.value for o in updated.options] == ["value_hunters", "loyal_regulars"]
    assert [o.value for o in core_api.get_by_name("contacts", BEHAVIORS).options] == ["value_hunters", "loyal_regulars"]
    assert BEHAVIORS in [p.name for p in core_api.get_all("contacts").results]
    stored = hubspot_sandbox.get("properties", portal=HS_PORTAL)["portals"][str(HS_PORTAL)]["properties"]
    assert [o["value"] for o in stored[0]["options"]] == ["value_hunters", "loyal_regulars"]
    assert upsert(hubspot_sandbox, {"a@example.com": {BEHAVIORS: "loyal_regulars"}})[1] == 200


def test_duplicate_property_or_group_is_409_object_already_exists(hubspot_sandbox: HubSpotHarness) -> None:
    multi_checkbox(hubspot_sandbox, ["value_hunters"])
    error = api_error(multi_checkbox, hubspot_sandbox, ["value_hunters"])
    groups_api = hubspot_sandbox.client().crm.properties.groups_api
    group = groups_api.create("contacts", PropertyGroupCreate(name="behaviors", label="Behaviors", display_order=1))
    group_error = api_error(groups_api.create, "contacts", PropertyGroupCreate(name="behaviors", label="Again"))

    assert isinstance(error, PropertiesApiException) and error.status == 409
    assert body_of(error)["category"] == "OBJECT_ALREADY_EXISTS"
    assert group.name == "behaviors" and group_error.status == 409
    assert groups_api.get_by_name("contacts", "behaviors").label == "Behaviors"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"type": "string", "field_type": "checkbox"}, "fieldType"),
        ({"group_name": "no_such_group"}, "groupName"),
        ({"name": "Customer Behaviors"}, "name"),
        ({"options": [OptionInput(label="a", value="a"), OptionInput(label="b", value="a")]}, "options"),
    ],
)
def test_property_definitions_are_validated(
    hubspot_sandbox: HubSpotHarness, changes: dict[str, Any], field: str
) -> None:
    spec = {
        "name": "behaviors2",
        "label": "B",
        "type": "enumeration",
        "field_type": "checkbox",
        "group_name": "contactinformation",
        **changes,
    }
    error = api_error(hubspot_sandbox.client().crm.properties.core_api.create, "contacts", PropertyCreate(**spec))

    assert error.status == 400 and body_of(error)["errors"][0]["in"] == field
    assert hubspot_sandbox.get("properties")["portals"][str(HS_PORTAL)]["properties"] == []


# --- rate limits ------------------------------------------------------------------------------------


def test_ten_second_window_on_a_starter_portal(hubspot_sandbox: HubSpotHarness) -> None:
    groups_api = hubspot_sandbox.client(HS_STARTER_TOKEN).crm.properties.groups_api
    for _ in range(100):
        groups_api.get_all("contacts")
    error = api_error(groups_api.get_all, "contacts")
    headers = error.headers

    assert error.status == 429 and body_of(error)["policyName"] == "TEN_SECONDLY_ROLLING"
    assert body_of(error)["errorType"] == "RATE_LIMIT"
    assert (headers["X-HubSpot-RateLimit-Max"], headers["X-HubSpot-RateLimit-Remaining"]) == ("100", "0")
    assert headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert (headers["X-HubSpot-RateLimit-Daily"], headers["X-HubSpot-RateLimit-Daily-Remaining"]) == (
        "250000",
        "249900",
    )
    assert hubspot_sandbox.client().crm.properties.groups_api.get_all("contacts").results  # other portal: unaffected
    hubspot_sandbox.clock.advance(10)
    assert groups_api.get_all("contacts").results
    assert hubspot_sandbox.get("state")["errors"] == {"429 TEN_SECONDLY_ROLLING": 1}


def test_daily_budget_resets_at_the_portals_midnight(hubspot_sandbox: HubSpotHarness) -> None:
    client = hubspot_sandbox.client(HS_TINY_TOKEN)
    usage_path = {"method": "GET", "path": "/account-info/v3/api-usage/daily/private-apps"}
    for _ in range(4):
        client.crm.properties.groups_api.get_all("contacts")
    usage = client.api_request(usage_path).json()["results"][0]
    error = api_error(client.crm.properties.groups_api.get_all, "contacts")

    assert (usage["currentUsage"], usage["usageLimit"]) == (5, 5)  # the usage call itself counts
    assert usage["resetsAt"] == "2025-06-03T04:00:00.000Z"  # midnight US/Eastern (EDT)
    assert error.status == 429 and body_of(error)["policyName"] == "DAILY"
    assert error.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"
    hubspot_sandbox.clock.advance(11)  # the 10 s window is free again, the day is not
    assert body_of(api_error(client.crm.properties.groups_api.get_all, "contacts"))["policyName"] == "DAILY"
    hubspot_sandbox.clock.now = datetime(2025, 6, 3, 4, 0, 1, tzinfo=UTC).timestamp()
    assert client.crm.properties.groups_api.get_all("contacts").results


def test_search_is_limited_to_4_per_second_per_token(hubspot_sandbox: HubSpotHarness) -> None:
    search_api = hubspot_sandbox.client().crm.contacts.search_api
    request = PublicObjectSearchRequest(filter_groups=[], limit=1)
    for _ in range(4):
        search_api.do_search(request)
    error = api_error(search_api.do_search, request)
    other_app = hubspot_sandbox.client(HS_SECOND_TOKEN).crm.contacts.search_api.do_search(request)

    assert error.status == 429 and body_of(error)["policyName"] == "SECONDLY"
    assert other_app.total == len(HS_SEED_EMAILS)  # the limit is per token
    hubspot_sandbox.clock.advance(1)
    assert search_api.do_search(request).total == len(HS_SEED_EMAILS)


# --- faults, state, logs ----------------------------------------------------------------------------


def test_scripted_502_twice_then_success(hubspot_sandbox: HubSpotHarness) -> None:
    list_id = create_list(hubspot_sandbox)
    ids = seed_ids(hubspot_sandbox)
    spec = {"match": r"^PUT /crm/v3/lists/\d+/memberships/add$", "count": 2, "http_status": 502}
    hubspot_sandbox.control("faults", {"scripted": [spec]})
    memberships = hubspot_sandbox.client().crm.lists.memberships_api

    statuses = [api_error(memberships.add, list_id, ids).status for _ in range(2)]
    assert statuses == [502, 502] and hubspot_sandbox.members(list_id) == []
    assert memberships.add(list_id, ids).records_ids_added == ids
    assert hubspot_sandbox.members(list_id) == ids

    memberships.remove(list_id, ids[:1])
    hubspot_sandbox.control("faults", {"scripted": [{**spec, "count": 1}]})
    retrying = hubspot_sandbox.client(retry=Retry(total=2, status_forcelist=[502], backoff_factor=0))
    assert retrying.crm.lists.memberships_api.add(list_id, ids[:1]).records_ids_added == ids[:1]  # the SDK retried
    assert hubspot_sandbox.get("state")["faults"]["scripted_pending"] == []


def test_seeded_random_faults_are_deterministic(start_hubspot: StartHubSpot) -> None:
    faults = {"error_rate": 0.5, "error_statuses": [502, 503], "seed": 7}

    def outcomes(hs: HubSpotHarness) -> list[int]:
        groups_api = hs.client().crm.properties.groups_api
        statuses = []
        for _ in range(16):
            try:
                groups_api.get_all("contacts")
                statuses.append(200)
            except PropertiesApiException as error:
                statuses.append(error.status)
        return statuses

    first, second = outcomes(start_hubspot(faults=faults)), outcomes(start_hubspot(faults=faults))
    assert first == second
    assert {200, 502, 503} <= set(first)


def test_state_file_keeps_lists_contacts_and_properties(start_hubspot: StartHubSpot, tmp_path: Path) -> None:
    state = tmp_path / "hubspot.json"
    hs = start_hubspot(state_file=state)
    list_id = create_list(hs)
    multi_checkbox(hs, ["value_hunters"])
    hs.client().crm.lists.memberships_api.add(list_id, seed_ids(hs)[:2])
    hs.app.close()  # flushes the state file

    again = start_hubspot(state_file=state)
    assert again.members(list_id) == seed_ids(hs)[:2]
    assert again.contacts() == hs.contacts()
    assert create_list(again, "second") == str(int(list_id) + 1)
    assert again.client().crm.properties.core_api.get_by_name("contacts", BEHAVIORS).field_type == "checkbox"


def test_logs_carry_no_token_and_no_email(hubspot_sandbox: HubSpotHarness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="sandbox")
    list_id = create_list(hubspot_sandbox)
    answer, _, _ = upsert(hubspot_sandbox, {"private.person@example.com": {"firstname": "P"}, "bad": {}})
    hubspot_sandbox.client().crm.lists.memberships_api.add(list_id, [answer.results[0].id])
    hubspot_sandbox.client().crm.contacts.basic_api.get_by_id("private.person@example.com", id_property="email")
    api_error(hubspot_sandbox.client("pat-na1-leaked-token").crm.lists.lists_api.get_by_id, list_id)

    assert "contacts batch upsert inputs=2 created=1" in caplog.text and "added=1" in caplog.text
    assert "/crm/v3/objects/contacts/{redacted}" in caplog.text  # the access log hides the e-mail in the path
    for secret in (HS_TOKEN, "pat-na1-leaked-token", "private.person", "example.com", *HS_SEED_EMAILS):
        assert secret not in caplog.text


def test_config_is_validated() -> None:
    portals = {"1": {"tier": "starter"}}
    with pytest.raises(ValueError, match="not configured"):
        HubSpotSandboxConfig.from_mapping({"portals": portals, "tokens": {"t": {"portal_id": 2}}})
    with pytest.raises(ValueError, match="unknown tier"):
        HubSpotSandboxConfig.from_mapping({"portals": {"1": {"tier": "gold"}}, "tokens": {}})
    with pytest.raises(ValueError, match="unknown HubSpot sandbox settings"):
        HubSpotSandboxConfig.from_mapping({"portals": portals, "tokens": {}, "rate": 1})
    demo = HubSpotSandboxConfig.demo()
    assert demo.portals[1000001].window_limit == 190 and len(demo.portals[1000001].contacts) == 3


# --- date-based API versions, Service Keys, portal validation rules ------------------------------------


def raw(hs: HubSpotHarness, method: str, path: str, body: Any = None, token: str = HS_TOKEN) -> requests.Response:
    """A call on any path (the SDK sends only the legacy v3 ones)."""
    headers = {"Authorization": f"Bearer {token}"}
    return requests.request(method, f"{hs.base_url}{path}", headers=headers, json=body, timeout=10)


def test_dated_paths_reach_the_same_endpoints_as_the_legacy_ones(hubspot_sandbox: HubSpotHarness) -> None:
    list_id = create_list(hubspot_sandbox)
    email = HS_SEED_EMAILS[0]
    read = {"inputs": [{"id": email}], "idProperty": "email", "properties": ["email"]}
    assert raw(hubspot_sandbox, "GET", "/account-info/2026-03/details").json()["portalId"] == HS_PORTAL
    assert raw(hubspot_sandbox, "GET", f"/crm/lists/2026-03/{list_id}").json()["list"]["listId"] == list_id
    by_name = raw(hubspot_sandbox, "GET", "/crm/lists/2026-09/object-type-id/0-1/name/BEH%20-%20Value%20Hunters")
    assert by_name.json()["list"]["listId"] == list_id
    found = raw(hubspot_sandbox, "POST", "/crm/objects/2026-03/contacts/batch/read", read).json()["results"]
    assert [c["properties"]["email"] for c in found] == [email]
    assert raw(hubspot_sandbox, "GET", "/crm/properties/2026-03/contacts/email").json()["name"] == "email"
    assert raw(hubspot_sandbox, "GET", "/marketing/emails/2026-03/").status_code == 200
    assert hubspot_sandbox.get("state")["versions"] == {"v3": 1, "2026-03": 5, "2026-09": 1}


def test_only_the_configured_api_versions_are_served(start_hubspot: StartHubSpot) -> None:
    hs = start_hubspot(api_versions=["2026-03"])
    legacy = raw(hs, "GET", "/account-info/v3/details")
    other = raw(hs, "GET", "/account-info/2026-09/details")
    assert (legacy.status_code, other.status_code) == (404, 404)
    assert "API version v3 is not served" in legacy.json()["message"]
    assert raw(hs, "GET", "/account-info/2026-03/details").status_code == 200
    with pytest.raises(ValueError, match="api_versions must be v3 or YYYY-MM"):
        start_hubspot(api_versions=["2026-3"])


def test_a_service_key_reaches_what_its_scopes_allow_but_not_the_private_app_only_endpoints(
    hubspot_sandbox: HubSpotHarness,
) -> None:
    assert raw(hubspot_sandbox, "GET", "/account-info/2026-03/details", token=HS_SERVICE_KEY).status_code == 200
    usage = raw(hubspot_sandbox, "GET", "/account-info/2026-03/api-usage/daily/private-apps", token=HS_SERVICE_KEY)
    assert (usage.status_code, usage.json()["category"]) == (403, "FORBIDDEN")
    info = "/oauth/v2/private-apps/get/access-token-info"
    assert raw(hubspot_sandbox, "POST", info, {"tokenKey": HS_SERVICE_KEY}, HS_SERVICE_KEY).status_code == 404
    assert raw(hubspot_sandbox, "POST", info, {"tokenKey": HS_TOKEN}).json()["hubId"] == HS_PORTAL
    add = raw(hubspot_sandbox, "PUT", "/crm/lists/2026-03/1/memberships/add", [], HS_READ_ONLY_KEY)
    assert (add.status_code, add.json()["category"]) == (403, "MISSING_SCOPES")
    assert raw(hubspot_sandbox, "GET", "/crm/lists/2026-03/1", token=HS_READ_ONLY_KEY).status_code == 404


def test_a_value_breaking_a_portal_validation_rule_fails_its_input_naming_the_property(
    start_hubspot: StartHubSpot,
) -> None:
    rule = {"property": "firstname", "rule_type": "MAX_LENGTH", "arguments": ["5"]}
    hs = start_hubspot(portals=HS_PORTALS | {str(HS_PORTAL): {"contacts": HS_SEED_EMAILS, "validation_rules": [rule]}})
    answer, status, _ = upsert(
        hs, {"bo@example.com": {"firstname": "Bo"}, "al@example.com": {"firstname": "Alexandra"}}
    )

    assert status == 207 and answer.num_errors == 1
    (error,) = answer.errors
    assert (error.category, error.context["inputIndexes"]) == ("VALIDATION_ERROR", ["1"])
    assert [(d.code, d._in) for d in error.errors] == [("INVALID_MAX_LENGTH", "firstname")]
    listed = json.loads(error.message.split(": ", 1)[1])  # HubSpot lists the problems inside the message
    assert listed == [{"isValid": False, "message": "firstname is longer than 5 characters",
                       "error": "INVALID_MAX_LENGTH", "name": "firstname"}]  # fmt: skip
    assert "bo@example.com" in hs.contacts() and "al@example.com" not in hs.contacts()


@pytest.mark.parametrize(("version", "refused"), [("v3", False), ("2026-03", False), ("2026-09", True)])
def test_conditionally_required_properties_are_enforced_from_2026_09_on(
    start_hubspot: StartHubSpot, version: str, refused: bool
) -> None:
    rule = {"property": "firstname", "rule_type": "CONDITIONALLY_REQUIRED", "arguments": ["lifecyclestage", "customer"]}
    hs = start_hubspot(portals=HS_PORTALS | {str(HS_PORTAL): {"contacts": HS_SEED_EMAILS, "validation_rules": [rule]}})
    path = "/crm/v3/objects" if version == "v3" else f"/crm/objects/{version}"
    update = {"id": HS_SEED_EMAILS[0], "idProperty": "email", "properties": {"lifecyclestage": "customer"}}
    answer = raw(hs, "POST", f"{path}/contacts/batch/update", {"inputs": [update]})
    assert answer.status_code == (207 if refused else 200)
    stage = hs.contacts()[HS_SEED_EMAILS[0]].get("lifecyclestage")
    assert stage == (None if refused else "customer")
    if refused:
        (detail,) = answer.json()["errors"][0]["errors"]
        assert (detail["code"], detail["in"]) == ("INVALID_CONDITIONALLY_REQUIRED", "firstname")


def test_token_kinds_and_validation_rules_are_validated() -> None:
    portals = {"1": {"tier": "starter"}}
    with pytest.raises(ValueError, match="unknown token kind"):
        HubSpotSandboxConfig.from_mapping({"portals": portals, "tokens": {"t": {"portal_id": 1, "kind": "api_key"}}})
    bad_rule = {"property": "x", "rule_type": "MAX_NUMBER", "arguments": ["many"]}
    with pytest.raises(ValueError):
        HubSpotSandboxConfig.from_mapping({"portals": {"1": {"validation_rules": [bad_rule]}}, "tokens": {}})
    with pytest.raises(ValueError, match="bad validation rule 'REGEX'"):
        rule = {"property": "x", "rule_type": "REGEX", "arguments": [".*"]}
        HubSpotSandboxConfig.from_mapping({"portals": {"1": {"validation_rules": [rule]}}, "tokens": {}})
