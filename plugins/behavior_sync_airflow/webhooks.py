"""Webhook delivery on the HTTP provider's hook: signed POSTs, retried with backoff, outcomes for history.

A webhook's Airflow connection (type ``http``) holds the signing secret in its Password field and,
unless the behavior file gives ``url``, the URL in Host (with Schema/Port). It must have no Login:
HttpHook would send Login and Password as basic auth, and the secret must never leave the machine.
A 2xx answer is delivered; 408, 429, 5xx and connection errors are retried up to ``attempts`` times
with doubling waits from ``backoff_seconds``; any other answer is a refusal and is not retried.
Delivery never fails the task: each event's outcome (event, status, attempts, HTTP status, URL
redacted: no ``user:password@``, no query string) goes into the history row's ``details.webhooks``.

Credentials in a URL (the behavior file's ``url`` or the connection's Host) are sent as basic auth, never as
part of a URL string; requests go through the hook's session (the connection's extras: proxies, verify, ...)
rather than ``HttpHook.run``, which logs the URL and a failed connection's path and query. The URL's password
and its query's values are also registered with Airflow's secrets masker: urllib3's DEBUG request lines show
``***`` in task logs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from airflow.providers.http.hooks.http import HttpHook
from airflow.sdk.exceptions import AirflowNotFoundException
from airflow.sdk.log import mask_secret

from behavior_sync.destinations.retry import RetryPolicy, backoff_seconds
from behavior_sync.webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookSpec,
    body_of,
    query_values,
    redact_url,
    send_url,
    signature,
)

_RETRYABLE = frozenset({408, 429})
_TIMEOUT_SECONDS = 10


class WebhookConfigError(ValueError):
    """A webhook connection that cannot be used safely (names the connection and what to change)."""


class WebhookHook(HttpHook):
    """HttpHook for one webhook connection: the endpoint may be an absolute URL, the password is the secret."""

    def __init__(self, conn_id: str) -> None:
        super().__init__(method="POST", http_conn_id=conn_id)

    def url_from_endpoint(self, endpoint: str | None) -> str:
        """``endpoint`` itself when it is an absolute URL (the behavior file's ``url``), else the provider's."""
        if endpoint and "://" in endpoint:
            return endpoint
        return str(super().url_from_endpoint(endpoint))

    def target(self, url: str | None) -> tuple[str, tuple[str, str] | None]:
        """Where to POST (``url``, default the connection's URL) without credentials, and the URL's basic-auth
        credentials or None. Masks the password and the query's values in Airflow's logs.

        Raises ``ValueError`` (naming no part of the URL) when it cannot be parsed."""
        full = self.url_from_endpoint(url or None)
        address, credentials = send_url(full)
        for secret in query_values(full) + ([credentials[1]] if credentials else []):
            mask_secret(secret)
        return address, credentials

    def secret(self) -> str:
        """The signing secret; WebhookConfigError when the connection has a login or no password."""
        conn = self.get_connection(self.http_conn_id)
        if conn.login:
            raise WebhookConfigError(
                f"webhook connection {self.http_conn_id!r} has a Login: HttpHook would send the signing secret as "
                "basic auth; clear Login and keep the secret in Password"
            )
        if not conn.password:
            raise WebhookConfigError(f"webhook connection {self.http_conn_id!r} has no Password (the signing secret)")
        return str(conn.password)


def deliver(
    spec: WebhookSpec, documents: list[dict[str, Any]], sleep: Callable[[float], None] = time.sleep
) -> list[dict[str, Any]]:
    """POSTs each event document to the webhook; returns one outcome per document (never raises for a
    delivery failure; a connection that cannot be used yields ``failed`` outcomes naming why)."""
    hook = WebhookHook(spec.connection)
    try:  # a webhook that cannot be used never fails the sync
        secret = hook.secret()
        send = _Send(hook.get_conn(), *hook.target(spec.url), secret)
    except (WebhookConfigError, AirflowNotFoundException) as exc:
        return [_outcome(doc, spec, "failed", 0, None, str(exc)) for doc in documents]
    except ValueError:  # the URL's text may hold credentials: not repeated
        return [_outcome(doc, spec, "failed", 0, None, "the webhook URL cannot be parsed") for doc in documents]
    policy = RetryPolicy(attempts=spec.attempts, backoff_seconds=spec.backoff_seconds)
    return [_deliver_one(send, spec, doc, policy, sleep) for doc in documents]


@dataclass(frozen=True)
class _Send:
    """How to reach one webhook: the connection's session, the URL without credentials, its basic auth, the
    signing secret."""

    session: requests.Session
    url: str
    auth: tuple[str, str] | None
    secret: str


def _deliver_one(
    send: _Send, spec: WebhookSpec, document: dict[str, Any], policy: RetryPolicy, sleep: Callable[[float], None]
) -> dict[str, Any]:
    body = body_of(document)
    status: int | None = None
    problem = ""
    for attempt in range(1, policy.attempts + 1):
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: signature(send.secret, stamp, body),
        }
        try:
            response = send.session.post(send.url, data=body, headers=headers, auth=send.auth, timeout=_TIMEOUT_SECONDS)
            status, problem = response.status_code, f"HTTP {response.status_code}"
        except requests.RequestException as exc:
            status, problem = None, type(exc).__name__
        if status is not None and 200 <= status < 300:
            return _outcome(document, spec, "delivered", attempt, status, "")
        if status is not None and status < 500 and status not in _RETRYABLE:
            return _outcome(document, spec, "refused", attempt, status, problem)
        if attempt < policy.attempts:
            sleep(backoff_seconds(policy, attempt))
    return _outcome(document, spec, "failed", policy.attempts, status, problem)


def _outcome(
    document: dict[str, Any], spec: WebhookSpec, status: str, attempts: int, http_status: int | None, problem: str
) -> dict[str, Any]:
    return {
        "event": document["event"],
        "event_id": document["event_id"],
        "target": redact_url(spec.url) if spec.url else f"connection {spec.connection}",
        "status": status,
        "attempts": attempts,
        "http_status": http_status,
        "problem": problem,
    }
