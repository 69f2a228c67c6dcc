"""Destination loaders: one module per vendor, each a client around the vendor's official SDK.

Pure core (no Airflow import). A loader implements ``behavior_sync.sync.execute.Destination``;
``behavior_sync_airflow.destination_registry`` builds it from an Airflow connection. A loader that
keeps an audience (or list) also implements ``Reporting``: after the load, what the vendor says
about it goes into XCom and history. A loader with a request budget implements ``Preflight``: it
may refuse a load before anything is sent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

from behavior_sync.sync.plan import Batch


@dataclass(frozen=True)
class AudienceReport:
    """What the vendor says about the audience after a load (counts are approximate and may lag)."""

    audience_id: str
    name: str
    size_lower_bound: int
    size_upper_bound: int
    operation_status: str
    delivery_status: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-serializable form (XCom, history details)."""
        return asdict(self)


@runtime_checkable
class Reporting(Protocol):
    """A destination that can describe its audience after a load."""

    def report(self) -> AudienceReport | None:
        """The audience as the vendor reports it now; None when the vendor cannot say (never raises)."""
        ...


@runtime_checkable
class Preflight(Protocol):
    """A destination that checks, before the first batch, that the load can finish (e.g. a daily budget)."""

    def preflight(self, batches: Sequence[Batch]) -> None:
        """Raises (nothing sent) when ``batches``, the ones still to send, cannot be loaded now."""
        ...


@dataclass(frozen=True)
class LoadKey:
    """Whose audience (or list): behavior slug, destination id, and whether committed members exist already."""

    behavior: str
    destination_id: str
    has_committed_members: bool

    def resync_command(self) -> str:
        """The CLI command of a full re-sync of this destination."""
        conf = json.dumps({"full_resync": True, "destinations": [self.destination_id]})
        return f"airflow dags trigger behavior__{self.behavior} --conf '{conf}'"


LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def local_base_url(host: str | None, vendor: str) -> str | None:
    """A connection's Host as an API base URL: None (the vendor's own) when empty, else a URL on this
    machine (a sandbox). Raises ValueError, whose text tells the user what to do, for any other host:
    only the sandbox may redirect a client (design §5); callers turn it into their vendor's error."""
    if not host:
        return None
    url = host if "://" in host else f"http://{host}"
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or parts.hostname not in LOCAL_HOSTS:
        raise ValueError(
            f"the {vendor} connection's Host may only point at the local sandbox (http://127.0.0.1:PORT or "
            f"http://localhost:PORT); leave it empty to reach {vendor}"
        )
    return url.rstrip("/")
