"""A lean HTTP/1.1 GET client for feed polling: asyncio transports, h11 framing, keep-alive.

Why not httpx here: a warm poll cycle is 200 conditional GETs answered by 304,
and httpx + httpcore + anyio spend ~1.5 ms of CPU on each (URL models, cookie
and header objects, pool bookkeeping, cancel scopes). This module does the same
exchange in a fraction of that, keeping what matters for hostile servers: h11
parses every response (status line, headers, chunked / content-length / close
framing, size limits), and any doubt about a connection's state discards it.

Only what `tui.fetch` needs: GET, no proxies, no auth, no cookies, no HTTP/2.
URLs it cannot send verbatim (non-ASCII, userinfo, characters that need
escaping) are refused by `parse_url` returning None, so the caller can use
httpx for them instead.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11

# The limit httpcore uses: a status line plus headers (or one chunk header) larger
# than this is refused rather than buffered.
MAX_HEAD_BYTES = 100 * 1024
# Stop reading the socket when this much unread data is queued: a 50 MB body
# then costs what the consumer holds, not what the server sends.
_HIGH_WATER = 256 * 1024
_LOW_WATER = 64 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}
# A path/query httpx would send unchanged: RFC 3986 characters and valid %XX escapes.
_PLAIN_TARGET = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*")
_PLAIN_HOST = re.compile(r"[a-z0-9](?:[a-z0-9\-_.]*[a-z0-9])?|\[[0-9a-f:.]+\]")


class HTTPError(Exception):
    """Any failure of one exchange; the subclasses say which phase."""


class ConnectTimeout(HTTPError):
    pass


class ConnectError(HTTPError):
    """The connection could not be made; __cause__ is the OSError (refused, DNS, TLS...)."""


class ReadError(HTTPError):
    """The connection broke while we waited for the answer; __cause__ is the OSError."""


class IncompleteResponse(HTTPError):
    """The server closed the connection before a complete response."""


class InvalidResponse(HTTPError):
    """The server's bytes are not HTTP/1.1 we accept (garbage status line, oversize headers...)."""


@dataclass(frozen=True, slots=True)
class Target:
    """A URL split into what one request needs."""

    origin: tuple[str, str, int]  # (scheme, host to connect to, port): the pool key
    host_header: str
    request_target: str


@functools.lru_cache(maxsize=4096)
def parse_url(url: str) -> Target | None:
    """The request parts of a plain http(s) URL, or None when this client should not
    send it (non-ASCII, userinfo, characters needing escapes, odd ports or hosts)."""
    if not url.isascii():
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or "@" in parts.netloc:
        return None
    netloc_host = parts.netloc.rpartition(":")[0] if parts.netloc.endswith(f":{port}") else parts.netloc
    netloc_host = netloc_host.lower()
    if not _PLAIN_HOST.fullmatch(netloc_host):
        return None
    path = parts.path or "/"
    target = f"{path}?{parts.query}" if parts.query else path
    if not path.startswith("/") or not _PLAIN_TARGET.fullmatch(target):
        return None
    default = _DEFAULT_PORTS[scheme]
    if port is None or port == default:
        port, host_header = default, netloc_host
    else:
        host_header = f"{netloc_host}:{port}"
    connect_host = netloc_host[1:-1] if netloc_host.startswith("[") else netloc_host
    return Target((scheme, connect_host, port), host_header, target)


