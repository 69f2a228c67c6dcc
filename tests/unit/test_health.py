"""Audience health (size, growth, churn, entries, exits, membership age) and overlap, checked against figures
computed by hand from small committed states and histories made by the real sync engine (SQLite here;
tests/integration/test_health_postgres.py runs the same checks on PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from behavior_sync.config import load_behaviors
from behavior_sync.health import health_summary, pair_health
from behavior_sync.health_json import overlap_json, pair_json
from behavior_sync.health_overlap import overlap, scope_destinations
from behavior_sync.sync.keying import DOUBT_PREFIX
from tests.support.health_fixtures import HealthFixture

W1, W2, W3, W4 = (dt.datetime(2026, 11, 2, tzinfo=dt.UTC) + dt.timedelta(weeks=k) for k in range(4))


@pytest.fixture()
def fixture(tmp_path: Path) -> Iterator[HealthFixture]:
    made = HealthFixture(tmp_path, f"sqlite:///{tmp_path}/state.db")
    yield made
    made.db.close()


def weekly_churn(f: HealthFixture) -> None:
    """value_hunters -> meta, four weekly runs (data dates W1..W4, all run later, on 2026-12-01):

    W1 {a,b,c,d}; W2 {a,b,c,e,f} (d left, e and f joined); W3 failed (nothing committed);
    W4 {a,d,e,f} (b and c left, d came back).
    """
    f.sync("value_hunters", "meta", "r1", "abcd", W1)
    f.sync("value_hunters", "meta", "r2", "abcef", W2)
    f.fail("value_hunters", "meta", "r3", "aef", W3)
    f.sync("value_hunters", "meta", "r4", "adef", W4)


def test_each_synced_run_has_its_size_entries_exits_growth_and_churn(fixture: HealthFixture) -> None:
    weekly_churn(fixture)
    health = pair_health(fixture.db, "value_hunters", "meta")
    assert health.size == 4
    got = [(p.run_id, p.as_of, p.size, p.entries, p.exits, p.growth_rate, p.churn_rate) for p in health.points]
    assert got == [
        ("r1", W1, 4, 4, 0, None, None),  # from nothing: no rate
        ("r2", W2, 5, 2, 1, 1 / 4, 1 / 4),  # 4 -> 5: e, f in, d out
        ("r4", W4, 4, 1, 2, -1 / 5, 2 / 5),  # 5 -> 4: d back in, b, c out; the failed W3 is no point
    ]


def test_membership_age_counts_from_the_run_that_put_each_member_in(fixture: HealthFixture) -> None:
    weekly_churn(fixture)
    age = pair_health(fixture.db, "value_hunters", "meta").age
    assert age is not None and age.as_of == W4
    # a since W1 (21 days), e and f since W2 (14), d since W4 (0: it left at W2 and came back)
    assert {b.label: b.members for b in age.buckets} == {
        "< 1 week": 1,
        "1-4 weeks": 3,
        "1-3 months": 0,
        "3-6 months": 0,
        "6-12 months": 0,
        "> 1 year": 0,
    }
    assert (age.median_days, age.unknown) == (14.0, 0)


def test_first_seen_files_follow_members_through_commits(fixture: HealthFixture) -> None:
    weekly_churn(fixture)
    since = pq.read_table(fixture.state("value_hunters", "meta").since_uri).to_pylist()
    assert sorted((r["member_key"], r["since_run"]) for r in since) == [
        ("a", "r1"),
        ("d", "r4"),
        ("e", "r2"),
        ("f", "r2"),
    ]


def test_members_of_a_state_committed_before_first_seen_files_have_an_unknown_age(fixture: HealthFixture) -> None:
    fixture.sync("value_hunters", "meta", "r1", "abcd", W1)
    fixture.forget_first_seen("value_hunters", "meta")  # as written before this feature
    fixture.sync("value_hunters", "meta", "r2", "abcef", W2)
    age = pair_health(fixture.db, "value_hunters", "meta").age
    assert age is not None
    assert (age.unknown, age.buckets[0].members, age.median_days) == (3, 2, 0.0)  # a, b, c unknown; e, f new


def test_the_window_compares_the_size_before_its_first_run_with_the_size_after_its_last(
    fixture: HealthFixture,
) -> None:
    weekly_churn(fixture)
    fixture.sync("value_hunters", "hubspot_list", "r1", "ab", W4)
    fixture.sync("cart_abandoners", "meta", "r1", "xyz", W1)  # no run in the window
    rows = {(r.behavior, r.destination_id): r for r in health_summary(fixture.db, W4, days=14)}
    meta = rows["value_hunters", "meta"]
    # window [W2, W4]: r2 and r4; before r2: 4 members, after r4: 4; exits 1 + 2, entries 2 + 1
    assert (meta.size, meta.runs, meta.last_as_of, meta.entries, meta.exits) == (4, 2, W4, 3, 3)
    assert (meta.growth_rate, meta.churn_rate) == (0.0, 3 / 4)
    new = rows["value_hunters", "hubspot_list"]  # first synced in the window: it starts there, no change since
    assert (new.size, new.runs, new.growth_rate, new.churn_rate, new.entries, new.exits) == (2, 1, 0.0, 0.0, 0, 0)
    quiet = rows["cart_abandoners", "meta"]
    assert (quiet.size, quiet.runs, quiet.growth_rate, quiet.entries) == (3, 0, None, None)
    only = health_summary(fixture.db, W4, behaviors=["cart_abandoners"], days=14)
    assert [(r.behavior, r.destination_id) for r in only] == [("cart_abandoners", "meta")]


def test_a_pair_without_committed_state_has_no_health(fixture: HealthFixture) -> None:
    fixture.db.ensure_schema()
    health = pair_health(fixture.db, "value_hunters", "meta")
    assert (health.size, health.points, health.age) == (None, (), None)
    assert pair_json(health) == {
        "behavior": "value_hunters",
        "destination_id": "meta",
        "size": None,
        "points": [],
        "membership_age": None,
    }


def overlapping(f: HealthFixture) -> None:
    """A: meta {1,2,3,4} + hubspot_list {5}; B: meta {3,4,5,6} (+ an in-doubt row); C: hubspot_list {1}."""
    f.sync("a", "meta", "r1", ["m1", "m2", "m3", "m4"], W1)
    f.sync("a", "hubspot_list", "r1", ["m5"], W1)
    f.sync("b", "meta", "r1", ["m3", "m4", "m5", "m6", f"{DOUBT_PREFIX}m9"], W1)
    f.sync("c", "hubspot_list", "r1", ["m1"], W1)


def test_overlap_per_behavior_unites_its_destinations(fixture: HealthFixture) -> None:
    overlapping(fixture)
    scope = {"a": ["meta", "hubspot_list"], "b": ["meta"], "c": ["hubspot_list"], "d": ["meta"]}
    body = overlap_json(overlap(fixture.db, scope, "behavior"))
    assert body == {
        "scope": "behavior",
        "behaviors": ["a", "b", "c"],  # d has no committed state
        "sizes": [5, 4, 1],  # b's in-doubt row is no member
        "shared": [[5, 3, 1], [3, 4, 0], [1, 0, 1]],
        "jaccard": [[1.0, 3 / 6, 1 / 5], [3 / 6, 1.0, 0.0], [1 / 5, 0.0, 1.0]],
    }


def test_overlap_per_destination_type_compares_what_that_tool_holds(fixture: HealthFixture) -> None:
    overlapping(fixture)
    meta = overlap(fixture.db, {"a": ["meta"], "b": ["meta"]}, "meta")
    assert (meta.behaviors, meta.shared, meta.jaccard()[0][1]) == (("a", "b"), ((4, 2), (2, 4)), 2 / 6)
    largest = overlap(fixture.db, {"a": ["meta", "hubspot_list"], "b": ["meta"], "c": ["hubspot_list"]}, "x", 2)
    assert largest.behaviors == ("a", "b")


def test_scopes_pick_the_destinations_of_a_type_or_all_of_a_behavior() -> None:
    behaviors = load_behaviors().behaviors
    assert scope_destinations(behaviors, "hubspot")["value_hunters"] == ["hubspot_list", "hubspot_property"]
    assert "trend_followers" not in scope_destinations(behaviors, "hubspot")
    assert len(scope_destinations(behaviors, "behavior")["value_hunters"]) == 5
    with pytest.raises(ValueError, match="unknown overlap scope"):
        scope_destinations(behaviors, "tiktok")


def test_the_summary_follows_a_new_run_at_once(fixture: HealthFixture) -> None:
    fixture.sync("value_hunters", "meta", "r1", "abcd", W1)
    before = health_summary(fixture.db, W4, days=30)
    assert health_summary(fixture.db, W4, days=30) == before  # kept while nothing changed
    fixture.sync("value_hunters", "meta", "r2", "abcef", W2)
    (after,) = health_summary(fixture.db, W4, days=30)
    assert (after.size, after.runs, after.entries, after.exits, after.growth_rate) == (5, 2, 2, 1, 1 / 4)
