"""The CleverTap paths the sandbox serves, and which region a request was addressed to.

Live CleverTap has one host per data centre (``<region>.api.clevertap.com``, Europe also plain
``api.clevertap.com``); a call to another region's host answers 401. The sandbox is one server, so
a request names its region in either of two ways (both optional):

* a path prefix: base URL ``http://127.0.0.1:PORT/us1`` gives ``POST /us1/1/upload``;
* a ``Host`` header ``us1.api.clevertap.com`` (``api.clevertap.com`` is ``eu1``), e.g. behind a proxy.

The prefix wins when both are present. Without either, the account's own region is assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.clevertap.config import REGIONS

UPLOAD = "upload"
DELETE_PROFILES = "delete_profiles"
PROFILE = "profile"
# path -> (method, route name, concurrency group)
ROUTES: dict[str, tuple[str, str, str]] = {
    "/1/upload": ("POST", UPLOAD, "upload"),
    "/1/delete/profiles.json": ("POST", DELETE_PROFILES, "other"),
    "/1/profile.json": ("GET", PROFILE, "other"),
}
_API_HOST = "api.clevertap.com"


@dataclass(frozen=True)
class Target:
    """Where a request went: the API path (without region prefix) and the region it named, if any."""

    path: str
    region: str | None


@dataclass(frozen=True)
class Route:
    """A served endpoint: its name (stats, logs) and its concurrency group (``upload`` or ``other``)."""

    name: str
    group: str


def resolve(path: str, host: str) -> Target:
    """Split an optional ``/<region>`` prefix off ``path``; else read the region from the ``Host`` header."""
    path = path.rstrip("/") or "/"
    first, _, rest = path.lstrip("/").partition("/")
    if first in REGIONS and rest:
        return Target("/" + rest, first)
    return Target(path, _region_of_host(host))


def match(method: str, path: str) -> tuple[Route | None, bool]:
    """(the route, whether the path exists for some method)."""
    found = ROUTES.get(path)
    if found is None:
        return None, False
    wanted_method, name, group = found
    return (Route(name, group) if method == wanted_method else None), True


def _region_of_host(host: str) -> str | None:
    name = host.split(":", 1)[0].strip().lower()
    if name == _API_HOST:
        return "eu1"
    region, _, rest = name.partition(".")
    if rest == _API_HOST and region in REGIONS:
        return region
    return None
