"""``/_sandbox/...`` on the sandbox's HTTP inspection port: read-only views and fault controls.

No credentials; plain JSON (errors ``{"error": "..."}`` with 400 or 404). Reads first finish due jobs.

* ``GET /_sandbox/state`` — customers, counts of lists, members and jobs by status, admitted calls by
  method, refusals by ``"<gRPC status> <kind>.<code>"``, limits, faults.
* ``GET /_sandbox/user_lists[?customer=]`` — every list: ``{customer_id, id, resource_name, name,
  upload_key_type, app_id, membership_life_span, members, matched}`` (counts).
* ``GET /_sandbox/user_lists/{id}/members`` — ``{"resource_name", "members": [[identifier, ...], ...]}``,
  identifiers as stored (``email:<hex>``, ``phone:<hex>``, ``address:...``, ``crm:...``, ``mobile:...``).
* ``GET /_sandbox/jobs`` — every job: ``{resource_name, user_list, status, kind, remove_all, queued,
  uploaded, matched, consent}``.
* ``POST /_sandbox/faults`` — ``{"scripted": [spec, ...], "random": {fault config}}``; a spec is
  ``{"match": regex on "POST /<gRPC method path>", "count": N, "http_status": 429, "error":
  "quota_error.RESOURCE_EXHAUSTED", "message": "...", "answer_lost": false, "job_fails": false}``
  (``faults`` says what each key does and maps statuses to gRPC).
* ``DELETE /_sandbox/faults`` — drop scripted faults and turn random faults off.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.common.http import Request, Response
from sandbox.common.inspection import answer_read_or_faults, faults_view
from sandbox.google_ads.app import GoogleAdsSandbox
from sandbox.google_ads.faults import FAULT_SPECS
from sandbox.google_ads.store import UserListRecord

_MEMBERS = re.compile(r"/_sandbox/user_lists/(\d+)/members")
_LIMITS = ("processing_delay_seconds", "requests_per_minute", "max_identifiers_per_request", "max_identifiers_per_user")


class GoogleAdsInspection:
    """The inspection API as a ``SandboxApp`` for ``sandbox.common.http``."""

    def __init__(self, sandbox: GoogleAdsSandbox) -> None:
        self._sandbox = sandbox

    def handle(self, request: Request) -> Response:
        """Answer a ``/_sandbox/...`` request (see the module docstring)."""

        def read(path: str) -> dict[str, Any]:
            self._sandbox.settle()
            with self._sandbox.store.lock:
                return _read(self._sandbox, request, path)

        return answer_read_or_faults(request, self._sandbox.faults, FAULT_SPECS, read, not_found="no sandbox endpoint")

    def protocol_error(self, status: int, message: str) -> Response:
        """Transport refusals as ``{"error": message}``."""
        return Response.json(status, {"error": message})

    def close(self) -> None:
        """Nothing to flush: the gRPC application owns the state file."""


def _read(sandbox: GoogleAdsSandbox, request: Request, path: str) -> dict[str, Any]:
    store = sandbox.store
    if path == "/_sandbox/state":
        return _state(sandbox)
    if path == "/_sandbox/user_lists":
        wanted = request.query.get("customer")
        rows = [_list_view(sandbox, ul) for ul in store.user_lists.values() if wanted in (None, ul.customer_id)]
        return {"count": len(rows), "user_lists": rows}
    members = _MEMBERS.fullmatch(path)
    if members is not None:
        record = next(ul for ul in store.user_lists.values() if str(ul.list_id) == members[1])
        return {"resource_name": record.resource_name, "members": record.members.sorted_members()}
    if path == "/_sandbox/jobs":
        jobs = [
            {
                "resource_name": job.resource_name,
                "user_list": job.user_list,
                "status": job.status,
                "kind": job.kind,
                "remove_all": job.remove_all,
                "queued": len(job.operations),
                "uploaded": job.uploaded,
                "matched": job.matched,
                "consent": job.consent,
            }
            for job in store.jobs.values()
        ]
        return {"count": len(jobs), "jobs": jobs}
    raise LookupError


def _list_view(sandbox: GoogleAdsSandbox, record: UserListRecord) -> dict[str, Any]:
    return {
        "customer_id": record.customer_id,
        "id": record.list_id,
        "resource_name": record.resource_name,
        "name": record.name,
        "upload_key_type": record.upload_key_type,
        "app_id": record.app_id,
        "membership_life_span": record.membership_life_span,
        "members": len(record.members),
        "matched": record.members.matched(sandbox.config.matching),
    }


def _state(sandbox: GoogleAdsSandbox) -> dict[str, Any]:
    store, config = sandbox.store, sandbox.config
    statuses: dict[str, int] = {}
    for job in store.jobs.values():
        statuses[job.status] = statuses.get(job.status, 0) + 1
    return {
        "customers": sorted(config.customers),
        "user_lists": len(store.user_lists),
        "members": sum(len(ul.members) for ul in store.user_lists.values()),
        "jobs": statuses,
        **sandbox.stats(),
        "limits": {name: getattr(config, name) for name in _LIMITS},
        "faults": faults_view(sandbox.faults),
    }
