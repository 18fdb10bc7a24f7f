"""The offline demo feeds: packaged timeline sanity and the loopback server."""

from __future__ import annotations

import gzip
import http.client
import io
import re
import signal
import socket
import subprocess
import sys
import tomllib
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import feedparser
import pytest

from tui.demo import (
    DemoDataError,
    DemoServer,
    load_timeline,
    parse_offset,
    serve_forever_cli,
)
from tui.models import SIGNALS

START = datetime(2026, 3, 1, 12, 0, 0, 500_000, tzinfo=timezone.utc)


class FakeClock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(clock):
    demo = DemoServer(clock=clock, release_every=None)
    demo.start()
    yield demo
    demo.stop()


def get(url: str, method: str = "GET", **headers: str) -> tuple[int, dict[str, str], bytes]:
    """Raw HTTP, so the test sees exactly what went over the wire (no decoding)."""
    parts = re.match(r"http://([^:/]+):(\d+)(/.*)?$", url)
    conn = http.client.HTTPConnection(parts[1], int(parts[2]), timeout=10)
    try:
        conn.request(method, parts[3] or "/", headers={"Accept-Encoding": "identity", **headers})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def parse(body: bytes, headers: dict[str, str]):
    parsed = feedparser.parse(io.BytesIO(body), response_headers={"content-type": headers["content-type"]})
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def url_of(demo: DemoServer, name: str) -> str:
    return dict(demo.feeds)[name]


# ---------------------------------------------------------------- the packaged timeline

TIMELINE = load_timeline()

# Words an item written to show a signal must carry (a sanity check on the
# data, not a classifier: the classifier is tested against the eval set).
SIGNAL_WORDS = {
    "deal": ("deal", "agree", "approve", "takes effect", "into force"),
    "release": ("freed", "release", "handed", "handover", "red cross", "reunited"),
    "progress": ("talks", "round", "delegation", "envoy", "progress", "positive", "close", "mediation", "table", "within reach"),
    "proposal": ("proposal", "framework", "draft", "response", "reply", "plan", "text"),
    "stalled": ("stall", "impasse", "reject", "recall", "delayed", "on hold", "conditions", "steps back", "reassess", "fear"),
    "collapse": ("collapse", "break down", "breaks down", "called off", "over:"),
}
TOPIC_WORDS = ("hostage", "truce", "ceasefire", "talks", "mediat", "negotiat", "prisoners", "exchange", "hamas", "deal")


def text_of(item) -> str:
    return f"{item.title} {item.summary}".lower()


def test_timeline_size_and_mix():
    items = TIMELINE.items
    assert 120 <= len(items) <= 180
    assert 20 <= len(TIMELINE.live) <= 30
    noise = [i for i in items if i.expect in ("decoy", "offtopic")]
    assert 0.30 <= len(noise) / len(items) <= 0.40
    assert Counter(i.expect for i in noise)["decoy"] >= 20  # hard negatives, not just weather
    formats = Counter(o.format for o in TIMELINE.outlets)
    assert len(TIMELINE.outlets) == 5 and formats["rss"] >= 2 and formats["atom"] >= 2
    per_outlet = Counter(i.outlet for i in items)
    assert set(per_outlet) == {o.name for o in TIMELINE.outlets}
    assert min(per_outlet.values()) >= 20


def test_every_signal_is_written_with_its_words():
    by_expect = defaultdict(list)
    for item in TIMELINE.items:
        by_expect[item.expect].append(item)
    for signal in SIGNALS:
        assert by_expect[signal], f"no item shows {signal}"
    for signal, words in SIGNAL_WORDS.items():
        for item in by_expect[signal]:
            assert any(w in text_of(item) for w in words), (signal, item.title)
    for item in TIMELINE.items:
        if item.expect in SIGNALS:
            assert any(w in text_of(item) for w in TOPIC_WORDS), item.title


def test_hard_negatives_use_the_tempting_words():
    decoys = " ".join(text_of(i) for i in TIMELINE.items if i.expect == "decoy")
    for word in ("hostage", "release", "deal", "talks", "prisoners", "gaza", "red cross", "doha", "cairo"):
        assert word in decoys, word


def test_mediators_and_venues_appear():
    relevant = " ".join(text_of(i) for i in TIMELINE.items if i.expect in SIGNALS)
    for word in ("qatar", "egypt", "us envoy", "doha", "cairo", "red cross"):
        assert word in relevant, word


