"""A webhook receiver on 127.0.0.1 for tests: checks each request's signature, can answer errors on command."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from behavior_sync.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

SECRET = "whsec-test-secret"


@dataclass
class Received:
    """One request as received: the parsed body and whether its signature verified."""

    path: str
    document: dict[str, Any]
    body: bytes
    signed: bool
    headers: dict[str, str]


@dataclass
class Receiver:
    """What the server got; ``answers`` are HTTP statuses to answer next (then 204)."""

    port: int = 0
    requests: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/behavior-sync"

    def connection(self, login: str | None = None) -> str:
        """An AIRFLOW_CONN_ value (type http) pointing at this receiver with the test secret."""
        return json.dumps(
            {"conn_type": "http", "host": "127.0.0.1", "port": self.port, "login": login, "password": SECRET}
        )

    def events(self) -> list[str]:
        return [r.document["event"] for r in self.requests]


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    """A running receiver on an ephemeral port (stopped on exit)."""
    receiver = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            stamp, header = self.headers.get(TIMESTAMP_HEADER, ""), self.headers.get(SIGNATURE_HEADER, "")
            signed = verify(SECRET, stamp, body, header)
            with lock:
                receiver.requests.append(Received(self.path, json.loads(body), body, signed, dict(self.headers)))
                status = receiver.answers.pop(0) if receiver.answers else 204
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
