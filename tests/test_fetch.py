"""fetch(): one conditional GET against a real loopback server, every failure in words."""

from __future__ import annotations

import asyncio
import socket
from datetime import datetime, timedelta, timezone

import pytest

try:
    from tests.feedserver import feed_server, gzip_bomb  # noqa: F401  (pytest fixture)
except ImportError:  # tests/ is on sys.path itself when it is not a package
    from feedserver import feed_server, gzip_bomb  # noqa: F401

from tui.config import Settings
from tui.fetch import ACCEPT, FeedClient, fetch, make_client, make_httpx_client, parse_max_age, parse_retry_after

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
SETTINGS = Settings(user_agent="talkwatch-test/1 (+https://example.invalid)")


# Every test runs on both paths: the lean HTTP/1.1 client (the default) and httpx
# (used with proxies, test transports and URLs the lean client leaves alone).
@pytest.fixture(params=["lean", "httpx"])
async def client(request):
    c = make_client(SETTINGS) if request.param == "lean" else make_httpx_client(SETTINGS)
    try:
        yield c
    finally:
        await c.aclose()


async def get(client, url, *, etag=None, last_modified=None, deadline=5.0, max_bytes=1 << 20):
    return await fetch(client, url, etag=etag, last_modified=last_modified, deadline=deadline,
                       max_bytes=max_bytes, now=NOW)


async def test_200_then_304_sends_validators_back_exactly(client, feed_server):
    etag, lm = 'W/"abc 1"', "Sun, 01 Mar 2026 10:00:00 GMT"
    url = feed_server.route("/f", body=RSS, etag=etag, last_modified=lm, headers={"Cache-Control": "public, max-age=900"})
    first = await get(client, url)
    assert (first.status, first.body, first.error) == (200, RSS, None)
    assert (first.etag, first.last_modified, first.max_age) == (etag, lm, 900.0)
    assert first.content_type.startswith("application/rss+xml")
    second = await get(client, url, etag=first.etag, last_modified=first.last_modified)
    assert (second.status, second.body, second.error) == (304, None, None)
    assert (second.etag, second.last_modified) == (etag, lm)
    sent = feed_server.requests_to("/f")
    assert sent[0].header("if-none-match") is None and sent[0].header("if-modified-since") is None
    assert sent[1].header("if-none-match") == etag and sent[1].header("if-modified-since") == lm


async def test_polite_headers_and_no_cookies(client, feed_server):
    url = feed_server.route("/c", body=RSS, headers={"Set-Cookie": "track=me; Path=/"})
    await get(client, url)
    await get(client, url)
    first, second = feed_server.requests_to("/c")
    assert first.header("user-agent") == "talkwatch-test/1 (+https://example.invalid)"
    assert first.header("accept") == ACCEPT
    assert first.header("accept-encoding") == "gzip"
    assert second.header("cookie") is None
    if not isinstance(client, FeedClient):  # the lean client has no cookie store at all
        assert len(client.cookies.jar) == 0


async def test_gzip_body_is_decoded(client, feed_server):
    url = feed_server.route("/gz", body=RSS * 100, gzip=True)
    result = await get(client, url)
    assert result.error is None and result.body == RSS * 100


async def test_plain_body_over_max_bytes_is_a_clear_error(client, feed_server):
    url = feed_server.route("/big", body=b"x" * 5000)
    result = await get(client, url, max_bytes=4096)
    assert result.body is None and result.error == "body larger than 4 KiB"


async def test_gzip_bomb_stops_at_the_decoded_cap(client, feed_server):
    bomb = gzip_bomb(16 << 20)  # 16 MiB of spaces in ~16 KiB
    assert len(bomb) < 100_000
    url = feed_server.route("/bomb", raw_gzip=bomb)
    result = await get(client, url, max_bytes=1 << 20)
    assert result.body is None and result.error == "body larger than 1 MiB"


