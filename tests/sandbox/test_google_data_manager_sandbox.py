"""The Google Data Manager sandbox, driven with the official google-ads-datamanager REST clients (never mocked)."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import google.auth.credentials
import pytest
from google.ads import datamanager_v1 as dm
from google.api_core import exceptions
from google.api_core.retry import Retry

from tests.sandbox.conftest import (
    GDM_ACCOUNT,
    GDM_DELAY,
    GDM_FOREIGN_ACCOUNT,
    GDM_OTHER_ACCOUNT,
    GDM_TOKEN,
    GoogleDataManagerHarness,
    StartGoogleDataManager,
)

PARENT = f"accountTypes/GOOGLE_ADS/accounts/{GDM_ACCOUNT}"
Status = dm.RequestStatusPerDestination.RequestStatus


def google_status(error: exceptions.GoogleAPICallError) -> str:
    """The canonical status of a REST error body (api_core picks the class from the HTTP status:
    400 BadRequest, 403 Forbidden, 429 TooManyRequests, not the gRPC-named subclasses)."""
    answer: str = error.response.json()["error"]["status"]
    return answer


def sha(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


CONTACT_LIST = dm.IngestedUserListInfo(upload_key_types=[dm.IngestedUserListInfo.UploadKeyType.CONTACT_ID])


def create_list(
    gdm: GoogleDataManagerHarness,
    name: str = "Value Hunters",
    parent: str = PARENT,
    info: dm.IngestedUserListInfo = CONTACT_LIST,
) -> dm.UserList:
    days = {"seconds": 30 * 86400}
    user_list = dm.UserList(display_name=name, membership_duration=days, ingested_user_list_info=info)
    return gdm.user_lists().create_user_list(parent=parent, user_list=user_list)


def destination(user_list: dm.UserList, account: str = GDM_ACCOUNT) -> dm.Destination:
    operating = dm.ProductAccount(account_id=account, account_type=dm.ProductAccount.AccountType.GOOGLE_ADS)
    return dm.Destination(operating_account=operating, product_destination_id=str(user_list.id))


def member(*emails: str, phone: str | None = None, consent: dm.Consent | None = None) -> dm.AudienceMember:
    identifiers = [dm.UserIdentifier(email_address=sha(e)) for e in emails]
    if phone:
        identifiers.append(dm.UserIdentifier(phone_number=sha(phone)))
    return dm.AudienceMember(user_data=dm.UserData(user_identifiers=identifiers), consent=consent)


GRANTED = dm.Consent(ad_user_data=dm.ConsentStatus.CONSENT_GRANTED, ad_personalization=dm.ConsentStatus.CONSENT_GRANTED)
DENIED = dm.Consent(ad_user_data=dm.ConsentStatus.CONSENT_DENIED, ad_personalization=dm.ConsentStatus.CONSENT_GRANTED)
TOS = dm.TermsOfService(customer_match_terms_of_service_status=dm.TermsOfServiceStatus.ACCEPTED)


def ingest_request(dests: list[dm.Destination], members: list[dm.AudienceMember], **kw: Any) -> Any:
    fields: dict[str, Any] = {"encoding": dm.Encoding.HEX, "consent": GRANTED, "terms_of_service": TOS, **kw}
    return dm.IngestAudienceMembersRequest(destinations=dests, audience_members=members, **fields)


def status(gdm: GoogleDataManagerHarness, request_id: str) -> Any:
    request = dm.RetrieveRequestStatusRequest(request_id=request_id)
    return gdm.ingestion().retrieve_request_status(request=request).request_status_per_destination


def stored(gdm: GoogleDataManagerHarness, user_list: dm.UserList) -> list[list[str]]:
    lists = gdm.get("user_lists", account=GDM_ACCOUNT)["user_lists"]
    members: list[list[str]] = next(ul["members"] for ul in lists if ul["id"] == str(user_list.id))
    return members


def test_create_get_and_list_user_lists(google_data_manager: GoogleDataManagerHarness) -> None:
    gdm = google_data_manager
    created = create_list(gdm)

    fetched = gdm.user_lists().get_user_list(name=created.name)
    listed = list(gdm.user_lists().list_user_lists(parent=PARENT))

    assert created.name == f"{PARENT}/userLists/{created.id}"
    assert fetched.display_name == "Value Hunters"
    assert fetched.membership_duration.days == 30
    assert fetched.membership_status == dm.UserList.MembershipStatus.OPEN
    assert [ul.name for ul in listed] == [created.name]


def test_user_list_rules(google_data_manager: GoogleDataManagerHarness) -> None:
    gdm = google_data_manager
    create_list(gdm, "Dup")
    with pytest.raises(exceptions.Conflict):
        create_list(gdm, "Dup")
    too_long = dm.UserList(
        display_name="Long", membership_duration={"seconds": 541 * 86400}, ingested_user_list_info=CONTACT_LIST
    )
    with pytest.raises(exceptions.BadRequest, match="540"):
        gdm.user_lists().create_user_list(parent=PARENT, user_list=too_long)
    with pytest.raises(exceptions.NotFound):
        gdm.user_lists().get_user_list(name=f"{PARENT}/userLists/123")
    with pytest.raises(exceptions.Forbidden):
        create_list(gdm, parent=f"accountTypes/GOOGLE_ADS/accounts/{GDM_FOREIGN_ACCOUNT}")


def test_ingest_is_processed_asynchronously(start_google_data_manager: StartGoogleDataManager) -> None:
    gdm = start_google_data_manager(universe=[sha("ana@example.com")])
    user_list = create_list(gdm)
    members = [member("ana@example.com", phone="+14155551234"), member("bo@example.com")]

    answer = gdm.ingestion().ingest_audience_members(request=ingest_request([destination(user_list)], members))
    before = status(gdm, answer.request_id)
    stored_before = stored(gdm, user_list)
    gdm.clock.advance(GDM_DELAY)
    after = status(gdm, answer.request_id)

    assert answer.request_id
    assert [s.request_status for s in before] == [Status.PROCESSING]
    assert stored_before == []
    assert [s.request_status for s in after] == [Status.SUCCESS]
    counts = after[0].audience_members_ingestion_status.user_data_ingestion_status
    assert (counts.record_count, counts.user_identifier_count) == (2, 3)
    assert counts.upload_match_rate_range == dm.MatchRateRange.MATCH_RATE_RANGE_41_TO_50
    assert after[0].destination.product_destination_id == str(user_list.id)
    assert sorted(stored(gdm, user_list)) == sorted(
        [
            sorted([f"email:{sha('ana@example.com')}", f"phone:{sha('+14155551234')}"]),
            [f"email:{sha('bo@example.com')}"],
        ]
    )


def test_remove_members(google_data_manager: GoogleDataManagerHarness) -> None:
    gdm = google_data_manager
    user_list = create_list(gdm)
    dests = [destination(user_list)]
    gdm.ingestion().ingest_audience_members(request=ingest_request(dests, [member("a@x.com"), member("b@x.com")]))
    remove = dm.RemoveAudienceMembersRequest(destinations=dests, audience_members=[member("a@x.com")], encoding=1)

    answer = gdm.ingestion().remove_audience_members(request=remove)
    gdm.clock.advance(GDM_DELAY)

    assert stored(gdm, user_list) == [[f"email:{sha('b@x.com')}"]]
    removal = status(gdm, answer.request_id)[0]
    assert removal.request_status == Status.SUCCESS
    assert removal.audience_members_removal_status.user_data_removal_status.record_count == 1


def test_invalid_hash_fails_the_whole_request(google_data_manager: GoogleDataManagerHarness) -> None:
    gdm = google_data_manager
    user_list = create_list(gdm)
    bad = dm.AudienceMember(user_data=dm.UserData(user_identifiers=[dm.UserIdentifier(email_address="ana@x.com")]))
    upper = dm.AudienceMember(
        user_data=dm.UserData(user_identifiers=[dm.UserIdentifier(phone_number=sha("+1555").upper())])
    )

    with pytest.raises(exceptions.BadRequest) as caught:
        gdm.ingestion().ingest_audience_members(
            request=ingest_request([destination(user_list)], [member("ok@x.com"), bad, upper])
        )

    assert caught.value.reason == "INVALID_HEX_ENCODING"
    assert google_status(caught.value) == "INVALID_ARGUMENT"
    assert "audience_members[1].user_data.user_identifiers[0].email_address" in str(caught.value)
    assert gdm.get("requests")["count"] == 0


def test_too_many_members_and_identifiers(start_google_data_manager: StartGoogleDataManager) -> None:
    gdm = start_google_data_manager(max_audience_members=3)
    user_list = create_list(gdm)
    dests = [destination(user_list)]

    with pytest.raises(exceptions.BadRequest) as too_many:
        gdm.ingestion().ingest_audience_members(request=ingest_request(dests, [member(f"{i}@x.com") for i in range(4)]))
    with pytest.raises(exceptions.BadRequest) as too_wide:
        gdm.ingestion().ingest_audience_members(
            request=ingest_request(dests, [member(*[f"{i}@x.com" for i in range(11)])])
        )

    assert too_many.value.reason == "TOO_MANY_AUDIENCE_MEMBERS"
    assert too_wide.value.reason == "TOO_MANY_USER_IDENTIFIERS"
    assert gdm.get("state")["limits"]["max_identifiers_per_member"] == 10


def test_documented_default_limits(google_data_manager: GoogleDataManagerHarness) -> None:
    limits = google_data_manager.get("state")["limits"]
    assert (limits["max_audience_members"], limits["max_destinations"], limits["requests_per_minute"]) == (
        10000,
        10,
        300,
    )


def test_denied_consent_and_missing_terms_are_refused(google_data_manager: GoogleDataManagerHarness) -> None:
    gdm = google_data_manager
    dests = [destination(create_list(gdm))]

    with pytest.raises(exceptions.BadRequest, match="consent"):
        gdm.ingestion().ingest_audience_members(request=ingest_request(dests, [member("a@x.com", consent=DENIED)]))
    with pytest.raises(exceptions.BadRequest) as terms:
        gdm.ingestion().ingest_audience_members(
            request=ingest_request(dests, [member("a@x.com")], terms_of_service=None)
        )

    assert terms.value.reason == "TERMS_AND_CONDITIONS_NOT_SIGNED"


def test_lenient_consent_reports_partial_success(start_google_data_manager: StartGoogleDataManager) -> None:
    gdm = start_google_data_manager(consent_policy="lenient")
    user_list = create_list(gdm)
    members = [member("a@x.com"), member("b@x.com", consent=DENIED)]

    answer = gdm.ingestion().ingest_audience_members(request=ingest_request([destination(user_list)], members))
    gdm.clock.advance(GDM_DELAY)
    result = status(gdm, answer.request_id)[0]

    assert result.request_status == Status.PARTIAL_SUCCESS
    assert result.error_info.error_counts[0].record_count == 1
    assert stored(gdm, user_list) == [[f"email:{sha('a@x.com')}"]]


def test_unknown_account_is_permission_denied(google_data_manager: GoogleDataManagerHarness) -> None:
    gdm = google_data_manager
    user_list = create_list(gdm)

    with pytest.raises(exceptions.Forbidden) as denied:
        gdm.ingestion().ingest_audience_members(
            request=ingest_request([destination(user_list, GDM_FOREIGN_ACCOUNT)], [member("a@x.com")])
        )
    with pytest.raises(exceptions.BadRequest) as wrong_list:
        gdm.ingestion().ingest_audience_members(
            request=ingest_request([destination(user_list, GDM_OTHER_ACCOUNT)], [member("a@x.com")])
        )
    assert google_status(denied.value) == "PERMISSION_DENIED"
    assert wrong_list.value.reason == "INVALID_USER_LIST_ID"


def test_quota_is_resource_exhausted(start_google_data_manager: StartGoogleDataManager) -> None:
    gdm = start_google_data_manager(requests_per_minute=2)
    user_list = create_list(gdm)
    request = ingest_request([destination(user_list)], [member("a@x.com")])
    gdm.ingestion().ingest_audience_members(request=request)
    gdm.ingestion().ingest_audience_members(request=request)

    with pytest.raises(exceptions.TooManyRequests) as caught:
        gdm.ingestion().ingest_audience_members(request=request)
    gdm.clock.advance(60)
    later = gdm.ingestion().ingest_audience_members(request=request)

    assert caught.value.reason == "RESOURCE_EXHAUSTED"
    assert google_status(caught.value) == "RESOURCE_EXHAUSTED"
    assert caught.value.metadata == {"quota_limit": "IngestionMutateRequestsPerMinutePerProject"}
    assert later.request_id


def test_scripted_503_then_success(google_data_manager: GoogleDataManagerHarness) -> None:
    gdm = google_data_manager
    user_list = create_list(gdm)
    request = ingest_request([destination(user_list)], [member("a@x.com")])
    fault = {"match": "audienceMembers:ingest", "count": 1, "http_status": 503}

    gdm.control("faults", {"scripted": [fault]})
    with pytest.raises(exceptions.ServiceUnavailable):
        gdm.ingestion().ingest_audience_members(request=request, retry=None)
    gdm.control("faults", {"scripted": [fault]})
    fast = Retry(
        initial=0.01, maximum=0.05, timeout=5, predicate=lambda e: isinstance(e, exceptions.ServiceUnavailable)
    )
    answer = gdm.ingestion().ingest_audience_members(request=request, retry=fast)

    assert answer.request_id
    assert gdm.get("state")["errors"] == {"503 UNAVAILABLE": 2}


class StaticToken(google.auth.credentials.Credentials):  # type: ignore[misc]
    """An access token that never expires and never refreshes (sends ``Authorization: Bearer``)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def refresh(self, request: Any) -> None:
        """Nothing to refresh."""


