"""HubSpot API errors as a table: (HTTP status, category or rate-limit policy) -> action and advice.

Design invariant 8: no string matching on messages. ``Failure.of_body`` reads only HubSpot's
structured fields (``category``, ``policyName``, ``errors[].context.requiredScopes``, ``errors[].in``
and ``code``) and the ``Retry-After`` header; HubSpot's own message is never shown, since it may quote
an e-mail address. Refused property values (``VALIDATION_ERROR``, 207 per input or 400 for a batch;
since 2026 also a portal's own validation rules) become per-row ``Refusal``s whose message names the
property and says where to look: ``errors[].in`` names it, else the JSON list HubSpot documents inside
the message ("Property values were not valid: [{..., "error", "name"}]") is parsed for ``name`` and
``error`` only. Sources: reference §3.3 (error bodies, 429 policies, scopes); HubSpot changelogs
"Property Validations Rules will be enforced for APIs" and "CRM API Write Validation Enforcement
Starting with the 2026-09 API Version".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from behavior_sync.destinations.retry import Action, ErrorRule

ANY = None
SCOPES_HELP = (
    "HubSpot Development > Keys > Service keys > your key > Add new scope (a legacy private app: "
    "Development > Legacy apps > your app > Scopes)"
)
_TOKEN = (
    "the Service Key (or legacy private app token) is invalid, rotated or revoked: copy the key's current value "
    "(HubSpot Development > Keys > Service keys > your key > Show) into the connection's Password field"
)
_THROTTLED = "HubSpot is rate-limiting this portal; the client waits for the window and resumes"
ERROR_TABLE: dict[tuple[int | None, str | None], ErrorRule] = {
    (401, ANY): ErrorRule(Action.FAIL, _TOKEN),
    (403, "MISSING_SCOPES"): ErrorRule(Action.FAIL, f"the Service Key lacks a scope: add it in {SCOPES_HELP}"),
    (403, ANY): ErrorRule(Action.FAIL, "HubSpot refused access: check the Service Key's scopes and the portal"),
    (404, ANY): ErrorRule(Action.FAIL, "HubSpot does not know the object (deleted, or of another portal)"),
    (409, ANY): ErrorRule(Action.FAIL, "HubSpot reports a conflict (the name or object exists already)"),
    (429, "TEN_SECONDLY_ROLLING"): ErrorRule(Action.THROTTLE, _THROTTLED),
    (429, "SECONDLY"): ErrorRule(Action.THROTTLE, _THROTTLED),
    (429, "DAILY"): ErrorRule(
        Action.FAIL,
        "the portal's daily API budget is used up (shared by the portal's Service Keys and apps): the sync "
        "resumes after HubSpot's reset at midnight in the portal's time zone; lower other integrations' usage "
        "or buy HubSpot's API limit increase",
    ),
    (429, ANY): ErrorRule(Action.THROTTLE, _THROTTLED),
    (400, "VALIDATION_ERROR"): ErrorRule(
        Action.FAIL,
        "HubSpot refused the values as invalid: check the destination's settings in the behavior file and the "
        "portal's validation rules of the properties written (HubSpot Settings > Properties > the property > Rules)",
    ),
    (400, ANY): ErrorRule(
        Action.FAIL,
        "HubSpot refused the request as invalid: check the destination's settings in the behavior file; "
        "if they are right this is a Behavior Sync bug, report it with the task log",
    ),
    (413, ANY): ErrorRule(Action.FAIL, "HubSpot refused the request as too large: report it with the task log"),
    (414, ANY): ErrorRule(Action.FAIL, "HubSpot refused the request URL as too long: report it with the task log"),
}
SERVER_ERROR = ErrorRule(Action.RETRY, "HubSpot answered with a server error: the task retries later")
UNREACHABLE = ErrorRule(Action.RETRY, "HubSpot could not be reached (network error or timeout): the task retries later")
_UNKNOWN = ErrorRule(Action.FAIL, "HubSpot refused the request: see the status in HubSpot's error reference")


@dataclass(frozen=True)
class Failure:
    """What a failed call told us: status, category (or rate-limit policy), scopes to add, seconds to wait."""

    status: int | None
    category: str | None
    required_scopes: tuple[str, ...] = ()
    retry_after: float = 0.0
    code: str | None = None  # the first detail's code (e.g. INVALID_EMAIL), when HubSpot gives one
    property: str | None = None  # the property the first detail names, when HubSpot names one

    @classmethod
    def of_body(cls, status: int | None, body: Any, headers: Mapping[str, str] | None) -> Failure:
        """From an error answer (body as bytes, str or None); unparseable bodies give a bare status."""
        data = _json(body)
        category = data.get("policyName") if status == 429 else data.get("category")
        details = [e for e in data.get("errors") or () if isinstance(e, dict)]
        scopes = tuple(str(s) for e in details for s in (e.get("context") or {}).get("requiredScopes") or ())
        refusal = Refusal.of_error(data)
        code = refusal.code if refusal.code != _NO_CODE else None
        category = None if category is None else str(category)
        return cls(status, category, scopes, _retry_after(headers), code, refusal.property)

    def rule(self) -> ErrorRule:
        """The table's rule: (status, category) first, then (status, any); unknown 5xx retry, else fail."""
        for key in ((self.status, self.category), (self.status, ANY)):
            found = ERROR_TABLE.get(key)
            if found is not None:
                return found
        return SERVER_ERROR if self.status is not None and self.status >= 500 else _UNKNOWN

    def describe(self, what: str) -> str:
        """``<what>: HubSpot error (HTTP 403, MISSING_SCOPES): <advice>`` plus the scopes to add (no values)."""
        parts = [f"HTTP {self.status}" if self.status is not None else "no answer"]
        if self.category:
            parts.append(self.category)
        text = f"{what}: HubSpot error ({', '.join(parts)}): {self.rule().advice}"
        if self.required_scopes:
            text += f" (one of: {', '.join(sorted(self.required_scopes))})"
        return text


