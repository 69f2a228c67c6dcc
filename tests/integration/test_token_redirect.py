"""No connection Host can send a destination's token anywhere but the local sandbox (issue 17, requirement 1).

Every vendor's hook is built from an Airflow connection (``AIRFLOW_CONN_*``) whose Host is one of the
bypass candidates of ``tests.support.hostile_hosts``, aimed at a real listener on 127.0.0.1, and its
test-connection button is pressed: the real SDK clients (facebook-business, hubspot-api-client, the
Google SDKs) and CleverTap's ``requests`` session would send the token if the Host got through. A guard
on the process's sockets refuses, and records, any name resolution or connection that is not loopback;
the listener records every byte it is sent. A Host the allowlist accepts reaches the listener with the
token, which shows the listener would see a leak.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from behavior_sync_airflow.hooks.destinations import CleverTapHook, GoogleAdsHook, HubSpotHook, MetaAdsHook
from tests.support.hostile_hosts import hostile_hosts

LOOPBACK_NAMES = frozenset({"127.0.0.1", "::1", "localhost"})
LOOPBACK_ADDRESSES = frozenset({"127.0.0.1", "::1"})
REFUSAL = b'{"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}}'
ANSWER = b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nConnection: close\r\n"
ANSWER += b"Content-Length: %d\r\n\r\n%s"


@dataclass(frozen=True)
class Vendor:
    """One destination's connection (its Host set per test) and the hook that reads it."""

    env: str
    connection: dict[str, Any]
    hook: Callable[[], Any]

    @property
    def secret(self) -> str:
        """The token (or developer token) in the connection's Password field."""
        return str(self.connection.get("password") or "")


VENDORS = {
    "meta": Vendor(
        "AIRFLOW_CONN_META_DEFAULT",
        {"conn_type": "meta_ads", "password": "meta-token-stays-home", "extra": {"ad_account_id": "act_111"}},
        MetaAdsHook,
    ),
    "hubspot": Vendor(
        "AIRFLOW_CONN_HUBSPOT_DEFAULT",
        {"conn_type": "hubspot", "password": "pat-na1-hubspot-token-stays-home", "extra": {"portal_id": "123"}},
        HubSpotHook,
    ),
    "clevertap": Vendor(
        "AIRFLOW_CONN_CLEVERTAP_DEFAULT",
        {
            "conn_type": "clevertap",
            "password": "CLEVERTAP-PASSCODE-STAYS-HOME",
            "extra": {"account_id": "TEST-000-0001", "region": "us1"},
        },
        CleverTapHook,
    ),
    "google_data_manager": Vendor(
        "AIRFLOW_CONN_GOOGLE_ADS_DEFAULT",
        {"conn_type": "google_ads", "extra": {"customer_id": "1234567890"}},
        GoogleAdsHook,
    ),
    "google_ads_api": Vendor(
        "AIRFLOW_CONN_GOOGLE_ADS_API_DEFAULT",
        {"conn_type": "google_ads", "password": "developer-token-stays-home", "extra": {"customer_id": "1234567890"}},
        lambda: GoogleAdsHook("google_ads_api_default"),
    ),
}


class _Recorder(socketserver.BaseRequestHandler):
    """Records what one connection sent (up to 64 KiB, 2 s) and answers Meta's invalid-token error as HTTP 401."""

    server: Listener

    def handle(self) -> None:
        self.request.settimeout(2)
        data = b""
        try:
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = self.request.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        self.server.received.append(data)
        self.request.sendall(ANSWER % (len(REFUSAL), REFUSAL))


class Listener(socketserver.ThreadingTCPServer):
    """A real TCP server on a loopback address (ephemeral port) that records every request it is sent."""

    daemon_threads = True

    def __init__(self, address: str) -> None:
        self.address_family = socket.AF_INET6 if ":" in address else socket.AF_INET
        self.received: list[bytes] = []
        super().__init__((address, 0), _Recorder)
        self.port = int(self.server_address[1])
        threading.Thread(target=self.serve_forever, daemon=True).start()


@dataclass
class NetworkGuard:
    """What the process tried to resolve or connect to outside loopback (each attempt was refused)."""

    leaks: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def listeners() -> Iterator[dict[str, Listener]]:
    started = {"ipv4": Listener("127.0.0.1"), "ipv6": Listener("::1")}
    yield started
    for listener in started.values():
        listener.shutdown()
        listener.server_close()


@pytest.fixture()
def listener(listeners: dict[str, Listener]) -> Listener:
    """The IPv4 listener, with nothing recorded yet."""
    for each in listeners.values():
        each.received.clear()
    return listeners["ipv4"]


@pytest.fixture()
def guard(monkeypatch: pytest.MonkeyPatch) -> NetworkGuard:
    """Refuses and records any name resolution or TCP/UDP connection of this process that is not loopback."""
    found = NetworkGuard()
    resolve, connect = socket.getaddrinfo, socket.socket.connect

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in LOOPBACK_NAMES:
            found.leaks.append(f"resolve {name!r}")
            raise socket.gaierror(socket.EAI_NONAME, "refused by the test: not loopback")
        return resolve(host, *args, **kwargs)

    def guarded_connect(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in LOOPBACK_ADDRESSES:
            found.leaks.append(f"connect {address!r}")
            raise ConnectionRefusedError("refused by the test: not loopback")
        connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    return found


def press_test_connection(vendor: Vendor, host: str, monkeypatch: pytest.MonkeyPatch) -> tuple[bool, str]:
    """The connection's test button, with ``host`` in its Host field."""
    monkeypatch.setenv(vendor.env, json.dumps({**vendor.connection, "host": host}))
    ok, message = vendor.hook().test_connection()
    return bool(ok), str(message)


HOSTILE = [(case, host) for case, host in hostile_hosts(0) if "\x00" not in host]  # an env var cannot hold NUL


@pytest.mark.parametrize("case", [case for case, _ in HOSTILE])
def test_no_hostile_host_lets_any_vendor_send_a_request_off_loopback_or_to_the_listener(
    case: str, listener: Listener, guard: NetworkGuard, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = dict(hostile_hosts(listener.port))[case]
    for name, vendor in VENDORS.items():
        ok, message = press_test_connection(vendor, host, monkeypatch)
        assert (guard.leaks, listener.received) == ([], []), name  # nothing left loopback, nothing reached it
        assert not ok and "may only point at the local sandbox" in message, (name, message)
        assert not vendor.secret or vendor.secret not in message, name


@pytest.mark.parametrize("form", ["http://127.0.0.1:{ipv4}", "localhost:{ipv4}/", "http://[::1]:{ipv6}"])
@pytest.mark.parametrize("name", ["meta", "hubspot", "clevertap"])
def test_a_sandbox_host_takes_the_token_to_that_listener_only(
    name: str, form: str, listeners: dict[str, Listener], guard: NetworkGuard, monkeypatch: pytest.MonkeyPatch
) -> None:
    listener = listeners["ipv6" if "ipv6" in form else "ipv4"]
    listener.received.clear()
    vendor = VENDORS[name]
    ok, message = press_test_connection(
        vendor, form.format(ipv4=listeners["ipv4"].port, ipv6=listeners["ipv6"].port), monkeypatch
    )
    assert not ok and vendor.secret not in message
    assert len(listener.received) == 1 and vendor.secret.encode() in listener.received[0]
    assert guard.leaks == []
