"""The connection Host allowlist: where a destination client may send its credentials.

A connection's Host is empty (the vendor's own API), the local sandbox (127.0.0.1, localhost or
[::1], design §5) or, where a vendor passes ``vendor_hosts``, one of the vendor's own hosts. Nothing
else: a token sent in a URL query (Meta) or a header (HubSpot, CleverTap) must never reach another
machine. The Host is read by urllib3's ``parse_url`` (the parser requests and the SDKs connect with)
and by ``urllib.parse.urlsplit``; both must agree, and the URL handed to a client is rebuilt from the
parsed scheme, host, port and path, never the text as typed. ADR 0011.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_SCHEMES = frozenset({"http", "https"})
_HAS_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_PATH = re.compile(r"(?:/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*/?")  # plain segments; no "", "." or ".." segment
_FORBIDDEN = (
    ("@", "holds a user name or password ('@')"),
    ("\\", "holds a backslash"),
    ("%", "holds %-escapes"),
    ("?", "holds a query ('?')"),
    ("#", "holds a fragment ('#')"),
)
_OTHER_HOST = (
    "names another host: the sandbox is 127.0.0.1, localhost or [::1] written exactly so (no other "
    "numeric or IPv6 form, no trailing dot, no metadata address)"
)


class _Refused(Exception):
    """Why a Host is refused (a phrase about the text; never the text itself)."""


@dataclass(frozen=True)
class _Target:
    """A Host as both parsers read it: lower-case scheme and host (IPv6 without brackets), port, path."""

    scheme: str
    host: str
    port: int | None
    path: str

    @property
    def url(self) -> str:
        """The URL rebuilt from the parts (no trailing slash)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if self.port is None else f":{self.port}"
        return f"{self.scheme}://{host}{port}{self.path.rstrip('/')}"


def sandbox_base_url(host: str | None, vendor: str, vendor_hosts: frozenset[str] = frozenset()) -> str | None:
    """A connection's Host as a client's base URL: None (the vendor's own API) when empty or when it names
    one of ``vendor_hosts`` over https (port 443, no path); else an http(s) URL on 127.0.0.1,
    localhost or [::1], rebuilt from its parts, without a trailing slash. A Host without a scheme gets
    ``http://`` (``https://`` for a vendor host). Pure; raises ValueError for anything else, with text that
    tells the user what to write and never quotes the Host (it may hold a token)."""
    if not host:
        return None
    try:
        target = _parse(host, "https" if _bare_host(host) in vendor_hosts else "http")
        if target.host in vendor_hosts:
            _check_vendor_host(target)
            return None
        _check_sandbox(target)
    except _Refused as refused:
        raise ValueError(_advice(vendor, vendor_hosts, str(refused))) from None
    return target.url


def _bare_host(text: str) -> str:
    """The text before any ':' or '/' in lower case: the host of a Host typed without scheme or port."""
    return re.split(r"[:/]", text, maxsplit=1)[0].lower()


def _parse(text: str, default_scheme: str) -> _Target:
    """Both parsers' reading of ``text``; raises ``_Refused`` unless they agree on every part and the text is
    exactly the rebuilt URL (up to letter case and one trailing slash)."""
    _check_characters(text)
    url = text if _HAS_SCHEME.match(text) else f"{default_scheme}://{'[::1]' if text == '::1' else text}"
    target = _agreed(url)
    if target.url.lower() != url.lower().rstrip("/"):
        raise _Refused("is not written plainly as scheme://host:port/path (an empty port, a leading zero...)")
    return target


def _check_characters(text: str) -> None:
    """Raises ``_Refused`` for characters that let parsers read different hosts, or mean nothing in a Host."""
    if not text.isascii():
        raise _Refused("holds non-ASCII characters (look-alike letters, digits or dots)")
    if any(not char.isprintable() or char.isspace() for char in text):
        raise _Refused("holds spaces or control characters")
    for char, reason in _FORBIDDEN:
        if char in text:
            raise _Refused(reason)


def _agreed(url: str) -> _Target:
    """The parts of ``url`` when ``urlsplit`` and urllib3's ``parse_url`` read the same; raises ``_Refused``."""
    try:
        split, parsed = urlsplit(url), parse_url(url)
        port = split.port
    except (ValueError, LocationParseError):
        raise _Refused("is not a well-formed URL") from None
    mine = _Target(split.scheme, split.hostname or "", port, split.path)
    theirs = _Target(parsed.scheme or "", (parsed.host or "").strip("[]"), parsed.port, parsed.path or "")
    extras = (split.username, split.query or None, split.fragment or None, parsed.auth, parsed.query, parsed.fragment)
    if mine != theirs or any(extra is not None for extra in extras):
        raise _Refused("reads as different URLs to two URL parsers (or holds a user, query or fragment)")
    return mine


def _check_sandbox(target: _Target) -> None:
    """Raises ``_Refused`` unless ``target`` is the local sandbox: http(s), a loopback host, a port, plain path."""
    if target.scheme not in _SCHEMES:
        raise _Refused("is not an http:// or https:// URL")
    if target.host not in LOOPBACK_HOSTS:
        raise _Refused(_OTHER_HOST)
    if target.port == 0:
        raise _Refused("has port 0")
    if not _PATH.fullmatch(target.path):
        raise _Refused("has a path that is not plain /segments (letters, digits, '-', '_', '.', '~'; no '.' or '..')")


def _check_vendor_host(target: _Target) -> None:
    """Raises ``_Refused`` unless ``target`` is a vendor host as the client reaches it: https, port 443, no path."""
    if target.scheme != "https" or target.port not in (None, 443) or target.path not in ("", "/"):
        raise _Refused("names the vendor's host but not as https://HOST (plain http, another port or a path)")


def _advice(vendor: str, vendor_hosts: frozenset[str], reason: str) -> str:
    """What to write in the Host field, and why this one was refused (without quoting it)."""
    names = " or ".join(f"https://{name}" for name in sorted(vendor_hosts))
    own = f" or be {vendor}'s own host for this connection ({names})" if vendor_hosts else ""
    return (
        f"the {vendor} connection's Host may only point at the local sandbox (http://127.0.0.1:PORT, "
        f"http://localhost:PORT or http://[::1]:PORT){own}; leave it empty to reach {vendor}. "
        f"This Host was refused: it {reason}"
    )
