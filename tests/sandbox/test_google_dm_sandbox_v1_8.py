"""The Data Manager sandbox's v1.8 features, driven with the official google-ads-datamanager REST clients.

RemoveAllAudienceMembers with ``remove_as_of_time`` (only members last added before it go, whenever Google
processes it), the new error reasons, and the diagnostics of a PARTIAL_SUCCESS request: errors and warnings
counted per reason in the request status, and ``field_warnings`` in the ingest answer.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from google.ads import datamanager_v1 as dm
from google.api_core import exceptions

from tests.sandbox.conftest import GDM_ACCOUNT, GDM_DELAY, StartGoogleDataManager
from tests.sandbox.test_google_data_manager_sandbox import (
    create_list,
    destination,
    ingest_request,
    member,
    sha,
    status,
    stored,
)

Status = dm.RequestStatusPerDestination.RequestStatus


def at(clock_seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(clock_seconds, dt.UTC)


def test_remove_all_drops_only_members_last_added_before_its_time_even_when_processed_after_the_reingest(
    start_google_data_manager: StartGoogleDataManager,
) -> None:
    gdm = start_google_data_manager(remove_all_delay_seconds=3 * GDM_DELAY)  # Google processes it last
    user_list = create_list(gdm)
    dests = [destination(user_list)]
    ingestion = gdm.ingestion()
    ingestion.ingest_audience_members(request=ingest_request(dests, [member("old@x.com"), member("kept@x.com")]))
    gdm.clock.advance(GDM_DELAY)
    as_of = at(gdm.clock())
    request = dm.RemoveAllAudienceMembersRequest(destinations=dests, remove_as_of_time=as_of)

    answer = ingestion.remove_all_audience_members(request=request)
    gdm.clock.advance(1)
    ingestion.ingest_audience_members(request=ingest_request(dests, [member("kept@x.com"), member("new@x.com")]))
    gdm.clock.advance(GDM_DELAY)
    after_reingest = stored(gdm, user_list)
    gdm.clock.advance(3 * GDM_DELAY)

    assert len(after_reingest) == 3 and status(gdm, answer.request_id)[0].request_status == Status.SUCCESS
    assert sorted(stored(gdm, user_list)) == [[f"email:{sha('kept@x.com')}"], [f"email:{sha('new@x.com')}"]]
    entry = status(gdm, answer.request_id)[0]
    assert dm.RequestStatusPerDestination.pb(entry).WhichOneof("status") == "remove_all_audience_members_status"


def test_remove_all_without_a_time_empties_the_list_as_of_its_arrival(
    start_google_data_manager: StartGoogleDataManager,
) -> None:
    gdm = start_google_data_manager()
    user_list = create_list(gdm)
    dests = [destination(user_list)]
    gdm.ingestion().ingest_audience_members(request=ingest_request(dests, [member("a@x.com"), member("b@x.com")]))
    gdm.clock.advance(1)

    gdm.ingestion().remove_all_audience_members(request=dm.RemoveAllAudienceMembersRequest(destinations=dests))
    gdm.clock.advance(GDM_DELAY)

    assert stored(gdm, user_list) == []


def test_a_remove_all_time_in_the_future_is_refused_with_invalid_remove_as_of_time(
    start_google_data_manager: StartGoogleDataManager,
) -> None:
    gdm = start_google_data_manager()
    dests = [destination(create_list(gdm))]
    request = dm.RemoveAllAudienceMembersRequest(destinations=dests, remove_as_of_time=at(gdm.clock() + 60))

    with pytest.raises(exceptions.BadRequest) as refused:
        gdm.ingestion().remove_all_audience_members(request=request)

    assert refused.value.reason == "INVALID_REMOVE_AS_OF_TIME" and gdm.get("requests")["count"] == 0


def test_an_account_without_its_prerequisite_link_is_refused_on_every_audience_call(
    start_google_data_manager: StartGoogleDataManager,
) -> None:
    gdm = start_google_data_manager(unlinked_accounts=[GDM_ACCOUNT])
    dests = [destination(create_list(gdm))]
    remove_all = dm.RemoveAllAudienceMembersRequest(destinations=dests)
    calls = [
        lambda: gdm.ingestion().ingest_audience_members(request=ingest_request(dests, [member("a@x.com")])),
        lambda: gdm.ingestion().remove_all_audience_members(request=remove_all),
    ]

    reasons = []
    for call in calls:
        with pytest.raises(exceptions.BadRequest) as refused:
            call()
        reasons.append(refused.value.reason)

    assert reasons == ["REQUIRED_PREREQUISITE_LINK_MISSING"] * 2


def test_scripted_diagnostics_give_partial_success_with_counts_per_reason_and_field_warnings(
    start_google_data_manager: StartGoogleDataManager,
) -> None:
    gdm = start_google_data_manager()
    user_list = create_list(gdm)
    scripted = {
        "errors": {"PROCESSING_ERROR_REASON_INTERNAL_ERROR": 2},
        "warnings": {"PROCESSING_WARNING_REASON_INTERNAL_ERROR": 1},
        "field_warnings": {"WARNING_REASON_GENERIC": 2},
    }
    gdm.control("diagnostics", scripted)
    members = [member(f"{n}@x.com") for n in range(5)]

    answer = gdm.ingestion().ingest_audience_members(request=ingest_request([destination(user_list)], members))
    gdm.clock.advance(GDM_DELAY)
    (entry,) = status(gdm, answer.request_id)

    assert [w.reason for w in answer.field_warnings] == [dm.WarningReason.WARNING_REASON_GENERIC] * 2
    assert [w.field for w in answer.field_warnings] == ["audience_members[0]", "audience_members[1]"]
    assert entry.request_status == Status.PARTIAL_SUCCESS
    errors = [(c.reason, c.record_count) for c in entry.error_info.error_counts]
    assert errors == [(dm.ProcessingErrorReason.PROCESSING_ERROR_REASON_INTERNAL_ERROR, 2)]
    warned = [(c.reason, c.record_count) for c in entry.warning_info.warning_counts]
    assert warned == [(dm.ProcessingWarningReason.PROCESSING_WARNING_REASON_INTERNAL_ERROR, 1)]
    assert len(stored(gdm, user_list)) == 3  # the two records Google counted as failed were not applied
    gdm.control("diagnostics", {})  # nothing scripted: the next request is a plain SUCCESS
    plain = gdm.ingestion().ingest_audience_members(request=ingest_request([destination(user_list)], members))
    gdm.clock.advance(GDM_DELAY)
    assert not plain.field_warnings and status(gdm, plain.request_id)[0].request_status == Status.SUCCESS


def test_bad_diagnostics_are_refused_and_leave_nothing_queued(
    start_google_data_manager: StartGoogleDataManager,
) -> None:
    gdm = start_google_data_manager()
    with pytest.raises(Exception, match="400"):
        gdm.control("diagnostics", {"errors": {"lower_case": 1}})
    with pytest.raises(Exception, match="400"):
        gdm.control("diagnostics", {"count": 0})
    assert (
        gdm.control("diagnostics", {"count": 2})["pending"]
        == [{"errors": {}, "warnings": {}, "field_warnings": {}}] * 2
    )


def test_last_added_times_survive_a_restart(start_google_data_manager: StartGoogleDataManager, tmp_path: Path) -> None:
    state = tmp_path / "gdm.json"
    first = start_google_data_manager(state_file=state)
    user_list = create_list(first)
    dests = [destination(user_list)]
    first.ingestion().ingest_audience_members(request=ingest_request(dests, [member("a@x.com")]))
    first.clock.advance(GDM_DELAY)
    as_of = at(first.clock())
    first.ingestion().ingest_audience_members(request=ingest_request(dests, [member("b@x.com")]))
    first.clock.advance(GDM_DELAY)
    first.app.close()

    second = start_google_data_manager(state_file=state)
    second.clock.advance(2 * GDM_DELAY)
    request = dm.RemoveAllAudienceMembersRequest(destinations=dests, remove_as_of_time=as_of)
    second.ingestion().remove_all_audience_members(request=request)
    second.clock.advance(GDM_DELAY)

    assert stored(second, user_list) == [[f"email:{sha('b@x.com')}"]]
