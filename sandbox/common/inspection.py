"""The parts of every sandbox's ``/_sandbox/...`` API that do not depend on the vendor.

* ``BadRequest`` — a control request the sandbox cannot follow; answered with 400 ``{"error": ...}``.
* ``json_object`` — the request body as a JSON object (no body: ``{}``).
* ``FaultSpecRules`` — what a vendor accepts in a scripted fault spec (keys, integer keys, default status,
  an optional rule on the whole spec).
* ``control_faults`` — ``POST /_sandbox/faults`` (``{"scripted": [spec, ...], "random": {fault config}}``)
  and ``DELETE /_sandbox/faults`` (drop scripted faults, random faults off); answers ``faults_view``.
* ``answer_read_or_faults`` — the routing shared by sandboxes whose inspection reads are all GETs:
  fault controls, else a GET read, with ``BadRequest`` -> 400 and ``LookupError`` -> 404.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from sandbox.common.faults import FaultConfig, FaultInjector, ScriptedFault
from sandbox.common.http import Request, Response

FAULTS_PATH = "/_sandbox/faults"
_T = TypeVar("_T")


class BadRequest(Exception):
    """A control request the sandbox cannot follow (answered with 400)."""


@dataclass(frozen=True)
class FaultSpecRules:
    """What one vendor accepts in a scripted fault spec besides ``match`` and ``count``.

    ``spec_keys`` are the vendor keys kept in the fault's spec; ``int_keys`` must be integers (not
    booleans) when present; ``default_status`` is the status range-checked when ``http_status`` is absent;
    ``check``, when given, raises ``ValueError`` for a spec (its vendor keys) the vendor cannot apply.
    """

    spec_keys: frozenset[str]
    default_status: int
    int_keys: tuple[str, ...] = ("count", "http_status")
    check: Callable[[Mapping[str, Any]], None] | None = None


def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object, ``{}`` without a body; ``BadRequest`` when not JSON or not an object."""
    try:
        body = request.json_body()
    except ValueError:
        raise BadRequest("the body must be JSON") from None
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def faults_view(faults: FaultInjector) -> dict[str, Any]:
    """The faults in force: ``{"random": fault config, "scripted_pending": [pending scripted faults]}``."""
    return {"random": asdict(faults.config), "scripted_pending": faults.pending()}


def control_faults(faults: FaultInjector, request: Request, rules: FaultSpecRules) -> dict[str, Any]:
    """Apply ``DELETE`` (clear everything) or ``POST`` (queue and configure) to ``faults``; the new ``faults_view``.

    A POST is validated whole before anything changes: a ``BadRequest`` leaves ``faults`` untouched.
    """
    if request.method == "DELETE":
        faults.clear_scripted()
        faults.configure(FaultConfig())
        return faults_view(faults)
    body = json_object(request)
    unknown = set(body) - {"scripted", "random"}
    if unknown:
        raise BadRequest(f"unknown keys: {sorted(unknown)}")
    scripted = [scripted_fault(spec, rules) for spec in body.get("scripted", [])]
    random_config = _checked(FaultConfig.from_mapping, body["random"]) if "random" in body else None
    for fault in scripted:
        faults.script(fault)
    if random_config is not None:
        faults.configure(random_config)
    return faults_view(faults)


def scripted_fault(spec: Any, rules: FaultSpecRules) -> ScriptedFault:
    """A ``ScriptedFault`` from one JSON spec checked against ``rules``; ``BadRequest`` when invalid."""
    if not isinstance(spec, dict) or not isinstance(spec.get("match"), str):
        raise BadRequest("each scripted fault is an object with a string 'match'")
    unknown = set(spec) - rules.spec_keys - {"match", "count"}
    if unknown:
        raise BadRequest(f"unknown scripted fault keys: {sorted(unknown)}")
    for key in rules.int_keys:
        if key in spec and (not isinstance(spec[key], int) or isinstance(spec[key], bool)):
            raise BadRequest(f"{key} must be an integer")
    if not 400 <= spec.get("http_status", rules.default_status) <= 599:
        raise BadRequest("http_status must be within [400, 599]")
    details = {key: value for key, value in spec.items() if key in rules.spec_keys}

    def build(data: Mapping[str, Any]) -> ScriptedFault:
        if rules.check is not None:
            rules.check(data)
        return ScriptedFault(spec["match"], spec.get("count", 1), data)

    return _checked(build, details)


def answer_read_or_faults(
    request: Request,
    faults: FaultInjector,
    rules: FaultSpecRules,
    read: Callable[[str], dict[str, Any]],
    not_found: str = "no sandbox endpoint or object",
) -> Response:
    """Answer a ``/_sandbox/...`` request: fault controls, else ``read(path)`` for a GET.

    ``path`` is the request path without a trailing slash. ``read`` raises ``LookupError`` for an
    unknown path or object (404 ``"<not_found>: METHOD path"``) and ``BadRequest`` for a bad query (400).
    """
    path = request.path.rstrip("/")
    try:
        if path == FAULTS_PATH and request.method in {"POST", "DELETE"}:
            return Response.json(200, control_faults(faults, request, rules))
        if request.method != "GET":
            raise LookupError
        return Response.json(200, read(path))
    except BadRequest as exc:
        return Response.json(400, {"error": str(exc)})
    except LookupError:
        return Response.json(404, {"error": f"{not_found}: {request.method} {path[:120]}"})


def _checked(build: Callable[[Mapping[str, Any]], _T], data: Mapping[str, Any]) -> _T:
    try:
        return build(data)
    except (ValueError, TypeError, re.error) as exc:
        raise BadRequest(str(exc)) from None
