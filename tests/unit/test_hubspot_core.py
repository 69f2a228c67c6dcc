"""The HubSpot core without a network: error table, request window, request estimate, list names."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from behavior_sync.destinations.hubspot import requests_needed
from behavior_sync.destinations.hubspot_errors import Failure, HubSpotError
from behavior_sync.destinations.hubspot_lists import ListSpec
from behavior_sync.destinations.hubspot_throttle import PortalWindow
from behavior_sync.destinations.retry import Action
from behavior_sync.sync.plan import Batch

DAY = dt.date(2026, 11, 23)


def body(**fields: object) -> bytes:
    return json.dumps({"status": "error", "message": "a@b.example is bad", **fields}).encode()


def test_a_missing_scope_fails_and_names_the_scopes_to_add_never_hubspot_s_message() -> None:
    errors = [{"message": "m", "context": {"requiredScopes": ["crm.lists.write"]}}]
    failure = Failure.of_body(403, body(category="MISSING_SCOPES", errors=errors), {})
    text = failure.describe("creating the list")
    assert failure.rule().action is Action.FAIL and "crm.lists.write" in text and "a@b.example" not in text


@pytest.mark.parametrize(
    ("status", "fields", "headers", "action", "retry_after"),
    [
        (429, {"policyName": "TEN_SECONDLY_ROLLING"}, {"Retry-After": "3"}, Action.THROTTLE, 3.0),
        (429, {"policyName": "DAILY"}, {}, Action.FAIL, 0.0),
        (401, {"category": "INVALID_AUTHENTICATION"}, {}, Action.FAIL, 0.0),
        (502, {}, {}, Action.RETRY, 0.0),
        (400, {"category": "VALIDATION_ERROR"}, {}, Action.FAIL, 0.0),
    ],
)
def test_the_error_table_maps_status_and_category_or_policy_to_an_action(
    status: int, fields: dict[str, object], headers: dict[str, str], action: Action, retry_after: float
) -> None:
    failure = Failure.of_body(status, body(**fields), headers)
    assert failure.rule().action is action and failure.retry_after == retry_after


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_window_waits_for_the_oldest_request_to_age_out_and_pauses_at_the_portal_reserve() -> None:
    clock = Clock()
    window = PortalWindow(3, interval=10.0, clock=clock)
    assert [window.acquire(clock.sleep) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert window.acquire(clock.sleep) == 10.0  # the 4th waits until the 1st left the window
    window.observe({"X-HubSpot-RateLimit-Remaining": "1"})  # other processes used the portal's window up
    assert window.acquire(clock.sleep) == 10.0
    window.observe({"X-HubSpot-RateLimit-Remaining": "150"})
    assert window.acquire(clock.sleep) == 0.0


def test_the_worst_case_request_count_covers_reads_creations_membership_calls_and_setup() -> None:
    batches = [Batch("add", 0, 100, 100), Batch("add", 1, 30, 30), Batch("remove", 0, 100, 100)]
    assert requests_needed(batches, create_missing=False) == (1 + 2) + (1 + 2) + (1 + 2) + 4
    assert requests_needed(batches, create_missing=True) == (2 + 2) + (2 + 2) + (1 + 2) + 4


def test_list_names_follow_the_templates_and_a_static_list_always_carries_its_day() -> None:
    active = ListSpec.from_settings(
        {"list_type": "active", "list_name": "[Behavior] {name} - Active"}, "Loyal", "l", DAY
    )
    assert active == ListSpec("[Behavior] Loyal - Active", static=False)
    assert ListSpec.from_settings({}, "Value Hunters", "v", DAY) == ListSpec("BEH - Value Hunters - 2026-11-23", True)
    dated = ListSpec.from_settings({"list_name": "{name} Q {quarter} {date}"}, "V", "v", DAY)
    assert dated.name == "V Q 2026-Q4 2026-11-23"
    with pytest.raises(HubSpotError, match="list_name"):
        ListSpec.from_settings({"list_name": "{owner}"}, "V", "v", DAY)