def test_same_development_is_reported_by_several_outlets_close_together():
    stories = defaultdict(list)
    for item in TIMELINE.backlog:
        if item.story:
            stories[item.story].append(item)
    multi = {s: items for s, items in stories.items() if len({i.outlet for i in items}) >= 2}
    assert len(multi) >= 15
    for story, items in multi.items():
        spread = max(i.offset for i in items) - min(i.offset for i in items)
        assert spread <= timedelta(hours=6), story
        assert len({i.expect for i in items}) == 1, story
    live_stories = Counter(i.story for i in TIMELINE.live if i.story)
    assert max(live_stories.values()) >= 3


def test_backlog_ends_in_active_talks_after_a_collapse():
    signalled = [i for i in TIMELINE.backlog if i.expect in SIGNALS and i.expect != "none"]
    last_collapse = max(n for n, i in enumerate(signalled) if i.expect == "collapse")
    after = [i.expect for i in signalled[last_collapse + 1 :]]
    assert "stalled" in after  # the collapse is followed by a stall...
    assert after[-6:] == ["progress"] * 6  # ...and the recent past is talks in progress
    assert signalled[-1].offset > -timedelta(hours=1)


def test_live_tail_tells_proposal_stall_deal_release_in_order():
    order = [i.expect for i in TIMELINE.live]
    first = {s: order.index(s) for s in ("proposal", "stalled", "deal", "release")}
    assert first["proposal"] < first["stalled"] < first["deal"] < first["release"]
    assert {"decoy", "offtopic"} & set(order)  # noise keeps arriving too


def test_hostile_items_are_in_the_data():
    titles = [i.title for i in TIMELINE.items]
    assert any("[bold red]markup[/]" in t for t in titles)
    assert any("&amp;" in t for t in titles)
    assert any("<script>" in i.summary and "&" in i.summary for i in TIMELINE.items)
    assert any("\u202e" in t for t in titles)
    assert any(i.link.startswith("javascript:") for i in TIMELINE.items)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-9d4h", -timedelta(days=9, hours=4)),
        ("-35m", -timedelta(minutes=35)),
        ("-8d11h40m", -timedelta(days=8, hours=11, minutes=40)),
        ("-7d", -timedelta(days=7)),
        ("-90s", -timedelta(seconds=90)),
    ],
)
def test_parse_offset(text, expected):
    assert parse_offset(text) == expected


@pytest.mark.parametrize("text", ["", "-", "9d", "+1h", "-1x", "-4h9d", "soon", "-1.5h"])
def test_parse_offset_rejects(text):
    with pytest.raises(ValueError):
        parse_offset(text)


def test_load_timeline_reports_every_problem():
    bad = """
[[outlet]]
name = "A"
slug = "a"
format = "rss"
site = "https://a.example"
description = "a"

[[item]]
outlet = "Nowhere"
at = "-1h"
title = "t1"
summary = "s"

[[item]]
outlet = "A"
at = "yesterday"
title = "t2"
summary = "s"

[[item]]
outlet = "A"
live = 2
title = "t3"
summary = "s"
"""
    with pytest.raises(DemoDataError) as info:
        load_timeline(bad)
    message = str(info.value)
    assert "unknown outlet 'Nowhere'" in message
    assert "bad offset 'yesterday'" in message
    assert "live numbers" in message


# ---------------------------------------------------------------- the server


def test_each_feed_parses_with_the_initial_items(server):
    expected = Counter(i.outlet for i in TIMELINE.backlog)
    started = START.replace(microsecond=0)
    for outlet in TIMELINE.outlets:
        status, headers, body = get(url_of(server, outlet.name))
        assert status == 200
        assert headers["content-type"] == f"application/{outlet.format}+xml; charset=utf-8"
        parsed = parse(body, headers)
        assert parsed.version == ("rss20" if outlet.format == "rss" else "atom10")
        assert len(parsed.entries) == expected[outlet.name]
        backlog = {i.title: i for i in TIMELINE.backlog if i.outlet == outlet.name}
        published = []
        for entry in parsed.entries:
            item = backlog[entry.title]
            when = datetime(*entry.published_parsed[:6], tzinfo=timezone.utc)
            assert when == started + item.offset
            published.append(when)
        assert published == sorted(published, reverse=True)
        assert headers["last-modified"] == format_datetime(published[0], usegmt=True)


def test_guids_are_stable_across_restarts(clock):
    def guids(now):
        with DemoServer(clock=FakeClock(now), release_every=None) as demo:
            _, headers, body = get(url_of(demo, "Harbor Wire"))
            return [e.id for e in parse(body, headers).entries]

    first = guids(START)
    assert len(set(first)) == len(first)
    assert guids(START + timedelta(days=3)) == first


