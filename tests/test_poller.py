"""Poller: scheduling, politeness and state, against real loopback feed servers."""

from __future__ import annotations

import asyncio
import gzip
import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

try:
    from tests.feedserver import feed_server, gzip_bomb, second_feed_server  # noqa: F401  (fixtures)
except ImportError:  # tests/ is on sys.path itself when it is not a package
    from feedserver import feed_server, gzip_bomb, second_feed_server  # noqa: F401

import tui.parse
from tui.config import Config, FeedSpec, Settings, TopicSpec
from tui.models import FeedOutcome
from tui.poller import BACKOFF_CAP, Poller, backoff_delay, success_delay
from tui.store import ItemQuery, Store

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


class FakeClock:
    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def jump_to(self, when: datetime) -> None:
        self.now = max(self.now, when)


def rss(*items: tuple[str, str], ttl: int | None = None) -> bytes:
    entries = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title><link>https://example.org/{guid}</link>"
        f"<pubDate>Sun, 01 Mar 2026 09:00:00 GMT</pubDate></item>"
        for guid, title in items
    )
    ttl_tag = f"<ttl>{ttl}</ttl>" if ttl is not None else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Test</title>'
        f"<link>https://example.org/</link>{ttl_tag}{entries}</channel></rss>"
    ).encode()


ITEMS = (("g1", "Hostage talks resume in Doha"), ("g2", "Weather in Paris"))


def make_config(*feeds: tuple[str, str], topic: TopicSpec | None = None, **settings) -> Config:
    specs = tuple(
        FeedSpec(name=name, url=url, interval=None, tags=(), enabled=True, line=i + 1)
        for i, (name, url) in enumerate(feeds)
    )
    defaults = dict(interval=300.0, timeout=5.0, concurrency=8, per_host=2, max_bytes=1 << 20, user_agent="tw-test/1")
    defaults.update(settings)
    return Config(settings=Settings(**defaults), feeds=specs, topic=topic or TopicSpec(), path=None)


@pytest.fixture(autouse=True)
def fresh_classifiers():
    """Each test builds its own per-topic classifiers (the real rules)."""
    import tui.parse_worker

    tui.parse_worker._classifiers.clear()
    yield
    tui.parse_worker._classifiers.clear()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def store(tmp_path, clock):
    s = Store(tmp_path / "poll.db", clock=clock)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
async def make_poller(store, clock):
    made = []

    def factory(config, *, pool="thread", **kwargs):
        kwargs.setdefault("clock", clock)
        poller = Poller(config, kwargs.pop("store", store), **kwargs)
        # Threads, so tests can patch the parser and classifier; one test covers processes.
        poller.parse_pool_kind = pool
        made.append(poller)
        return poller

    yield factory
    for poller in made:
        await poller.aclose()


def by_feed(summary):
    return {r.feed: r for r in summary.results}


async def test_200_then_304_stores_items_and_sends_validators(feed_server, make_poller, store, clock):
    etag, lm = '"v1"', "Sun, 01 Mar 2026 10:00:00 GMT"
    url = feed_server.route("/f", body=rss(*ITEMS), etag=etag, last_modified=lm)
    poller = make_poller(make_config(("f", url)))
    first = (await poller.poll_once()).results[0]
    assert (first.outcome, first.status, first.new_items) == (FeedOutcome.OK, 200, 2)
    assert store.item_count() == 2
    saved = store.feed_state("f")
    assert (saved.etag, saved.last_modified, saved.last_status, saved.failures) == (etag, lm, 200, 0)

    clock.jump_to(saved.next_check_at)
    second = (await poller.poll_once()).results[0]
    assert (second.outcome, second.status, second.new_items) == (FeedOutcome.NOT_MODIFIED, 304, 0)
    sent = feed_server.requests_to("/f")[-1]
    assert (sent.header("if-none-match"), sent.header("if-modified-since")) == (etag, lm)
    assert store.item_count() == 2


async def test_etag_changes_while_last_modified_stays(feed_server, make_poller, store, clock):
    lm = "Sun, 01 Mar 2026 10:00:00 GMT"
    url = feed_server.route("/f", body=rss(*ITEMS), etag='"a"', last_modified=lm)
    poller = make_poller(make_config(("f", url)))
    await poller.poll_once()
    feed_server.route("/f", body=rss(*ITEMS, ("g3", "Ceasefire deal reached")), etag='"b"', last_modified=lm)
    result = (await poller.poll_once(force=True)).results[0]
    assert (result.status, result.new_items) == (200, 1)
    assert feed_server.requests_to("/f")[-1].header("if-none-match") == '"a"'
    assert (store.feed_state("f").etag, store.feed_state("f").last_modified) == ('"b"', lm)
    await poller.poll_once(force=True)
    assert feed_server.requests_to("/f")[-1].header("if-none-match") == '"b"'
    assert feed_server.requests_to("/f")[-1].header("if-modified-since") == lm