def test_bearer_token_must_be_known(google_data_manager: GoogleDataManagerHarness) -> None:
    gdm = google_data_manager

    def client(token: str) -> Any:
        options = {"api_endpoint": gdm.base_url}
        return dm.UserListServiceClient(transport="rest", credentials=StaticToken(token), client_options=options)

    assert list(client(GDM_TOKEN).list_user_lists(parent=PARENT)) == []
    with pytest.raises(exceptions.Unauthorized):
        list(client("ya29.unknown").list_user_lists(parent=PARENT))


def test_logs_hold_no_hashes_or_tokens(google_data_manager: GoogleDataManagerHarness, caplog: Any) -> None:
    gdm = google_data_manager
    caplog.set_level(logging.DEBUG)
    user_list = create_list(gdm)
    gdm.ingestion().ingest_audience_members(request=ingest_request([destination(user_list)], [member("a@x.com")]))
    with pytest.raises(exceptions.BadRequest):
        gdm.ingestion().ingest_audience_members(
            request=ingest_request([destination(user_list)], [member("b@x.com", consent=DENIED)])
        )
    gdm.clock.advance(GDM_DELAY)
    gdm.get("user_lists")

    sandbox_logs = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("sandbox"))
    assert "ingest" in sandbox_logs
    for secret in (sha("a@x.com"), sha("b@x.com"), GDM_TOKEN, "a@x.com"):
        assert secret not in sandbox_logs


