"""Configuration of the Google Ads API sandbox: customers, developer tokens, limits, universe, faults.

JSON form (every key optional; the defaults are Google's documented limits)::

    {
      "customers": ["1234567890"],
      "login_customer_ids": ["1234567890"],
      "developer_tokens": {"sandbox-developer-token": {"allowlisted": true}},
      "processing_delay_seconds": 1800,
      "requests_per_minute": 600,
      "max_identifiers_per_request": 100000,
      "max_identifiers_per_user": 20,
      "universe": ["<64 lowercase hex>", ...],
      "known_share": 0.0,
      "faults": {"error_rate": 0.0, "error_statuses": [500, 503], "latency_ms": 0, "seed": null}
    }

``customers`` are the accounts the caller may reach; ``login_customer_ids`` the values accepted in the
``login-customer-id`` header (default: the customers). A developer token with ``"allowlisted": false``
is valid but refused by Customer Match (``CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE``), as tokens that
did not use Customer Match before 2026-04-01 are. ``universe`` is the set of SHA-256 digests "Google knows"
(of e-mail addresses and phone numbers as uploaded, and of plain CRM ids and mobile ids): a list
member is matched when one of its identifiers is known (``sandbox.common.universe``); ``known_share``
(0..1; the demo: 0.7) makes that share of all other people known too, deterministically by digest.
Unknown keys raise ``ValueError``.
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

DEMO_CUSTOMER_ID = "1234567890"
DEMO_KNOWN_SHARE = 0.7  # the demo: Google "knows" about 70 % of people
DEMO_DEVELOPER_TOKEN = "sandbox-developer-token"  # a documented placeholder, never a real token
_CUSTOMER_ID = re.compile(r"[0-9]{10}")
_NUMBERS = (
    "processing_delay_seconds",
    "requests_per_minute",
    "max_identifiers_per_request",
    "max_identifiers_per_user",
)


@dataclass(frozen=True)
class GoogleAdsSandboxConfig:
    """The sandbox's settings; see the module docstring for the JSON form.

    ``developer_tokens`` maps a valid developer token to whether it is allowlisted for Customer Match.
    """

    customers: frozenset[str] = frozenset()
    login_customer_ids: frozenset[str] = frozenset()
    developer_tokens: Mapping[str, bool] = field(default_factory=dict)
    processing_delay_seconds: int = 1800
    requests_per_minute: int = 600
    max_identifiers_per_request: int = 100_000
    max_identifiers_per_user: int = 20
    matching: Universe = field(default_factory=Universe)  # who Google knows (``universe``, ``known_share``)
    faults: FaultConfig = field(default_factory=FaultConfig)

    def __post_init__(self) -> None:
        if any(not _CUSTOMER_ID.fullmatch(c) for c in self.customers | self.login_customer_ids):
            raise ValueError("a customer id is 10 digits, without dashes")
        if self.processing_delay_seconds < 0:
            raise ValueError("processing_delay_seconds must be >= 0")
        if min(getattr(self, name) for name in _NUMBERS[1:]) < 1:
            raise ValueError("limits must be >= 1")

    def login_allowed(self, login_customer_id: str) -> bool:
        """Whether ``login_customer_id`` is accepted (the customers themselves when none are configured)."""
        return login_customer_id in (self.login_customer_ids or self.customers)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> GoogleAdsSandboxConfig:
        """Build from JSON-like data; raises ``ValueError`` on unknown keys or bad values."""
        sets = ("customers", "login_customer_ids")
        unknown = set(data) - {"developer_tokens", "faults", *UNIVERSE_SETTINGS, *sets, *_NUMBERS}
        if unknown:
            raise ValueError(f"unknown Google Ads sandbox settings: {sorted(unknown)}")
        settings: dict[str, Any] = {key: int(data[key]) for key in _NUMBERS if key in data}
        for key in sets:
            if key in data:
                settings[key] = frozenset(_strings(key, data[key]))
        tokens = {str(token): _allowlisted(spec) for token, spec in dict(data.get("developer_tokens", {})).items()}
        faults = FaultConfig.from_mapping(data.get("faults", {}))
        return cls(developer_tokens=tokens, faults=faults, matching=Universe.from_settings(data), **settings)

    @classmethod
    def load(cls, path: Path) -> GoogleAdsSandboxConfig:
        """Read the JSON config file at ``path``."""
        with path.open(encoding="utf-8") as handle:
            return cls.from_mapping(json.load(handle))

    @classmethod
    def demo(cls) -> GoogleAdsSandboxConfig:
        """The ``make run`` default: one customer, the demo developer token (allowlisted), 60 s processing,
        about 70 % of people known (realistic list sizes and match rates)."""
        return cls(
            customers=frozenset({DEMO_CUSTOMER_ID}),
            developer_tokens={DEMO_DEVELOPER_TOKEN: True},
            processing_delay_seconds=60,
            matching=Universe(known_share=DEMO_KNOWN_SHARE),
        )


def _strings(key: str, values: Any) -> list[str]:
    if isinstance(values, str) or not all(isinstance(v, str) for v in values):
        raise ValueError(f"{key} must be a list of strings")
    return list(values)


def _allowlisted(spec: Any) -> bool:
    if not isinstance(spec, Mapping) or set(spec) - {"allowlisted"}:
        raise ValueError('a developer token is {"allowlisted": true|false}')
    value = spec.get("allowlisted", True)
    if not isinstance(value, bool):
        raise ValueError("allowlisted must be true or false")
    return value