async def test_same_body_new_etag_is_not_modified_without_parsing(feed_server, make_poller, monkeypatch):
    url = feed_server.route("/f", body=rss(*ITEMS), etag='"1"')
    poller = make_poller(make_config(("f", url)))
    calls = []
    real = tui.parse.parse_feed
    monkeypatch.setattr(tui.parse, "parse_feed", lambda *a, **k: calls.append(1) or real(*a, **k))
    await poller.poll_once()
    feed_server.route("/f", body=rss(*ITEMS), etag='"2"')
    result = (await poller.poll_once(force=True)).results[0]
    assert (result.status, result.outcome, result.new_items) == (200, FeedOutcome.NOT_MODIFIED, 0)
    assert len(calls) == 1
    assert poller.state("f").etag == '"2"'


async def test_permanent_redirects_move_the_feed(feed_server, make_poller, store):
    final = feed_server.route("/new", body=rss(*ITEMS))
    feed_server.route("/mid", status=308, location="/new")
    old = feed_server.route("/old", status=301, location="/mid")
    config = make_config(("f", old))
    poller = make_poller(config)
    result = (await poller.poll_once()).results[0]
    message = f"moved permanently to {final}: update feeds.toml"
    assert (result.outcome, result.error, result.new_items) == (FeedOutcome.MOVED, message, 2)
    saved = store.feed_state("f")
    assert (saved.url, saved.moved_to, saved.last_error) == (final, final, message)
    assert poller.config.feeds[0].url == old

    again = (await poller.poll_once(force=True)).results[0]
    assert again.outcome == FeedOutcome.MOVED  # still flagged until feeds.toml changes
    assert len(feed_server.requests_to("/old")) == 1 and len(feed_server.requests_to("/new")) == 2

    poller.reconfigure(make_config(("f", final)))  # the user updated feeds.toml
    fixed = (await poller.poll_once(force=True)).results[0]
    assert (fixed.outcome, fixed.error) == (FeedOutcome.NOT_MODIFIED, None)
    assert store.feed_state("f").moved_to is None


@pytest.mark.parametrize("temporary", [302, 307])
async def test_temporary_redirect_does_not_move(feed_server, make_poller, store, temporary):
    feed_server.route("/new", body=rss(*ITEMS))
    feed_server.route("/mid", status=temporary, location="/new")
    old = feed_server.route("/old", status=301, location="/mid")
    poller = make_poller(make_config(("f", old)))
    result = (await poller.poll_once()).results[0]
    assert (result.outcome, result.error, result.new_items) == (FeedOutcome.OK, None, 2)
    assert (store.feed_state("f").url, store.feed_state("f").moved_to) == (old, None)


async def test_redirect_loop_is_an_error(feed_server, make_poller, store):
    a = feed_server.route("/a", status=301, location="/b")
    feed_server.route("/b", status=301, location="/a")
    poller = make_poller(make_config(("f", a)))
    result = (await poller.poll_once()).results[0]
    assert (result.outcome, result.error) == (FeedOutcome.ERROR, "redirect loop")
    assert store.feed_state("f").failures == 1


async def test_410_gone_is_never_polled_again(feed_server, make_poller, store, clock):
    url = feed_server.route("/gone", status=410)
    poller = make_poller(make_config(("f", url)))
    result = (await poller.poll_once()).results[0]
    assert (result.outcome, result.status) == (FeedOutcome.GONE, 410)
    assert store.feed_state("f").gone is True
    clock.advance(86400)
    assert (await poller.poll_once(force=True)).results == ()
    assert poller.next_due() is None
    assert len(feed_server.requests_to("/gone")) == 1