def test_state_file_survives_restart(start_google_data_manager: StartGoogleDataManager, tmp_path: Path) -> None:
    state = tmp_path / "gdm.json"
    first = start_google_data_manager(state_file=state)
    user_list = create_list(first)
    first.app.close()

    second = start_google_data_manager(state_file=state)

    assert second.user_lists().get_user_list(name=user_list.name).display_name == "Value Hunters"


KeyType = dm.IngestedUserListInfo.UploadKeyType
CRM_LIST = dm.IngestedUserListInfo(upload_key_types=[KeyType.USER_ID])
MOBILE_LIST = dm.IngestedUserListInfo(
    upload_key_types=[KeyType.MOBILE_ID],
    mobile_id_info=dm.MobileIdInfo(key_space=dm.MobileIdInfo.KeySpace.ANDROID, app_id="com.example.shop"),
)
IDFA = "6d92078a-8246-4ba4-ae5b-76104861e7dc"
AAID = "38400000-8cf0-11bd-b23e-10b96e40000d"


def crm_member(user_id: str) -> dm.AudienceMember:
    return dm.AudienceMember(user_id_data=dm.UserIdData(user_id=user_id))


def mobile_member(*mobile_ids: str) -> dm.AudienceMember:
    return dm.AudienceMember(mobile_data=dm.MobileData(mobile_ids=list(mobile_ids)))


