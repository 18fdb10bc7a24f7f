"""tui/http1.py, the lean HTTP/1.1 client, against scripted loopback servers.

Each test server is an asyncio server in the test's own loop whose handler
writes exactly the bytes a test wants (chunked, close-delimited, 1xx, garbage,
closing idle connections...), and counts connections and requests.
"""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
import sys
import textwrap
from datetime import datetime, timezone

import pytest

from tui import http1
from tui.config import Settings
from tui.fetch import FeedClient, fetch, make_client, make_httpx_client

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
BODY = b"<rss version='2.0'><channel><title>lean</title></channel></rss>"
SETTINGS = Settings(user_agent="talkwatch-http1-test/1")


def ok(body: bytes = BODY, *, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


class ScriptedServer:
    """Answers each request with `respond(request_head, connection_number, request_number_on_it)`:
    bytes to write (or a list of bytes and asyncio.Events: each event is waited for
    before what follows), or None to close the connection without answering. Closes
    the connection after answering when `close_after` says so."""

    def __init__(self, respond, *, close_after=lambda conn, req: False):
        self.respond = respond
        self.close_after = close_after
        self.connections = 0
        self.requests: list[bytes] = []
        self.writers: list[asyncio.StreamWriter] = []
        self._server = None
        self.port = 0

    async def start(self, host="127.0.0.1", ssl_context=None) -> ScriptedServer:
        self._server = await asyncio.start_server(self._handle, host, 0, ssl=ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def url(self, path="/feed.xml", scheme="http", host="127.0.0.1") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    async def stop(self) -> None:
        self._server.close()
        for writer in self.writers:
            writer.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        conn = self.connections
        self.writers.append(writer)
        try:
            req = 0
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                req += 1
                self.requests.append(head)
                answer = self.respond(head, conn, req)
                if answer is None:
                    return
                for part in answer if isinstance(answer, list) else [answer]:
                    if isinstance(part, asyncio.Event):
                        await part.wait()
                    else:
                        writer.write(part)
                        await writer.drain()
                if self.close_after(conn, req):
                    return
        finally:
            writer.close()


@pytest.fixture
async def serve():
    servers = []

    async def start(respond, **kwargs):
        server = await ScriptedServer(respond, **{k: v for k, v in kwargs.items() if k != "ssl_context"}).start(
            ssl_context=kwargs.get("ssl_context"))
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
async def client():
    c = make_client(SETTINGS)
    assert isinstance(c, FeedClient)
    try:
        yield c
    finally:
        await c.aclose()


async def get(client, url, *, etag=None, deadline=5.0, max_bytes=1 << 20):
    return await fetch(client, url, etag=etag, last_modified=None, deadline=deadline, max_bytes=max_bytes, now=NOW)


# --- framing -------------------------------------------------------------------------------


async def test_content_length_bodies_reuse_one_connection(serve, client):
    server = await serve(lambda head, conn, req: ok(BODY + b"%d" % req))
    results = [await get(client, server.url()) for _ in range(3)]
    assert [r.body for r in results] == [BODY + b"1", BODY + b"2", BODY + b"3"]
    assert server.connections == 1 and len(server.requests) == 3


async def test_request_head_is_polite_and_conditional(serve, client):
    server = await serve(lambda head, conn, req: b"HTTP/1.1 304 Not Modified\r\nETag: \"e1\"\r\n\r\n")
    result = await get(client, server.url("/a/b.xml?x=1&y=%20"), etag='"e1"')
    assert (result.status, result.etag, result.error) == (304, '"e1"', None)
    lines = server.requests[0].decode("latin-1").split("\r\n")
    assert lines[0] == "GET /a/b.xml?x=1&y=%20 HTTP/1.1"
    headers = {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip() for line in lines[1:] if line}
    assert headers["host"] == f"127.0.0.1:{server.port}"
    assert headers["user-agent"] == "talkwatch-http1-test/1"
    assert headers["accept-encoding"] == "gzip"
    assert headers["if-none-match"] == '"e1"'
    assert "cookie" not in headers


async def test_validators_that_are_not_ascii_or_not_sendable(serve, client):
    server = await serve(lambda head, conn, req: b"HTTP/1.1 304 Not Modified\r\n\r\n")
    assert (await get(client, server.url(), etag='"caf\u00e9"')).status == 304
    assert b'If-None-Match: "caf\xc3\xa9"' in server.requests[0]
    injected = await get(client, server.url(), etag='"x"\r\nX-Injected: 1')
    assert injected.error.startswith("cannot send this request") and len(server.requests) == 1


async def test_chunked_body(serve, client):
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n"
    server = await serve(lambda head, conn, req: chunked)
    first = await get(client, server.url())
    second = await get(client, server.url())
    assert first.body == second.body == b"hello, world"
    assert server.connections == 1


async def test_close_delimited_body_and_no_reuse(serve, client):
    server = await serve(lambda head, conn, req: b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + BODY,
                         close_after=lambda conn, req: True)
    assert (await get(client, server.url())).body == BODY
    assert (await get(client, server.url())).body == BODY
    assert server.connections == 2


async def test_http10_response_is_read_to_eof(serve, client):
    server = await serve(lambda head, conn, req: b"HTTP/1.0 200 OK\r\n\r\n" + BODY, close_after=lambda c, r: True)
    assert (await get(client, server.url())).body == BODY


async def test_informational_responses_are_skipped(serve, client):
    server = await serve(lambda head, conn, req: b"HTTP/1.1 100 Continue\r\n\r\n"
                         b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n" + ok())
    result = await get(client, server.url())
    assert (result.status, result.body) == (200, BODY)


async def test_repeated_headers_are_joined_and_cookies_ignored(serve, client):
    server = await serve(lambda head, conn, req: ok(extra=b"Cache-Control: public\r\nCache-Control: max-age=60\r\n"
                                                     b"Set-Cookie: id=1\r\n"))
    result = await get(client, server.url())
    assert result.max_age == 60.0
    await get(client, server.url())
    assert b"cookie" not in server.requests[1].lower()


# --- broken and hostile servers ---------------------------------------------------------------


async def test_server_closing_an_idle_connection_is_not_reused(serve, client):
    # Answers keep-alive, then closes as soon as it has answered: we see the FIN while idle.
    server = await serve(lambda head, conn, req: ok(), close_after=lambda conn, req: True)
    assert (await get(client, server.url())).body == BODY
    for _ in range(20):  # let the loop deliver the FIN; no sleep: yield until it has
        if server.connections and not client.pool._idle.get(("http", "127.0.0.1", server.port)):
            break
        await asyncio.sleep(0)
    assert (await get(client, server.url())).body == BODY
    assert server.connections == 2


async def test_kept_alive_connection_closed_in_flight_is_retried_once(serve, client):
    # The race a pool cannot see: the server drops the idle connection just as we reuse it.
    server = await serve(lambda head, conn, req: None if (conn, req) == (1, 2) else ok(BODY + b"%d" % conn))
    assert (await get(client, server.url())).body == BODY + b"1"
    second = await get(client, server.url())
    assert (second.body, second.error) == (BODY + b"2", None)
    assert server.connections == 2 and len(server.requests) == 3


async def test_reset_of_a_kept_alive_connection_is_retried_once(serve, client):
    def respond(head, conn, req):
        if (conn, req) == (1, 2):
            writer = server.writers[0]
            writer.transport.abort()  # RST instead of FIN
            return None
        return ok()

    server = await serve(respond)
    assert (await get(client, server.url())).body == BODY
    assert (await get(client, server.url())).body == BODY
    assert server.connections == 2


async def test_no_second_retry_when_the_fresh_connection_fails_too(serve, client):
    server = await serve(lambda head, conn, req: ok() if conn == 1 else None)
    assert (await get(client, server.url())).error is None
    server.respond = lambda head, conn, req: None
    result = await get(client, server.url())
    assert result.error == "the server closed the connection without a complete answer"
    assert server.connections == 2 and len(server.requests) == 3  # the stale try, then one fresh try


async def test_fresh_connection_closed_without_answer_is_not_retried(serve, client):
    server = await serve(lambda head, conn, req: None)
    result = await get(client, server.url())
    assert result.error == "the server closed the connection without a complete answer"
    assert server.connections == 1


async def test_body_shorter_than_its_length(serve, client):
    server = await serve(lambda head, conn, req: b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n" + BODY,
                         close_after=lambda c, r: True)
    result = await get(client, server.url())
    assert result.error == "the server closed the connection without a complete answer"
    assert result.status == 200 and result.body is None


@pytest.mark.parametrize("garbage", [
    b"HTTP/1.1 OK 200\r\n\r\n",
    b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    b"HTTP/1.1 200 OK\r\nbad header line\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
])
async def test_garbage_is_an_invalid_response(serve, client, garbage):
    server = await serve(lambda head, conn, req: garbage)
    result = await get(client, server.url())
    assert result.error.startswith("invalid HTTP response from the server"), result.error
    assert result.body is None and len(result.error) < 300


async def test_oversize_headers_are_refused(serve, client):
    # 1 MiB: however the socket splits it, h11 holds > 100 KiB of an unfinished head at some point.
    huge = b"X-Padding: " + b"a" * (1 << 20) + b"\r\n"
    server = await serve(lambda head, conn, req: b"HTTP/1.1 200 OK\r\n" + huge + b"Content-Length: 0\r\n\r\n")
    result = await get(client, server.url())
    assert result.error == "invalid HTTP response from the server (headers larger than 100 KiB)"


async def test_unsolicited_bytes_on_an_idle_connection_discard_it(serve, client):
    server = await serve(lambda head, conn, req: ok() + (b"HTTP/1.1 200 OK\r\n" if req == 1 else b""))
    assert (await get(client, server.url())).body == BODY
    assert (await get(client, server.url())).body == BODY
    assert server.connections == 2


async def test_deadline_mid_body_discards_the_connection(serve, client):
    def respond(head, conn, req):
        if req == 1 and conn == 1:
            return b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial"  # never finished
        return ok()

    server = await serve(respond)
    result = await get(client, server.url(), deadline=0.2)
    assert result.error == "timed out after 0.2 s"
    assert (await get(client, server.url())).body == BODY
    assert server.connections == 2


async def test_big_body_is_cut_at_max_bytes(serve, client):
    big = b"x" * (3 << 20)
    server = await serve(lambda head, conn, req: b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + big,
                         close_after=lambda c, r: True)
    result = await get(client, server.url(), max_bytes=1 << 20)
    assert result.error == "body larger than 1 MiB"


async def test_abandoned_body_iterator_does_not_touch_the_drained_connection(serve):
    # fetch stops reading a body it refuses, then drains the rest in a new iteration;
    # the first iterator, finalized later, must not discard the connection then pooled.
    first, rest = asyncio.Event(), asyncio.Event()
    server = await serve(lambda head, conn, req: [b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", first, b"12345",
                                                  rest, b"67890"] if req == 1 else ok())
    pool = http1.Pool(connect_timeout=5, max_idle=2, ssl_context=None)
    target = http1.parse_url(server.url())
    try:
        response = await pool.get(target, [])
        abandoned = response.aiter_raw()
        first.set()
        assert await abandoned.__anext__() == b"12345"  # read from the socket, not from the head's leftovers
        rest.set()
        assert b"".join([chunk async for chunk in response.aiter_raw()]) == b"67890"
        await abandoned.aclose()  # what the garbage collector's finalizer does
        second = await pool.get(target, [])
        assert b"".join([chunk async for chunk in second.aiter_raw()]) == BODY
        assert server.connections == 1
    finally:
        await pool.aclose()


async def test_body_refused_midway_through_fetch_keeps_the_client_usable(serve, client):
    import zlib

    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = packer.compress(b" " * (1 << 20)) + packer.flush()  # ~1 KB that inflates to 1 MiB
    server = await serve(lambda head, conn, req: ok(bomb, extra=b"Content-Encoding: gzip\r\n") if req == 1 else ok())
    result = await get(client, server.url(), max_bytes=64 << 10)
    assert result.error == "body larger than 64 KiB"
    assert (await get(client, server.url())).body == BODY
    assert server.connections == 1


async def test_refused_on_every_address_of_a_name(client):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        result = await get(client, f"http://localhost:{s.getsockname()[1]}/feed")
    assert result.error == "connection refused"


async def test_connect_timeout_is_its_own_error(monkeypatch):
    from tui.fetch import describe_exception

    loop = asyncio.get_running_loop()
    never = asyncio.Event()

    async def stuck_connect(*args, **kwargs):  # a SYN nobody answers
        await never.wait()

    monkeypatch.setattr(loop, "create_connection", stuck_connect)
    pool = http1.Pool(connect_timeout=0.05, max_idle=2, ssl_context=None)
    with pytest.raises(http1.ConnectTimeout) as caught:
        await pool.get(http1.parse_url("http://192.0.2.1/feed"), [])
    assert describe_exception(caught.value) == "timed out while connecting"


# --- the pool -----------------------------------------------------------------------------------


async def test_idle_connections_are_capped_per_origin(serve):
    arrived = []
    server = await serve(lambda head, conn, req: ok())
    pool = http1.Pool(connect_timeout=5, max_idle=2, ssl_context=None)
    target = http1.parse_url(server.url())
    try:
        responses = await asyncio.gather(*(pool.get(target, []) for _ in range(4)))
        for response in responses:
            arrived.append(b"".join([chunk async for chunk in response.aiter_raw()]))
            await response.aclose()
        assert arrived == [BODY] * 4 and server.connections == 4
        assert len(pool._idle[target.origin]) == 2
        await pool.get(target, [])
        assert server.connections == 4  # reused
    finally:
        await pool.aclose()


async def test_expired_idle_connection_is_replaced(serve):
    server = await serve(lambda head, conn, req: ok())
    pool = http1.Pool(connect_timeout=5, max_idle=2, ssl_context=None, idle_expiry=0.0)
    target = http1.parse_url(server.url())
    try:
        for _ in range(2):
            response = await pool.get(target, [])
            assert b"".join([chunk async for chunk in response.aiter_raw()]) == BODY
            assert response.is_stream_consumed
        assert server.connections == 2
    finally:
        await pool.aclose()


async def test_closed_pool_refuses_and_closes(serve):
    server = await serve(lambda head, conn, req: ok())
    pool = http1.Pool(connect_timeout=5, max_idle=2, ssl_context=None)
    target = http1.parse_url(server.url())
    await pool.get(target, [])
    await pool.aclose()
    with pytest.raises(RuntimeError):
        await pool.get(target, [])


# --- URLs: what the lean path sends, and what it leaves to httpx -------------------------------------


def test_parse_url_plain_urls():
    t = http1.parse_url("HTTPS://Example.ORG/feeds/all.xml?lang=en#top")
    assert (t.origin, t.host_header, t.request_target) == (("https", "example.org", 443), "example.org",
                                                           "/feeds/all.xml?lang=en")
    t = http1.parse_url("http://127.0.0.1:8080")
    assert (t.origin, t.host_header, t.request_target) == (("http", "127.0.0.1", 8080), "127.0.0.1:8080", "/")
    t = http1.parse_url("http://[::1]:81/x")
    assert (t.origin, t.host_header) == (("http", "::1", 81), "[::1]:81")
    assert http1.parse_url("http://example.org:80/x").host_header == "example.org"


@pytest.mark.parametrize("url", [
    "http://user:pw@example.org/feed",  # credentials: httpx sends Basic auth
    "https://bücher.example/feed",  # IDNA host
    "https://example.org/ü.xml",  # needs percent-encoding
    "https://example.org/a b.xml",
    "https://example.org/a\"b",
    "https://example.org/%zz",
    "ftp://example.org/feed",
    "http://[::1/broken",
    "http://example.org:99999/",
    "http://example.org:/x",
    "http:///nohost",
])
def test_parse_url_leaves_odd_urls_to_httpx(url):
    assert http1.parse_url(url) is None


async def test_odd_url_goes_through_httpx(serve, client):
    server = await serve(lambda head, conn, req: ok())
    result = await get(client, server.url("/a b/ü.xml"))
    assert (result.status, result.body) == (200, BODY)
    assert server.requests[0].startswith(b"GET /a%20b/%C3%BC.xml HTTP/1.1")


async def test_redirect_from_lean_to_odd_url_and_back(serve, client):
    def respond(head, conn, req):
        if head.startswith(b"GET /start "):
            return b"HTTP/1.1 301 Moved\r\nLocation: /caf\xc3\xa9\r\nContent-Length: 0\r\n\r\n"
        if head.startswith(b"GET /caf%C3%A9 "):
            return b"HTTP/1.1 308 Moved\r\nLocation: /final\r\nContent-Length: 0\r\n\r\n"
        return ok()

    server = await serve(respond)
    result = await get(client, server.url("/start"))
    assert (result.status, result.body, result.moved_to) == (200, BODY, server.url("/final"))


def test_make_client_uses_httpx_when_lean_would_lose_something(monkeypatch):
    import httpx

    assert isinstance(make_client(SETTINGS), FeedClient)
    assert isinstance(make_client(SETTINGS, transport=httpx.MockTransport(lambda r: httpx.Response(200))),
                      httpx.AsyncClient)
    assert isinstance(make_client(SETTINGS, verify=False), httpx.AsyncClient)
    assert isinstance(make_client(SETTINGS, verify=ssl.create_default_context()), FeedClient)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    assert isinstance(make_client(SETTINGS), httpx.AsyncClient)
    monkeypatch.delenv("HTTPS_PROXY")
    monkeypatch.setenv("all_proxy", "http://proxy.invalid:3128")
    assert isinstance(make_client(SETTINGS), httpx.AsyncClient)
    monkeypatch.setenv("all_proxy", "")
    assert isinstance(make_client(SETTINGS), FeedClient)


async def test_mock_transport_still_works_through_fetch():
    import httpx

    def answer(request):
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(200, headers={"ETag": '"v1"'}, stream=httpx.ByteStream(BODY))

    async with make_client(SETTINGS, transport=httpx.MockTransport(answer)) as c:
        first = await get(c, "http://feeds.example/x.xml")
        second = await get(c, "http://feeds.example/x.xml", etag=first.etag)
    assert (first.status, first.body, second.status) == (200, BODY, 304)


async def test_both_paths_describe_a_refused_connection_alike():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/feed"
        lean = make_client(SETTINGS)
        heavy = make_httpx_client(SETTINGS)
        try:
            assert (await get(lean, url)).error == (await get(heavy, url)).error == "connection refused"
        finally:
            await lean.aclose()
            await heavy.aclose()


# --- TLS -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory):
    """A certificate for 127.0.0.1 (only), made with the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl command to make a test certificate (trustme/cryptography not installed)")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    done = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=talkwatch-test", "-addext", "subjectAltName=IP:127.0.0.1",
         "-addext", "basicConstraints=critical,CA:TRUE"],
        capture_output=True, text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"openssl could not make a certificate: {done.stderr[-200:]}")
    return cert, key


async def test_tls_verified_against_our_ca(serve, self_signed):
    cert, key = self_signed
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    server = await serve(lambda head, conn, req: ok(), ssl_context=server_ctx)
    trusting = make_client(SETTINGS, verify=ssl.create_default_context(cafile=str(cert)))
    default = make_client(SETTINGS)  # the system CAs do not know our certificate
    try:
        assert isinstance(trusting, FeedClient)
        first = await get(trusting, server.url(scheme="https"))
        second = await get(trusting, server.url(scheme="https"))
        assert (first.body, second.body) == (BODY, BODY) and server.connections == 1
        refused = await get(default, server.url(scheme="https"))
        assert refused.error.startswith("TLS error") and "CERTIFICATE_VERIFY_FAILED" in refused.error
        wrong_name = await get(trusting, f"https://localhost:{server.port}/x")  # a name the certificate lacks
        assert wrong_name.error.startswith("TLS error") and "CERTIFICATE_VERIFY_FAILED" in wrong_name.error
    finally:
        await trusting.aclose()
        await default.aclose()


# --- the lean path needs no httpx ---------------------------------------------------------------------------


async def test_warm_path_does_not_import_httpx(serve):
    server = await serve(lambda head, conn, req: b"HTTP/1.1 304 Not Modified\r\n\r\n")
    code = textwrap.dedent(f"""
        import asyncio, sys
        from datetime import datetime, timezone
        from tui.config import Settings
        from tui.fetch import fetch, make_client
        async def main():
            client = make_client(Settings())
            r = await fetch(client, {server.url()!r}, etag='"x"', last_modified=None, deadline=5,
                            max_bytes=1000, now=datetime.now(timezone.utc))
            await client.aclose()
            print(r.status, "httpx" in sys.modules, "httpcore" in sys.modules)
        asyncio.run(main())
    """)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", code, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()[-2000:]
    assert out.decode().split() == ["304", "False", "False"]