@pytest.mark.parametrize("as_date", [False, True], ids=["seconds", "http-date"])
async def test_retry_after_blocks_the_whole_host(feed_server, second_feed_server, make_poller, store, clock, as_date):
    until = T0 + timedelta(seconds=900)
    retry = format_datetime(until, usegmt=True) if as_date else "900"
    busy = feed_server.route("/busy", status=429, headers={"Retry-After": retry})
    sibling = feed_server.route("/sibling", body=rss(*ITEMS))
    elsewhere = second_feed_server.route("/other", body=rss(*ITEMS))
    poller = make_poller(make_config(("busy", busy)))
    first = (await poller.poll_once()).results[0]
    assert first.status == 429 and "retry after" in first.error
    assert store.feed_state("busy").next_check_at == until

    poller.reconfigure(make_config(("busy", busy), ("sibling", sibling), ("other", elsewhere)))
    second = by_feed(await poller.poll_once())
    assert set(second) == {"other"}  # the sibling on the same host waits
    assert feed_server.requests_to("/sibling") == []
    forced = by_feed(await poller.poll_once(force=True))
    assert forced["sibling"].outcome == FeedOutcome.BACKOFF and forced["busy"].outcome == FeedOutcome.BACKOFF
    assert feed_server.requests_to("/sibling") == [] and len(feed_server.requests_to("/busy")) == 1
    assert poller.next_due() == min(until, poller.state("other").next_check_at)

    clock.advance(899)
    assert "sibling" not in by_feed(await poller.poll_once())
    clock.advance(1)
    feed_server.route("/busy", body=rss(*ITEMS))
    third = by_feed(await poller.poll_once())
    assert (third["sibling"].status, third["busy"].status) == (200, 200)


async def test_retry_after_survives_a_restart(feed_server, make_poller, store, clock):
    busy = feed_server.route("/busy", status=503, headers={"Retry-After": "600"})
    sibling = feed_server.route("/sibling", body=rss(*ITEMS))
    await make_poller(make_config(("busy", busy))).poll_once()
    restarted = make_poller(make_config(("busy", busy), ("sibling", sibling)))
    assert (await restarted.poll_once()).results == ()
    assert restarted.next_due() == T0 + timedelta(seconds=600)


async def test_500_backs_off_exponentially_with_jitter_capped_at_an_hour(feed_server, make_poller, store, clock):
    url = feed_server.route("/err", status=500)
    poller = make_poller(make_config(("f", url), interval=300.0))
    delays = []
    for failures in range(1, 8):
        start = clock.now
        result = (await poller.poll_once()).results[0]
        assert (result.outcome, result.error) == (FeedOutcome.ERROR, "HTTP 500 Internal Server Error")
        state = store.feed_state("f")
        assert state.failures == failures
        delay = (state.next_check_at - start).total_seconds()
        step = min(300.0 * 2 ** (failures - 1), BACKOFF_CAP)
        assert step * 0.8 <= delay <= step, (failures, delay)
        delays.append(delay)
        clock.jump_to(state.next_check_at)
    assert delays[0] < delays[2] < delays[4] and max(delays) <= BACKOFF_CAP
    feed_server.route("/err", body=rss(*ITEMS))
    assert (await poller.poll_once()).results[0].outcome == FeedOutcome.OK
    assert store.feed_state("f").failures == 0


def test_backoff_and_success_jitter_bounds():
    rng = random.Random(7)
    for failures, step in ((1, 300), (2, 600), (3, 1200), (5, 3600), (40, 3600)):
        samples = [backoff_delay(300.0, failures, rng) for _ in range(500)]
        assert step * 0.8 <= min(samples) and max(samples) <= step
        assert max(samples) - min(samples) > step * 0.15  # really jittered
    samples = [success_delay(300.0, None, rng) for _ in range(500)]
    assert 270 <= min(samples) < 280 and 320 < max(samples) <= 330
    # a 2 h feed that fails is not retried more often than it is normally polled
    assert all(7200 * 0.8 <= backoff_delay(7200.0, 3, rng) <= 7200 for _ in range(50))


async def test_next_check_is_randomised_within_ten_percent(feed_server, make_poller, clock):
    urls = [feed_server.route(f"/f{i}", body=rss(*ITEMS)) for i in range(12)]
    poller = make_poller(make_config(*((f"f{i}", u) for i, u in enumerate(urls)), interval=600.0))
    await poller.poll_once()
    delays = {(poller.state(f"f{i}").next_check_at - T0).total_seconds() for i in range(12)}
    assert all(540 <= d <= 660 for d in delays)
    assert len(delays) > 6  # not all the same: feeds spread out


async def test_ttl_and_max_age_floor_the_interval(feed_server, make_poller, clock):
    ttl_url = feed_server.route("/ttl", body=rss(*ITEMS, ttl=30))  # 30 minutes
    long_ttl = feed_server.route("/long", body=rss(*ITEMS, ttl=600))  # 10 h: floor capped at 1 h
    cached = feed_server.route("/cc", body=rss(*ITEMS), headers={"Cache-Control": "max-age=900"})
    short = feed_server.route("/short", body=rss(*ITEMS, ttl=1))  # below the interval: no effect
    poller = make_poller(make_config(("ttl", ttl_url), ("long", long_ttl), ("cc", cached), ("short", short)))
    await poller.poll_once()

    def delay(name):
        return (poller.state(name).next_check_at - T0).total_seconds()

    assert 1800 * 0.9 <= delay("ttl") <= 1800 * 1.1
    assert 3600 * 0.9 <= delay("long") <= 3600 * 1.1
    assert 900 * 0.9 <= delay("cc") <= 900 * 1.1
    assert 300 * 0.9 <= delay("short") <= 300 * 1.1
    assert poller.state("long").min_interval == 3600


