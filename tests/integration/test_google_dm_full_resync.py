"""Google Data Manager v1.8 through the sync engine and the official REST client, against the sandbox.

A full re-sync replaces the list: RemoveAllAudienceMembers as of just before the first re-sent batch, then the
re-ingest, so whatever order Google processes them in, the list ends with exactly the current members (foreign
members inside it go too, by design). An interrupted one leaves the list marked emptied, and only a full re-sync
loads it next. PARTIAL_SUCCESS error and warning counts and the ingest answers' field warnings reach the
processing report; the counted records become rejection rows that the commit ignores. The v1.8 error reasons
fail with what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from behavior_sync.destinations import LoadKey
from behavior_sync.destinations.google_dm import EMPTIED, GoogleDataManagerDestination, GoogleTarget
from behavior_sync.destinations.google_dm_errors import GoogleAdsError
from behavior_sync.destinations.google_dm_members import audience_member
from behavior_sync.destinations.google_dm_rejections import COUNTED, record_counted_rejections
from behavior_sync.destinations.google_dm_status import processing_report, read_outcome, reason_counts
from behavior_sync.statedb import StateDatabase
from behavior_sync.sync.execute import commit_plan, load_plan
from behavior_sync.sync.objects import DestinationObjects
from behavior_sync.sync.steps import load_step
from tests.integration.test_google_dm_destination import SPEC, GoogleSync, as_stored, members, sha
from tests.sandbox.conftest import FakeClock
from tests.support.google_dm_harness import GDM_ACCOUNT, GDM_DELAY, google_data_manager_starter

FOREIGN = [("email", sha("added.by.hand@example.org"))]
StartGoogle = Callable[..., GoogleSync]


@pytest.fixture()
def start_google(tmp_path: Path) -> Iterator[StartGoogle]:
    """``start_google(**sandbox_overrides)``: the engine, a state database and the destination on a new sandbox
    (fake clock)."""
    db = StateDatabase(f"sqlite:///{tmp_path}/state.db")
    db.ensure_schema()
    with google_data_manager_starter(FakeClock) as start:
        yield lambda **overrides: GoogleSync(start(**overrides), tmp_path, db)
    db.close()


@pytest.fixture()
def google(start_google: StartGoogle) -> GoogleSync:
    return start_google()


def sent_kinds(google: GoogleSync, run_id: str) -> list[str]:
    """The kinds of the requests a run sent, in order (the sandbox's inspection)."""
    plan_batches = [(op, n) for op in ("replace", "add", "remove") for n in range(10)]
    ids = [r.request_id for r in google.requests(run_id).read(plan_batches)]
    kinds = {r["request_id"]: r["kind"] for r in google.sandbox.get("requests")["requests"]}
    return [kinds[i] for i in ids]


def resynced(google: GoogleSync) -> list[tuple[str, str, str]]:
    """A synced list with a member added by hand, then a full re-sync where 0-9 left and 30-54 joined: its rows."""
    google.sync("r1", members(range(30)))
    google.client().ingest(google.list_id(), [audience_member(FOREIGN)])
    google.sandbox.clock.advance(GDM_DELAY)
    current = members(range(10, 55))
    plan = google.sync("r2", current, full_resync=True)
    assert plan.replace and [b.op for b in plan.batches] == ["replace", "replace"]  # 45 members, 40 a batch
    return current


def test_a_full_resync_removes_all_then_reingests_leaving_exactly_the_current_members(google: GoogleSync) -> None:
    current = resynced(google)

    assert sent_kinds(google, "r2") == ["remove_all", "ingest", "ingest", "ingest"]  # 40 + 5, 25 a request
    assert google.held() == as_stored(current) and google.committed() == set(current)
    assert DestinationObjects(google.db).recall("value_hunters", "google_ads", EMPTIED) is None


def test_a_full_resync_is_exact_even_when_google_processes_the_remove_all_after_the_reingest(
    start_google: StartGoogle,
) -> None:
    google = start_google(remove_all_delay_seconds=2 * GDM_DELAY)
    current = resynced(google)
    assert google.held() != as_stored(current)  # re-ingest processed, remove-all not yet: old members still in
    google.sandbox.clock.advance(2 * GDM_DELAY)

    assert google.held() == as_stored(current) and google.committed() == set(current)


def test_an_interrupted_full_resync_leaves_the_list_marked_emptied_and_only_a_full_resync_loads_it_next(
    google: GoogleSync,
) -> None:
    google.sync("r1", members(range(30)))
    plan = google.plan("r2", members(range(60)), full_resync=True)  # two replace batches
    fail_next_ingest = {"scripted": [{"match": "ingest", "count": 1, "http_status": 400}]}

    with pytest.raises(GoogleAdsError):
        load_plan(plan, google.destination("r2", full_resync=True), google.ledger(plan),
                  on_batch=lambda _: google.sandbox.control("faults", fail_next_ingest))  # fmt: skip
    with pytest.raises(ValueError, match="replace plan"):
        commit_plan(plan, google.ledger(plan), google.store, google.store.current("value_hunters", "google_ads"))
    assert DestinationObjects(google.db).recall("value_hunters", "google_ads", EMPTIED) is not None
    google.sandbox.clock.advance(GDM_DELAY)
    unchanged = google.plan("r3", members(range(30)))  # nothing to send, yet the list no longer holds 0-29
    with pytest.raises(GoogleAdsError, match="full re-sync emptied the user list") as refused:
        load_step(f"{google.folder}/r3/plan/plan.json", google.destination("r3"), google.db, print)
    assert not unchanged.batches and "full_resync" in str(refused.value)  # the command to run
    with pytest.raises(GoogleAdsError, match="full re-sync emptied the user list"):
        google.sync("r3b", members(range(35)))

    google.sync("r4", members(range(5, 50)), full_resync=True)
    assert google.held() == as_stored(members(range(5, 50))) and google.committed() == set(members(range(5, 50)))
    assert DestinationObjects(google.db).recall("value_hunters", "google_ads", EMPTIED) is None


def test_partial_success_counts_reach_the_report_and_become_rejections_the_commit_ignores(
    google: GoogleSync,
) -> None:
    scripted = {
        "errors": {"PROCESSING_ERROR_REASON_INTERNAL_ERROR": 3},
        "warnings": {"PROCESSING_WARNING_REASON_INTERNAL_ERROR": 2},
        "field_warnings": {"WARNING_REASON_GENERIC": 1},
    }
    google.sandbox.control("diagnostics", scripted)
    rows = members(range(20))
    plan = google.plan("r1", rows)
    load_plan(plan, google.destination("r1"), google.ledger(plan))
    google.sandbox.clock.advance(GDM_DELAY)
    (sent,) = google.requests("r1").read([("add", 0)])
    outcome = read_outcome(sent.request_id, google.client().request_status(sent.request_id))
    assert outcome is not None and outcome.status == "PARTIAL_SUCCESS"

    report = processing_report([outcome], None, reason_counts(sent.field_warnings.items()))
    written = record_counted_rejections(google.ledger(plan), google.requests("r1"), [("add", 0)], [outcome])
    rewritten = record_counted_rejections(google.ledger(plan), google.requests("r1"), [("add", 0)], [outcome])

    assert report["error_counts"] == {"PROCESSING_ERROR_REASON_INTERNAL_ERROR": 3}
    assert report["warning_counts"] == {"PROCESSING_WARNING_REASON_INTERNAL_ERROR": 2}
    assert report["field_warnings"] == {"WARNING_REASON_GENERIC": 1} and report["failed_requests"] == [sent.request_id]
    assert written == rewritten == 3  # a retried wait step replaces its rows
    assert google.ledger(plan).rejection_codes() == {"PROCESSING_ERROR_REASON_INTERNAL_ERROR": 3}
    assert {t for _, t in google.ledger(plan).rejected("add")} == {COUNTED}
    state = commit_plan(plan, google.ledger(plan), google.store, None)
    assert state.rows == len(rows) and len(google.held()) == 17  # Google named no member: every row stays committed


def test_a_clock_ahead_of_googles_fails_the_resync_with_advice_about_the_clock(google: GoogleSync) -> None:
    google.sync("r1", members(range(5)))
    plan = google.plan("r2", members(range(5)), full_resync=True)
    key = LoadKey("value_hunters", "google_ads", True)
    ahead = GoogleTarget(SPEC, key, True, google.requests("r2"), clock=lambda: google.sandbox.clock() + 60)
    destination = GoogleDataManagerDestination(
        google.client(), DestinationObjects(google.db), ahead, google.capabilities
    )

    with pytest.raises(GoogleAdsError, match="clock runs ahead") as failure:  # a minute ahead of Google's
        load_plan(plan, destination, google.ledger(plan))

    assert failure.value.reason == "INVALID_REMOVE_AS_OF_TIME"


def test_a_missing_prerequisite_link_fails_with_advice_about_the_link(start_google: StartGoogle) -> None:
    google = start_google(unlinked_accounts=[GDM_ACCOUNT])
    plan = google.plan("r1", members(range(5)))

    with pytest.raises(GoogleAdsError, match="Linked accounts") as failure:
        load_plan(plan, google.destination("r1"), google.ledger(plan))

    assert failure.value.reason == "REQUIRED_PREREQUISITE_LINK_MISSING" and not google.ledger(plan).acknowledged()
