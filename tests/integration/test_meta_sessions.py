"""Meta's upload sessions read back after a load, through the real facebook-business SDK against the sandbox.

After the batches, the destination reads ``GET /{audience}/sessions`` and reports this run's session: rows
received, matched and invalid and the match rate (num_matched / num_received). A session Meta leaves stuck in
"uploading" with num_matched -1 is pending, never a rate of 0, here and in the reconcile read-back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from behavior_sync.destinations.meta_client import MetaClient, MetaCredentials
from behavior_sync.destinations.meta_readback import MetaReadBack
from behavior_sync.statedb import StateDatabase
from tests.integration.test_meta_destination import SMALL_BATCHES, MetaSync, members
from tests.support.engine_run import Row
from tests.support.meta_harness import ACCOUNT, TOKEN, meta_starter, sha

KNOWN = 30  # the sandbox's universe knows the e-mails of members 0-29

StartMetaSync = Callable[..., MetaSync]


@pytest.fixture()
def start_meta_sync(tmp_path: Path) -> Iterator[StartMetaSync]:
    """``start_meta_sync(**sandbox_overrides)``: the engine and the Meta destination against a new sandbox."""
    db = StateDatabase(f"sqlite:///{tmp_path}/state.db")
    db.ensure_schema()
    with meta_starter() as start:
        yield lambda **overrides: MetaSync(tmp_path, db, SMALL_BATCHES, "value_hunters", "meta", start(**overrides))
    db.close()


@pytest.fixture()
def meta_sync(start_meta_sync: StartMetaSync) -> MetaSync:
    """A sandbox that matches only the members whose e-mail it knows (0-29)."""
    return start_meta_sync(universe=[sha(f"{k}@example.com") for k in range(KNOWN)])


def with_invalid_email(rows: list[Row], key: str) -> list[Row]:
    """``rows`` with ``key``'s e-mail not a SHA-256 (Meta counts the row invalid)."""
    return [(k, t, "not-a-hash" if (k, t) == (key, "email") else v) for k, t, v in rows]


def test_the_runs_upload_session_gives_received_matched_invalid_and_the_match_rate(meta_sync: MetaSync) -> None:
    rows = with_invalid_email(members(range(100)), "99")
    meta_sync.sync("r1", rows)  # 100 members in three add batches: one session

    report = meta_sync.destination("r1").session_report()

    assert report == {
        "sessions": 1,
        "received": 100,
        "matched": KNOWN,
        "invalid": 1,
        "match_rate": 0.3,
        "pending_sessions": 0,
        "pending_stage": "",
    }


def test_a_full_resync_reports_its_replace_session_and_not_an_earlier_runs(meta_sync: MetaSync) -> None:
    meta_sync.sync("r1", members(range(100)))
    meta_sync.sync("r2", members(range(20, 60)), full_resync=True)

    report = meta_sync.destination("r2").session_report()

    assert report is not None and (report["sessions"], report["received"], report["matched"]) == (1, 40, 10)
    assert report["match_rate"] == 0.25


def test_a_session_stuck_in_uploading_is_reported_pending_not_as_a_zero_match_rate(meta_sync: MetaSync) -> None:
    meta_sync.sync("r1", members(range(50)))
    meta_sync.sandbox.control(f"audiences/{meta_sync.audience_id()}/sessions_stuck", {"stuck": True})
    meta_sync.sync("r2", members(range(80)))

    stuck = meta_sync.destination("r2").session_report()
    client = MetaClient(MetaCredentials(TOKEN, f"act_{ACCOUNT}", base_url=meta_sync.sandbox.base_url), "reconcile")
    counted = MetaReadBack(client, meta_sync.audience_id()).count()

    assert stuck is not None and stuck["match_rate"] is None
    assert (stuck["sessions"], stuck["pending_sessions"], stuck["pending_stage"]) == (1, 1, "uploading")
    assert counted.notes["session_match_rate"] == 0.6  # r1's 30 of 50: the stuck session counts nowhere


def test_a_load_without_an_add_or_replace_session_reports_no_session(meta_sync: MetaSync) -> None:
    meta_sync.sync("r1", members(range(50)))
    meta_sync.sync("r2", members(range(40)))  # leavers only: removals carry no session

    report = meta_sync.destination("r2").session_report()

    assert report is not None and report["sessions"] == 0 and report["match_rate"] is None