async def test_slow_and_silent_servers_hit_the_deadline_others_complete(feed_server, make_poller, store):
    drip = feed_server.route("/drip", body=rss(*ITEMS), drip=0.05)
    hang = feed_server.route("/hang", hang=True)
    feeds = [("drip", drip), ("hang", hang)] + [(f"ok{i}", feed_server.route(f"/ok{i}", body=rss(*ITEMS))) for i in range(3)]
    poller = make_poller(make_config(*feeds, timeout=0.5, per_host=8))
    summary = await poller.poll_once()
    results = by_feed(summary)
    assert results["drip"].error == "timed out after 0.5 s"
    assert results["hang"].error == "timed out after 0.5 s"
    assert all(results[f"ok{i}"].outcome == FeedOutcome.OK for i in range(3))
    assert summary.elapsed_ms < 3000
    assert store.item_count() == 6


async def test_oversized_bodies_fail_alone(feed_server, make_poller, store):
    big = feed_server.route("/big", body=rss(*ITEMS) + b" " * 70_000)
    bomb = feed_server.route("/bomb", raw_gzip=gzip_bomb(8 << 20))
    zipped = feed_server.route("/zipped", body=rss(*ITEMS), gzip=True)
    poller = make_poller(make_config(("big", big), ("bomb", bomb), ("zipped", zipped), max_bytes=64 * 1024))
    results = by_feed(await poller.poll_once())
    assert results["big"].error == results["bomb"].error == "body larger than 64 KiB"
    assert results["zipped"].outcome == FeedOutcome.OK and results["zipped"].new_items == 2
    assert store.feed_state("bomb").last_error == "body larger than 64 KiB"


async def test_html_page_is_this_feeds_error_only(feed_server, make_poller, store):
    page = feed_server.route("/page", body=b"<html><body><p>Subscribe!</p></body></html>", content_type="text/html")
    good = feed_server.route("/good", body=rss(*ITEMS))
    poller = make_poller(make_config(("page", page), ("good", good)))
    results = by_feed(await poller.poll_once())
    assert results["page"].outcome == FeedOutcome.ERROR and results["page"].error.startswith("not a usable feed")
    assert results["good"].new_items == 2
    assert store.feed_state("page").body_hash is None


@pytest.mark.parametrize("per_host", [2, 4])
async def test_per_host_limit_is_respected(feed_server, make_poller, per_host):
    # Each request is held until 5 are in flight (or 50 ms): a client that ignores
    # the limit would show more than `per_host` concurrent requests.
    urls = [feed_server.route(f"/h{i}", body=rss(*ITEMS), hold=(5, 0.05)) for i in range(8)]
    poller = make_poller(make_config(*((f"h{i}", u) for i, u in enumerate(urls)), per_host=per_host, concurrency=16))
    summary = await poller.poll_once()
    assert all(r.outcome == FeedOutcome.OK for r in summary.results)
    assert feed_server.max_in_flight == per_host


async def test_global_concurrency_limit_across_hosts(feed_server, make_poller):
    # "127.0.0.1" and "localhost" are two hosts to the poller but one server, which
    # therefore sees the total number of requests in flight.
    feeds = []
    for host in ("127.0.0.1", "localhost"):
        base = f"http://{host}:{feed_server.port}"
        feeds += [(f"{host}-{i}", base + feed_server.route(f"/{host}/{i}", body=rss(*ITEMS), hold=(4, 0.05))[len(feed_server.base_url):]) for i in range(3)]
    poller = make_poller(make_config(*feeds, per_host=3, concurrency=2))
    summary = await poller.poll_once()
    assert all(r.outcome == FeedOutcome.OK for r in summary.results)
    assert feed_server.max_in_flight == 2


async def test_state_persists_across_a_new_poller(feed_server, make_poller, store, clock):
    url = feed_server.route("/f", body=rss(*ITEMS), etag='"p"', last_modified="Sun, 01 Mar 2026 10:00:00 GMT")
    config = make_config(("f", url))
    first = make_poller(config)
    await first.poll_once()
    await first.aclose()
    saved = store.feed_state("f")
    assert saved.latency_ms is not None and saved.last_fetch_at == T0 and saved.outcome == FeedOutcome.OK

    second = make_poller(config)
    assert (await second.poll_once()).results == ()  # not due yet: a restart does not re-poll
    assert second.next_due() == saved.next_check_at
    clock.jump_to(saved.next_check_at)
    result = (await second.poll_once()).results[0]
    assert result.status == 304
    assert feed_server.requests_to("/f")[-1].header("if-none-match") == '"p"'


