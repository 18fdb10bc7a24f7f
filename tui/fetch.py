"""One polite conditional GET of a feed, with every failure turned into words.

`fetch` never raises for network or HTTP trouble: the poller needs a result per
feed, and a person needs to read what went wrong ("timed out after 20 s").
Redirects are followed here rather than by the HTTP client so we know whether
*every* hop was permanent, which is what decides "moved permanently: update
feeds.toml". The body is decompressed by us, with a bound on each step, so a
small gzip that inflates to gigabytes costs at most `max_bytes` of memory.

The HTTP client is usually `FeedClient`: the lean HTTP/1.1 client of
tui/http1.py, ~5x cheaper per request than httpx. httpx stays where the lean
one would lose something: proxies from the environment, test transports, and
URLs that need escaping or carry credentials.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import os
import re
import sys
import time
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit, urlunsplit

if TYPE_CHECKING:  # httpx costs start-up time; the CLI imports us lazily anyway
    import httpx

    from tui.config import Settings

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)
MAX_REDIRECTS = 5
PERMANENT_REDIRECTS = frozenset({301, 308})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
CONNECT_TIMEOUT = 10.0
# Decompress at most this much per step, so one chunk can never balloon in memory.
_INFLATE_STEP = 256 * 1024
_DRAIN_LIMIT = 64 * 1024
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)
# What httpx reads from the environment (trust_env) to route through a proxy.
_PROXY_VARIABLES = frozenset({"http_proxy", "https_proxy", "all_proxy"})


@dataclass(frozen=True, slots=True)
class FetchResult:
    status: int | None  # HTTP status of the final response; None when no response
    body: bytes | None  # decoded body of a 200; None otherwise
    content_type: str | None
    final_url: str  # the URL that answered last
    etag: str | None  # exactly as received (on 304 without one: the one we sent)
    last_modified: str | None
    moved_to: str | None  # set only when every redirect hop was permanent
    retry_after: datetime | None  # absolute, from Retry-After on 429/503
    max_age: float | None  # seconds, from Cache-Control
    error: str | None  # None when status is 200 or 304
    elapsed_ms: float

    @property
    def ok(self) -> bool:
        return self.error is None


@functools.lru_cache(maxsize=1)
def shared_ssl_context():
    """The verifying context httpx would make ($SSL_CERT_FILE, else $SSL_CERT_DIR,
    else certifi's CAs), made here so the lean client needs no httpx. Loading the
    CA bundle costs ~0.1 s of CPU, so it is made once and shared, read-only after this."""
    import ssl

    if os.environ.get("SSL_CERT_FILE"):
        context = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    elif os.environ.get("SSL_CERT_DIR"):
        context = ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    else:
        import certifi

        context = ssl.create_default_context(cafile=certifi.where())
    context.set_alpn_protocols(["http/1.1"])  # what httpcore sets on it too
    return context


def import_httpx():
    """`import httpx`, minus httpx's own command-line tool.

    httpx/__init__ tries `from ._main import main`, which drags in rich and click
    (~80 ms here, a good part of `talkwatch poll`'s start-up) and falls back to a
    stub on ImportError. A None entry in sys.modules makes that import fail at
    once; it is removed again, so an explicit `import httpx._main` still works."""
    import sys

    if "httpx" not in sys.modules and "httpx._main" not in sys.modules:
        sys.modules["httpx._main"] = None
        try:
            import httpx
        finally:
            if sys.modules.get("httpx._main", False) is None:
                del sys.modules["httpx._main"]
    import httpx

    return httpx


def _remember_missing_sniffio() -> None:
    """httpcore tries `import sniffio` on every request; without it installed, each
    failed import walks sys.path again (~4 ms a request here, 6 lookups each).
    A None entry in sys.modules is Python's documented "not available" marker and
    makes that import fail at once; it changes nothing else, as sniffio is absent."""
    import importlib.util
    import sys

    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None


def _discarding_cookie_jar():
    """Feeds have no business setting cookies; a jar that keeps none cannot track us.
    (Defined on first use: http.cookiejar costs start-up time the lean path never needs.)"""
    from http.cookiejar import CookieJar

    class DiscardingCookieJar(CookieJar):
        def extract_cookies(self, response, request) -> None:  # noqa: D401 - jar API
            return None

        def set_cookie(self, cookie) -> None:
            return None

    return DiscardingCookieJar()


def make_client(settings: Settings, *, transport=None, verify=None) -> FeedClient | httpx.AsyncClient:
    """The polite client: a `FeedClient`, or an httpx client when the lean path would
    lose something (a transport to use, `verify` other than an SSLContext, a proxy
    configured in the environment). Certificates are always verified; by default
    with one process-wide SSL context."""
    if transport is None and not proxies_in_environment():
        if verify is None:
            return FeedClient(settings, shared_ssl_context)
        import ssl

        if isinstance(verify, ssl.SSLContext):
            return FeedClient(settings, lambda: verify)
    return make_httpx_client(settings, transport=transport, verify=verify)


def proxies_in_environment() -> bool:
    """True when httpx would send some request through a proxy (HTTP(S)_PROXY, ALL_PROXY)."""
    return any(value.strip() for name, value in os.environ.items() if name.lower() in _PROXY_VARIABLES)


class FeedClient:
    """GETs for `fetch`: the lean HTTP/1.1 pool (tui/http1.py) for plain http(s) URLs,
    an httpx client, made on first need, for the URLs it leaves alone."""

    def __init__(self, settings: Settings, ssl_context):
        from tui import http1

        self._settings = settings
        self._parse_url = http1.parse_url
        self._headers = [
            ("User-Agent", settings.user_agent),
            ("Accept", ACCEPT),
            ("Accept-Encoding", "gzip"),  # we decode gzip ourselves (bounded); never br/zstd
        ]
        # The poller keeps at most `per_host` fetches in flight per host; no cookies are kept.
        self.pool = http1.Pool(
            connect_timeout=min(CONNECT_TIMEOUT, settings.timeout),
            max_idle=settings.per_host,
            ssl_context=ssl_context,
        )
        self._httpx: httpx.AsyncClient | None = None

    async def open(self, url: str, headers: dict[str, str]):
        """Send GET `url`; returns a response whose body is still to be read."""
        target = self._parse_url(url)
        if target is not None:
            return await self.pool.get(target, [*self._headers, *headers.items()])
        if self._httpx is None:
            self._httpx = make_httpx_client(self._settings)
        request = self._httpx.build_request("GET", url, headers=headers)
        return await self._httpx.send(request, stream=True)

    async def aclose(self) -> None:
        await self.pool.aclose()
        if self._httpx is not None:
            await self._httpx.aclose()


def make_httpx_client(settings: Settings, *, transport=None, verify=None) -> httpx.AsyncClient:
    httpx = import_httpx()
    if verify is None:
        verify = shared_ssl_context()

    _remember_missing_sniffio()
    connect = min(CONNECT_TIMEOUT, settings.timeout)
    return httpx.AsyncClient(
        headers={
            "User-Agent": settings.user_agent,
            "Accept": ACCEPT,
            # We decode gzip/deflate ourselves (bounded); never advertise br/zstd.
            "Accept-Encoding": "gzip",
        },
        cookies=_discarding_cookie_jar(),
        follow_redirects=False,
        # The overall per-fetch deadline is asyncio.timeout in fetch(); these only
        # stop a single stuck phase early.
        timeout=httpx.Timeout(settings.timeout, connect=connect, pool=None),
        limits=httpx.Limits(
            max_connections=None,
            max_keepalive_connections=max(settings.concurrency, 1) * 2,
            keepalive_expiry=30.0,
        ),
        transport=transport,
        verify=verify,
    )


async def fetch(
    client: FeedClient | httpx.AsyncClient,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    deadline: float,
    max_bytes: int,
    now: datetime,
) -> FetchResult:
    started = time.perf_counter()
    attempt = _Attempt(url)
    try:
        async with asyncio.timeout(deadline):
            return await attempt.run(client, etag, last_modified, max_bytes, now, started)
    except TimeoutError:
        error = f"timed out after {_seconds(deadline)}"
    except _FetchFailed as exc:
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 - any transport failure is this feed's error only
        error = describe_exception(exc)
    return FetchResult(
        status=attempt.status,
        body=None,
        content_type=None,
        final_url=attempt.url,
        etag=None,
        last_modified=None,
        moved_to=None,
        retry_after=None,
        max_age=None,
        error=error,
        elapsed_ms=_ms_since(started),
    )


class _FetchFailed(Exception):
    """A failure already phrased for a person."""


class _Attempt:
    """The redirect walk of one fetch; remembers how far it got for the error result."""

    def __init__(self, url: str):
        self.url = url
        self.status: int | None = None

    async def run(self, client, etag, last_modified, max_bytes, now, started) -> FetchResult:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        seen = {self.url}
        all_permanent = True
        hops = 0
        while True:
            response = await _open(client, self.url, headers)
            try:
                self.status = status = response.status_code
                if status in REDIRECTS:
                    target = _redirect_target(self.url, response)
                    hops += 1
                    if hops > MAX_REDIRECTS:
                        raise _FetchFailed(f"too many redirects (more than {MAX_REDIRECTS})")
                    if target in seen:
                        raise _FetchFailed("redirect loop")
                    seen.add(target)
                    all_permanent = all_permanent and status in PERMANENT_REDIRECTS
                    self.url = target
                    continue
                moved_to = self.url if hops and all_permanent else None
                return await self._final(response, etag, last_modified, moved_to, max_bytes, now, started)
            finally:
                await _release(response)

    async def _final(self, response, etag, last_modified, moved_to, max_bytes, now, started) -> FetchResult:
        status = response.status_code
        headers = response.headers
        max_age = parse_max_age(headers.get("cache-control"))
        if status == 304:
            # A 304 may omit validators; the ones we sent are still current then.
            return FetchResult(
                status=304,
                body=None,
                content_type=headers.get("content-type"),
                final_url=self.url,
                etag=headers.get("etag", etag),
                last_modified=headers.get("last-modified", last_modified),
                moved_to=moved_to,
                retry_after=None,
                max_age=max_age,
                error=None,
                elapsed_ms=_ms_since(started),
            )
        if status != 200:
            retry_after = None
            if status in (429, 503):
                retry_after = parse_retry_after(headers.get("retry-after"), now)
            return FetchResult(
                status=status,
                body=None,
                content_type=headers.get("content-type"),
                final_url=self.url,
                etag=None,
                last_modified=None,
                moved_to=None,
                retry_after=retry_after,
                max_age=None,
                error=http_error_text(status),
                elapsed_ms=_ms_since(started),
            )
        body = await read_capped(response, max_bytes)
        return FetchResult(
            status=200,
            body=body,
            content_type=headers.get("content-type"),
            final_url=self.url,
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            moved_to=moved_to,
            retry_after=None,
            max_age=max_age,
            error=None,
            elapsed_ms=_ms_since(started),
        )


async def _open(client, url: str, headers: dict[str, str]):
    if isinstance(client, FeedClient):
        return await client.open(url, headers)
    request = client.build_request("GET", url, headers=headers)
    return await client.send(request, stream=True)


async def _release(response) -> None:
    """Close a response, draining a small remaining body first so its keep-alive
    connection goes back to the pool: closing mid-message throws the connection
    away, and a new TCP connection per feed would dominate a warm (all-304) cycle."""
    if not response.is_stream_consumed:
        try:
            declared = response.headers.get("content-length", "")
            if response.status_code == 304 or (declared.isdigit() and int(declared) <= _DRAIN_LIMIT):
                async for _ in response.aiter_raw():
                    pass
        except Exception:  # noqa: BLE001 - draining is an optimisation only
            pass
    await response.aclose()


def _redirect_target(url: str, response) -> str:
    """The absolute URL a redirect points to (RFC 3986 resolution against `url`)."""
    location = response.headers.get("location")
    if not location:
        raise _FetchFailed(f"HTTP {response.status_code} redirect without a Location header")
    try:
        parts = urlsplit(urljoin(url, location.strip()))
        parts.port  # noqa: B018 - raises ValueError for a junk port
    except ValueError:
        parts = None
    if parts is not None and parts.scheme.lower() not in ("http", "https"):
        raise _FetchFailed(f"redirect to a non-web URL ({parts.scheme[:20]}:) refused")
    if parts is None or not parts.hostname:
        raise _FetchFailed(f"redirect to an invalid URL: {location[:200]!r}")
    return urlunsplit((parts.scheme.lower(), parts.netloc, parts.path or "/", parts.query, parts.fragment))


async def read_capped(response, max_bytes: int) -> bytes:
    """The decoded body, failing as soon as it would exceed `max_bytes` decoded bytes."""
    too_big = f"body larger than {format_size(max_bytes)}"
    declared = response.headers.get("content-length", "")
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity") and declared.isdigit() and int(declared) > max_bytes:
        raise _FetchFailed(too_big)
    inflater = _make_inflater(encoding)
    parts: list[bytes] = []
    total = 0
    async for chunk in response.aiter_raw():
        pieces = inflater(chunk) if inflater else (chunk,)
        for piece in pieces:
            total += len(piece)
            if total > max_bytes:
                raise _FetchFailed(too_big)
            parts.append(piece)
    return b"".join(parts)


def _make_inflater(encoding: str):
    """A generator factory yielding decoded pieces of at most _INFLATE_STEP bytes, or None."""
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        wbits = zlib.MAX_WBITS | 16
    elif encoding == "deflate":
        wbits = zlib.MAX_WBITS | 32  # zlib or gzip header, auto-detected
    else:
        raise _FetchFailed(f"unsupported content encoding {encoding!r}")
    inflater = zlib.decompressobj(wbits)

    def feed(data: bytes):
        try:
            while data and not inflater.eof:
                piece = inflater.decompress(data, _INFLATE_STEP)
                data = inflater.unconsumed_tail
                if piece:
                    yield piece
        except zlib.error:
            raise _FetchFailed(f"corrupt {encoding} body") from None

    return feed


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """Retry-After as an absolute UTC time: delay-seconds or an HTTP date; None if absent or junk."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # HTTP dates are GMT by definition
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


def parse_max_age(value: str | None) -> float | None:
    if not value:
        return None
    match = _MAX_AGE.search(value)
    return float(match.group(1)) if match else None


def http_error_text(status: int) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return f"HTTP {status} {phrase}".rstrip()


def describe_exception(exc: BaseException) -> str:
    """A person-readable sentence for a transport failure (tui.http1, httpx or OS level)."""
    from tui import http1

    httpx = sys.modules.get("httpx")  # not loaded: no httpx exception can exist
    cause = _root_os_error(exc)
    if isinstance(exc, http1.ConnectTimeout) or (httpx and isinstance(exc, httpx.ConnectTimeout)):
        return "timed out while connecting"
    if httpx and isinstance(exc, httpx.TimeoutException):
        return "timed out waiting for the server"
    if isinstance(cause, ConnectionRefusedError) or getattr(cause, "errno", None) == errno.ECONNREFUSED:
        return "connection refused"
    if isinstance(cause, ConnectionResetError):
        return "connection reset by the server"
    words = _describe_lean(exc, cause) if isinstance(exc, http1.HTTPError) else None
    if words is None and httpx is not None:
        words = _describe_httpx(httpx, exc)
    if words is not None:
        return words
    text = str(exc)[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _describe_lean(exc, cause: BaseException | None) -> str | None:
    from tui import http1

    text = str(exc)[:200]
    if isinstance(exc, http1.ConnectError):
        import socket
        import ssl

        if isinstance(cause, socket.gaierror):
            return "host not found (DNS lookup failed)"
        if set(re.findall(r"\[Errno (\d+)\]", text)) == {str(errno.ECONNREFUSED)}:
            return "connection refused"  # every address of the host refused ("Multiple exceptions: ...")
        if isinstance(cause, ssl.SSLError | ssl.CertificateError):
            return f"TLS error: {text}"
        return f"could not connect: {text}"
    if isinstance(exc, http1.ReadError):
        return "connection lost while reading"
    if isinstance(exc, http1.IncompleteResponse):
        return "the server closed the connection without a complete answer"
    if isinstance(exc, http1.InvalidResponse):
        return f"invalid HTTP response from the server ({text[:160]})"
    return text or None


def _describe_httpx(httpx, exc) -> str | None:
    if isinstance(exc, httpx.ConnectError):
        text = str(exc)
        if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
            return "host not found (DNS lookup failed)"
        if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text:
            return f"TLS error: {text[:200]}"
        return f"could not connect: {text[:200] or type(exc).__name__}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the server closed the connection without a complete answer"
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return "connection lost while reading" if isinstance(exc, httpx.ReadError) else "connection lost while sending"
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return f"invalid URL: {exc}"
    return None


def _root_os_error(exc: BaseException) -> BaseException | None:
    """The innermost OSError in the chain: anyio wraps the specific one in a generic one."""
    found = None
    for _ in range(10):
        if exc is None:
            break
        if isinstance(exc, OSError):
            found = exc
        exc = exc.__cause__ or exc.__context__
    return found


def format_size(n: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            value = n / size
            return f"{value:g} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
