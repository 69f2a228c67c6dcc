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