async def test_reconfigure_adds_removes_and_resets_changed_urls(feed_server, make_poller, store, clock):
    a = feed_server.route("/a", body=rss(*ITEMS), etag='"a"')
    b = feed_server.route("/b", body=rss(*ITEMS), etag='"b"')
    c = feed_server.route("/c", body=rss(("c1", "Third feed")), etag='"c"')
    poller = make_poller(make_config(("a", a), ("b", b)))
    await poller.poll_once()
    b2 = feed_server.route("/b2", body=rss(*ITEMS), etag='"b"')
    poller.reconfigure(make_config(("b", b2), ("c", c)))
    results = by_feed(await poller.poll_once())
    assert set(results) == {"b", "c"}  # b's URL changed: due at once; c is new; a is gone
    assert feed_server.requests_to("/b2")[0].header("if-none-match") is None  # state reset
    assert results["c"].new_items == 1
    assert len(feed_server.requests_to("/a")) == 1


async def test_topic_change_swaps_the_classifier(feed_server, make_poller, store, monkeypatch):
    import tui.classify
    from tui.models import Verdict

    seen_topics = []

    class RecordingClassifier:
        def __init__(self, topic=None):
            seen_topics.append(topic)
            self.topic = topic

        def classify(self, title, summary=""):
            hit = any(term in title.lower() for term in self.topic.include)
            return Verdict(relevant=hit, score=1.0 if hit else 0.0, signal="none")

    monkeypatch.setattr(tui.classify, "Classifier", RecordingClassifier)
    url = feed_server.route("/f", body=rss(*ITEMS))
    first_topic, second_topic = TopicSpec(include=("unlikely-term-1",)), TopicSpec(include=("paris",))
    poller = make_poller(make_config(("f", url), topic=first_topic))
    await poller.poll_once()
    feed_server.route("/f", body=rss(*ITEMS, ("g3", "Paris again")))
    poller.reconfigure(make_config(("f", url), topic=second_topic))
    await poller.poll_once(force=True)
    assert seen_topics[-1] == second_topic and first_topic in seen_topics


async def test_on_result_reports_progress(feed_server, make_poller):
    urls = [feed_server.route(f"/p{i}", body=rss(*ITEMS)) for i in range(4)]
    calls = []
    poller = make_poller(make_config(*((f"p{i}", u) for i, u in enumerate(urls))),
                         on_result=lambda r, done, total: calls.append((r.feed, done, total)))
    summary = await poller.poll_once()
    assert sorted(c[0] for c in calls) == [f"p{i}" for i in range(4)]
    assert [c[1:] for c in calls] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert [r.feed for r in summary.results] == [f"p{i}" for i in range(4)]


async def test_run_polls_until_stopped(feed_server, make_poller, clock):
    url = feed_server.route("/r", body=rss(*ITEMS))
    polled = asyncio.Event()
    poller = make_poller(make_config(("r", url)), on_result=lambda r, d, t: polled.set())
    stop = asyncio.Event()
    task = asyncio.create_task(poller.run(stop))
    await asyncio.wait_for(polled.wait(), timeout=5)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert len(feed_server.requests_to("/r")) == 1  # next check is minutes away


async def test_gzip_encoded_feed_round_trip(feed_server, make_poller, store):
    body = rss(*ITEMS)
    url = feed_server.route("/gz", raw_gzip=gzip.compress(body))
    poller = make_poller(make_config(("gz", url)))
    result = (await poller.poll_once()).results[0]
    assert (result.outcome, result.new_items) == (FeedOutcome.OK, 2)


async def test_process_pool_parses_and_classifies(feed_server, make_poller, store):
    urls = [feed_server.route(f"/p{i}", body=rss(*ITEMS, (f"x{i}", "Hostage release announced"))) for i in range(3)]
    poller = make_poller(make_config(*((f"p{i}", u) for i, u in enumerate(urls))), pool="process")
    summary = await poller.poll_once()
    assert [r.new_items for r in summary.results] == [3, 3, 3]
    assert store.item_count() == 9


