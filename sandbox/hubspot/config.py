"""Configuration of the HubSpot sandbox: portals (tier, time zone, seed contacts), tokens, limits, faults.

JSON form (``tokens`` and ``portals`` are required; every other key is optional)::

    {
      "portals": {
        "1000001": {"tier": "professional", "time_zone": "US/Eastern", "company_currency": "USD",
                    "ten_second_limit": null, "daily_limit": null,
                    "contacts": ["ana@example.com", {"email": "bo@example.com", "properties": {"firstname": "Bo"}}],
                    "validation_rules": [{"property": "score", "rule_type": "MAX_NUMBER", "arguments": ["100"]}]}
      },
      "tokens": {
        "sandbox-hubspot-token": {"portal_id": 1000001, "scopes": ["crm.lists.read", "crm.lists.write"]},
        "sandbox-service-key": {"portal_id": 1000001, "kind": "service_key"}
      },
      "api_versions": ["v3", "2026-03", "2026-09"],
      "search_requests_per_second": 4,
      "max_batch_inputs": 100,
      "max_membership_ids": 100000,
      "invalid_values": "per_input",
      "faults": {"error_rate": 0.0, "error_statuses": [502, 503], "latency_ms": 0, "seed": null}
    }

Unknown keys raise ``ValueError``. ``ten_second_limit`` / ``daily_limit`` override the tier's limits.
A token's ``kind`` is ``private_app`` (default: a legacy private app's access token) or ``service_key``
(HubSpot's replacement: same scopes, but the private-app-only endpoints do not know it, see
``api_account``). ``api_versions`` are the API versions served (``v3``: the legacy ``/crm/v3/...`` paths;
``YYYY-MM``: the date-based ``/crm/lists/2026-03/...`` paths); any other version is 404, so a test can
prove a client calls exactly its pinned version. ``validation_rules``: see ``rules.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sandbox.common.faults import FaultConfig
from sandbox.hubspot.rules import ValidationRule

# tier -> (requests per 10 s rolling window, requests per day), per portal (private apps).
TIER_LIMITS: dict[str, tuple[int, int]] = {
    "free": (100, 250_000),
    "starter": (100, 250_000),
    "professional": (190, 650_000),
    "enterprise": (190, 1_000_000),
}
ALL_SCOPES = (
    "crm.lists.read",
    "crm.lists.write",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.schemas.contacts.read",
    "crm.schemas.contacts.write",
    "content",  # marketing e-mails and their statistics (performance read-back)
)
INVALID_VALUE_MODES = frozenset({"per_input", "reject_batch"})
DEMO_TOKEN = "sandbox-hubspot-token"  # a legacy private app's token
DEMO_SERVICE_KEY = "sandbox-hubspot-service-key"  # a Service Key of the same portal, with the same scopes
DEMO_PORTAL_ID = 1000001
DEMO_CONTACTS = ("demo.ana@example.com", "demo.bo@example.com", "demo.cy@example.com")
DEFAULT_MAX_BATCH_INPUTS = 100  # documented CRM batch size (partially UNCONFIRMED, see README)
DEFAULT_MAX_MEMBERSHIP_IDS = 100_000  # per membership call: UNCONFIRMED (v1 allowed 500)
DEFAULT_API_VERSIONS = ("v3", "2026-03", "2026-09")
TOKEN_KINDS = frozenset({"private_app", "service_key"})
_SCOPE = re.compile(r"[a-z][a-z0-9._-]*")
_API_VERSION = re.compile(r"v3|\d{4}-\d{2}")


def _check_keys(data: Mapping[str, Any], allowed: set[str], what: str) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(f"unknown {what} settings: {sorted(unknown)}")


@dataclass(frozen=True)
class SeedContact:
    """A contact the portal holds from the start (created when missing, never overwritten)."""

    email: str
    properties: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_value(cls, value: Any) -> SeedContact:
        """``"a@b.c"`` or ``{"email": ..., "properties": {...}}``; raises ``ValueError`` otherwise."""
        if isinstance(value, str):
            return cls(value)
        if not isinstance(value, Mapping) or not isinstance(value.get("email"), str):
            raise ValueError("a seed contact is an e-mail string or an object with a string 'email'")
        _check_keys(value, {"email", "properties"}, "seed contact")
        properties = {str(k): str(v) for k, v in dict(value.get("properties", {})).items()}
        return cls(value["email"], properties)


@dataclass(frozen=True)
class PortalConfig:
    """One HubSpot account: id, tier (sets the limits), time zone (daily reset), seed contacts."""

    portal_id: int
    tier: str = "professional"
    time_zone: str = "US/Eastern"
    company_currency: str = "USD"
    account_type: str = "STANDARD"
    ui_domain: str = "app.hubspot.com"
    data_hosting_location: str = "na1"
    ten_second_limit: int | None = None
    daily_limit: int | None = None
    contacts: tuple[SeedContact, ...] = ()
    validation_rules: tuple[ValidationRule, ...] = ()

    def __post_init__(self) -> None:
        if self.tier not in TIER_LIMITS:
            raise ValueError(f"unknown tier {self.tier!r}: one of {sorted(TIER_LIMITS)}")
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.time_zone!r}") from None
        for limit in (self.ten_second_limit, self.daily_limit):
            if limit is not None and limit < 1:
                raise ValueError("limits must be >= 1")

    @property
    def window_limit(self) -> int:
        """Requests allowed per rolling 10 seconds."""
        return self.ten_second_limit or TIER_LIMITS[self.tier][0]

    @property
    def day_limit(self) -> int:
        """Requests allowed per day (the day of the portal's time zone)."""
        return self.daily_limit or TIER_LIMITS[self.tier][1]

    @classmethod
    def from_mapping(cls, portal_id: int, data: Mapping[str, Any]) -> PortalConfig:
        """Build from JSON-like data; raises ``ValueError`` on unknown keys or bad values."""
        simple = {"tier", "time_zone", "company_currency", "account_type", "ui_domain", "data_hosting_location"}
        _check_keys(data, simple | {"ten_second_limit", "daily_limit", "contacts", "validation_rules"}, "portal")
        settings: dict[str, Any] = {k: str(v) for k, v in data.items() if k in simple}
        for key in ("ten_second_limit", "daily_limit"):
            settings[key] = None if data.get(key) is None else int(data[key])
        contacts = tuple(SeedContact.from_value(value) for value in data.get("contacts", ()))
        rules = tuple(ValidationRule.from_mapping(rule) for rule in data.get("validation_rules", ()))
        return cls(portal_id, **settings, contacts=contacts, validation_rules=rules)


@dataclass(frozen=True)
class TokenGrant:
    """A bearer token: the portal it belongs to, its scopes, and its kind (private app or service key)."""

    portal_id: int
    scopes: frozenset[str] = frozenset(ALL_SCOPES)
    kind: str = "private_app"

    def __post_init__(self) -> None:
        if self.kind not in TOKEN_KINDS:
            raise ValueError(f"unknown token kind {self.kind!r}: one of {sorted(TOKEN_KINDS)}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> TokenGrant:
        """Build from JSON-like data; raises ``ValueError`` on unknown keys, kinds or malformed scopes."""
        _check_keys(data, {"portal_id", "scopes", "kind"}, "token")
        scopes = frozenset(str(s) for s in data.get("scopes", ALL_SCOPES))
        bad = sorted(s for s in scopes if not _SCOPE.fullmatch(s))
        if bad:
            raise ValueError(f"malformed scopes: {bad}")
        return cls(int(data["portal_id"]), scopes, str(data.get("kind", "private_app")))


@dataclass(frozen=True)
class HubSpotSandboxConfig:
    """The sandbox's settings; see the module docstring for the JSON form."""

    tokens: Mapping[str, TokenGrant]
    portals: Mapping[int, PortalConfig]
    search_requests_per_second: int = 4
    max_batch_inputs: int = DEFAULT_MAX_BATCH_INPUTS
    max_membership_ids: int = DEFAULT_MAX_MEMBERSHIP_IDS
    invalid_values: str = "per_input"
    api_versions: tuple[str, ...] = DEFAULT_API_VERSIONS
    faults: FaultConfig = field(default_factory=FaultConfig)

    def __post_init__(self) -> None:
        bad_versions = [v for v in self.api_versions if not _API_VERSION.fullmatch(v)]
        if bad_versions or not self.api_versions:
            raise ValueError(f"api_versions must be v3 or YYYY-MM versions, not {bad_versions or 'none'}")
        orphans = sorted({g.portal_id for g in self.tokens.values()} - set(self.portals))
        if orphans:
            raise ValueError(f"tokens refer to portals that are not configured: {orphans}")
        if self.invalid_values not in INVALID_VALUE_MODES:
            raise ValueError(f"invalid_values must be one of {sorted(INVALID_VALUE_MODES)}")
        if min(self.search_requests_per_second, self.max_batch_inputs, self.max_membership_ids) < 1:
            raise ValueError("limits must be >= 1")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> HubSpotSandboxConfig:
        """Build from JSON-like data; raises ``ValueError`` on unknown keys or bad values."""
        numbers = {"search_requests_per_second", "max_batch_inputs", "max_membership_ids"}
        settings = {"tokens", "portals", "invalid_values", "api_versions", "faults"}
        _check_keys(data, settings | numbers, "HubSpot sandbox")
        portals = {int(pid): PortalConfig.from_mapping(int(pid), p) for pid, p in data.get("portals", {}).items()}
        tokens = {str(token): TokenGrant.from_mapping(grant) for token, grant in data.get("tokens", {}).items()}
        return cls(
            tokens=tokens,
            portals=portals,
            **{key: int(data[key]) for key in numbers if key in data},
            invalid_values=str(data.get("invalid_values", "per_input")),
            api_versions=tuple(str(v) for v in data.get("api_versions", DEFAULT_API_VERSIONS)),
            faults=FaultConfig.from_mapping(data.get("faults", {})),
        )

    @classmethod
    def load(cls, path: Path) -> HubSpotSandboxConfig:
        """Read the JSON config file at ``path``."""
        with path.open(encoding="utf-8") as handle:
            return cls.from_mapping(json.load(handle))

    @classmethod
    def demo(cls) -> HubSpotSandboxConfig:
        """The ``make run`` default: ``DEMO_TOKEN`` (private app) and ``DEMO_SERVICE_KEY``, both with every scope,
        on professional portal ``DEMO_PORTAL_ID``."""
        portal = PortalConfig(DEMO_PORTAL_ID, contacts=tuple(SeedContact(email) for email in DEMO_CONTACTS))
        key = TokenGrant(DEMO_PORTAL_ID, kind="service_key")
        tokens = {DEMO_TOKEN: TokenGrant(DEMO_PORTAL_ID), DEMO_SERVICE_KEY: key}
        return cls(tokens=tokens, portals={DEMO_PORTAL_ID: portal})
