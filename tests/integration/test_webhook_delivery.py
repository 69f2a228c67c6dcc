"""Webhook delivery through the HTTP provider's hook to a receiver on 127.0.0.1: signatures, retries, refusals."""

from __future__ import annotations

import pytest

from behavior_sync.webhooks import WebhookSpec
from behavior_sync_airflow.webhooks import deliver
from tests.support.webhook_receiver import Receiver, webhook_receiver

DOCUMENT = {"event": "sync_completed", "event_id": "e1", "behavior": {"slug": "value_hunters"}}


def spec(receiver: Receiver, **entry: object) -> WebhookSpec:
    return WebhookSpec.from_config({"connection": "hooks_test", "backoff_seconds": 0.5, **entry})


@pytest.fixture()
def receiver(monkeypatch: pytest.MonkeyPatch) -> Receiver:
    with webhook_receiver() as running:
        monkeypatch.setenv("AIRFLOW_CONN_HOOKS_TEST", running.connection())
        yield running


def test_a_delivery_is_signed_with_the_connections_secret_and_retried_on_500_with_backoff(receiver: Receiver) -> None:
    receiver.answers = [500, 503]
    waits: list[float] = []
    (outcome,) = deliver(spec(receiver, url=receiver.url), [DOCUMENT], sleep=waits.append)
    assert (outcome["status"], outcome["attempts"], outcome["http_status"]) == ("delivered", 3, 204)
    assert waits == [0.5, 1.0] and len(receiver.requests) == 3
    assert all(r.signed and r.path == "/hooks/behavior-sync" for r in receiver.requests)
    assert receiver.requests[-1].document == DOCUMENT
    assert "Authorization" not in receiver.requests[0].headers  # the secret signs; it is never sent
    assert outcome["target"] == receiver.url


def test_the_connections_url_is_used_without_url_and_a_4xx_is_a_refusal_not_retried(receiver: Receiver) -> None:
    receiver.answers = [410]
    (outcome,) = deliver(spec(receiver), [DOCUMENT], sleep=lambda _s: None)
    assert (outcome["status"], outcome["attempts"], outcome["http_status"]) == ("refused", 1, 410)
    assert receiver.requests[0].path == "/" and outcome["target"] == "connection hooks_test"


def test_attempts_end_in_failed_with_the_last_answer(receiver: Receiver) -> None:
    receiver.answers = [500] * 5
    (outcome,) = deliver(spec(receiver, attempts=2), [DOCUMENT], sleep=lambda _s: None)
    assert (outcome["status"], outcome["attempts"], outcome["http_status"], outcome["problem"]) == (
        "failed",
        2,
        500,
        "HTTP 500",
    )


def test_a_connection_with_a_login_or_none_at_all_sends_nothing_and_says_why(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_HOOKS_TEST", receiver.connection(login="someone"))
    (outcome,) = deliver(spec(receiver, url=receiver.url), [DOCUMENT])
    assert outcome["status"] == "failed" and "basic auth" in outcome["problem"] and receiver.requests == []
    (missing,) = deliver(WebhookSpec.from_config({"connection": "no_such_hook"}), [DOCUMENT])
    assert missing["status"] == "failed" and "no_such_hook" in missing["problem"]


def test_an_unreachable_receiver_is_retried_then_failed(receiver: Receiver) -> None:
    closed = "http://127.0.0.1:9/nowhere"  # discard port: nothing listens
    (outcome,) = deliver(spec(receiver, url=closed, attempts=2), [DOCUMENT], sleep=lambda _s: None)
    assert (outcome["status"], outcome["attempts"], outcome["http_status"]) == ("failed", 2, None)
    assert outcome["problem"] == "ConnectionError"
