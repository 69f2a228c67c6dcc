"""Destination loaders: one module per vendor, each a client around the vendor's official SDK.

Pure core (no Airflow import). A loader implements ``behavior_sync.sync.execute.Destination``;
``behavior_sync_airflow.destination_registry`` builds it from an Airflow connection. A loader that
keeps an audience (or list) also implements ``Reporting``: after the load, what the vendor says
about it goes into XCom and history.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable


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