def test_lists_hold_one_upload_key_type_and_mobile_lists_need_their_app(
    google_data_manager: GoogleDataManagerHarness,
) -> None:
    gdm = google_data_manager
    crm, mobile = create_list(gdm, "CRM", info=CRM_LIST), create_list(gdm, "Mobile", info=MOBILE_LIST)
    mixed = dm.IngestedUserListInfo(upload_key_types=[KeyType.CONTACT_ID, KeyType.USER_ID])
    no_app = dm.IngestedUserListInfo(upload_key_types=[KeyType.MOBILE_ID])
    refusals = {}
    for name, info in (("Mixed", mixed), ("No app", no_app), ("No key", dm.IngestedUserListInfo())):
        with pytest.raises(exceptions.BadRequest) as caught:
            create_list(gdm, name, info=info)
        refusals[name] = caught.value.reason

    assert refusals == {
        "Mixed": "UNSUPPORTED_USER_LIST_UPLOAD_KEY_TYPES",
        "No app": "REQUIRED_FIELD_MISSING",
        "No key": "REQUIRED_FIELD_MISSING",
    }
    assert list(crm.ingested_user_list_info.upload_key_types) == [KeyType.USER_ID]
    fetched = gdm.user_lists().get_user_list(name=mobile.name).ingested_user_list_info
    assert (fetched.mobile_id_info.app_id, fetched.mobile_id_info.key_space) == ("com.example.shop", 2)