class Response:
    """A response whose body has not been read yet. The attribute names follow
    httpx's streaming Response, so `tui.fetch` reads either kind the same way."""

    __slots__ = ("status_code", "headers", "is_stream_consumed", "_conn", "_pool", "_pending", "_complete", "_error")

    def __init__(self, status_code: int, headers: dict[str, str], conn: _Connection, pool: Pool):
        self.status_code = status_code
        self.headers = headers  # lower-case names; repeated fields joined with ", "
        self.is_stream_consumed = False
        self._conn: _Connection | None = conn
        self._pool = pool
        self._pending: list[bytes] = []  # body already parsed, not yet handed out
        self._complete = False  # the whole body is in _pending; the connection went back
        self._error: HTTPError | None = None  # found while parsing ahead; raised after _pending

    async def aiter_raw(self):
        """The body as received (still content-encoded), in the pieces that arrive.
        On an error or a cancellation the connection is discarded. A consumer that
        stops early leaves the connection as it is: `aclose` (or a new iteration,
        to drain the rest) decides."""
        if self.is_stream_consumed:
            return
        pending, self._pending = self._pending, []
        for data in pending:
            yield data
        if self._complete:
            self.is_stream_consumed = True
            return
        if self._error is not None:
            raise self._error
        conn = self._conn
        if conn is None:
            raise ReadError("the response was closed before its body was read")
        try:
            while True:
                event = await _next_event(conn)
                if type(event) is h11.Data:
                    yield bytes(event.data)
                elif type(event) is h11.EndOfMessage:
                    self.is_stream_consumed = True
                    self._finished()
                    return
                else:  # nothing else may come inside a response body
                    raise InvalidResponse(f"unexpected {type(event).__name__} in a response body")
        except GeneratorExit:  # closed by its consumer (or the garbage collector): not an error
            raise
        except BaseException:
            if self._conn is conn:
                self._conn = None
            conn.discard()
            raise

    async def aclose(self) -> None:
        """Discard the connection unless the body was read to its end (then it is back in the pool)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.discard()

    def _take_what_is_in(self) -> None:
        """A 304 (or a small body) usually arrives whole with its head: parse what
        is already received, and if that is the whole message, give the connection
        back at once. Never reads the socket, so never more than one read's worth."""
        conn = self._conn
        while True:
            try:
                event = conn.h11.next_event()
            except h11.RemoteProtocolError as exc:
                self._conn = None
                self._error = _protocol_failure(conn, exc)  # raised when the body is read
                return
            if type(event) is h11.Data:
                self._pending.append(bytes(event.data))
            elif type(event) is h11.EndOfMessage:
                self._complete = True
                if not self._pending:
                    self.is_stream_consumed = True
                self._finished()
                return
            else:  # NEED_DATA; anything odd is left for aiter_raw to report
                return

    def _finished(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._pool.release(conn)


async def _next_event(conn: _Connection):
    """The next h11 event, reading from the socket as needed; errors in our words."""
    h = conn.h11
    while True:
        try:
            event = h.next_event()
        except h11.RemoteProtocolError as exc:
            raise _protocol_failure(conn, exc) from None
        if event is not h11.NEED_DATA:
            return event
        try:
            data = await conn.read()
        except OSError as exc:
            conn.discard()
            raise ReadError(str(exc) or type(exc).__name__) from exc
        h.receive_data(data)


def _protocol_failure(conn: _Connection, exc: h11.RemoteProtocolError) -> HTTPError:
    """Discard the connection; the error to raise, in our terms."""
    conn.discard()
    if conn.eof:
        return IncompleteResponse(str(exc))
    text = str(exc)
    if "buffer too long" in text.lower():
        return InvalidResponse(f"headers larger than {MAX_HEAD_BYTES // 1024} KiB")
    return InvalidResponse(text[:120])


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection and its h11 state; the socket's bytes are queued
    for `read`, which the request in progress awaits."""

    def __init__(self, loop: asyncio.AbstractEventLoop, origin: tuple[str, str, int]):
        self.loop = loop
        self.origin = origin
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD_BYTES)
        self.transport: asyncio.Transport | None = None
        self.busy = False
        self.eof = False
        self.dead = False  # lost, or in a state we do not trust: never reused
        self.received = 0  # bytes received during the current exchange
        self.idle_since = 0.0
        self._error: BaseException | None = None
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._paused = False
        self._waiter: asyncio.Future | None = None

    # --- asyncio.Protocol ---------------------------------------------------

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if not self.busy:
            # Bytes nobody asked for on an idle connection: its framing is not ours to guess.
            self.discard()
            return
        self.received += len(data)
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered > _HIGH_WATER and not self._paused:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self.dead = True
        self._wake()
        return False  # let the transport close

    def connection_lost(self, exc: Exception | None) -> None:
        self.dead = True
        self.eof = True
        if exc is not None:
            self._error = exc
        self._wake()

    # --- used by the pool and the response ------------------------------------

    async def read(self) -> bytes:
        """The next bytes received; b"" at end of stream; raises the connection's OSError."""
        while not self._chunks:
            if self._error is not None:
                raise self._error
            if self.eof:
                return b""
            self._waiter = self.loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        data = self._chunks.popleft()
        self._buffered -= len(data)
        if self._paused and self._buffered <= _LOW_WATER and not self.dead:
            self._paused = False
            self.transport.resume_reading()
        return data

    def reusable(self) -> bool:
        h = self.h11
        return (
            not self.dead
            and h.our_state is h11.DONE
            and h.their_state is h11.DONE
            and not h.trailing_data[0]
            and not self.transport.is_closing()
        )

    def discard(self) -> None:
        self.dead = True
        self.busy = False
        transport = self.transport
        if transport is not None and not transport.is_closing():
            try:
                transport.abort()
            except RuntimeError:  # its event loop is closed, and the socket with it
                pass

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class _StaleConnection(Exception):
    """A kept-alive connection died before answering: the server closed it while idle."""


class Pool:
    """Keep-alive connections per (scheme, host, port), at most `max_idle` idle each.

    Connections in use are not limited here: the poller already holds at most
    `per_host` fetches per host. Idle ones expire after `idle_expiry` seconds;
    expiry is checked when one is taken, so no timer runs between cycles."""

    def __init__(self, *, connect_timeout: float, max_idle: int, ssl_context, idle_expiry: float = 30.0):
        self._connect_timeout = connect_timeout
        self._max_idle = max(1, max_idle)
        self._ssl_context = ssl_context  # a callable: the (cached) SSLContext, made on first https use
        self._idle_expiry = idle_expiry
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._closed = False

    async def get(self, target: Target, headers: list[tuple[str, str]]) -> Response:
        """Send GET and return once the response head is in; the body is read from the Response."""
        if self._closed:
            raise RuntimeError("the HTTP pool is closed")
        try:
            request = _request(target.request_target, target.host_header, tuple(headers))
        except h11.LocalProtocolError as exc:  # a header value no server may be sent (CR, LF, NUL...)
            raise HTTPError(f"cannot send this request: {exc}") from None
        conn = self._take_idle(target.origin)
        if conn is not None:
            try:
                return await self._exchange(conn, request, may_be_stale=True)
            except _StaleConnection:
                pass  # GET is idempotent: once more, on a new connection
        conn = await self._connect(target.origin)
        return await self._exchange(conn, request, may_be_stale=False)

    def release(self, conn: _Connection) -> None:
        conn.busy = False
        if self._closed or not conn.reusable() or conn.loop is not _running_loop():
            conn.discard()
            return
        conn.h11.start_next_cycle()
        idle = self._idle.setdefault(conn.origin, [])
        if len(idle) >= self._max_idle:
            conn.discard()
            return
        conn.idle_since = conn.loop.time()
        idle.append(conn)

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.discard()

    def _take_idle(self, origin) -> _Connection | None:
        idle = self._idle.get(origin)
        if not idle:
            return None
        loop = _running_loop()
        now = loop.time()
        while idle:
            conn = idle.pop()  # the most recently used: the likeliest to be alive
            if conn.dead or conn.loop is not loop or now - conn.idle_since >= self._idle_expiry:
                conn.discard()
                continue
            return conn
        return None

    async def _connect(self, origin) -> _Connection:
        scheme, host, port = origin
        loop = _running_loop()
        ssl_context = self._ssl_context() if scheme == "https" else None
        tls = {} if ssl_context is None else {
            "ssl": ssl_context, "server_hostname": host, "ssl_handshake_timeout": self._connect_timeout,
        }
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, conn = await loop.create_connection(
                    lambda: _Connection(loop, origin), host, port, happy_eyeballs_delay=0.25, **tls
                )
        except TimeoutError:
            raise ConnectTimeout(f"no connection to {host}:{port} within {self._connect_timeout:g} s") from None
        except OSError as exc:  # refused, unreachable, DNS (gaierror), TLS (SSLError)
            raise ConnectError(str(exc) or type(exc).__name__) from exc
        return conn

    async def _exchange(self, conn: _Connection, request: h11.Request, *, may_be_stale: bool) -> Response:
        conn.busy = True
        conn.received = 0
        try:
            conn.transport.write(conn.h11.send(request))
            conn.h11.send(h11.EndOfMessage())
            while True:
                event = await _next_event(conn)
                if type(event) is h11.Response:
                    break
                if type(event) is not h11.InformationalResponse:  # 1xx are skipped
                    raise InvalidResponse(f"unexpected {type(event).__name__} before the response")
        except (IncompleteResponse, ReadError) as exc:
            conn.discard()
            if may_be_stale and conn.received == 0:
                raise _StaleConnection() from exc
            raise
        except BaseException:  # cancelled (the fetch deadline) or anything unforeseen
            conn.discard()
            raise
        headers: dict[str, str] = {}
        for name, value in event.headers:
            key = name.decode("ascii")
            text = _header_text(value)
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        response = Response(event.status_code, headers, conn, self)
        response._take_what_is_in()
        return response


@functools.lru_cache(maxsize=1024)
def _request(target: str, host_header: str, headers: tuple[tuple[str, str], ...]) -> h11.Request:
    """The validated request (immutable). Cached: a warm cycle sends each feed the
    same request as last time, and h11's validation is a third of its cost."""
    return h11.Request(method="GET", target=target, headers=[("Host", host_header), *map(_header_field, headers)])


def _header_field(field: tuple[str, str]) -> tuple[str, str | bytes]:
    """h11 takes ASCII text; other text goes as UTF-8 (as it was most likely received)."""
    name, value = field
    value = value.strip()
    return (name, value) if value.isascii() else (name, value.encode("utf-8"))


def _header_text(value: bytes) -> str:
    """UTF-8 where it is, Latin-1 otherwise (as httpx decodes header values)."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


_running_loop = asyncio.get_running_loop