async def test_a_failing_store_is_reported_not_swallowed(feed_server, make_poller, store):
    from tui.store import StoreError

    class FailingStates:
        """The real store, except that saving feed state fails (disk full, say)."""

        def __getattr__(self, name):
            return getattr(store, name)

        def save_feed_state(self, state):
            raise StoreError("poll.db: disk full")

        def save_feed_states(self, states):
            raise StoreError("poll.db: disk full")

    url = feed_server.route("/f", body=rss(*ITEMS))
    poller = make_poller(make_config(("f", url)), store=FailingStates())
    with pytest.raises(StoreError, match="disk full"):
        await poller.poll_once()


async def test_a_gone_feed_comes_back_when_its_url_changes(feed_server, make_poller, store):
    gone = feed_server.route("/gone", status=410)
    poller = make_poller(make_config(("f", gone)))
    await poller.poll_once()
    assert store.feed_state("f").gone
    fresh = feed_server.route("/fresh", body=rss(*ITEMS))
    restarted = make_poller(make_config(("f", fresh)))  # feeds.toml edited, program restarted
    result = (await restarted.poll_once()).results[0]
    assert (result.outcome, result.new_items) == (FeedOutcome.OK, 2)
    assert store.feed_state("f").gone is False and store.feed_state("f").url == fresh


# --- classification in the workers, batched writes ------------------------------------


def stored_verdicts(store) -> dict[tuple[str, str], object]:
    from tui.store import ItemQuery

    return {(i.feed, i.key): i.verdict for i in store.query(ItemQuery(limit=None))}


@pytest.mark.parametrize("pool", ["process", "thread"])
async def test_workers_classify_with_the_current_topic(feed_server, make_poller, store, pool):
    """Verdicts made in the parse workers are the writer's own Classifier's, before and
    after a topic change reaches workers that are already running."""
    from tui.classify import Classifier

    url = feed_server.route("/f", body=rss(*ITEMS))
    first_topic, second_topic = TopicSpec(), TopicSpec(exclude=("cairo",))
    poller = make_poller(make_config(("f", url), topic=first_topic), pool=pool)
    await poller.poll_once()
    feed_server.route("/f", body=rss(*ITEMS, ("g3", "Hostage talks resume in Cairo")))
    poller.reconfigure(make_config(("f", url), topic=second_topic))
    assert (await poller.poll_once(force=True)).results[0].new_items == 1

    verdicts = stored_verdicts(store)
    titles = dict(ITEMS) | {"g3": "Hostage talks resume in Cairo"}
    for guid, topic in (("g1", first_topic), ("g2", first_topic), ("g3", second_topic)):
        assert verdicts[("f", guid)] == Classifier(topic).classify(titles[guid], ""), guid
    assert verdicts[("f", "g1")].relevant  # the stand-ins are not trivially equal
    assert not verdicts[("f", "g3")].relevant and Classifier(first_topic).classify(titles["g3"], "").relevant


async def test_the_thread_fallback_classifies_when_processes_cannot_start(feed_server, make_poller, store, monkeypatch):
    import multiprocessing

    from tui.classify import Classifier

    def no_processes(*args, **kwargs):
        raise OSError("no /dev/shm here")

    monkeypatch.setattr(multiprocessing, "get_context", no_processes)
    url = feed_server.route("/f", body=rss(*ITEMS))
    poller = make_poller(make_config(("f", url)), pool="process")
    assert (await poller.poll_once()).results[0].new_items == 2
    assert stored_verdicts(store)[("f", "g1")] == Classifier(None).classify(ITEMS[0][1], "")


class RecordingStore:
    """The real store, recording each item write; `full` feeds do not fit (disk full)."""

    def __init__(self, store, full=()):
        self._store = store
        self.full = set(full)
        self.writes: list[list[str]] = []

    def __getattr__(self, name):
        return getattr(self._store, name)

    def _check(self, feeds):
        if self.full & set(feeds):
            import sqlite3

            raise sqlite3.OperationalError("database or disk is full")

    def upsert_rows(self, batches):
        self.writes.append([feed for feed, _ in batches])
        self._check([feed for feed, _ in batches])
        return self._store.upsert_rows(batches)


def hold_writer_until_queued(monkeypatch, count: int) -> None:
    """Hold the items writer until `count` feeds' items are queued for it, as
    when a slow write is under way, so they all wait for the same write."""
    import tui.poller

    all_queued = asyncio.Event()
    queued = []
    real_store, real_flush = tui.poller._ItemsWriter.store, tui.poller._ItemsWriter._flush

    async def counting_store(self, feed, pairs):
        queued.append(feed)
        if len(queued) == count:
            all_queued.set()
        return await real_store(self, feed, pairs)

    async def held_flush(self):
        await all_queued.wait()
        await real_flush(self)

    monkeypatch.setattr(tui.poller._ItemsWriter, "store", counting_store)
    monkeypatch.setattr(tui.poller._ItemsWriter, "_flush", held_flush)


