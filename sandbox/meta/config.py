"""Configuration of the Meta sandbox: tokens and what they may touch, budgets, limits, faults.

JSON form (every key optional except ``tokens``)::

    {
      "tokens": {
        "<access token>": {"ad_accounts": ["act_1000000001"], "app_secret": "<secret>",
                           "permissions": ["ads_management", "ads_read"]}
      },
      "hourly_call_budget": 190000,
      "max_url_bytes": 131072,
      "flag_names_matching": ["(?i)diabet|debt"],
      "universe": ["<64 lowercase hex>", ...], "known_share": 0.0,
      "faults": {"error_rate": 0.0, "error_statuses": [500, 503], "latency_ms": 0,
                 "latency_jitter_ms": 0, "seed": null}
    }
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

PERMISSIONS = frozenset({"ads_management", "ads_read"})
DEFAULT_HOURLY_CALL_BUDGET = 190_000  # custom_audience BUC, Standard tier, per ad account per hour
# Real Graph drops DELETEs whose URL is too long; public reports put the break between 1,500 and
# 2,000 single-key rows (~110-146 KB of URL). The exact limit is undocumented (UNCONFIRMED).
DEFAULT_MAX_URL_BYTES = 128 * 1024
DEMO_TOKEN = "sandbox-meta-token"
DEMO_AD_ACCOUNT = "1000000001"


def normalize_account_id(value: str) -> str:
    """``"act_123"`` or ``"123"`` → ``"123"``; raises ``ValueError`` for anything else."""
    digits = value[4:] if value.startswith("act_") else value
    if not digits.isdigit():
        raise ValueError(f"not an ad account id: {value!r}")
    return digits


@dataclass(frozen=True)
class TokenGrant:
    """What one access token may do: its ad accounts (numeric ids), permissions, app secret."""

    ad_accounts: frozenset[str]
    app_secret: str | None = None
    permissions: frozenset[str] = PERMISSIONS

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> TokenGrant:
        """Build from JSON-like data; raises ``ValueError`` on unknown keys or permissions."""
        unknown = set(data) - {"ad_accounts", "app_secret", "permissions"}
        if unknown:
            raise ValueError(f"unknown token settings: {sorted(unknown)}")
        permissions = frozenset(data.get("permissions", PERMISSIONS))
        if not permissions <= PERMISSIONS:
            raise ValueError(f"unknown permissions: {sorted(permissions - PERMISSIONS)}")
        accounts = frozenset(normalize_account_id(str(a)) for a in data.get("ad_accounts", []))
        secret = data.get("app_secret")
        return cls(accounts, None if secret is None else str(secret), permissions)

    def can_read(self, account_id: str) -> bool:
        """True when the token sees ``account_id`` and holds ads_read or ads_management."""
        return account_id in self.ad_accounts and bool(self.permissions)

    def can_write(self) -> bool:
        """True when the token holds ads_management (needed by every write)."""
        return "ads_management" in self.permissions


@dataclass(frozen=True)
class MetaSandboxConfig:
    """The sandbox's settings; see the module docstring for the JSON form."""

    tokens: Mapping[str, TokenGrant]
    hourly_call_budget: int = DEFAULT_HOURLY_CALL_BUDGET
    max_url_bytes: int = DEFAULT_MAX_URL_BYTES
    flag_names_matching: tuple[str, ...] = ()
    matching: Universe = field(default_factory=Universe)  # who Meta matches (``universe``, ``known_share``)
    faults: FaultConfig = field(default_factory=FaultConfig)

    def __post_init__(self) -> None:
        if self.hourly_call_budget < 1:
            raise ValueError("hourly_call_budget must be >= 1")
        for pattern in self.flag_names_matching:
            re.compile(pattern)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> MetaSandboxConfig:
        """Build from JSON-like data; raises ``ValueError`` on unknown keys or bad values."""
        known = {"tokens", "hourly_call_budget", "max_url_bytes", "flag_names_matching", "faults", *UNIVERSE_SETTINGS}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown Meta sandbox settings: {sorted(unknown)}")
        tokens = {str(token): TokenGrant.from_mapping(grant) for token, grant in data.get("tokens", {}).items()}
        return cls(
            tokens=tokens,
            hourly_call_budget=int(data.get("hourly_call_budget", DEFAULT_HOURLY_CALL_BUDGET)),
            max_url_bytes=int(data.get("max_url_bytes", DEFAULT_MAX_URL_BYTES)),
            flag_names_matching=tuple(str(p) for p in data.get("flag_names_matching", ())),
            matching=Universe.from_settings(data),
            faults=FaultConfig.from_mapping(data.get("faults", {})),
        )

    @classmethod
    def load(cls, path: Path) -> MetaSandboxConfig:
        """Read the JSON config file at ``path``."""
        with path.open(encoding="utf-8") as handle:
            return cls.from_mapping(json.load(handle))

    @classmethod
    def demo(cls) -> MetaSandboxConfig:
        """The ``make run`` default: one token (``DEMO_TOKEN``) owning ``act_DEMO_AD_ACCOUNT``."""
        return cls(tokens={DEMO_TOKEN: TokenGrant(frozenset({DEMO_AD_ACCOUNT}))})

    def flags_name(self, name: str) -> bool:
        """True when a new audience with this name is flagged (health/finance-like names)."""
        return any(re.search(pattern, name) for pattern in self.flag_names_matching)
