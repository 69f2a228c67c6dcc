"""A small threaded HTTP server for sandboxes, built on the standard library.

A sandbox is a ``SandboxApp``: a plain object turning a parsed ``Request`` into a ``Response``,
with no HTTP plumbing. ``serve_in_background`` runs one on 127.0.0.1 in a daemon thread (tests,
``make run``); ``serve_forever`` runs it in the foreground (``python -m sandbox.<vendor>``).

The server enforces transport limits the vendors have too (request-target length, body size)
and lets the app shape those refusals (``SandboxApp.protocol_error``). Access logs carry method,
path and status only: never the query string, which holds tokens and payloads, and never a path
segment holding an e-mail address (``loggable_path``).
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

logger = logging.getLogger(__name__)

LOCALHOST = "127.0.0.1"
_HARD_LINE_CAP = 8 * 1024 * 1024  # beyond this a request line is dropped without an answer


@dataclass(frozen=True)
class HttpLimits:
    """Transport limits: request-target bytes (path + query) and body bytes."""

    max_url_bytes: int = 64 * 1024
    max_body_bytes: int = 64 * 1024 * 1024


@dataclass(frozen=True)
class Request:
    """One parsed HTTP request. ``query`` and ``form`` keep the last value of repeated keys.

    ``query_all`` keeps every value of each query key, in order (``?ids=1&ids=2``).
    """

    method: str
    path: str
    query: Mapping[str, str]
    form: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes = b""
    query_all: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def params(self) -> dict[str, str]:
        """Query-string and form parameters merged; form values win."""
        return {**self.query, **self.form}

    def json_body(self) -> Any:
        """The body decoded as JSON; raises ``ValueError`` when it is not JSON."""
        return json.loads(self.body.decode("utf-8")) if self.body else None


@dataclass(frozen=True)
class Response:
    """An HTTP response: status, headers and a body (bytes)."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
        """A compact JSON response with ``Content-Type: application/json``."""
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        return cls(status, body, {"Content-Type": "application/json; charset=UTF-8", **(headers or {})})


class SandboxApp(Protocol):
    """What a vendor sandbox implements; the server does the HTTP."""

    def handle(self, request: Request) -> Response:
        """Answer one request; must not raise for bad input (answer with the vendor's error)."""
        ...

    def protocol_error(self, status: int, message: str) -> Response:
        """The vendor-shaped answer to a transport-level refusal (400, 411, 413, 414, 500)."""
        ...

    def close(self) -> None:
        """Flush state; called once when the server stops."""
        ...


def parse_request(method: str, target: str, headers: Mapping[str, str], body: bytes) -> Request:
    """Split a request target and decode a form body (``application/x-www-form-urlencoded``)."""
    parts = urlsplit(target)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query_all: dict[str, tuple[str, ...]] = {}
    for key, value in pairs:
        query_all[key] = (*query_all.get(key, ()), value)
    form: dict[str, str] = {}
    if body and headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return Request(method.upper(), parts.path, dict(pairs), form, headers, body, query_all)


def loggable_path(target: str) -> str:
    """The path of a request target for logs: no query string, and any segment that holds an
    e-mail address (``@`` or ``%40``, e.g. ``/contacts/a@b.c?idProperty=email``) replaced by ``{redacted}``.
    """
    segments = urlsplit(target).path.split("/")
    return "/".join("{redacted}" if "@" in s or "%40" in s.lower() else s for s in segments)