async def test_items_waiting_for_the_writer_share_one_transaction(feed_server, make_poller, store, monkeypatch):
    names = [f"w{i}" for i in range(6)]
    urls = [feed_server.route(f"/{name}", body=rss(*ITEMS, (f"{name}-x", f"Story of {name}"))) for name in names]
    recording = RecordingStore(store)
    poller = make_poller(make_config(*zip(names, urls), per_host=6), store=recording)
    hold_writer_until_queued(monkeypatch, len(names))
    summary = await poller.poll_once()
    assert {r.feed: (r.new_items, r.outcome) for r in summary.results} == {n: (3, FeedOutcome.OK) for n in names}
    assert sorted(feed for write in recording.writes for feed in write) == names  # each stored once
    assert len(recording.writes) == 1 and sorted(recording.writes[0]) == names  # one transaction
    assert store.item_count() == 18


async def test_a_feed_that_does_not_fit_fails_alone_when_batched(feed_server, make_poller, store, monkeypatch):
    # Two feeds too big: whichever feed the writer takes first on its own, the
    # other big one is in a batch with the small ones.
    names = ["a", "big1", "c", "big2", "d"]
    urls = [feed_server.route(f"/{name}", body=rss(*ITEMS, (f"{name}-x", f"Story of {name}"))) for name in names]
    recording = RecordingStore(store, full={"big1", "big2"})
    poller = make_poller(make_config(*zip(names, urls), per_host=5), store=recording)
    hold_writer_until_queued(monkeypatch, len(names))
    results = by_feed(await poller.poll_once())
    for big in ("big1", "big2"):
        assert results[big].outcome == FeedOutcome.ERROR and "full" in results[big].error
        assert store.feed_state(big).failures == 1 and "full" in store.feed_state(big).last_error
    assert all((results[n].outcome, results[n].new_items) == (FeedOutcome.OK, 3) for n in ("a", "c", "d"))
    assert store.item_count() == 9
    tried_together, *retried = recording.writes  # tried together, failed, then feed by feed
    assert sorted(tried_together) == sorted(names)
    assert sorted(write[0] for write in retried) == sorted(names) and all(len(w) == 1 for w in retried)


def test_worker_rows_store_what_the_items_and_verdicts_say(tmp_path):
    # Workers send rows (tui.parse_worker.item_row), pickled; the store must
    # read back exactly the Item and Verdict they were made from.
    import pickle

    from tui.models import Item, Verdict
    from tui.parse_worker import item_row

    item = Item(feed="f", key="k", title="t \u00e9", summary="s", link="https://x.example/", published=T0, author="a")
    verdict = Verdict(relevant=True, score=2.5, signal="deal", matched=("m", 'q"uote'), actors=("Qatar",), places=("Doha",))
    row = pickle.loads(pickle.dumps(item_row(item, verdict)))
    with Store(tmp_path / "rows.db") as store:
        assert store.upsert_rows([("f", [row])]) == [(1, 0)]
        [stored] = store.query(ItemQuery())
    assert (stored.feed, stored.key, stored.title, stored.summary, stored.link, stored.published, stored.author) == (
        item.feed, item.key, item.title, item.summary, item.link, item.published, item.author)
    assert stored.verdict == verdict


async def test_a_long_cycle_saves_feed_states_as_it_goes(feed_server, make_poller, store, monkeypatch):
    import tui.poller

    monkeypatch.setattr(tui.poller._StateSaver, "FLUSH_AFTER", 0.05)
    events = []

    class RecordingStates(RecordingStore):
        def save_feed_states(self, states):
            states = list(states)
            events.append(("saved", tuple(s.name for s in states)))
            return self._store.save_feed_states(states)

    hang = feed_server.route("/hang", hang=True)
    quick = feed_server.route("/quick", body=rss(*ITEMS))
    poller = make_poller(make_config(("hang", hang), ("quick", quick), timeout=1.0),
                         store=RecordingStates(store), on_result=lambda r, d, t: events.append(("result", r.feed)))
    await poller.poll_once()
    assert events.index(("saved", ("quick",))) < events.index(("result", "hang"))
    assert events[-1] == ("saved", ("hang",))  # the rest at the end
    assert store.feed_state("hang").last_error == "timed out after 1 s"


