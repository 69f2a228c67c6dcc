"""What a fault does to one Google Ads sandbox call: refuse it, or perform it and lose the answer, or fail its job.

A scripted fault spec (``POST /_sandbox/faults``) holds, besides ``match`` and ``count``:

* ``http_status`` (default 503), ``error`` (``"<kind>.<CODE>"``) and ``message``: what the caller receives,
  the status mapped to gRPC by ``FAULT_STATUS``;
* ``answer_lost: true``: the call is **performed** (Create makes the job, Add stores the operations, Run
  starts the job), then answered with the fault's status instead of its result, as when Google acted and
  the answer never reached the caller: only 503 (UNAVAILABLE) or 504 (DEADLINE_EXCEEDED), and without a
  ``GoogleAdsFailure`` (no ``error``), so the SDK raises the plain ``google.api_core`` exception
  (``ServiceUnavailable``, ``DeadlineExceeded``) as for a real timeout or dropped connection;
* ``job_fails: true``: a ``RunOfflineUserDataJob`` call is performed and the job it starts ends FAILED
  when processed, none of its operations applied; answered normally unless ``answer_lost`` is set too.
  On other methods it does nothing (the fault is used up).

A fault with neither refuses the call: nothing is performed. Random faults always refuse. A call the
sandbox refuses on its own (a rule of ``jobs``, ``user_lists``...) is answered with that refusal, even
under ``answer_lost``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard

import grpc

from sandbox.common.faults import Fault
from sandbox.common.inspection import FaultSpecRules
from sandbox.google_ads.errors import AdsError, ErrorSpec

FAULT_STATUS: Mapping[int, tuple[grpc.StatusCode, str]] = {
    400: (grpc.StatusCode.INVALID_ARGUMENT, "request_error.UNKNOWN"),
    429: (grpc.StatusCode.RESOURCE_EXHAUSTED, "quota_error.RESOURCE_EXHAUSTED"),
    500: (grpc.StatusCode.INTERNAL, "internal_error.INTERNAL_ERROR"),
    503: (grpc.StatusCode.UNAVAILABLE, "internal_error.TRANSIENT_ERROR"),
    504: (grpc.StatusCode.DEADLINE_EXCEEDED, "internal_error.DEADLINE_EXCEEDED"),
}
LOST_ANSWER_STATUSES = frozenset({503, 504})
_FLAGS = ("answer_lost", "job_fails")


def check_spec(spec: Mapping[str, Any]) -> None:
    """Raises ``ValueError`` when a flag is not a boolean, or a lost answer is not 503 / 504 or names an error."""
    for flag in _FLAGS:
        if not isinstance(spec.get(flag, False), bool):
            raise ValueError(f"{flag} must be true or false")
    if not spec.get("answer_lost"):
        return
    if spec.get("http_status", FAULT_SPECS.default_status) not in LOST_ANSWER_STATUSES:
        raise ValueError("a lost answer is UNAVAILABLE (http_status 503) or DEADLINE_EXCEEDED (504)")
    if "error" in spec:
        raise ValueError("a lost answer carries no Google Ads error: drop 'error'")


FAULT_SPECS = FaultSpecRules(
    spec_keys=frozenset({"http_status", "error", "message", *_FLAGS}), default_status=503, check=check_spec
)


def performs(fault: Fault) -> bool:
    """Whether the call runs despite ``fault`` (its answer is lost or its job fails) instead of being refused."""
    return any(bool(fault.spec.get(flag)) for flag in _FLAGS)


def answer_lost(fault: Fault | None) -> TypeGuard[Fault]:
    """Whether the caller gets ``fault``'s error instead of the result of the performed call."""
    return fault is not None and bool(fault.spec.get("answer_lost"))


def job_fails(fault: Fault | None) -> bool:
    """Whether a job run under ``fault`` ends FAILED."""
    return fault is not None and bool(fault.spec.get("job_fails"))


def fault_error(fault: Fault) -> AdsError:
    """The error a caller receives for ``fault``: its status as gRPC with its error code (or the status's
    default), or, for a lost answer, the bare status."""
    status, default = FAULT_STATUS.get(fault.status, FAULT_STATUS[500])
    if answer_lost(fault):
        return AdsError(status, [])
    kind, _, code = str(fault.spec.get("error", default)).partition(".")
    message = str(fault.spec.get("message", f"injected fault ({fault.status})"))
    return AdsError(status, [ErrorSpec(kind, code, message)])
