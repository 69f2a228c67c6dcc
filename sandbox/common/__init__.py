"""What every sandbox shares: HTTP server lifecycle, fault injection, rate windows, state files.

The vendor-neutral parts of the ``/_sandbox`` inspection API are in ``sandbox.common.inspection``.
The two Google sandboxes also share ``sandbox.common.universe`` (which people "Google knows") and
``sandbox.common.customer_match`` (a Customer Match list's members, removed by any shared identifier).
"""

from __future__ import annotations

from sandbox.common.faults import Fault, FaultConfig, FaultInjector, ScriptedFault
from sandbox.common.http import (
    HttpLimits,
    Request,
    Response,
    RunningServer,
    SandboxApp,
    loggable_path,
    serve_forever,
    serve_in_background,
)
from sandbox.common.persist import PeriodicFlusher, StateFile, load_json, save_json_atomic
from sandbox.common.ratelimit import SlidingWindowCounter

__all__ = [
    "Fault",
    "FaultConfig",
    "FaultInjector",
    "HttpLimits",
    "PeriodicFlusher",
    "Request",
    "Response",
    "RunningServer",
    "SandboxApp",
    "ScriptedFault",
    "SlidingWindowCounter",
    "StateFile",
    "load_json",
    "loggable_path",
    "save_json_atomic",
    "serve_forever",
    "serve_in_background",
]
