"""Webhook delivery on the HTTP provider's hook: signed POSTs, retried with backoff, outcomes for history.

A webhook's Airflow connection (type ``http``) holds the signing secret in its Password field and,
unless the behavior file gives ``url``, the URL in Host (with Schema/Port). It must have no Login:
HttpHook would send Login and Password as basic auth, and the secret must never leave the machine.
A 2xx answer is delivered; 408, 429, 5xx and connection errors are retried up to ``attempts`` times
with doubling waits from ``backoff_seconds``; any other answer is a refusal and is not retried.
Delivery never fails the task: each event's outcome (event, status, attempts, HTTP status, URL
without query string) goes into the history row's ``details.webhooks``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
from airflow.providers.http.hooks.http import HttpHook
from airflow.sdk.exceptions import AirflowNotFoundException

from behavior_sync.destinations.retry import RetryPolicy, backoff_seconds
from behavior_sync.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSpec, body_of, signature

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
    try:
        secret = hook.secret()
    except (WebhookConfigError, AirflowNotFoundException) as exc:  # a webhook problem never fails the sync
        return [_outcome(doc, spec, "failed", 0, None, str(exc)) for doc in documents]
    policy = RetryPolicy(attempts=spec.attempts, backoff_seconds=spec.backoff_seconds)
    return [_deliver_one(hook, spec, secret, doc, policy, sleep) for doc in documents]


def _deliver_one(
    hook: WebhookHook,
    spec: WebhookSpec,
    secret: str,
    document: dict[str, Any],
    policy: RetryPolicy,
    sleep: Callable[[float], None],
) -> dict[str, Any]:
    body = body_of(document)
    status: int | None = None
    problem = ""
    for attempt in range(1, policy.attempts + 1):
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: signature(secret, stamp, body),
        }
        try:
            response = hook.run(
                endpoint=spec.url or "",
                data=body.decode("ascii"),  # body_of escapes non-ASCII: these are the signed bytes
                headers=headers,
                extra_options={"check_response": False, "timeout": _TIMEOUT_SECONDS},
            )
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
    target = urlsplit(spec.url) if spec.url else None
    where = f"{target.scheme}://{target.netloc}{target.path}" if target else f"connection {spec.connection}"
    return {
        "event": document["event"],
        "event_id": document["event_id"],
        "target": where,
        "status": status,
        "attempts": attempts,
        "http_status": http_status,
        "problem": problem,
    }