def test_hostile_text_survives_escaping(server):
    titles = {}
    summaries = {}
    for name, url in server.feeds:
        status, headers, body = get(url)
        for entry in parse(body, headers).entries:  # parse() asserts well-formed XML
            titles[entry.title] = name
            summaries[entry.title] = entry.summary
    markup = [t for t in titles if "[bold red]markup[/]" in t]
    assert markup, "the markup-looking headline must reach a reader literally"
    html = next(s for t, s in summaries.items() if t.startswith("Q&"))
    assert "<b>three phases</b>" in html  # an HTML fragment, escaped once in the XML


def test_if_none_match_gives_304(server):
    url = url_of(server, "Levant Ledger")
    _, headers, _ = get(url)
    status, again, body = get(url, **{"If-None-Match": headers["etag"]})
    assert (status, body) == (304, b"")
    assert again["etag"] == headers["etag"]
    assert get(url, **{"If-None-Match": '"something-else"'})[0] == 200
    assert get(url, **{"If-None-Match": f'"x", W/{headers["etag"]}'})[0] == 304


def test_if_modified_since_gives_304(server):
    url = url_of(server, "Harbor Wire")
    _, headers, _ = get(url)
    status, _, body = get(url, **{"If-Modified-Since": headers["last-modified"]})
    assert (status, body) == (304, b"")
    earlier = format_datetime(START - timedelta(days=30), usegmt=True)
    assert get(url, **{"If-Modified-Since": earlier})[0] == 200
    assert get(url, **{"If-Modified-Since": "not a date"})[0] == 200


def test_release_next_changes_one_feed(server, clock):
    before = {name: get(url) for name, url in server.feeds}
    clock.advance(90)
    (item,) = server.release_next()
    assert item == TIMELINE.live[0]
    assert server.released == 1 and server.pending == len(TIMELINE.live) - 1
    for name, url in server.feeds:
        _, old_headers, old_body = before[name]
        conditional = {"If-None-Match": old_headers["etag"]}
        if name != item.outlet:
            assert get(url, **conditional)[0] == 304
            continue
        status, headers, body = get(url, **conditional)
        assert status == 200 and headers["etag"] != old_headers["etag"]
        assert get(url, **{"If-Modified-Since": old_headers["last-modified"]})[0] == 200
        entries = parse(body, headers).entries
        assert len(entries) == len(parse(old_body, old_headers).entries) + 1
        assert entries[0].title == item.title
        assert datetime(*entries[0].published_parsed[:6], tzinfo=timezone.utc) == clock.now.replace(microsecond=0)


def test_two_releases_within_one_second_still_change_last_modified(server):
    outlet = TIMELINE.live[0].outlet
    assert TIMELINE.live[5].outlet == outlet  # the data puts a second item there later
    url = url_of(server, outlet)
    server.release_next()
    _, headers, _ = get(url)
    server.release_next(5)  # same instant on the fake clock
    assert get(url, **{"If-Modified-Since": headers["last-modified"]})[0] == 200


def test_scheduled_release_follows_the_clock(clock):
    with DemoServer(clock=clock, release_every=6.0) as demo:
        url = url_of(demo, TIMELINE.live[0].outlet)
        _, headers, body = get(url)
        count = len(parse(body, headers).entries)
        clock.advance(5.9)
        assert get(url, **{"If-None-Match": headers["etag"]})[0] == 304
        clock.advance(0.2)  # 6.1 s after start: the first live item is due
        status, headers, body = get(url)
        entries = parse(body, headers).entries
        assert len(entries) == count + 1 and entries[0].title == TIMELINE.live[0].title
        assert demo.released == 1
        clock.advance(6 * 100)  # far past the end: everything out, in order
        get(url)
        assert demo.released == len(TIMELINE.live) and demo.pending == 0
        last = TIMELINE.live[-1]
        _, headers, body = get(url_of(demo, last.outlet))
        newest = parse(body, headers).entries[0]
        started = START.replace(microsecond=0)
        assert newest.title == last.title
        expected = started + timedelta(seconds=6 * len(TIMELINE.live))
        assert datetime(*newest.published_parsed[:6], tzinfo=timezone.utc) == expected


