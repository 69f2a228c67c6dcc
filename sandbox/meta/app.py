"""The Meta Graph API sandbox as a ``SandboxApp``: checks every Graph call, then runs its endpoint.

Order of checks for a Graph call (each failure is Meta's error body, HTTP 400 unless noted):
1. path ``/v{N}.{M}/{node}[/{edge}]`` (else 2500), then the configured latency;
2. ``access_token`` in the query string (missing: 104, unknown: 190) and, when the token's app
   has a secret, ``appsecret_proof`` = HMAC-SHA256(secret, token) (missing or wrong: 100);
3. the ad account: ``act_<id>`` the token cannot use → 200; an audience that does not exist or
   belongs to an account the token cannot use → 100/33; a write without ads_management → 294;
4. the endpoint exists for this method (else 100/33);
5. scripted, then random faults (5xx bodies are code 1 or 2, transient);
6. the ad account's hourly call budget (exhausted: 80003, transient);
7. writes to ``/users`` or ``/usersreplace`` of a flagged audience → 100/1713230;
8. the endpoint's own validation (``payload``, fields, ...).
Every response after step 3 carries ``X-Business-Use-Case-Usage`` for the ad account.
``/_sandbox/...`` paths are the inspection and control API (``inspection``): no token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sandbox.common.faults import FaultInjector
from sandbox.common.http import HttpLimits, Request, Response
from sandbox.common.persist import StateFile
from sandbox.common.ratelimit import SlidingWindowCounter
from sandbox.meta import errors
from sandbox.meta.config import MetaSandboxConfig, TokenGrant
from sandbox.meta.endpoints import ENDPOINTS, USER_EDGES
from sandbox.meta.errors import GraphError
from sandbox.meta.insights import REPORTING_ENDPOINTS, find_ad_set
from sandbox.meta.inspection import handle_inspection
from sandbox.meta.routing import WRITE_METHODS, Call, Route, parse_route
from sandbox.meta.store import AudienceStore

logger = logging.getLogger(__name__)

_ENDPOINTS = {**ENDPOINTS, **REPORTING_ENDPOINTS}
USAGE_HEADER = "X-Business-Use-Case-Usage"
HOUR_SECONDS = 3600.0


@dataclass
class _Usage:
    """What the usage header of one response says."""

    account_id: str | None = None
    throttled_minutes: int | None = None


class MetaSandbox:
    """The sandbox application. Thread-safe; ``close`` flushes the state file, if any."""

    def __init__(
        self,
        config: MetaSandboxConfig,
        state_file: Path | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.clock = clock
        self.store = AudienceStore(clock)
        self.faults = FaultInjector(config.faults)
        self.budget = SlidingWindowCounter(HOUR_SECONDS, clock)
        self.calls: Counter[str] = Counter()
        self.errors: Counter[int] = Counter()
        self._stats_lock = threading.Lock()
        self._sleep = sleep
        self._state = StateFile(state_file, self.store.load_json, self.store.to_json)

    @property
    def limits(self) -> HttpLimits:
        """The transport limits to serve this app with (URL length as configured)."""
        return HttpLimits(max_url_bytes=self.config.max_url_bytes)

    def handle(self, request: Request) -> Response:
        """Answer one request (Graph or ``/_sandbox``); never raises for bad input."""
        if request.path.startswith("/_sandbox/"):
            return handle_inspection(self, request)
        usage = _Usage()
        try:
            body = self._graph_call(request, usage)
            return Response.json(200, body, self._usage_headers(usage))
        except GraphError as error:
            with self._stats_lock:
                self.errors[error.code] += 1
            return error.response(self._usage_headers(usage))

    def protocol_error(self, status: int, message: str) -> Response:
        """Transport refusals (URL too long, body too large, sandbox bug) as Graph errors."""
        if status == 414:
            message += " (real Graph drops such requests with a broken pipe: send fewer rows per DELETE)"
        transient = status >= 500
        return GraphError(1, f"(sandbox) {message}", status=status, is_transient=transient).response()

    def stats(self) -> tuple[dict[str, int], dict[str, int]]:
        """Accepted Graph calls by ``METHOD kind/edge``, and Graph errors by code."""
        with self._stats_lock:
            return dict(self.calls), {str(code): count for code, count in self.errors.items()}

    def close(self) -> None:
        """Save the state file (when configured) and stop its flusher."""
        self._state.close()

    def mark_changed(self) -> None:
        """Note a state change, for the state file."""
        self._state.mark_changed()

    def _graph_call(self, request: Request, usage: _Usage) -> dict[str, object]:
        route = parse_route(request.path)
        delay = self.faults.latency_seconds()
        if delay:
            self._sleep(delay)
        grant = self._authenticate(request.query)
        call = self._authorize(request, route, grant)
        usage.account_id = call.account_id
        kind = "account" if route.account_id is not None else "audience" if call.audience_id else "adset"
        endpoint = _ENDPOINTS.get((kind, route.edge, request.method))
        if endpoint is None:
            raise errors.unsupported_request(request.method, route.node)
        self._inject_fault(request.method, route, usage)
        self._spend_budget(call.account_id, usage)
        with self._stats_lock:
            self.calls[f"{request.method} {kind}/{route.edge or '-'}"] += 1
        if route.edge in USER_EDGES and call.audience_id and self.store.is_flagged(call.audience_id):
            raise errors.upload_blocked()
        body = endpoint(self, call)
        if request.method in WRITE_METHODS:
            self.mark_changed()
        return body

    def _authenticate(self, query: Mapping[str, str]) -> TokenGrant:
        token = query.get("access_token")
        if not token:
            raise errors.missing_token()
        grant = self.config.tokens.get(token)
        if grant is None:
            raise errors.invalid_token()
        if grant.app_secret is not None:
            proof = query.get("appsecret_proof")
            if not proof:
                raise errors.appsecret_proof_error(missing=True)
            expected = hmac.new(grant.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(proof, expected):
                raise errors.appsecret_proof_error(missing=False)
        return grant

    def _authorize(self, request: Request, route: Route, grant: TokenGrant) -> Call:
        account_id, audience_id = route.account_id, None
        if account_id is not None:
            if not grant.can_read(account_id):
                raise errors.no_account_access(account_id)
        elif route.is_object:
            owner = self.store.owner(route.node)
            ad_set = None if owner else find_ad_set(self.store, route.node)  # reporting: insights of an ad set
            owner = ad_set.account_id if ad_set else owner
            if owner is None or not grant.can_read(owner):
                raise errors.unsupported_request(request.method, route.node)
            account_id, audience_id = owner, None if ad_set else route.node
        else:
            raise errors.unknown_path(route.path)
        if request.method in WRITE_METHODS and not grant.can_write():
            raise errors.needs_ads_management()
        return Call(request.method, route, request.params, account_id, audience_id)

    def _inject_fault(self, method: str, route: Route, usage: _Usage) -> None:
        fault = self.faults.next_fault(method, route.path)
        if fault is None:
            return
        error = errors.from_fault_spec(fault.spec, fault.status)
        if error.code in errors.THROTTLE_CODES:
            usage.throttled_minutes = int(fault.spec.get("estimated_time_to_regain_access", 1))
        raise error

    def _spend_budget(self, account_id: str, usage: _Usage) -> None:
        limit = self.config.hourly_call_budget
        if not self.budget.try_acquire(account_id, limit):
            usage.throttled_minutes = max(1, self.budget.minutes_until_available(account_id, limit))
            raise errors.buc_throttled()

    def _usage_headers(self, usage: _Usage) -> dict[str, str]:
        if usage.account_id is None:
            return {}
        if usage.throttled_minutes is not None:
            percent, regain = 100, usage.throttled_minutes
        else:
            used = self.budget.count(usage.account_id)
            percent, regain = min(100, used * 100 // self.config.hourly_call_budget), 0
        entry = {
            "type": "custom_audience",
            "call_count": percent,
            "total_cputime": percent,
            "total_time": percent,
            "estimated_time_to_regain_access": regain,
        }
        return {USAGE_HEADER: json.dumps({usage.account_id: [entry]}, separators=(",", ":"))}
