"""The CleverTap sandbox harness: the sandbox on an ephemeral port, reached with plain ``requests``.

Shared by tests/sandbox (the sandbox's own tests) and the CleverTap destination's integration and DAG tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from sandbox.clevertap import CleverTapSandbox, CleverTapSandboxConfig, running_clevertap_sandbox
from tests.support.meta_harness import SandboxHarness

CT_ACCOUNT = "TEST-000-0001"  # region us1
CT_PASSCODE = "TEST-PASSCODE-ONE"
CT_EU_ACCOUNT = "TEST-000-0002"  # region eu1 (plain api.clevertap.com)
CT_EU_PASSCODE = "TEST-PASSCODE-TWO"
CT_ACCOUNTS: dict[str, dict[str, Any]] = {
    CT_ACCOUNT: {"passcodes": [CT_PASSCODE], "region": "us1"},
    CT_EU_ACCOUNT: {"passcodes": [CT_EU_PASSCODE], "region": "eu1"},
}


@dataclass
class CleverTapHarness(SandboxHarness):
    """A running CleverTap sandbox plus helpers speaking its wire protocol with plain ``requests``."""

    app: CleverTapSandbox

    def post(
        self,
        path: str,
        body: Any,
        account: str = CT_ACCOUNT,
        passcode: str = CT_PASSCODE,
        prefix: str = "",
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """POST JSON to ``<base_url><prefix><path>`` with CleverTap's auth headers."""
        auth = {"X-CleverTap-Account-Id": account, "X-CleverTap-Passcode": passcode}
        all_headers = {**auth, "Content-Type": "application/json; charset=utf-8", **(headers or {})}
        return requests.post(f"{self.base_url}{prefix}{path}", json=body, headers=all_headers, timeout=30)

    def upload(self, records: list[Any], **kwargs: Any) -> requests.Response:
        """``POST /1/upload`` with ``{"d": records}``."""
        return self.post("/1/upload", {"d": records}, **kwargs)

    def delete(self, body: Any, **kwargs: Any) -> requests.Response:
        """``POST /1/delete/profiles.json``."""
        return self.post("/1/delete/profiles.json", body, **kwargs)

    def profiles(self, account: str = CT_ACCOUNT) -> dict[str, dict[str, Any]]:
        """Identity -> stored properties of every profile of an account that has an identity."""
        profiles: dict[str, dict[str, Any]] = self.get("profiles", account=account)["profiles"]
        return profiles

    def profile(self, identity: str, account: str = CT_ACCOUNT) -> dict[str, Any]:
        """One profile by identity: ``{"guid", "ids", "properties"}``; raises on 404."""
        found: dict[str, Any] = self.get("profiles", account=account, identity=identity)
        return found

    def events(self, account: str = CT_ACCOUNT, **filters: str) -> list[dict[str, Any]]:
        """The accepted events of an account, in arrival order."""
        events: list[dict[str, Any]] = self.get("events", account=account, **filters)["events"]
        return events

    def state(self) -> dict[str, Any]:
        """``GET /_sandbox/state``."""
        state: dict[str, Any] = self.get("state")
        return state


StartCleverTap = Callable[..., CleverTapHarness]


def clevertap_connection(base_url: str | None, passcode: str = CT_PASSCODE) -> str:
    """An AIRFLOW_CONN_ value of type clevertap for the us1 test account (Host: the sandbox's us1 prefix)."""
    host = f"{base_url}/us1" if base_url else None
    extra = {"account_id": CT_ACCOUNT, "region": "us1"}
    return json.dumps({"conn_type": "clevertap", "host": host, "password": passcode, "extra": extra})


@contextmanager
def clevertap_starter() -> Iterator[StartCleverTap]:
    """``start(state_file=None, **config_overrides)`` starts a sandbox with the test accounts; all stop when the
    block ends."""
    with ExitStack() as stack:

        def start(state_file: Path | None = None, **overrides: Any) -> CleverTapHarness:
            config = CleverTapSandboxConfig.from_mapping({"accounts": CT_ACCOUNTS, **overrides})
            server, app = stack.enter_context(running_clevertap_sandbox(config, state_file=state_file))
            return CleverTapHarness(server.base_url, app)

        yield start
