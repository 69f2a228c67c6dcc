"""What an endpoint receives (``Call``) and returns (``Reply``), and strict request-body helpers.

Bodies are checked the way HubSpot's API does it server-side (the SDK's client-side validation is
off): unknown or missing fields, wrong JSON types and out-of-range numbers are 400
VALIDATION_ERROR naming the field in ``errors[].in``.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.common.http import Request
from sandbox.hubspot.config import HubSpotSandboxConfig, PortalConfig, TokenGrant
from sandbox.hubspot.errors import invalid_field, validation
from sandbox.hubspot.store import PortalData, Store

if TYPE_CHECKING:
    from sandbox.hubspot.limits import RequestLimiter


@dataclass(frozen=True)
class Reply:
    """A success: HTTP status and JSON body (None: no body, e.g. 204)."""

    status: int
    body: Any = None


@dataclass(frozen=True)
class Call:
    """One authenticated, authorized, admitted call, as handed to an endpoint: ``grant`` is the caller's token,
    ``version`` the API version its path names (``v3``, ``YYYY-MM``; None for unversioned paths)."""

    request: Request
    params: Mapping[str, str]
    portal: PortalConfig
    grant: TokenGrant
    version: str | None
    data: PortalData
    store: Store
    config: HubSpotSandboxConfig
    limiter: RequestLimiter
    now: float

    def body(self) -> Any:
        """The JSON body; raises 400 when it is missing or not JSON."""
        if not self.request.body:
            raise validation("Invalid input JSON: the request body is empty")
        try:
            return json.loads(self.request.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            position = f" on line {exc.lineno}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
            raise validation(f"Invalid input JSON{position}: the body is not valid JSON") from None

    def query_list(self, name: str) -> list[str]:
        """Every value of a query key, repeated (``?p=a&p=b``) or comma-separated (``?p=a,b``)."""
        values = self.request.query_all.get(name, ())
        return [part for value in values for part in value.split(",") if part]

    def query_int(self, name: str, default: int, low: int, high: int) -> int:
        """An integer query parameter within [low, high]; raises 400 otherwise."""
        raw = self.request.query.get(name)
        if raw is None or raw == "":
            return default
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise invalid_field(name, f"{name} must be an integer between {low} and {high}")
        return int(raw)

    def query_bool(self, name: str) -> bool:
        """A boolean query parameter (``true``/``false``, default false)."""
        raw = self.request.query.get(name, "false").lower()
        if raw not in {"true", "false"}:
            raise invalid_field(name, f"{name} must be true or false")
        return raw == "true"


def json_object(
    value: Any, allowed: Collection[str], required: Collection[str] = (), where: str = ""
) -> dict[str, Any]:
    """``value`` as a JSON object with only ``allowed`` keys and every ``required`` one; raises 400."""
    prefix = f"{where}." if where else ""
    if not isinstance(value, dict):
        raise invalid_field(where or "body", f"{where or 'the body'} must be a JSON object")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise invalid_field(prefix + unknown[0], f"Unrecognized field {unknown[0]!r}")
    missing = [key for key in required if value.get(key) is None]
    if missing:
        raise invalid_field(prefix + missing[0], f"Some required fields were not set: [{', '.join(missing)}]")
    return value


def string_list(value: Any, field: str) -> list[str]:
    """A JSON array of ids: strings (or integers, converted); raises 400 otherwise."""
    if not isinstance(value, list):
        raise invalid_field(field, f"{field} must be an array of strings")
    items: list[str] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise invalid_field(field, f"{field} must hold only strings")
        items.append(str(item))
    return items


def string_field(data: Mapping[str, Any], key: str, where: str = "", required: bool = True) -> str | None:
    """``data[key]`` as a non-empty string (or None when optional and absent); raises 400."""
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise invalid_field(f"{where}.{key}" if where else key, f"{key} must be a non-empty string")
    return value


def optional_bool(data: Mapping[str, Any], key: str, default: bool) -> bool:
    """``data[key]`` as a JSON boolean, or ``default`` when absent; raises 400 on another type."""
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise invalid_field(key, f"{key} must be a boolean")
    return value


def optional_int(data: Mapping[str, Any], key: str, default: int) -> int:
    """``data[key]`` as a JSON integer, or ``default`` when absent; raises 400 on another type."""
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_field(key, f"{key} must be an integer")
    return value