def test_an_empty_topic_shares_the_default_rules_built_ahead():
    # The fork server builds the default classifier once (tui.worker_warmup);
    # a config without [topic] carries TopicSpec(), which must reuse it.
    import tui.parse_worker
    from tui.config import TopicSpec

    default = tui.parse_worker.classifier_for(None)
    assert tui.parse_worker.classifier_for(TopicSpec()) is default
    tuned = tui.parse_worker.classifier_for(TopicSpec(exclude=("football",)))
    assert tuned is not default
    assert tuned.classify("Hostage talks resume in Doha despite football row").relevant is False


async def test_items_are_written_several_feeds_to_a_transaction(feed_server, make_poller, store, monkeypatch):
    # FTS5 merges its segments as small transactions pile up: a write waits for
    # BATCH feeds, unless no more feeds are still to come than are waiting.
    import tui.poller

    monkeypatch.setattr(tui.poller._ItemsWriter, "BATCH", 3)
    monkeypatch.setattr(tui.poller._ItemsWriter, "FLUSH_AFTER", 60.0)  # never the reason here
    names = [f"b{i}" for i in range(9)]
    urls = [feed_server.route(f"/{name}", body=rss(*ITEMS, (f"{name}-x", f"Story of {name}"))) for name in names]
    recording = RecordingStore(store)
    poller = make_poller(make_config(*zip(names, urls), per_host=8), store=recording)
    summary = await poller.poll_once()
    assert {r.feed: r.new_items for r in summary.results} == {n: 3 for n in names}
    assert sorted(feed for write in recording.writes for feed in write) == names
    assert len(recording.writes[0]) >= 3 and len(recording.writes) < len(names), recording.writes


async def test_a_hanging_feed_does_not_hold_back_the_others_items(feed_server, make_poller, store, monkeypatch):
    import tui.poller

    monkeypatch.setattr(tui.poller._ItemsWriter, "FLUSH_AFTER", 0.05)
    events = []
    hang = feed_server.route("/hang", hang=True)
    quick = feed_server.route("/quick", body=rss(*ITEMS))
    poller = make_poller(make_config(("hang", hang), ("quick", quick), timeout=1.0),
                         on_result=lambda r, d, t: events.append((r.feed, r.new_items)))
    await poller.poll_once()
    assert events == [("quick", len(ITEMS)), ("hang", 0)]


@pytest.fixture
def no_prestarted_pool():
    import tui.poller

    yield
    tui.poller._adopt_prestarted("none", None)  # a kind nobody uses: shuts down what a test left


async def test_a_prestarted_pool_is_adopted(feed_server, make_poller, store, monkeypatch, no_prestarted_pool):
    import tui.poller

    started = []
    real_start = tui.poller._start_parse_pool

    def recording_start(kind, topic):
        pool = real_start(kind, topic)
        started.append(pool)
        return pool

    monkeypatch.setattr(tui.poller, "_start_parse_pool", recording_start)
    monkeypatch.setattr(Poller, "parse_pool_kind", "thread")
    config = make_config(("f", feed_server.route("/f", body=rss(*ITEMS))))
    tui.poller.prestart_parse_pool(config.topic)
    poller = make_poller(config)
    summary = await poller.poll_once()
    assert [r.new_items for r in summary.results] == [len(ITEMS)]
    assert len(started) == 1 and poller._parse_pool is started[0]


async def test_a_prestarted_pool_of_another_kind_is_shut_down(feed_server, make_poller, store, monkeypatch,
                                                             no_prestarted_pool):
    import tui.poller

    shut = []

    class Pool:
        def shutdown(self, wait=True, cancel_futures=False):
            shut.append(self)

    monkeypatch.setattr(tui.poller, "_start_parse_pool", lambda kind, topic: Pool())
    tui.poller.prestart_parse_pool(None)  # a "process" pool; the test pollers use threads
    tui.poller._prestarted[2].result()
    monkeypatch.undo()
    poller = make_poller(make_config(("f", feed_server.route("/f", body=rss(*ITEMS)))))
    summary = await poller.poll_once()
    assert [r.new_items for r in summary.results] == [len(ITEMS)]
    assert len(shut) == 1 and poller._parse_pool is not shut[0]


def _fork_server_flag() -> bool:
    import tui.worker_warmup

    return tui.worker_warmup.IN_FORK_SERVER


def test_only_the_fork_server_skips_its_teardown_at_exit():
    # worker_warmup makes the fork server leave with os._exit; imported anywhere
    # else (this test process), it must leave the normal exit alone.
    import tui.worker_warmup

    assert tui.worker_warmup.IN_FORK_SERVER is False
    pool = tui.poller.make_parse_pool("process")
    try:
        assert pool.submit(_fork_server_flag).result(timeout=60) is True  # inherited from the server's preload
    finally:
        pool.shutdown()