class _SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    # The stdlib listens with a backlog of 5: a burst of parallel clients (e.g. 20 concurrent uploads
    # to test a concurrency limit) would see connection resets instead of the vendor's answer.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: SandboxApp, limits: HttpLimits) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self.limits = limits

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connection-level failures (client went away...): log the type only, never a traceback."""
        logger.debug("connection error from %s: %s", client_address, sys.exc_info()[0])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60
    # Headers and body leave in two writes; with Nagle on, the body waits for the client's delayed
    # ACK (~40 ms a call on keep-alive connections). TCP_NODELAY sends it at once.
    disable_nagle_algorithm = True
    server: _SandboxServer

    def handle_one_request(self) -> None:
        """Like the standard one, but with our own request-line cap (the stdlib stops at 64 KiB)."""
        try:
            self.raw_requestline = self.rfile.readline(_HARD_LINE_CAP + 1)
            if not self.raw_requestline or len(self.raw_requestline) > _HARD_LINE_CAP:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self._send(self._answer())
            self.wfile.flush()
        except TimeoutError:
            self.close_connection = True

    def _answer(self) -> Response:
        app = self.server.app
        refusal, length = self._refusal()
        if refusal is not None:
            self.close_connection = True
            return refusal
        body = self.rfile.read(length) if length else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        try:
            request = parse_request(self.command, self.path, headers, body)
        except UnicodeDecodeError:
            return app.protocol_error(400, "the form body is not UTF-8")
        try:
            return app.handle(request)
        except Exception as exc:  # noqa: BLE001 - a sandbox bug must answer 500, not drop the connection
            # No exc_info: a traceback could quote request values (PII); type and route suffice.
            logger.error("sandbox error %s on %s %s", type(exc).__name__, self.command, loggable_path(self.path))
            return app.protocol_error(500, "internal sandbox error")

    def _refusal(self) -> tuple[Response | None, int]:
        """A transport-level refusal (URL too long, bad or too large body), and the body length."""
        app, limits = self.server.app, self.server.limits
        if len(self.path) > limits.max_url_bytes:  # the stdlib decodes the line as latin-1: chars == bytes
            message = f"request URL too long: {len(self.path)} bytes, the limit is {limits.max_url_bytes}"
            return app.protocol_error(414, message), 0
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return app.protocol_error(411, "chunked request bodies are not supported: send Content-Length"), 0
        raw_length = self.headers.get("Content-Length") or "0"
        if not raw_length.isdigit():
            return app.protocol_error(400, "invalid Content-Length"), 0
        length = int(raw_length)
        if length > limits.max_body_bytes:
            self._discard(length)
            message = f"request body too large: {length} bytes, the limit is {limits.max_body_bytes}"
            return app.protocol_error(413, message), 0
        return None, length

    def _discard(self, length: int) -> None:
        """Read and drop a refused body, so the client gets our answer rather than a broken pipe."""
        remaining = min(length, _HARD_LINE_CAP * 32)
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                return
            remaining -= len(chunk)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        status = code.value if isinstance(code, HTTPStatus) else code
        logger.debug("%s %s -> %s", self.command, loggable_path(self.path), status)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("http: " + format, *args)


@dataclass(frozen=True)
class RunningServer:
    """A started server: its base URL (``http://127.0.0.1:PORT``) and port."""

    base_url: str
    port: int


def _bind(app: SandboxApp, port: int, limits: HttpLimits) -> _SandboxServer:
    return _SandboxServer((LOCALHOST, port), app, limits)


@contextmanager
def serve_in_background(app: SandboxApp, port: int = 0, limits: HttpLimits | None = None) -> Iterator[RunningServer]:
    """Serve ``app`` on 127.0.0.1:``port`` (0 = an ephemeral port) in a daemon thread.

    Yields once the socket listens; on exit stops the server, joins the thread and calls
    ``app.close()``. Raises ``OSError`` when the port is taken.
    """
    server = _bind(app, port, limits or HttpLimits())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    bound_port = server.server_address[1]
    try:
        yield RunningServer(f"http://{LOCALHOST}:{bound_port}", int(bound_port))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        app.close()


def serve_forever(app: SandboxApp, port: int, limits: HttpLimits | None = None) -> None:
    """Serve ``app`` in the foreground until Ctrl-C or SIGTERM, then ``app.close()``.

    Call from the main thread (it installs a SIGTERM handler).
    """
    server = _bind(app, port, limits or HttpLimits())

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()  # shutdown() blocks: not in this thread

    signal.signal(signal.SIGTERM, stop)
    logger.info("sandbox listening on http://%s:%s", LOCALHOST, server.server_address[1])
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        logger.info("sandbox stopping")
        server.server_close()
        app.close()
