"""Configuration of the Google Data Manager sandbox: accessible accounts, credentials, limits, faults.

JSON form (every key optional; ``accounts`` defaults to none, so every call is PERMISSION_DENIED)::

    {
      "accounts": {"1234567890": {"type": "GOOGLE_ADS"}},
      "access_tokens": ["ya29.sandbox-token"],
      "api_keys": ["sandbox-api-key"],
      "allow_anonymous": true,
      "processing_delay_seconds": 1800,
      "remove_all_delay_seconds": 0,
      "unlinked_accounts": ["5555555555"],
      "requests_per_minute": 300,
      "requests_per_day": 100000,
      "max_audience_members": 10000,
      "max_identifiers_per_member": 10,
      "max_destinations": 10,
      "consent_policy": "strict",
      "universe": ["<64 lowercase hex>", ...],
      "known_share": 0.0,
      "faults": {"error_rate": 0.0, "error_statuses": [500, 503], "latency_ms": 0, "seed": null}
    }

``universe`` is the set of SHA-256 digests "Google knows" (of e-mail addresses and phone numbers as
uploaded, and of plain CRM ids and mobile ids; ``sandbox.common.universe``): the match rate of a
user-data ingestion is the share of its records with at least one known identifier; ``known_share``
(0..1; the demo: 0.7) makes that share of all other people known too, deterministically by digest. ``consent_policy``
``strict`` refuses a request with missing or denied consent; ``lenient`` accepts it and reports
denied records as ``PROCESSING_ERROR_REASON_DENIED_CONSENT`` in the request status (the behaviour
Google documents for Display & Video 360 destinations). ``remove_all_delay_seconds`` processes a removeAll
that much later than other requests (Google's order of processing is its own). ``unlinked_accounts`` lack
a required prerequisite link: every audience call for them is refused with
``REQUIRED_PREREQUISITE_LINK_MISSING``. Unknown keys raise ``ValueError``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.common.faults import FaultConfig
from sandbox.common.universe import SETTINGS as UNIVERSE_SETTINGS
from sandbox.common.universe import Universe

# ProductAccount.AccountType (google.ads.datamanager_v1.types.destination)
ACCOUNT_TYPES: dict[str, int] = {
    "GOOGLE_ADS": 1,
    "DISPLAY_VIDEO_PARTNER": 2,
    "DISPLAY_VIDEO_ADVERTISER": 3,
    "DATA_PARTNER": 4,
}
CONSENT_POLICIES = frozenset({"strict", "lenient"})
DEMO_ACCOUNT_ID = "1234567890"
DEMO_KNOWN_SHARE = 0.7  # the demo: Google "knows" about 70 % of people
DEMO_ACCOUNT_TYPE = "GOOGLE_ADS"
DEMO_ACCESS_TOKEN = "sandbox-access-token"  # a documented placeholder, never a real token
_ACCOUNT_ID = re.compile(r"[0-9]{1,20}")
_NUMBERS = (
    "processing_delay_seconds",
    "remove_all_delay_seconds",
    "requests_per_minute",
    "requests_per_day",
    "max_audience_members",
    "max_identifiers_per_member",
    "max_destinations",
)


@dataclass(frozen=True)
class GoogleDataManagerSandboxConfig:
    """The sandbox's settings; see the module docstring for the JSON form.

    ``accounts`` maps an account id to its account type name (a key of ``ACCOUNT_TYPES``).
    """

    accounts: Mapping[str, str] = field(default_factory=dict)
    access_tokens: frozenset[str] = frozenset()
    api_keys: frozenset[str] = frozenset()
    unlinked_accounts: frozenset[str] = frozenset()  # accounts lacking a required prerequisite link
    allow_anonymous: bool = True
    processing_delay_seconds: int = 1800
    remove_all_delay_seconds: int = 0  # a removeAll is processed this much later than other requests
    requests_per_minute: int = 300
    requests_per_day: int = 100_000
    max_audience_members: int = 10_000
    max_identifiers_per_member: int = 10
    max_destinations: int = 10
    consent_policy: str = "strict"
    matching: Universe = field(default_factory=Universe)  # who Google knows (``universe``, ``known_share``)
    faults: FaultConfig = field(default_factory=FaultConfig)

    def __post_init__(self) -> None:
        for account_id, account_type in self.accounts.items():
            if not _ACCOUNT_ID.fullmatch(account_id):
                raise ValueError("an account id is 1-20 digits")
            if account_type not in ACCOUNT_TYPES:
                raise ValueError(f"unknown account type {account_type!r}: one of {sorted(ACCOUNT_TYPES)}")
        if self.consent_policy not in CONSENT_POLICIES:
            raise ValueError(f"consent_policy must be one of {sorted(CONSENT_POLICIES)}")
        if min(self.processing_delay_seconds, self.remove_all_delay_seconds) < 0:
            raise ValueError("processing_delay_seconds and remove_all_delay_seconds must be >= 0")
        if min(getattr(self, name) for name in _NUMBERS if not name.endswith("delay_seconds")) < 1:
            raise ValueError("limits must be >= 1")

    def account_type(self, account_id: str) -> str | None:
        """The configured type of an accessible account, or None when it is not accessible."""
        return self.accounts.get(account_id)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> GoogleDataManagerSandboxConfig:
        """Build from JSON-like data; raises ``ValueError`` on unknown keys or bad values."""
        sets = ("access_tokens", "api_keys", "unlinked_accounts")
        allowed = {"accounts", "allow_anonymous", "consent_policy", "faults", *UNIVERSE_SETTINGS, *sets, *_NUMBERS}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown Google Data Manager sandbox settings: {sorted(unknown)}")
        accounts = {str(k): _account_type(v) for k, v in dict(data.get("accounts", {})).items()}
        settings: dict[str, Any] = {key: int(data[key]) for key in _NUMBERS if key in data}
        for key in sets:
            if key in data:
                values = data[key]
                if isinstance(values, str) or not all(isinstance(v, str) for v in values):
                    raise ValueError(f"{key} must be a list of strings")
                settings[key] = frozenset(values)
        if not isinstance(data.get("allow_anonymous", True), bool):
            raise ValueError("allow_anonymous must be true or false")
        return cls(
            accounts=accounts,
            allow_anonymous=data.get("allow_anonymous", True),
            consent_policy=str(data.get("consent_policy", "strict")),
            faults=FaultConfig.from_mapping(data.get("faults", {})),
            matching=Universe.from_settings(data),
            **settings,
        )

    @classmethod
    def load(cls, path: Path) -> GoogleDataManagerSandboxConfig:
        """Read the JSON config file at ``path``."""
        with path.open(encoding="utf-8") as handle:
            return cls.from_mapping(json.load(handle))

    @classmethod
    def demo(cls) -> GoogleDataManagerSandboxConfig:
        """The ``make run`` default: one accessible Google Ads account, anonymous or demo token, 60 s processing,
        about 70 % of people known (realistic match rates)."""
        return cls(
            accounts={DEMO_ACCOUNT_ID: DEMO_ACCOUNT_TYPE},
            access_tokens=frozenset({DEMO_ACCESS_TOKEN}),
            processing_delay_seconds=60,
            matching=Universe(known_share=DEMO_KNOWN_SHARE),
        )


def _account_type(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        if set(value) - {"type"}:
            raise ValueError(f"unknown account settings: {sorted(set(value) - {'type'})}")
        return str(value.get("type", DEMO_ACCOUNT_TYPE))
    raise ValueError("an account is {'type': 'GOOGLE_ADS'} or the type name")
