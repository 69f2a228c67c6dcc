"""Which events a sync-history row fires, what their payload holds, how it is signed and verified, and how a
webhook URL's credentials are split off and redacted (pure core)."""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import replace

import pytest

from behavior_sync.history import SyncRecord
from behavior_sync.webhooks import (
    EVENTS,
    WebhookSpec,
    body_of,
    events_for,
    payload,
    redact_url,
    send_url,
    signature,
    verify,
)

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


STAMP = 1_764_000_000
BODY = body_of({"event": "sync_completed"})
HEADER = signature("s3cret", str(STAMP), BODY)


def test_a_signature_verifies_only_for_the_same_secret_timestamp_and_body() -> None:
    assert HEADER.startswith("sha256=") and len(HEADER) == 7 + 64
    assert verify("s3cret", str(STAMP), BODY, HEADER, now=STAMP)
    assert not verify("other", str(STAMP), BODY, HEADER, now=STAMP)
    assert not verify("s3cret", str(STAMP + 1), BODY, HEADER, now=STAMP)
    assert not verify("s3cret", str(STAMP), BODY + b" ", HEADER, now=STAMP)


def test_verify_refuses_a_replay_older_than_five_minutes_or_a_stamp_from_further_in_the_future() -> None:
    def at(now: float, **tolerance: float) -> bool:
        return verify("s3cret", str(STAMP), BODY, HEADER, now=now, **tolerance)

    assert at(STAMP + 300) and at(STAMP - 300)  # five minutes either way: still fresh
    assert not at(STAMP + 301) and not at(STAMP - 301)  # a replay an instant later; a clock far ahead
    assert not at(STAMP + 61, tolerance_seconds=60) and at(STAMP + 60, tolerance_seconds=60)
    fresh = str(int(time.time()))
    assert verify("s3cret", fresh, BODY, signature("s3cret", fresh, BODY))  # the receiver's own clock by default
    assert not verify("s3cret", str(STAMP), BODY, HEADER)  # a request signed in 2025, replayed today


HEX = HEADER.removeprefix("sha256=")


@pytest.mark.parametrize(
    ("timestamp", "header"),
    [
        (None, HEADER),  # missing timestamp header
        (str(STAMP), None),  # missing signature header
        ("", HEADER),
        ("now", HEADER),
        ("1764000000.0", HEADER),
        ("-1764000000", HEADER),
        (" 1764000000", HEADER),
        ("1764000000\n", HEADER),
        ("\u0661\u0667\u0666\u0664" + "\u0660" * 6, HEADER),  # Arabic-Indic digits: int() reads them
        ("9" * 5000, HEADER),  # int() refuses more than 4300 digits
        (str(STAMP), ""),
        (str(STAMP), "sha256="),
        (str(STAMP), HEX),  # no scheme
        (str(STAMP), f"sha1={HEX}"),
        (str(STAMP), f"SHA256={HEX}"),
        (str(STAMP), f"sha256={HEX[:-1]}"),  # too short
        (str(STAMP), f"sha256={HEX}0"),  # too long
        (str(STAMP), f"sha256={HEX.upper()}"),
        (str(STAMP), f"sha256={HEX[:-1]}g"),  # not hex
        (str(STAMP), f"sha256={HEX[:-1]}é"),  # non-ASCII: hmac.compare_digest raises TypeError on it
        (str(STAMP), "sha256=" + "\u0660" * 64),
        (str(STAMP), f"{HEADER}\n"),
        (str(STAMP), f"{HEADER},sha256={HEX}"),
    ],
)
def test_verify_says_false_and_never_raises_on_a_malformed_header(timestamp: str | None, header: str | None) -> None:
    assert verify("s3cret", timestamp, BODY, header, now=STAMP) is False


def test_url_credentials_are_split_off_for_basic_auth_and_redacted_with_the_query() -> None:
    url = "https://hook%20user:pa%40ss@hooks.example.com:8443/in/bsync?token=tok-123&x=1#frag"
    assert send_url(url) == ("https://hooks.example.com:8443/in/bsync?token=tok-123&x=1#frag", ("hook user", "pa@ss"))
    assert redact_url(url) == "https://***@hooks.example.com:8443/in/bsync"
    assert send_url("https://hooks.example.com/in") == ("https://hooks.example.com/in", None)
    assert redact_url("https://hooks.example.com/in?sig=abc") == "https://hooks.example.com/in"
    assert redact_url("https://token-only@hooks.example.com/") == "https://***@hooks.example.com/"


@pytest.mark.parametrize(
    "url",
    [
        "http://user:s3cr3t-pw@good.example\\x@evil.example/p",  # urllib3 (as requests) ends the host at "\\"
        "https://user@x:s3cr3t-pw@hooks.example.com/",  # an @ inside the userinfo
        "https://:s3cr3t-pw@hooks.example.com/",
        "https://user:s3cr3t-pw@[::1]:8443/p?s3cr3t-pw",
    ],
)
def test_no_form_of_userinfo_survives_redaction_or_the_url_that_is_sent(url: str) -> None:
    address, credentials = send_url(url)
    assert credentials is not None and credentials[1].endswith("s3cr3t-pw")
    assert "s3cr3t-pw" not in redact_url(url) and "***@" in redact_url(url)
    assert "s3cr3t-pw" not in address.split("?")[0]


def test_an_unparseable_url_is_a_value_error_that_does_not_repeat_it() -> None:
    url = "https://user:s3cr3t-pw@hooks.example.com:notaport/"
    with pytest.raises(ValueError) as caught:
        send_url(url)
    assert "s3cr3t-pw" not in str(caught.value)
    assert redact_url(url) == "(a URL that cannot be parsed)"
