"""The Google Data Manager API sandbox as a ``SandboxApp``: checks every call, then runs its endpoint.

Order of checks for an API call (each refusal is Google's JSON error, see ``errors``):
1. the route: unknown path or method -> 404 NOT_FOUND;
2. credentials: ``Authorization: Bearer <token>`` must be a configured access token (else 401
   UNAUTHENTICATED); ``x-goog-api-key`` a configured API key (else 400 API_KEY_INVALID); neither is
   accepted only with ``allow_anonymous`` (the official client with AnonymousCredentials sends neither);
3. for user list routes, the account in the path must be accessible with that type -> 403;
4. quota per caller (token, key or "anonymous") and quota group, per minute and per day -> 429
   RESOURCE_EXHAUSTED naming the quota (refused calls are not counted);
5. fault latency, then scripted, then random faults;
6. pending operations due on the sandbox clock are applied, then the endpoint runs under the store lock.
``/_sandbox/...`` paths are the inspection and control API (``inspection``): no credentials.
Logs carry route, account ids, counts and statuses: never identifiers, hashes or tokens.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.common.faults import FaultInjector
from sandbox.common.http import HttpLimits, Request, Response
from sandbox.common.persist import StateFile
from sandbox.common.ratelimit import SlidingWindowCounter
from sandbox.google_data_manager import audience, errors, user_lists
from sandbox.google_data_manager.config import GoogleDataManagerSandboxConfig
from sandbox.google_data_manager.errors import GoogleApiError
from sandbox.google_data_manager.inspection import handle_inspection
from sandbox.google_data_manager.store import Store

logger = logging.getLogger(__name__)

_LIST_PATH = re.compile(r"/v1/accountTypes/([A-Z_]+)/accounts/([^/]+)/userLists(?:/([^/]+))?")
_AUDIENCE = {
    "/v1/audienceMembers:ingest": ("ingest", "IngestionMutate"),
    "/v1/audienceMembers:remove": ("remove", "IngestionMutate"),
    "/v1/audienceMembers:removeAll": ("remove_all", "IngestionMutate"),
}


@dataclass(frozen=True)
class Route:
    """A matched API call: its name, quota group and, for user list routes, (type, account, list id)."""

    name: str
    quota_group: str
    account: tuple[str, str] | None = None
    list_id: str | None = None


class GoogleDataManagerSandbox:
    """The sandbox application. Thread-safe; ``close`` flushes the state file, if any."""

    def __init__(
        self,
        config: GoogleDataManagerSandboxConfig,
        state_file: Path | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.store = Store()
        self.faults = FaultInjector(config.faults)
        self.clock = clock
        self._sleep = sleep
        self._minute = SlidingWindowCounter(60.0, clock)
        self._day = SlidingWindowCounter(86_400.0, clock)
        self._stats_lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._errors: Counter[str] = Counter()
        self._state = StateFile(state_file, self.store.load_json, self._document)

    @property
    def limits(self) -> HttpLimits:
        """The transport limits to serve this app with."""
        return HttpLimits()

    def handle(self, request: Request) -> Response:
        """Answer one request (Data Manager API or ``/_sandbox``); never raises for bad input."""
        if request.path.startswith("/_sandbox/"):
            return handle_inspection(self, request)
        try:
            route = _route(request.method, request.path)
            caller = self._authenticate(request.headers)
            if route.account is not None:
                self._check_account(route.account)
            self._admit(caller, route.quota_group)
            return Response.json(200, self._run(route, request))
        except GoogleApiError as error:
            return self._refusal(error, request.method)

    def protocol_error(self, status: int, message: str) -> Response:
        """Transport refusals (URL too long, body too large, sandbox bug) in Google's error shape."""
        return GoogleApiError(status, f"(sandbox) {message}", errors.STATUS_NAMES.get(status, "INTERNAL")).response()

    def settle(self) -> int:
        """Apply the operations whose processing delay has passed; returns how many."""
        with self.store.lock:
            config = self.config
            applied = self.store.settle(self.clock(), config.processing_delay_seconds, config.remove_all_delay_seconds)
        if applied:
            self.mark_changed()
        return applied

    def stats(self) -> dict[str, Any]:
        """Admitted calls by route and refusals by ``"<code> <reason>"``."""
        with self._stats_lock:
            return {"calls": dict(sorted(self._calls.items())), "errors": dict(sorted(self._errors.items()))}

    def close(self) -> None:
        """Save the state file (when configured) and stop its flusher."""
        self._state.close()

    def mark_changed(self) -> None:
        """Note a state change, for the state file."""
        self._state.mark_changed()

    def _document(self) -> Any:
        with self.store.lock:
            return self.store.to_json()

    def _authenticate(self, headers: Mapping[str, str]) -> str:
        authorization = headers.get("authorization", "")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or token.strip() not in self.config.access_tokens:
                raise errors.unauthenticated("Request had invalid authentication credentials.")
            return f"token:{sorted(self.config.access_tokens).index(token.strip())}"
        api_key = headers.get("x-goog-api-key", "")
        if api_key:
            if api_key not in self.config.api_keys:
                raise GoogleApiError(400, "API key not valid. Please pass a valid API key.", "API_KEY_INVALID")
            return f"key:{sorted(self.config.api_keys).index(api_key)}"
        if not self.config.allow_anonymous:
            raise errors.unauthenticated("Request is missing required authentication credential.")
        return "anonymous"

    def _check_account(self, account: tuple[str, str]) -> None:
        if self.config.account_type(account[1]) != account[0]:
            raise errors.permission_denied(f"the caller does not have permission to access account {account[1]}")

    def _admit(self, caller: str, group: str) -> None:
        per_minute, per_day = self.config.requests_per_minute, self.config.requests_per_day
        key = f"{caller}/{group}"
        if self._day.count(key) >= per_day:
            raise errors.quota_exceeded(f"{group}RequestsPerDayPerProject", per_day, "day")
        if not self._minute.try_acquire(key, per_minute):
            raise errors.quota_exceeded(f"{group}RequestsPerMinutePerProject", per_minute, "minute")
        self._day.try_acquire(key, per_day)

    def _run(self, route: Route, request: Request) -> dict[str, Any]:
        delay = self.faults.latency_seconds()
        if delay:
            self._sleep(delay)
        with self._stats_lock:
            self._calls[route.name] += 1
        fault = self.faults.next_fault(request.method, request.path, default_status=503)
        if fault is not None:
            raise errors.from_fault(fault.status, fault.spec)
        self.settle()
        with self.store.lock:
            answer = self._dispatch(route, request)
        self.mark_changed()
        logger.info("%s account=%s -> 200", route.name, route.account[1] if route.account else "-")
        return answer

    def _dispatch(self, route: Route, request: Request) -> dict[str, Any]:
        if route.name == "get_request_status":
            return audience.request_status(self.store, request.query, self._visible)
        body = _json(request)
        if route.account is not None:
            if route.name == "create_user_list":
                validate_only = request.query.get("validateOnly", "").lower() == "true"
                return user_lists.create(self.store, route.account, body, validate_only)
            if route.list_id is not None:
                return user_lists.get(self.store, route.account[1], route.list_id)
            return user_lists.list_page(self.store, route.account[1], request.query)
        call = audience.Call(self.config, self.store, self.clock(), body if isinstance(body, dict) else {})
        if not isinstance(body, dict):
            raise errors.invalid_argument("INVALID_ARGUMENT", "the request body must be a JSON object")
        handler = {"ingest": audience.ingest, "remove": audience.remove, "remove_all": audience.remove_all}
        answer = handler[route.name](call)
        logger.info("%s accepted: %d destination(s)", route.name, len(body.get("destinations", [])))
        return answer

    def _visible(self, account_id: str) -> bool:
        return self.config.account_type(account_id) is not None

    def _refusal(self, error: GoogleApiError, method: str) -> Response:
        with self._stats_lock:
            self._errors[f"{error.code} {error.reason}"] += 1
        logger.info("refused %s: %s %s %s", method, error.code, error.status, error.reason)
        return error.response()


def _route(method: str, path: str) -> Route:
    if path in _AUDIENCE and method == "POST":
        name, group = _AUDIENCE[path]
        return Route(name, group)
    if path == "/v1/requestStatus:retrieve" and method == "GET":
        return Route("get_request_status", "IngestionRead")
    match = _LIST_PATH.fullmatch(path)
    if match is not None:
        account = (match.group(1), match.group(2))
        if match.group(3) is None and method == "POST":
            return Route("create_user_list", "ManagementMutate", account)
        if method == "GET":
            name = "list_user_lists" if match.group(3) is None else "get_user_list"
            return Route(name, "ManagementRead", account, match.group(3))
    raise errors.not_found(f"no such method: {method} {path[:120]}")


def _json(request: Request) -> Any:
    try:
        return request.json_body()
    except (ValueError, UnicodeDecodeError):
        raise errors.invalid_argument("INVALID_ARGUMENT", "the request body is not valid JSON") from None