_NO_CODE = "VALIDATION_ERROR"
# Codes of HubSpot's own checks of a value (not a portal's rules), and what to tell the user instead.
_VALUE_ADVICE = {
    "INVALID_EMAIL": "HubSpot does not accept this e-mail address",
    "CONFLICT": "another HubSpot contact already has this e-mail address",
    "OBJECT_NOT_FOUND": "the contact is gone from HubSpot (deleted or merged): the next run matches it again",
}
_CHANGED_DEFINITION = frozenset({"INVALID_OPTION", "INVALID_FLOAT", "INVALID_DATE", "INVALID_VALUE",
                                 "PROPERTY_DOESNT_EXIST", "READ_ONLY_VALUE", "VALUE_TOO_LONG"})  # fmt: skip


@dataclass(frozen=True)
class Refusal:
    """Why HubSpot refused one input of a write: its code and the property it names (None: none named)."""

    code: str
    property: str | None = None

    @classmethod
    def of_error(cls, error: Mapping[str, Any]) -> Refusal:
        """From one error object (a 400 body or a 207 ``errors[]`` entry): the first detail naming a code or
        property, else the first of HubSpot's documented list in the message; code ``VALIDATION_ERROR`` when
        none is given."""
        details = [e for e in error.get("errors") or () if isinstance(e, dict)] + _listed(error.get("message"))
        for detail in details:
            code, name = detail.get("code") or detail.get("error"), detail.get("in") or detail.get("name")
            if code or name:
                return cls(str(code or _NO_CODE), None if name is None else str(name))
        return cls(_NO_CODE)

    def message(self, what: str) -> str:
        """``what`` ("HubSpot refused the property value"), the code and what to do; never the value."""
        text = f"{what} ({self.code})"
        if self.code in _VALUE_ADVICE:
            return f"{text}: {_VALUE_ADVICE[self.code]}"
        if self.property is None:
            return text
        if self.code in _CHANGED_DEFINITION:
            return (f"{text}: the value does not fit property {self.property} as HubSpot defines it now; run "
                    "python -m behavior_sync hubspot discover")  # fmt: skip
        return (
            f"{text}: the value of property {self.property} breaks one of the portal's validation rules; check "
            f"the portal's validation rules for {self.property} (HubSpot Settings > Properties > {self.property} > "
            "Rules, and its conditionally required properties)"
        )


def _listed(message: Any) -> list[dict[str, Any]]:
    """The problems HubSpot lists as JSON inside a message (``Property values were not valid: [...]``)."""
    text = message if isinstance(message, str) else ""
    start = text.find("[")
    try:
        listed = json.loads(text[start:]) if start >= 0 else []
    except ValueError:
        return []
    return [p for p in listed if isinstance(p, dict)] if isinstance(listed, list) else []


def _json(body: Any) -> dict[str, Any]:
    try:
        data = json.loads(body) if body else {}
    except (ValueError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


def _retry_after(headers: Mapping[str, str] | None) -> float:
    """Seconds of a ``Retry-After`` header (0 when absent or not a number of seconds)."""
    try:
        return max(0.0, float((headers or {}).get("Retry-After") or 0))
    except ValueError:
        return 0.0


class HubSpotError(Exception):
    """A HubSpot failure a person must act on (or that outlasted the retries); the text is safe to show.

    Never carries tokens or e-mail addresses. ``status``/``category`` are HubSpot's (None for transport errors).
    """

    def __init__(
        self,
        message: str,
        status: int | None = None,
        category: str | None = None,
        code: str | None = None,
        property: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.code = code
        self.property = property

    def refusal(self) -> Refusal:
        """This failure as the refusal of one input (a batch of one refused whole)."""
        return Refusal(self.code or self.category or _NO_CODE, self.property)


class HubSpotNotFound(HubSpotError):
    """The object (e.g. a remembered list) is unknown to the portal: deleted, or of another portal (404)."""
