"""A programmable feed server on loopback for the fetch and poller tests.

A real HTTP/1.1 server (ThreadingHTTPServer in a thread), so the client code
under test goes through sockets, keep-alive, chunking and gzip exactly as in
production. Each path is a `Route` describing how to misbehave; every request is
logged with its headers so tests can check what the client sent.

Import the fixture explicitly in a test module:

    from tests.feedserver import feed_server  # noqa: F401  (pytest fixture)
"""

from __future__ import annotations

import gzip
import socket
import struct
import threading
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Route:
    """How the server answers one path. Mutable on purpose: tests change a feed between polls."""

    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    gzip: bool = False  # compress `body` on the fly (when the client accepts gzip)
    raw_gzip: bytes | None = None  # send these bytes as-is with Content-Encoding: gzip
    location: str | None = None  # for 3xx
    drip: float | None = None  # send one byte of `body` every `drip` seconds
    hang: bool = False  # read the request, never answer
    reset: bool = False  # read the request, then reset the connection
    hold: tuple[int, float] | None = None  # (n, t): wait until n requests in flight, or t seconds


@dataclass(frozen=True)
class LoggedRequest:
    path: str
    headers: dict[str, str]  # lower-cased names

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class FeedServer:
    """Loopback HTTP server with programmable routes, a request log and concurrency counters."""

    def __init__(self, host: str = "127.0.0.1"):
        self.routes: dict[str, Route] = {}
        self.log: list[LoggedRequest] = []
        self.stopping = threading.Event()
        self._lock = threading.Condition()
        self._in_flight = 0
        self.max_in_flight = 0
        self._httpd = _Server((host, 0), _Handler)
        self._httpd.feed_server = self
        self.host = host
        self.port = self._httpd.server_address[1]
        self.base_url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), name=f"feedserver:{self.port}", daemon=True)

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        with self._lock:
            self._lock.notify_all()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def url(self, path: str) -> str:
        return self.base_url + path

    def route(self, path: str, **kwargs) -> str:
        """Define (or replace) the route at `path`; returns its absolute URL."""
        self.routes[path] = Route(**kwargs)
        return self.url(path)

    def requests_to(self, path: str) -> list[LoggedRequest]:
        with self._lock:
            return [r for r in self.log if r.path == path]

    # --- used by the handler -------------------------------------------------

    def _enter(self, request: LoggedRequest) -> None:
        with self._lock:
            self.log.append(request)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            self._lock.notify_all()

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1
            self._lock.notify_all()

    def _hold(self, n: int, timeout: float) -> None:
        with self._lock:
            self._lock.wait_for(lambda: self._in_flight >= n or self.stopping.is_set(), timeout=timeout)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 256  # the default 5 drops concurrent connects into a 1 s SYN retry
    feed_server: FeedServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format, *args):  # noqa: A002 - keep test output quiet
        pass

    def do_GET(self):  # noqa: N802 - http.server API
        fs = self.server.feed_server
        path = self.path.split("?", 1)[0]
        request = LoggedRequest(path=path, headers={k.lower(): v for k, v in self.headers.items()})
        fs._enter(request)
        try:
            route = fs.routes.get(path)
            if route is None:
                self._send(404, b"not found", {"Content-Type": "text/plain"})
                return
            if route.hold:
                fs._hold(*route.hold)
            self._answer(fs, route, request)
        finally:
            fs._leave()

    def _answer(self, fs: FeedServer, route: Route, request: LoggedRequest) -> None:
        if route.hang:
            fs.stopping.wait()
            self.close_connection = True
            return
        if route.reset:
            # SO_LINGER with a zero timeout turns close() into a TCP RST.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        headers = dict(route.headers)
        if route.location is not None:
            headers["Location"] = route.location
        if route.status != 200:
            self._send(route.status, route.body, headers)
            return
        if route.etag is not None:
            headers["ETag"] = route.etag
        if route.last_modified is not None:
            headers["Last-Modified"] = route.last_modified
        if _not_modified(route, request):
            self._send(304, b"", headers)
            return
        headers["Content-Type"] = route.content_type
        body = route.body
        if route.raw_gzip is not None:
            body = route.raw_gzip
            headers["Content-Encoding"] = "gzip"
        elif route.gzip and "gzip" in (request.header("accept-encoding") or ""):
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        if route.drip is not None:
            self._drip(fs, body, headers, route.drip)
            return
        self._send(200, body, headers)

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304 and body:
            self.wfile.write(body)

    def _drip(self, fs: FeedServer, body: bytes, headers: dict[str, str], every: float) -> None:
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.flush()
        try:
            for i in range(len(body)):
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                # Pacing the server, not waiting for the test: stops early on shutdown.
                if fs.stopping.wait(every):
                    break
        except OSError:
            pass  # the client gave up: that is the point of the test
        self.close_connection = True


def _not_modified(route: Route, request: LoggedRequest) -> bool:
    inm = request.header("if-none-match")
    if inm is not None and route.etag is not None:
        return inm == route.etag
    ims = request.header("if-modified-since")
    if inm is None and ims is not None and route.last_modified is not None:
        return ims == route.last_modified
    return False


def gzip_bomb(inflated_size: int) -> bytes:
    """A small gzip member that inflates to `inflated_size` bytes of XML-ish filler."""
    out = bytearray()
    compressor = zlib.compressobj(9, wbits=31)
    block = b" " * (1 << 20)
    remaining = inflated_size
    while remaining > 0:
        chunk = block[: min(remaining, len(block))]
        out += compressor.compress(chunk)
        remaining -= len(chunk)
    out += compressor.flush()
    return bytes(out)


@pytest.fixture
def feed_server():
    server = FeedServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def second_feed_server():
    """Another host (127.0.0.2 is loopback on Linux) for per-host behaviour."""
    server = FeedServer(host="127.0.0.2").start()
    try:
        yield server
    finally:
        server.stop()