def test_gzip_when_accepted(server):
    url = url_of(server, "Gulf Dispatch")
    _, plain_headers, plain = get(url)
    status, headers, body = get(url, **{"Accept-Encoding": "gzip, deflate"})
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == plain and len(body) < len(plain)
    assert "accept-encoding" in headers["vary"].lower()
    assert headers["etag"] != plain_headers["etag"]  # a different representation
    assert get(url, **{"Accept-Encoding": "gzip", "If-None-Match": headers["etag"]})[0] == 304
    _, refused, _ = get(url, **{"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused


def test_unknown_paths_are_404(server):
    for path in ("/", "/harbor-wire/atom.xml", "/nope", "/harbor-wire/rss.xml/../x"):
        assert get(server.base_url + path)[0] == 404
    assert get(url_of(server, "Cedar Post") + "?x=1")[0] == 200


def test_head_sends_headers_only(server):
    status, headers, body = get(url_of(server, "Cedar Post"), method="HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 1000


def test_nothing_is_logged_to_stderr(server, capfd):
    get(server.base_url + "/missing")
    get(url_of(server, "Harbor Wire"))
    assert capfd.readouterr().err == ""


def test_config_text_points_at_the_server(server):
    data = tomllib.loads(server.config_text())
    assert data["settings"]["interval"] == "1m"
    assert [(f["name"], f["url"]) for f in data["feed"]] == server.feeds
    assert all(url.startswith(server.base_url + "/") for _, url in server.feeds)


def test_config_text_is_a_valid_talkwatch_config(server):
    config = pytest.importorskip("tui.config")
    parsed = config.parse_config(server.config_text())
    assert [(f.name, f.url) for f in parsed.feeds] == server.feeds
    assert parsed.settings.interval == 60


def test_the_project_parser_reads_every_demo_feed(server):
    parse_module = pytest.importorskip("tui.parse")
    expected = Counter(i.outlet for i in TIMELINE.backlog)
    items = []
    for name, url in server.feeds:
        _, headers, body = get(url)
        parsed = parse_module.parse_feed(body, feed=name, url=url, content_type=headers["content-type"], now=START)
        assert parsed.warning is None
        assert len(parsed.items) == expected[name]
        assert len({i.key for i in parsed.items}) == len(parsed.items)
        items += parsed.items
    by_title = {i.title: i for i in items}
    assert "Developers warn that [bold red]markup[/] in feed titles can hijack terminal apps" in by_title
    qa = by_title["Q&A: what is at stake in the Cairo talks"]
    assert "three phases" in qa.summary and "<" not in qa.summary and "alert" not in qa.summary
    markets = next(i for i in items if i.title.startswith("Markets"))
    assert markets.link == "" and "\u202e" not in markets.title


def refused(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_stop_frees_the_port(clock):
    demo = DemoServer(clock=clock, release_every=None)
    demo.start()
    port = demo.port
    assert get(url_of(demo, "Harbor Wire"))[0] == 200
    demo.stop()
    demo.stop()  # idempotent
    assert refused(port)
    with DemoServer(port=port, clock=clock, release_every=None) as again:
        assert get(url_of(again, "Harbor Wire"))[0] == 200


def test_release_outside_start_stop_is_an_error(clock):
    demo = DemoServer(clock=clock, release_every=None)
    with pytest.raises(RuntimeError):
        demo.release_next()
    with demo:
        assert len(demo.release_next(2)) == 2
    with pytest.raises(RuntimeError):
        demo.release_next()


def test_serve_forever_cli_reports_a_busy_port():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        out = io.StringIO()
        assert serve_forever_cli(busy.getsockname()[1], out) == 1
        assert "cannot listen" in out.getvalue()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "term"])
def test_serve_forever_cli_stops_cleanly(signum):
    code = "import sys; from tui.demo import serve_forever_cli; sys.exit(serve_forever_cli(0, sys.stdout))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        lines = []
        while not (lines and lines[-1].startswith("serving demo feeds on")):
            line = proc.stdout.readline()
            assert line, f"exited early: {proc.stderr.read()}"
            lines.append(line)
        base_url = re.search(r"(http://127\.0\.0\.1:\d+) \(Ctrl-C to stop\)", lines[-1])[1]
        config = tomllib.loads("".join(lines[:-1]))
        assert len(config["feed"]) == len(TIMELINE.outlets)
        assert get(config["feed"][0]["url"])[0] == 200
        proc.send_signal(signum)
        assert proc.wait(timeout=10) == 0
        assert proc.stderr.read() == ""
        assert refused(int(base_url.rsplit(":", 1)[1]))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_demo_module_imports_no_textual():
    out = subprocess.run(
        [sys.executable, "-c", "import sys, tui.demo; print('textual' in sys.modules)"],
        capture_output=True, text=True, check=True,
    )
    assert out.stdout.strip() == "False"
