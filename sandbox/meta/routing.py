"""Graph paths the sandbox serves: ``/v{major}.{minor}/{node}[/{edge}]``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sandbox.meta.errors import unknown_path

_VERSIONED = re.compile(r"/(v\d+\.\d+)(/[^?]*)")
_ACCOUNT = re.compile(r"act_(\d+)")
WRITE_METHODS = frozenset({"POST", "DELETE"})


@dataclass(frozen=True)
class Route:
    """A parsed Graph path. ``path`` is without the version (``/act_1/customaudiences``)."""

    version: str
    path: str
    node: str
    edge: str | None

    @property
    def account_id(self) -> str | None:
        """The numeric ad account id when the node is ``act_<id>``."""
        match = _ACCOUNT.fullmatch(self.node)
        return match.group(1) if match else None

    @property
    def is_object(self) -> bool:
        """True when the node is a numeric object id (an audience, here)."""
        return self.node.isdigit()


def parse_route(path: str) -> Route:
    """Split a Graph path; raises ``GraphError`` (2500) without a version or with extra segments."""
    match = _VERSIONED.fullmatch(path)
    if match is None:
        raise unknown_path(path)
    version, rest = match.groups()
    segments = [segment for segment in rest.split("/") if segment]
    if not 1 <= len(segments) <= 2:
        raise unknown_path(rest)
    edge = segments[1] if len(segments) == 2 else None
    return Route(version, "/" + "/".join(segments), segments[0], edge)


@dataclass(frozen=True)
class Call:
    """One authorized Graph call, as handed to an endpoint."""

    method: str
    route: Route
    params: dict[str, str]
    account_id: str
    audience_id: str | None
