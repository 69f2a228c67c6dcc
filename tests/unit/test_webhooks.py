"""Which events a sync-history row fires, what their payload holds, and how it is signed (pure core)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

from behavior_sync.history import SyncRecord
from behavior_sync.webhooks import EVENTS, WebhookSpec, body_of, events_for, payload, signature, verify

NOW = dt.datetime(2026, 11, 23, 6, tzinfo=dt.UTC)
ALL = WebhookSpec.from_config({"connection": "hooks"})


def row(run: str, status: str = "success", size: int | None = 1000, audience: str | None = "aud1") -> SyncRecord:
    return SyncRecord(
        behavior="value_hunters",
        destination_id="meta",
        destination_type="meta",
        connection_id="meta_default",
        run_id=run,
        status=status,
        finished_at=NOW,
        message="sent 7 rows: 7 accepted, 0 rejected",
        audience_id=audience,
        audience_name="[Behavior] - Value Hunters",
        audience_size=size,
        adds=7,
        errors=({"code": "invalid_entry", "count": 2},),
    )


def names(record: SyncRecord, earlier: list[SyncRecord], spec: WebhookSpec = ALL) -> list[str]:
    return [e.name for e in events_for(record, earlier, spec)]


def test_the_first_sync_creates_the_audience_and_completes_and_later_ones_only_complete() -> None:
    assert names(row("r1"), []) == ["audience_created", "sync_completed"]
    assert names(row("r2"), [row("r1")]) == ["sync_completed"]
    assert names(row("r3"), [row("r2", "blocked", audience=None), row("r1")]) == ["sync_completed"]
    assert names(row("r2", audience="aud2"), [row("r1")]) == ["audience_created", "sync_completed"]


def test_statuses_map_to_their_events_and_others_fire_nothing() -> None:
    for status, event in [("partial", "sync_completed"), ("failed", "sync_failed"), ("blocked", "blocked")]:
        assert names(row("r2", status), [row("r1")]) == [event]
    assert names(row("r2", "paused_too_small"), [row("r1")]) == ["paused_too_small"]
    assert names(row("r2", "dry_run"), [row("r1")]) == [] and names(row("r2", "not_due"), [row("r1")]) == []


def test_size_thresholds_fire_when_crossed_either_way_against_the_last_known_size() -> None:
    spec = WebhookSpec.from_config({"connection": "hooks", "size_thresholds": [500, 1000, 5000]})
    up = events_for(row("r2", size=6000), [row("r1", size=900)], spec)
    assert [(e.name, e.extra.get("threshold"), e.extra.get("direction")) for e in up][1:] == [
        ("size_threshold_crossed", 1000, "up"),
        ("size_threshold_crossed", 5000, "up"),
    ]
    down = events_for(row("r3", size=400), [row("r2", "blocked", size=None), row("r1", size=500)], spec)
    assert [(e.name, e.extra.get("threshold"), e.extra.get("direction")) for e in down][1:] == [
        ("size_threshold_crossed", 500, "down")
    ]
    assert names(row("r2", size=1000), [row("r1", size=1000)], spec) == ["sync_completed"]


def test_a_low_match_rate_fires_only_below_the_webhooks_minimum() -> None:
    spec = WebhookSpec.from_config({"connection": "hooks", "min_match_rate": 0.4})
    assert names(replace(row("r2"), match_rate=0.31), [row("r1")], spec) == ["sync_completed", "match_rate_low"]
    assert names(replace(row("r2"), match_rate=0.5), [row("r1")], spec) == ["sync_completed"]
    assert names(row("r2"), [row("r1")], spec) == ["sync_completed"]  # no rate reported: nothing to judge


def test_a_webhook_sees_only_its_events_and_destinations() -> None:
    spec = WebhookSpec.from_config({"connection": "hooks", "events": ["sync_failed"], "destinations": ["meta"]})
    assert names(row("r1"), [], spec) == [] and names(row("r2", "failed"), [row("r1")], spec) == ["sync_failed"]
    other = WebhookSpec.from_config({"connection": "hooks", "destinations": ["hubspot_list"]})
    assert names(row("r2", "failed"), [row("r1")], other) == []
    assert ALL.events == EVENTS


def test_the_payload_holds_names_counts_and_codes_and_a_stable_event_id() -> None:
    (event,) = events_for(row("r2", "failed"), [row("r1")], ALL)
    failed = row("r2", "failed")
    document = payload(event, failed, "Value Hunters", NOW)
    assert document["event"] == "sync_failed"
    assert document["behavior"] == {"slug": "value_hunters", "name": "Value Hunters"}
    assert document["counts"]["adds"] == 7 and document["audience"]["size"] == 1000
    assert document["errors"] == [{"code": "invalid_entry", "count": 2}]
    assert document["occurred_at"] == "2026-11-23T06:00:00+00:00"
    assert document["event_id"] == payload(event, failed, "Value Hunters", NOW + dt.timedelta(1))["event_id"]
    assert set(document) == {
        "version", "event", "event_id", "occurred_at", "behavior", "destination", "run", "status", "message",
        "counts", "audience", "match_rate", "errors",
    }  # fmt: skip
    json.loads(body_of(document))  # plain JSON


def test_a_signature_verifies_only_for_the_same_secret_timestamp_and_body() -> None:
    body = body_of({"event": "sync_completed"})
    header = signature("s3cret", "1764000000", body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify("s3cret", "1764000000", body, header)
    assert not verify("other", "1764000000", body, header)
    assert not verify("s3cret", "1764000001", body, header)
    assert not verify("s3cret", "1764000000", body + b" ", header)