async def test_301_308_chain_reports_move_to_final_url(client, feed_server):
    final = feed_server.route("/new", body=RSS)
    mid = feed_server.route("/mid", status=308, location="/new")
    start = feed_server.route("/old", status=301, location=mid)
    result = await get(client, start)
    assert (result.status, result.body, result.moved_to, result.final_url) == (200, RSS, final, final)


@pytest.mark.parametrize("temporary", [302, 303, 307])
async def test_any_temporary_hop_means_no_move(client, feed_server, temporary):
    feed_server.route("/new", body=RSS)
    feed_server.route("/mid", status=temporary, location="/new")
    start = feed_server.route("/old", status=301, location="/mid")
    result = await get(client, start)
    assert (result.status, result.body, result.moved_to) == (200, RSS, None)


async def test_redirect_loop_and_too_many_redirects(client, feed_server):
    a = feed_server.route("/a", status=301, location="/b")
    feed_server.route("/b", status=302, location="/a")
    loop = await get(client, a)
    assert loop.error == "redirect loop" and loop.body is None
    for i in range(7):
        feed_server.route(f"/r{i}", status=301, location=f"/r{i + 1}")
    feed_server.route("/r7", body=RSS)
    long = await get(client, feed_server.url("/r0"))
    assert long.error == "too many redirects (more than 5)"


async def test_redirect_to_non_web_scheme_is_refused(client, feed_server):
    url = feed_server.route("/x", status=301, location="file:///etc/passwd")
    result = await get(client, url)
    assert "non-web URL" in result.error


async def test_http_errors_and_retry_after(client, feed_server):
    missing = await get(client, feed_server.url("/nothing-here"))
    assert (missing.status, missing.error) == (404, "HTTP 404 Not Found")
    url = feed_server.route("/busy", status=429, headers={"Retry-After": "120"})
    busy = await get(client, url)
    assert busy.error == "HTTP 429 Too Many Requests"
    assert busy.retry_after == NOW + timedelta(seconds=120)
    url = feed_server.route("/down", status=503, headers={"Retry-After": "Sun, 01 Mar 2026 13:30:00 GMT"})
    down = await get(client, url)
    assert down.retry_after == datetime(2026, 3, 1, 13, 30, tzinfo=timezone.utc)


async def test_slow_drip_hits_the_overall_deadline(client, feed_server):
    # Each byte arrives well within any read timeout; only the overall deadline stops it.
    url = feed_server.route("/drip", body=RSS, drip=0.05)
    result = await get(client, url, deadline=0.3)
    assert result.error == "timed out after 0.3 s" and result.body is None
    assert 250 <= result.elapsed_ms < 2000


async def test_accept_and_never_answer_hits_the_deadline(client, feed_server):
    url = feed_server.route("/hang", hang=True)
    result = await get(client, url, deadline=0.2)
    assert result.error == "timed out after 0.2 s" and result.status is None


async def test_connection_reset_and_refused(client, feed_server):
    url = feed_server.route("/reset", reset=True)
    reset = await get(client, url)
    assert reset.status is None and reset.error in (
        "connection reset by the server",
        "the server closed the connection without a complete answer",
    )
    with socket.socket() as s:  # a port that is certainly closed: bound, never listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        refused = await get(client, f"http://127.0.0.1:{port}/feed")
    assert refused.error == "connection refused"


async def test_fetch_never_raises_on_a_bad_url(client):
    result = await get(client, "http://[::1/broken")
    assert result.error and result.status is None


def test_parse_retry_after_and_max_age():
    assert parse_retry_after("30", NOW) == NOW + timedelta(seconds=30)
    assert parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT", NOW) == datetime(2026, 10, 21, 7, 28, tzinfo=timezone.utc)
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None
    assert parse_max_age("no-cache, max-age=60") == 60.0
    assert parse_max_age('private, s-maxage=5') is None
    assert parse_max_age(None) is None


async def test_many_concurrent_fetches_share_one_client(client, feed_server):
    urls = [feed_server.route(f"/m{i}", body=RSS + str(i).encode()) for i in range(20)]
    results = await asyncio.gather(*(get(client, u) for u in urls))
    assert [r.body for r in results] == [RSS + str(i).encode() for i in range(20)]
