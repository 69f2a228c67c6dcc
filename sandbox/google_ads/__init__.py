"""A strict local stand-in for the Google Ads API (gRPC): Customer Match user lists, offline user data
jobs, GAQL search and long-running operations.

The official ``google-ads`` client reaches it unchanged over TLS: the sandbox serves a self-signed
certificate (``tls``) that the client process trusts through ``GRPC_DEFAULT_SSL_ROOTS_FILE_PATH``, and
``GoogleAdsClient(credentials=Credentials(token=...), developer_token=..., login_customer_id=...,
endpoint="127.0.0.1:PORT", use_proto_plus=True)``. See ``sandbox/google_ads/README.md``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc

from sandbox.common.http import LOCALHOST, serve_in_background
from sandbox.google_ads.app import GoogleAdsSandbox
from sandbox.google_ads.config import DEMO_CUSTOMER_ID, DEMO_DEVELOPER_TOKEN, GoogleAdsSandboxConfig
from sandbox.google_ads.inspection import GoogleAdsInspection
from sandbox.google_ads.tls import ROOTS_ENV, TlsIdentity, ensure_identity

__all__ = [
    "DEMO_CUSTOMER_ID",
    "DEMO_DEVELOPER_TOKEN",
    "ROOTS_ENV",
    "GoogleAdsSandbox",
    "GoogleAdsSandboxConfig",
    "RunningGoogleAds",
    "ensure_identity",
    "grpc_server",
    "running_google_ads_sandbox",
]

_MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # 100,000 hashed identifiers are ~10 MB; gRPC's default cap is 4 MB


@dataclass(frozen=True)
class RunningGoogleAds:
    """A started sandbox: the gRPC endpoint for ``GoogleAdsClient(endpoint=...)`` and the inspection URL."""

    endpoint: str
    port: int
    inspection_url: str


def grpc_server(app: GoogleAdsSandbox, identity: TlsIdentity, port: int) -> tuple[grpc.Server, int]:
    """An unstarted TLS gRPC server for ``app`` on 127.0.0.1:``port`` (0 = ephemeral) and its bound port."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="google-ads-sandbox"),
        options=[("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES)],
    )
    server.add_generic_rpc_handlers(tuple(app.handlers()))
    credentials = grpc.ssl_server_credentials([(identity.private_key, identity.certificate)])
    bound = server.add_secure_port(f"{LOCALHOST}:{port}", credentials)
    if bound == 0:
        raise OSError(f"cannot listen on {LOCALHOST}:{port}")
    return server, bound


@contextmanager
def running_google_ads_sandbox(
    tls_dir: Path,
    config: GoogleAdsSandboxConfig | None = None,
    port: int = 0,
    inspection_port: int = 0,
    state_file: Path | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Iterator[tuple[RunningGoogleAds, GoogleAdsSandbox]]:
    """Start the gRPC sandbox and its HTTP inspection on 127.0.0.1 (ephemeral ports by default).

    ``tls_dir`` holds the TLS identity (created when missing; clients trust ``tls_dir/trust.pem``).
    Yields the endpoints and the app; stops both on exit, saving ``state_file`` when given. ``clock``
    (epoch seconds) drives job processing and quotas; ``sleep`` replaces ``time.sleep`` for latency.
    """
    app = GoogleAdsSandbox(
        config or GoogleAdsSandboxConfig.demo(),
        state_file=state_file,
        clock=clock or time.time,
        sleep=sleep or time.sleep,
    )
    server, bound = grpc_server(app, ensure_identity(tls_dir), port)
    server.start()
    try:
        with serve_in_background(GoogleAdsInspection(app), inspection_port) as inspection:
            yield RunningGoogleAds(f"{LOCALHOST}:{bound}", bound, inspection.base_url), app
    finally:
        server.stop(grace=None).wait(5)
        app.close()