def test_user_ids_and_mobile_ids_are_ingested_removed_and_counted_under_their_own_status(
    start_google_data_manager: StartGoogleDataManager,
) -> None:
    gdm = start_google_data_manager(universe=[sha("cust-1"), sha(AAID)])
    crm, mobile = create_list(gdm, "CRM", info=CRM_LIST), create_list(gdm, "Mobile", info=MOBILE_LIST)
    crm_add = ingest_request([destination(crm)], [crm_member("cust-1"), crm_member("cust-2")])
    mobile_add = ingest_request([destination(mobile)], [mobile_member(IDFA.upper(), AAID)])
    crm_answer = gdm.ingestion().ingest_audience_members(request=crm_add)
    mobile_answer = gdm.ingestion().ingest_audience_members(request=mobile_add)
    gdm.clock.advance(GDM_DELAY)
    remove = dm.RemoveAudienceMembersRequest(destinations=[destination(crm)], audience_members=[crm_member("cust-2")])
    removal = gdm.ingestion().remove_audience_members(request=remove)
    gdm.clock.advance(GDM_DELAY)

    crm_status = status(gdm, crm_answer.request_id)[0].audience_members_ingestion_status
    mobile_status = status(gdm, mobile_answer.request_id)[0].audience_members_ingestion_status
    removed = status(gdm, removal.request_id)[0].audience_members_removal_status
    assert (
        crm_status.user_id_data_ingestion_status.record_count,
        crm_status.user_id_data_ingestion_status.user_id_count,
    ) == (2, 2)
    assert mobile_status.mobile_data_ingestion_status.mobile_id_count == 2
    assert removed.user_id_data_removal_status.record_count == 1
    assert stored(gdm, crm) == [["crm:cust-1"]]
    assert stored(gdm, mobile) == [sorted([f"mobile:{IDFA}", f"mobile:{AAID}"])]  # mobile ids kept lower case


@pytest.mark.parametrize(
    ("members", "reason"),
    [
        ([crm_member("cust-1"), member("a@x.com")], "MULTIPLE_DATA_TYPES_NOT_ALLOWED"),
        ([member("a@x.com")], "INVALID_USER_LIST_TYPE"),
        ([mobile_member("not-a-device-id")], "INVALID_MOBILE_ID_FORMAT"),
        ([mobile_member(*[AAID] * 11)], "TOO_MANY_ELEMENTS"),
        ([crm_member(" ")], "REQUIRED_FIELD_MISSING"),
    ],
)
def test_data_that_does_not_fit_the_list_fails_the_whole_request(
    google_data_manager: GoogleDataManagerHarness, members: list[dm.AudienceMember], reason: str
) -> None:
    gdm = google_data_manager
    crm, mobile = create_list(gdm, "CRM", info=CRM_LIST), create_list(gdm, "Mobile", info=MOBILE_LIST)
    target = mobile if members[0].mobile_data.mobile_ids else crm

    with pytest.raises(exceptions.BadRequest) as caught:
        gdm.ingestion().ingest_audience_members(request=ingest_request([destination(target)], members))

    assert caught.value.reason == reason
    assert stored(gdm, crm) == [] and stored(gdm, mobile) == []
