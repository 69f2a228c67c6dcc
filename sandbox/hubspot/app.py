"""The HubSpot API sandbox as a ``SandboxApp``: checks every call, then runs its endpoint.

Order of checks for an API call (each failure is HubSpot's error body):
1. the API version the path names (one not in ``api_versions``: 404), the route (unknown path 404,
   wrong method 405), then the configured latency;
2. ``Authorization: Bearer <token>`` (missing or unknown: 401 INVALID_AUTHENTICATION);
3. the token's scopes (none of the route's scopes: 403 MISSING_SCOPES naming them);
4. the portal's limits: 10-second rolling window, then the daily budget, then for searches the
   per-token rate (429 with ``policyName``); refused calls do not count;
5. scripted, then random faults (they count as calls: they reached "HubSpot");
6. the endpoint's own validation and work, under the store lock.
Every answer from step 3 on carries the X-HubSpot-RateLimit-* headers of the token's portal.
``/_sandbox/...`` paths are the inspection and control API (``inspection``): no token.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path

from sandbox.common.faults import FaultInjector
from sandbox.common.http import HttpLimits, Request, Response
from sandbox.common.persist import StateFile
from sandbox.hubspot import errors
from sandbox.hubspot.calls import Call, Reply
from sandbox.hubspot.config import HubSpotSandboxConfig, PortalConfig, TokenGrant
from sandbox.hubspot.errors import HubSpotError, RateLimited
from sandbox.hubspot.inspection import handle_inspection
from sandbox.hubspot.limits import RequestLimiter
from sandbox.hubspot.routing import Route, api_version, match, normalize
from sandbox.hubspot.store import Store

logger = logging.getLogger(__name__)

_PROTOCOL_CATEGORIES = {500: "INTERNAL_ERROR"}


class HubSpotSandbox:
    """The sandbox application. Thread-safe; ``close`` flushes the state file, if any."""

    def __init__(
        self,
        config: HubSpotSandboxConfig,
        state_file: Path | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.clock = clock
        self.store = Store(config.portals, clock)
        self.limiter = RequestLimiter(clock)
        self.faults = FaultInjector(config.faults)
        self.calls: Counter[tuple[int, str]] = Counter()
        self.versions: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self._stats_lock = threading.Lock()
        self._sleep = sleep
        self._state = StateFile(state_file, self.store.load_json, self.store.to_json)
        if self.store.seed(config.portals):
            self.mark_changed()

    @property
    def limits(self) -> HttpLimits:
        """The transport limits to serve this app with."""
        return HttpLimits()

    def handle(self, request: Request) -> Response:
        """Answer one request (HubSpot API or ``/_sandbox``); never raises for bad input."""
        if request.path.startswith("/_sandbox/"):
            return handle_inspection(self, request)
        portal: PortalConfig | None = None
        try:
            route, params, version = self._route(request)
            token, grant = self._authenticate(request.headers)
            portal = self.config.portals[grant.portal_id]
            if route.scopes and not route.scopes & grant.scopes:
                raise errors.missing_scopes(sorted(route.scopes))
            self.limiter.admit(portal, token if route.is_search else None, self.config.search_requests_per_second)
            with self._stats_lock:
                self.calls[(portal.portal_id, route.name)] += 1
                self.versions[version or "unversioned"] += 1
            self._inject_fault(request)
            data = self.store.portals[portal.portal_id]
            call = Call(
                request, params, portal, grant, version, data, self.store, self.config, self.limiter, self.clock()
            )
            return self._response(self._run(route, call), portal)
        except HubSpotError as error:
            return self._refusal(error, portal)

    def protocol_error(self, status: int, message: str) -> Response:
        """Transport refusals (URL too long, body too large, sandbox bug) as HubSpot error bodies."""
        category = _PROTOCOL_CATEGORIES.get(status, "VALIDATION_ERROR")
        return HubSpotError(status, f"(sandbox) {message}", category).response()

    def stats(self) -> tuple[dict[str, dict[str, int]], dict[str, int], dict[str, int]]:
        """Admitted calls by portal and route name, admitted calls by the API version their path names (``v3``,
        ``YYYY-MM``, ``unversioned``), and error answers by ``"<status> <category|policy>"``."""
        with self._stats_lock:
            calls: dict[str, dict[str, int]] = {}
            for (portal_id, name), count in sorted(self.calls.items()):
                calls.setdefault(str(portal_id), {})[name] = count
            return calls, dict(self.versions), dict(self.errors)

    def close(self) -> None:
        """Save the state file (when configured) and stop its flusher."""
        self._state.close()

    def mark_changed(self) -> None:
        """Note a state change, for the state file."""
        self._state.mark_changed()

    def _route(self, request: Request) -> tuple[Route, dict[str, str], str | None]:
        path, version = api_version(normalize(request.path))
        if version is not None and version not in self.config.api_versions:
            raise errors.unserved_version(version, normalize(request.path))
        route, params, path_exists = match(request.method, path)
        if route is None:
            raise errors.unknown_route(request.method, normalize(request.path), path_exists)
        delay = self.faults.latency_seconds()
        if delay:
            self._sleep(delay)
        return route, params, version

    def _authenticate(self, headers: Mapping[str, str]) -> tuple[str, TokenGrant]:
        scheme, _, token = headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise errors.missing_credentials()
        grant = self.config.tokens.get(token.strip())
        if grant is None:
            raise errors.invalid_token()
        return token.strip(), grant

    def _inject_fault(self, request: Request) -> None:
        fault = self.faults.next_fault(request.method, normalize(request.path), default_status=500)
        if fault is not None:
            raise errors.from_fault(fault.status, fault.spec)

    def _run(self, route: Route, call: Call) -> Reply:
        with self.store.lock:
            reply = route.handler(call)
        if route.method != "GET":
            self.mark_changed()
        logger.debug("%s portal=%s -> %s", route.name, call.portal.portal_id, reply.status)
        return reply

    def _response(self, reply: Reply, portal: PortalConfig) -> Response:
        headers = self.limiter.headers(portal)
        if reply.body is None:
            return Response(reply.status, b"", headers)
        return Response.json(reply.status, reply.body, headers)

    def _refusal(self, error: HubSpotError, portal: PortalConfig | None) -> Response:
        kind = error.policy if isinstance(error, RateLimited) else error.category
        with self._stats_lock:
            self.errors[f"{error.status} {kind}"] += 1
        logger.debug("refused: %s %s (portal %s)", error.status, kind, portal.portal_id if portal else "-")
        return error.response(self.limiter.headers(portal) if portal is not None else None)
