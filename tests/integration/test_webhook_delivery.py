"""Webhook delivery through the HTTP provider's hook to a receiver on 127.0.0.1: signatures, retries, refusals,
and a URL's credentials kept out of the outcome (history) and the logs."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from behavior_sync.webhooks import WebhookSpec
from behavior_sync_airflow.webhooks import deliver
from tests.support.webhook_receiver import SECRET, Received, Receiver, webhook_receiver

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


URL_PASSWORD, QUERY_TOKEN = "pa55word-in-url", "tok-in-query-123"


@pytest.fixture()
def logged(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> Callable[[], str]:
    """Everything logged from here on at DEBUG (stdlib records and what Airflow's loggers print). urllib3's logger
    is set too: once a DAG run has configured Airflow's logging, it sits at WARNING on its own."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")

    def text() -> str:
        out, err = capfd.readouterr()
        return caplog.text + out + err

    return text


def credentials_of(request: Received) -> str:
    scheme, _, value = request.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    return base64.b64decode(value).decode()


def assert_kept_out(outcome: dict[str, Any], logs: str) -> None:
    """The URL's password is in no log line at all; the query token only in urllib3's DEBUG request line, and
    Airflow's secrets masker (every task log line passes through it) now replaces both."""
    from airflow.sdk._shared.secrets_masker import redact

    assert URL_PASSWORD not in json.dumps(outcome) and QUERY_TOKEN not in json.dumps(outcome)
    assert URL_PASSWORD not in logs
    assert [line for line in logs.splitlines() if QUERY_TOKEN in line and "connectionpool" not in line] == []
    assert redact(f"at /in?token={QUERY_TOKEN} as hook-user:{URL_PASSWORD}") == "at /in?token=*** as hook-user:***"


@pytest.mark.parametrize("where", ["url", "connection host"])
def test_url_credentials_go_as_basic_auth_and_never_reach_the_outcome_or_the_logs(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, logged: Callable[[], str], where: str
) -> None:
    with_credentials = receiver.url.replace("://", f"://hook-user:{URL_PASSWORD}@") + f"?token={QUERY_TOKEN}"
    if where == "url":
        webhook = spec(receiver, url=with_credentials)
    else:
        connection = {"conn_type": "http", "host": with_credentials, "password": SECRET}
        monkeypatch.setenv("AIRFLOW_CONN_HOOKS_TEST", json.dumps(connection))
        webhook = spec(receiver)
    (outcome,) = deliver(webhook, [DOCUMENT], sleep=lambda _s: None)
    assert (outcome["status"], receiver.requests[0].signed) == ("delivered", True)
    assert credentials_of(receiver.requests[0]) == f"hook-user:{URL_PASSWORD}"  # still sent, as before
    assert receiver.requests[0].path == f"/hooks/behavior-sync?token={QUERY_TOKEN}"
    expected = (
        f"http://***@127.0.0.1:{receiver.port}/hooks/behavior-sync" if where == "url" else "connection hooks_test"
    )
    assert outcome["target"] == expected
    logs = logged()
    assert f"127.0.0.1:{receiver.port}" in logs  # DEBUG lines of the request were captured
    assert_kept_out(outcome, logs)


def test_an_unreachable_url_with_credentials_fails_without_repeating_them(
    receiver: Receiver, logged: Callable[[], str]
) -> None:
    closed = f"http://hook-user:{URL_PASSWORD}@127.0.0.1:9/nowhere?token={QUERY_TOKEN}"
    (outcome,) = deliver(spec(receiver, url=closed, attempts=2), [DOCUMENT], sleep=lambda _s: None)
    assert (outcome["status"], outcome["target"]) == ("failed", "http://***@127.0.0.1:9/nowhere")
    assert_kept_out(outcome, logged())


def test_an_unparseable_url_fails_without_repeating_it(receiver: Receiver) -> None:
    bad = f"http://hook-user:{URL_PASSWORD}@127.0.0.1:notaport/"
    (outcome,) = deliver(spec(receiver, url=bad), [DOCUMENT])
    assert (outcome["status"], outcome["problem"]) == ("failed", "the webhook URL cannot be parsed")
    assert URL_PASSWORD not in json.dumps(outcome) and receiver.requests == []
