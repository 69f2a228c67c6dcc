"""The Google Data Manager sandbox for tests: accounts, a starter, and the official REST clients pointed at it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.google_data_manager import GoogleDataManagerSandboxConfig, running_google_data_manager_sandbox
from tests.support.meta_harness import SandboxHarness

GDM_ACCOUNT = "1234567890"  # Google Ads, accessible
GDM_OTHER_ACCOUNT = "5555555555"  # Google Ads, accessible (isolation tests)
GDM_FOREIGN_ACCOUNT = "9999999999"  # not configured: PERMISSION_DENIED
GDM_TOKEN = "ya29.sandbox-test-token"
GDM_ACCOUNTS: dict[str, dict[str, Any]] = {
    GDM_ACCOUNT: {"type": "GOOGLE_ADS"},
    GDM_OTHER_ACCOUNT: {"type": "GOOGLE_ADS"},
}
GDM_DELAY = 1800  # seconds of (fake) processing time


@dataclass
class GoogleDataManagerHarness(SandboxHarness):
    """A running Data Manager sandbox, its clock, and the official REST clients pointed at it."""

    app: Any  # sandbox.google_data_manager.GoogleDataManagerSandbox
    clock: Any  # the sandbox's clock (a fake one in sandbox tests: ``advance``)

    def _options(self) -> dict[str, Any]:
        from google.auth.credentials import AnonymousCredentials

        return {
            "transport": "rest",
            "credentials": AnonymousCredentials(),
            "client_options": {"api_endpoint": self.base_url},
        }

    def ingestion(self) -> Any:
        """``IngestionServiceClient`` over REST with anonymous credentials."""
        from google.ads import datamanager_v1

        return datamanager_v1.IngestionServiceClient(**self._options())

    def user_lists(self) -> Any:
        """``UserListServiceClient`` over REST with anonymous credentials."""
        from google.ads import datamanager_v1

        return datamanager_v1.UserListServiceClient(**self._options())


StartGoogleDataManager = Callable[..., GoogleDataManagerHarness]


def google_dm_connection(host: str | None, account: str = GDM_ACCOUNT, terms: bool = True) -> str:
    """An AIRFLOW_CONN_ value of type google_ads for the sandbox at ``host`` (anonymous credentials)."""
    extra = {"customer_id": account, "customer_match_terms_accepted": terms}
    return json.dumps({"conn_type": "google_ads", "host": host, "extra": extra})


@contextmanager
def google_data_manager_starter(
    clock: Callable[[], Callable[[], float]] = lambda: time.time,
) -> Iterator[StartGoogleDataManager]:
    """A factory ``start(state_file=None, **config_overrides)`` of sandboxes with the test accounts and token;
    ``clock()`` makes each sandbox's clock. All are stopped on exit."""
    with ExitStack() as stack:

        def start(state_file: Path | None = None, **overrides: Any) -> GoogleDataManagerHarness:
            settings = {"accounts": GDM_ACCOUNTS, "access_tokens": [GDM_TOKEN], "processing_delay_seconds": GDM_DELAY}
            config = GoogleDataManagerSandboxConfig.from_mapping({**settings, **overrides})
            sandbox_clock = clock()
            running = running_google_data_manager_sandbox(config, state_file=state_file, clock=sandbox_clock)
            server, app = stack.enter_context(running)
            return GoogleDataManagerHarness(server.base_url, app, sandbox_clock)

        yield start
