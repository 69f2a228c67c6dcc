"""The Google Ads API sandbox harness: the gRPC sandbox on an ephemeral port, reached with the real
``google-ads`` client (``GoogleAdsClient`` with ``endpoint``; TLS trusted through the test session's
``GRPC_DEFAULT_SSL_ROOTS_FILE_PATH``, set in tests/conftest.py before gRPC is imported).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.ads.googleads.client import GoogleAdsClient
from google.oauth2.credentials import Credentials

from sandbox.google_ads import ROOTS_ENV, GoogleAdsSandbox, GoogleAdsSandboxConfig, running_google_ads_sandbox
from tests.sandbox.conftest import FakeClock
from tests.support.meta_harness import SandboxHarness

GADS_CUSTOMER = "1234567890"
GADS_FOREIGN_CUSTOMER = "5555555555"  # not configured: USER_PERMISSION_DENIED
GADS_TOKEN = "test-developer-token"
GADS_NOT_ALLOWLISTED_TOKEN = "test-developer-token-without-customer-match"
GADS_DELAY = 1800  # seconds of (fake) processing time
GADS_TOKENS: dict[str, dict[str, bool]] = {
    GADS_TOKEN: {"allowlisted": True},
    GADS_NOT_ALLOWLISTED_TOKEN: {"allowlisted": False},
}


@dataclass
class GoogleAdsHarness(SandboxHarness):
    """A running sandbox (``base_url`` is the inspection URL), its gRPC endpoint, app and fake clock."""

    endpoint: str
    app: GoogleAdsSandbox
    clock: FakeClock

    def client(self, developer_token: str = GADS_TOKEN, login_customer_id: str | None = GADS_CUSTOMER) -> Any:
        """``GoogleAdsClient`` pointed at the sandbox; the OAuth token never expires, so it is never refreshed."""
        return GoogleAdsClient(
            credentials=Credentials(token="sandbox-oauth-token"),
            developer_token=developer_token,
            login_customer_id=login_customer_id,
            endpoint=self.endpoint,
            use_proto_plus=True,
        )

    def service(self, name: str, **client_options: Any) -> Any:
        """``client(**client_options).get_service(name)``."""
        return self.client(**client_options).get_service(name)

    def members(self, list_id: int) -> list[list[str]]:
        """The stored identifiers of each member of a list (inspection)."""
        members: list[list[str]] = self.get(f"user_lists/{list_id}/members")["members"]
        return members


StartGoogleAds = Callable[..., GoogleAdsHarness]


def tls_dir() -> Path:
    """The folder of the trust bundle the test process points gRPC at."""
    return Path(os.environ[ROOTS_ENV]).parent


@contextmanager
def google_ads_starter(clock: Callable[[], Callable[[], float]] = FakeClock) -> Iterator[StartGoogleAds]:
    """``start(state_file=None, **config_overrides)`` starts a sandbox on ``clock()`` (a fake clock by default;
    ``lambda: time.time`` for the real one); all stop when the block ends."""
    with ExitStack() as stack:

        def start(state_file: Path | None = None, **overrides: Any) -> GoogleAdsHarness:
            settings = {
                "customers": [GADS_CUSTOMER],
                "developer_tokens": GADS_TOKENS,
                "processing_delay_seconds": GADS_DELAY,
            }
            config = GoogleAdsSandboxConfig.from_mapping({**settings, **overrides})
            now = clock()
            running = running_google_ads_sandbox(tls_dir(), config, state_file=state_file, clock=now)
            server, app = stack.enter_context(running)
            return GoogleAdsHarness(server.inspection_url, server.endpoint, app, now)  # type: ignore[arg-type]

        yield start


def google_ads_connection(endpoint: str, developer_token: str = GADS_TOKEN, customer: str = GADS_CUSTOMER) -> str:
    """An AIRFLOW_CONN_ value of type google_ads for the gRPC sandbox at ``endpoint`` (developer token: password)."""
    extra = {"customer_id": customer, "login_customer_id": GADS_CUSTOMER}
    return json.dumps({"conn_type": "google_ads", "host": endpoint, "password": developer_token, "extra": extra})
