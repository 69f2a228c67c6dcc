"""Reaching a real Airflow started by a test: free local ports and the REST API's JWT."""

from __future__ import annotations

import json
import socket
import urllib.request
from contextlib import ExitStack


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports free on 127.0.0.1 right now (another process may take one later)."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def api_token(url: str, user: str, password: str) -> str:
    """A JWT from the api-server at ``url`` (``POST /auth/token``, simple auth manager)."""
    body = json.dumps({"username": user, "password": password}).encode()
    request = urllib.request.Request(f"{url}/auth/token", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        token: str = json.load(response)["access_token"]
    return token
