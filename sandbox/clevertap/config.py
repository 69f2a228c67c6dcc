"""Configuration of the CleverTap sandbox: accounts (passcodes, region), limits, response modes, faults.

JSON form (``accounts`` is required; every other key is optional)::

    {
      "accounts": {
        "SANDBOX-000-0001": {"passcodes": ["SANDBOXPASS"], "region": "us1"}
      },
      "max_records_per_upload": 1000,
      "max_delete_values": 100,
      "upload_concurrency": 15,
      "other_concurrency": 3,
      "processing_delay_ms": 0,
      "max_event_properties": 100,
      "max_custom_profile_keys": 256,
      "upload_status": "by_outcome",
      "unprocessed_record": "object",
      "multi_value_operators": true,
      "faults": {"error_rate": 0.0, "error_statuses": [500, 503], "latency_ms": 0, "seed": null}
    }

Unknown keys raise ``ValueError``. An account may hold several passcodes (CleverTap allows several
account-level passcodes). ``processing_delay_ms`` keeps every admitted API call in flight that long,
so concurrency limits can be exercised with real parallel requests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.common.faults import FaultConfig

# CleverTap regions: <region>.api.clevertap.com; plain api.clevertap.com is Europe (eu1).
REGIONS = ("eu1", "in1", "sg1", "us1", "aps3", "mec1")
UPLOAD_STATUS_MODES = frozenset({"by_outcome", "always_success"})
RECORD_ECHO_MODES = frozenset({"object", "json_string"})
DEMO_ACCOUNT_ID = "SANDBOX-000-0001"
DEMO_PASSCODE = "SANDBOXPASS"  # a documented placeholder, deliberately unlike a real passcode
DEMO_REGION = "us1"
_ACCOUNT_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
_NUMBERS = (
    "max_records_per_upload",
    "max_delete_values",
    "upload_concurrency",
    "other_concurrency",
    "processing_delay_ms",
    "max_event_properties",
    "max_custom_profile_keys",
)


def _check_keys(data: Mapping[str, Any], allowed: set[str], what: str) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(f"unknown {what} settings: {sorted(unknown)}")


@dataclass(frozen=True)
class AccountConfig:
    """One CleverTap account (project): its id, accepted passcodes and data-centre region."""

    account_id: str
    passcodes: frozenset[str]
    region: str = DEMO_REGION

    def __post_init__(self) -> None:
        if not _ACCOUNT_ID.fullmatch(self.account_id):
            raise ValueError("an account id is 1-64 letters, digits or '-'")
        if self.region not in REGIONS:
            raise ValueError(f"unknown region {self.region!r}: one of {list(REGIONS)}")
        if not self.passcodes or any(not p.strip() for p in self.passcodes):
            raise ValueError(f"account {self.account_id} needs at least one non-empty passcode")

    @classmethod
    def from_mapping(cls, account_id: str, data: Mapping[str, Any]) -> AccountConfig:
        """``{"passcodes": [...], "region": "us1"}``; raises ``ValueError`` on unknown keys or bad values."""
        _check_keys(data, {"passcodes", "region"}, "account")
        passcodes = data.get("passcodes", [])
        if isinstance(passcodes, str) or not all(isinstance(p, str) for p in passcodes):
            raise ValueError("passcodes must be a list of strings")
        return cls(account_id, frozenset(passcodes), str(data.get("region", DEMO_REGION)))


@dataclass(frozen=True)
class CleverTapSandboxConfig:
    """The sandbox's settings; see the module docstring for the JSON form."""

    accounts: Mapping[str, AccountConfig]
    max_records_per_upload: int = 1000
    max_delete_values: int = 100
    upload_concurrency: int = 15
    other_concurrency: int = 3
    processing_delay_ms: int = 0
    max_event_properties: int = 100
    max_custom_profile_keys: int = 256
    upload_status: str = "by_outcome"
    unprocessed_record: str = "object"
    multi_value_operators: bool = True
    faults: FaultConfig = field(default_factory=FaultConfig)

    def __post_init__(self) -> None:
        if not self.accounts:
            raise ValueError("configure at least one account")
        if self.upload_status not in UPLOAD_STATUS_MODES:
            raise ValueError(f"upload_status must be one of {sorted(UPLOAD_STATUS_MODES)}")
        if self.unprocessed_record not in RECORD_ECHO_MODES:
            raise ValueError(f"unprocessed_record must be one of {sorted(RECORD_ECHO_MODES)}")
        if self.processing_delay_ms < 0:
            raise ValueError("processing_delay_ms must be >= 0")
        if min(getattr(self, name) for name in _NUMBERS if name != "processing_delay_ms") < 1:
            raise ValueError("limits must be >= 1")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> CleverTapSandboxConfig:
        """Build from JSON-like data; raises ``ValueError`` on unknown keys or bad values."""
        modes = {"upload_status", "unprocessed_record"}
        _check_keys(data, {"accounts", "multi_value_operators", "faults", *modes, *_NUMBERS}, "CleverTap sandbox")
        accounts = {str(k): AccountConfig.from_mapping(str(k), v) for k, v in dict(data.get("accounts", {})).items()}
        operators = data.get("multi_value_operators", True)
        if not isinstance(operators, bool):
            raise ValueError("multi_value_operators must be true or false")
        settings: dict[str, Any] = {key: int(data[key]) for key in _NUMBERS if key in data}
        settings.update({key: str(data[key]) for key in modes if key in data})
        faults = FaultConfig.from_mapping(data.get("faults", {}))
        return cls(accounts=accounts, multi_value_operators=operators, faults=faults, **settings)

    @classmethod
    def load(cls, path: Path) -> CleverTapSandboxConfig:
        """Read the JSON config file at ``path``."""
        with path.open(encoding="utf-8") as handle:
            return cls.from_mapping(json.load(handle))

    @classmethod
    def demo(cls) -> CleverTapSandboxConfig:
        """The ``make run`` default: account ``DEMO_ACCOUNT_ID`` / passcode ``DEMO_PASSCODE`` in ``DEMO_REGION``."""
        account = AccountConfig(DEMO_ACCOUNT_ID, frozenset({DEMO_PASSCODE}), DEMO_REGION)
        return cls(accounts={DEMO_ACCOUNT_ID: account})
