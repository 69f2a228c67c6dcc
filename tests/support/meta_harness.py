"""The Meta sandbox harness: the sandbox on an ephemeral port, reached with the real facebook-business SDK.

Shared by tests/sandbox (the sandbox's own tests) and the Meta destination's integration and DAG tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.customaudience import CustomAudience
from facebook_business.api import FacebookAdsApi
from facebook_business.session import FacebookSession

from sandbox.meta import MetaSandbox, MetaSandboxConfig, running_meta_sandbox

ACCOUNT = "111"
OTHER_ACCOUNT = "222"
TOKEN = "good-token"
PROOF_TOKEN = "proof-token"
APP_SECRET = "app-secret-for-tests"
OTHER_TOKEN = "other-account-token"
READ_ONLY_TOKEN = "read-only-token"
TOKENS: dict[str, dict[str, Any]] = {
    TOKEN: {"ad_accounts": [f"act_{ACCOUNT}"]},
    PROOF_TOKEN: {"ad_accounts": [f"act_{ACCOUNT}"], "app_secret": APP_SECRET},
    OTHER_TOKEN: {"ad_accounts": [f"act_{OTHER_ACCOUNT}"]},
    READ_ONLY_TOKEN: {"ad_accounts": [f"act_{ACCOUNT}"], "permissions": ["ads_read"]},
}


def sha(value: str) -> str:
    """SHA-256 hex of a (normalized) identifier, as the pipeline sends it."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


@dataclass
class SandboxHarness:
    """What every sandbox harness has: the base URL and the vendor-neutral ``/_sandbox`` API."""

    base_url: str

    def get(self, path: str, **params: Any) -> Any:
        """GET a ``/_sandbox`` inspection endpoint (no credentials); raises on an HTTP error."""
        response = requests.get(f"{self.base_url}/_sandbox/{path}", params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    def control(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST to a ``/_sandbox`` control endpoint; raises on an HTTP error."""
        response = requests.post(f"{self.base_url}/_sandbox/{path}", json=body, timeout=10)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer


@dataclass
class MetaHarness(SandboxHarness):
    """A running Meta sandbox plus helpers to reach it with the real facebook-business SDK."""

    app: MetaSandbox

    def api(self, token: str | None = TOKEN, app_secret: str | None = None, version: str = "v26.0") -> FacebookAdsApi:
        """An SDK API object whose session points at the sandbox (no crash reporter installed)."""
        session = FacebookSession(access_token=token, app_secret=app_secret)
        session.GRAPH = self.base_url
        return FacebookAdsApi(session, api_version=version)

    def account(self, account_id: str = ACCOUNT, **api_kwargs: Any) -> AdAccount:
        """``AdAccount('act_<id>')`` bound to a sandbox API."""
        return AdAccount(f"act_{account_id}", api=self.api(**api_kwargs))

    def audience(self, audience_id: str, **api_kwargs: Any) -> CustomAudience:
        """``CustomAudience(<id>)`` bound to a sandbox API."""
        return CustomAudience(audience_id, api=self.api(**api_kwargs))

    def create_audience(self, name: str = "[Behavior] - Value Hunters", **api_kwargs: Any) -> str:
        """Create a customer-file audience through the SDK; returns its id."""
        params = {"name": name, "subtype": "CUSTOM", "customer_file_source": "USER_PROVIDED_ONLY"}
        created = self.account(**api_kwargs).create_custom_audience(params=params)
        return str(created["id"])

    def members(self, audience_id: str) -> list[dict[str, str]]:
        """The rows the sandbox stores for an audience (inspection endpoint, no token)."""
        response = requests.get(f"{self.base_url}/_sandbox/audiences/{audience_id}/members", timeout=10)
        response.raise_for_status()
        rows: list[dict[str, str]] = response.json()["rows"]
        return rows

    def state(self) -> dict[str, Any]:
        """``GET /_sandbox/state``."""
        state: dict[str, Any] = self.get("state")
        return state


StartMeta = Callable[..., MetaHarness]


@contextmanager
def meta_starter() -> Iterator[StartMeta]:
    """``start(**config_overrides)`` starts a sandbox with the test tokens; all stop when the block ends."""
    with ExitStack() as stack:

        def start(**overrides: Any) -> MetaHarness:
            config = MetaSandboxConfig.from_mapping({"tokens": TOKENS, **overrides})
            server, app = stack.enter_context(running_meta_sandbox(config))
            return MetaHarness(server.base_url, app)

        yield start
