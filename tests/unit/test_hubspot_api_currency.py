"""HubSpot's pinned date-based API version and its refusals of values, without a network.

``dated_path`` moves the SDK's legacy paths onto ``HUBSPOT_API_VERSION``; ``Refusal`` reads the property a
refused write names (``errors[].in``, else the list HubSpot documents inside the message: fixtures in
tests/fixtures/hubspot) and says what to check, never quoting the value.
"""

from __future__ import annotations

import json

import pytest

from behavior_sync.destinations.hubspot_api import HUBSPOT_API_VERSION, dated_path
from behavior_sync.destinations.hubspot_errors import Failure, Refusal
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "hubspot"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.mark.parametrize(
    ("legacy", "dated"),
    [
        ("/crm/v3/lists/", "/crm/lists/{v}/"),
        ("/crm/v3/lists/{listId}/memberships/add", "/crm/lists/{v}/{listId}/memberships/add"),
        ("/crm/v3/lists/object-type-id/{objectTypeId}/name/{listName}",
         "/crm/lists/{v}/object-type-id/{objectTypeId}/name/{listName}"),
        ("/crm/v3/objects/contacts/batch/read", "/crm/objects/{v}/contacts/batch/read"),
        ("/crm/v3/objects/contacts/search", "/crm/objects/{v}/contacts/search"),
        ("/crm/v3/properties/{objectType}/groups", "/crm/properties/{v}/{objectType}/groups"),
        ("/marketing/v3/emails/statistics/histogram", "/marketing/emails/{v}/statistics/histogram"),
        ("/account-info/2026-03/details", "/account-info/2026-03/details"),  # dated already: kept
    ],
)  # fmt: skip
def test_the_sdk_s_legacy_paths_move_onto_the_pinned_version(legacy: str, dated: str) -> None:
    assert dated_path(legacy) == dated.replace("{v}", HUBSPOT_API_VERSION)


def test_a_numbered_path_without_a_dated_mapping_is_refused_not_sent() -> None:
    with pytest.raises(ValueError, match="no date-based version is mapped for the HubSpot path /crm/v4/associations"):
        dated_path("/crm/v4/associations/contacts/companies/batch/read")


@pytest.mark.parametrize(
    ("name", "code", "prop"),
    [
        ("validation_rule_refusal_errors_in_property.json", "INVALID_CONDITIONALLY_REQUIRED", "close_date"),
        ("validation_rule_refusal_2023_message_list.json", "INVALID_ALPHA", "firstname"),
    ],
)
def test_a_refused_write_names_the_property_and_the_portal_s_validation_rules(name: str, code: str, prop: str) -> None:
    failure = Failure.of_body(400, fixture(name), {})
    refusal = Refusal.of_error(json.loads(fixture(name)))
    assert (failure.code, failure.property) == (refusal.code, refusal.property) == (code, prop)
    text = refusal.message("HubSpot refused the value")
    assert text == (
        f"HubSpot refused the value ({code}): the value of property {prop} breaks one of the portal's validation "
        f"rules; check the portal's validation rules for {prop} (HubSpot Settings > Properties > {prop} > Rules, "
        "and its conditionally required properties)"
    )
    assert "validation rules" in failure.rule().advice and "Behavior Sync bug" not in failure.rule().advice


@pytest.mark.parametrize(
    ("refusal", "says"),
    [
        (Refusal("INVALID_EMAIL", "id"), "HubSpot does not accept this e-mail address"),
        (Refusal("INVALID_OPTION", "customer_behaviors"), "does not fit property customer_behaviors as HubSpot"),
        (Refusal("VALIDATION_ERROR"), "(VALIDATION_ERROR)"),
    ],
)
def test_refusals_that_are_not_a_portal_rule_say_what_they_are(refusal: Refusal, says: str) -> None:
    text = refusal.message("HubSpot refused the value")
    assert says in text and "validation rules" not in text
