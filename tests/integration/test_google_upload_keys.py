"""Google Customer Match lists keyed by CRM id or mobile advertising id, through both APIs.

The same engine set-up as the contact-info tests (``GoogleSync``), once against the Data Manager sandbox
(REST, official ``google-ads-datamanager`` client) and once against the Google Ads API sandbox (gRPC,
official ``google-ads`` client). A list holds one upload key type, so each test's destination spec names
one; what the sandboxes hold is compared with the expected identifiers exactly.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from behavior_sync.destinations.google_dm import UserListSpec
from behavior_sync.destinations.google_dm_errors import GoogleAdsError
from behavior_sync.statedb import StateDatabase
from tests.integration.test_google_ads_api_destination import GoogleAdsSync
from tests.integration.test_google_dm_destination import SPEC, GoogleSync, Row, as_stored, members, sha
from tests.sandbox.conftest import FakeClock
from tests.support.google_ads_harness import google_ads_starter
from tests.support.google_dm_harness import GDM_ACCOUNT, google_data_manager_starter

CRM_SPEC = replace(SPEC, name="[Behavior] - Value Hunters (CRM)", key_type="crm_id")
ANDROID_SPEC = replace(SPEC, name="[Behavior] - Value Hunters (app)", key_type="mobile_id", app_id="com.example.shop")
IOS_SPEC = replace(ANDROID_SPEC, app_id="476943146")


def crm_rows(keys: range) -> list[Row]:
    return [(str(k), "crm_id", f"cust-{k:05d}") for k in keys]


def mobile_id(key: int) -> str:
    return str(uuid.UUID(int=key + 1))  # lower-case, as the identity core prepares device ids


def mobile_rows(keys: range) -> list[Row]:
    return [(str(k), "mobile_id", mobile_id(k)) for k in keys]


@pytest.fixture(params=["data_manager", "google_ads_api"])
def google(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GoogleSync]:
    """A ``GoogleSync`` on a fresh sandbox of the API in the test id; "Google knows" customers 0-9 by CRM id and
    devices 0-9 (the universe holds their SHA-256)."""
    universe = [sha(f"cust-{k:05d}") for k in range(10)] + [sha(mobile_id(k)) for k in range(10)]
    db = StateDatabase(f"sqlite:///{tmp_path}/state.db")
    db.ensure_schema()
    if request.param == "data_manager":
        with google_data_manager_starter(FakeClock) as start:
            yield GoogleSync(start(universe=universe), tmp_path, db)
    else:
        with google_ads_starter() as start:
            yield GoogleAdsSync(start(universe=universe), tmp_path, db)  # type: ignore[arg-type]
    db.close()


def google_list(google: GoogleSync) -> dict[str, Any]:
    """The sandbox's view of the destination's list (name, upload key type and app, however the API says it)."""
    if isinstance(google, GoogleAdsSync):
        lists = google.sandbox.get("user_lists")["user_lists"]
    else:
        lists = google.sandbox.get("user_lists", account=GDM_ACCOUNT)["user_lists"]
    found: dict[str, Any] = next(ul for ul in lists if str(ul["id"]) == google.list_id())
    return found


def key_type_of(view: dict[str, Any]) -> tuple[str, str]:
    """(upload key type name, app id) from either sandbox's list view."""
    if "upload_key_type" in view:  # Google Ads API: CustomerMatchUploadKeyType
        return {2: "CONTACT_INFO", 3: "CRM_ID", 4: "MOBILE_ADVERTISING_ID"}[view["upload_key_type"]], view["app_id"]
    info = view["ingested_user_list_info"]  # Data Manager: IngestedUserListInfo.UploadKeyType
    names = {1: "CONTACT_INFO", 2: "MOBILE_ADVERTISING_ID", 3: "CRM_ID"}
    return names[info["uploadKeyTypes"][0]], info.get("mobileIdInfo", {}).get("appId", "")


def churn(google: GoogleSync, rows_of: Any) -> list[Row]:
    """Sync 0-59, then 50-59 leave and 60-74 join; the second sync's rows."""
    google.sync("r1", rows_of(range(60)))
    assert google.held() == as_stored(rows_of(range(60)))
    second = rows_of(range(50)) + rows_of(range(60, 75))
    plan = google.sync("r2", second)
    assert [b.op for b in plan.batches] == ["remove", "add"]
    return second


def test_crm_id_list_is_created_as_such_and_follows_the_members_through_a_churned_sync(google: GoogleSync) -> None:
    google.spec = CRM_SPEC
    second = churn(google, crm_rows)
    assert google.held() == as_stored(second) and google.committed() == set(second)
    assert key_type_of(google_list(google)) == ("CRM_ID", "")
    assert {"crm:cust-00003"} in google.held()  # the advertiser's id as it is: Google does not want it hashed


@pytest.mark.parametrize("spec", [ANDROID_SPEC, IOS_SPEC], ids=["android", "ios"])
def test_mobile_id_list_carries_its_app_and_follows_the_members_through_a_churned_sync(
    google: GoogleSync, spec: UserListSpec
) -> None:
    google.spec = spec
    second = churn(google, mobile_rows)
    assert google.held() == as_stored(second) and google.committed() == set(second)
    assert key_type_of(google_list(google)) == ("MOBILE_ADVERTISING_ID", spec.app_id)
    if not isinstance(google, GoogleAdsSync):
        key_space = google_list(google)["ingested_user_list_info"]["mobileIdInfo"]["keySpace"]
        assert key_space == (1 if spec is IOS_SPEC else 2)  # IOS for an App Store id, else ANDROID


def test_list_size_counts_the_members_google_knows_by_crm_id(google: GoogleSync) -> None:
    google.spec = CRM_SPEC
    google.sync("r1", crm_rows(range(40)))
    report = google.destination("r2").report()
    assert report is not None and report.audience_id == google.list_id()
    # the Google Ads API sandbox sizes a list by the members Google knows (0-9); the Data Manager one counts all
    assert report.size_lower_bound == (10 if isinstance(google, GoogleAdsSync) else 40)


def test_switching_upload_keys_needs_a_new_list_name_and_a_full_resync_and_never_sends_the_old_keys(
    google: GoogleSync,
) -> None:
    google.sync("r1", members(range(30)))  # contact info into SPEC.name
    contact_list = google.list_id()
    google.spec = replace(CRM_SPEC, name=SPEC.name)

    with pytest.raises(
        GoogleAdsError,
        match="matches on contact_info, but this destination uploads crm_id; a list "
        "holds one upload key type, so give this destination its own audience_name",
    ):
        google.sync("r2", crm_rows(range(30)))
    google.spec = CRM_SPEC
    with pytest.raises(GoogleAdsError, match=r"upload_keys changed.*only a full re-sync may fill it"):
        google.sync("r3", crm_rows(range(30)))
    plan = google.sync("r4", crm_rows(range(30)), full_resync=True)

    removes = [(b.op, b.number) for b in plan.batches if b.op == "remove"]
    if isinstance(google, GoogleAdsSync):  # the state's contact rows leave, CRM ids join
        assert [b.op for b in plan.batches] == ["remove", "remove", "add"]
    else:  # Data Manager: the new list is emptied (RemoveAllAudienceMembers) and the CRM ids are ingested
        assert plan.replace and [b.op for b in plan.batches] == ["replace"]
    assert google.list_id() != contact_list and google.held() == as_stored(crm_rows(range(30)))
    assert google.requests("r4").read(removes) == []  # nothing sent for keys the new list cannot hold
    assert google.committed() == set(crm_rows(range(30)))
