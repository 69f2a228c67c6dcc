"""The CleverTap API sandbox as a ``SandboxApp``: checks every call, then runs its endpoint.

Order of checks for an API call (each refusal is CleverTap's ``{"status": "fail", "error", "code"}``):
1. the route (after an optional ``/<region>`` prefix): unknown path 404, wrong method 405;
2. ``X-CleverTap-Account-Id``: missing, unknown, or an account of another region than the one the
   request names (path prefix or ``Host``) -> 401 "Account ID is not valid";
3. ``X-CleverTap-Passcode``: missing or not one of the account's passcodes -> 401;
4. concurrency: more than ``upload_concurrency`` (15) uploads, or ``other_concurrency`` (3) deletes and profile reads,
   in flight for the account -> 429 "Too many concurrent requests" (no Retry-After); refused calls
   hold no slot and are not counted;
5. inside the slot: fault latency plus ``processing_delay_ms``, then scripted, then random faults
   (they count as calls: they reached "CleverTap"), then the endpoint under the store lock.
``/_sandbox/...`` paths are the inspection and control API (``inspection``): no credentials.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sandbox.clevertap import errors
from sandbox.clevertap.concurrency import ConcurrencyGate
from sandbox.clevertap.config import AccountConfig, CleverTapSandboxConfig
from sandbox.clevertap.endpoints import Call, Outcome, delete_profiles, upload
from sandbox.clevertap.errors import CleverTapError
from sandbox.clevertap.inspection import handle_inspection
from sandbox.clevertap.profile_read import read_profile
from sandbox.clevertap.routing import PROFILE, UPLOAD, Route, Target, match, resolve
from sandbox.clevertap.store import Store
from sandbox.common.faults import FaultInjector
from sandbox.common.http import HttpLimits, Request, Response
from sandbox.common.persist import StateFile

logger = logging.getLogger(__name__)


class CleverTapSandbox:
    """The sandbox application. Thread-safe; ``close`` flushes the state file, if any."""

    def __init__(
        self,
        config: CleverTapSandboxConfig,
        state_file: Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.store = Store(config.accounts)
        self.gate = ConcurrencyGate()
        self.faults = FaultInjector(config.faults)
        self._sleep = sleep
        self._stats_lock = threading.Lock()
        self._calls: Counter[tuple[str, str]] = Counter()
        self._errors: Counter[str] = Counter()
        self._records: Counter[tuple[str, str]] = Counter()
        self._call_number = 0
        self._state = StateFile(state_file, self.store.load_json, self.store.to_json)

    @property
    def limits(self) -> HttpLimits:
        """The transport limits to serve this app with."""
        return HttpLimits()

    def handle(self, request: Request) -> Response:
        """Answer one request (CleverTap API or ``/_sandbox``); never raises for bad input."""
        if request.path.startswith("/_sandbox/"):
            return handle_inspection(self, request)
        account: AccountConfig | None = None
        try:
            target = resolve(request.path, request.headers.get("host", ""))
            route = self._route(request.method, target)
            account = self._authenticate(request.headers, target.region)
            limit = self.config.upload_concurrency if route.group == "upload" else self.config.other_concurrency
            with self.gate.slot(account.account_id, route.group, limit) as admitted:
                if not admitted:
                    raise errors.too_many_concurrent()
                if route.name == PROFILE:
                    return self._read(route, account, request.method, target, request.query)
                return self._run(route, account, request.method, target, request.body)
        except CleverTapError as error:
            return self._refusal(error, account)

    def protocol_error(self, status: int, message: str) -> Response:
        """Transport refusals (URL too long, body too large, sandbox bug) in CleverTap's error shape."""
        return CleverTapError(status, f"(sandbox) {message}", "protocol").response()

    def stats(self) -> dict[str, Any]:
        """Admitted calls by account and route, refusals by ``"<status> <reason>"``, record outcomes by account."""
        with self._stats_lock:
            calls: dict[str, dict[str, int]] = {}
            for (account_id, name), count in sorted(self._calls.items()):
                calls.setdefault(account_id, {})[name] = count
            records: dict[str, dict[str, int]] = {}
            for (account_id, outcome), count in sorted(self._records.items()):
                records.setdefault(account_id, {})[outcome] = count
            return {"calls": calls, "errors": dict(sorted(self._errors.items())), "records": records}

    def close(self) -> None:
        """Save the state file (when configured) and stop its flusher."""
        self._state.close()

    def mark_changed(self) -> None:
        """Note a state change, for the state file."""
        self._state.mark_changed()

    def _route(self, method: str, target: Target) -> Route:
        route, path_exists = match(method, target.path)
        if route is None:
            raise errors.unknown_route(path_exists)
        return route

    def _authenticate(self, headers: Mapping[str, str], region: str | None) -> AccountConfig:
        account = self.config.accounts.get(headers.get("x-clevertap-account-id", "").strip())
        if account is None or (region is not None and region != account.region):
            raise errors.invalid_account()
        if headers.get("x-clevertap-passcode", "") not in account.passcodes:
            raise errors.invalid_passcode()
        return account

    def _admit(self, route: Route, account: AccountConfig, method: str, target: Target) -> int:
        """Inside the slot: latency, the call's count (its number), then scripted and random faults."""
        delay = self.faults.latency_seconds() + self.config.processing_delay_ms / 1000.0
        if delay:
            self._sleep(delay)
        number = self._count_call(account.account_id, route.name)
        fault = self.faults.next_fault(method, target.path, default_status=503)
        if fault is not None:
            raise errors.from_fault(fault.status, fault.spec)
        return number

    def _run(self, route: Route, account: AccountConfig, method: str, target: Target, body: bytes) -> Response:
        number = self._admit(route, account, method, target)
        call = Call(account.account_id, body, self.config, self.store, number)
        outcome = upload(call) if route.name == UPLOAD else delete_profiles(call)
        self._count_outcome(account.account_id, route.name, outcome)
        self.mark_changed()
        logger.info("%s account=%s call=%d %s", route.name, account.account_id, number, outcome.summary)
        return Response.json(200, outcome.body)

    def _read(
        self, route: Route, account: AccountConfig, method: str, target: Target, query: Mapping[str, str]
    ) -> Response:
        """A profile read (``profile_read``): faults and latency as for writes; nothing changes."""
        self._admit(route, account, method, target)
        return Response.json(200, read_profile(self.store, account.account_id, query))

    def _count_call(self, account_id: str, route_name: str) -> int:
        with self._stats_lock:
            self._calls[(account_id, route_name)] += 1
            self._call_number += 1
            return self._call_number

    def _count_outcome(self, account_id: str, route_name: str, outcome: Outcome) -> None:
        if route_name != UPLOAD:
            return
        with self._stats_lock:
            self._records[(account_id, "processed")] += int(outcome.body["processed"])
            for code, count in outcome.codes.items():
                self._records[(account_id, f"unprocessed_{code}")] += count

    def _refusal(self, error: CleverTapError, account: AccountConfig | None) -> Response:
        with self._stats_lock:
            self._errors[f"{error.status} {error.reason}"] += 1
        logger.info("refused: %s %s (account %s)", error.status, error.reason, account.account_id if account else "-")
        return error.response()
