"""Every fault of issue 5 in ONE poll cycle against a loopback server, then the store is audited.

What must hold afterwards: the cycle ended within the per-fetch deadline plus a
small margin (a stalled server costs its own feed the deadline, nobody else
more), every good item is stored exactly once, every bad feed has a state with
an outcome and a message a person can read, no stored text carries a control
character or an unsafe link, markup is kept as literal text, no local file is
read through an external entity, and the 50 MB body and the gzip bomb are cut
off without the memory to hold them.
"""

from __future__ import annotations

import re
import sqlite3
import time
import tracemalloc

import pytest

try:
    from tests.hostile_server import (
        MARKUP_LITERALS,
        MARKUP_TITLES,
        UNSAFE_LINKS,
        HostileServer,
        changed_title_body,
        hostile_server,  # noqa: F401  (fixture)
        install_faults,
    )
except ImportError:  # tests/ is on sys.path itself when it is not a package
    from hostile_server import (  # noqa: F401
        MARKUP_LITERALS,
        MARKUP_TITLES,
        UNSAFE_LINKS,
        HostileServer,
        changed_title_body,
        hostile_server,
        install_faults,
    )

from tui.config import Config, FeedSpec, Settings, TopicSpec
from tui.models import FeedOutcome
from tui.parse import TITLE_MAX
from tui.poller import Poller
from tui.store import Store

# The feeds.toml `timeout`. Not "2s": the 5,000-item feed alone costs feedparser
# about 3 s of CPU on this (shared, 2-core) machine, so a 2 s deadline would time
# the parser, not the deadline. At 5 s the parse overlaps the stalled fetches.
DEADLINE = 5.0
# What may follow the deadline: the last parse finishing, the last states written.
MARGIN = 2.5
MAX_BYTES = 4 << 20
SECRET = "TALKWATCH-XXE-SECRET-31c9e"

# C0, DEL, C1, bidi embeddings/overrides/isolates, zero-width and BOM.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff]")
LINK_OK = re.compile(r"^(https?://\S+)?$")


def make_config(faults, **settings) -> Config:
    specs = tuple(
        FeedSpec(name=f.name, url=f.url, interval=None, tags=(), enabled=True, line=i + 1)
        for i, f in enumerate(faults)
    )
    values = dict(interval=300.0, timeout=DEADLINE, concurrency=16, per_host=2, max_bytes=MAX_BYTES,
                  user_agent="talkwatch-hostile-test/1")
    values.update(settings)
    return Config(settings=Settings(**values), feeds=specs, topic=TopicSpec(), path=None)


def stored(db_path) -> list[dict]:
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute("SELECT feed, key, title, summary, link, author FROM items")]
    finally:
        conn.close()


def keys_by_feed(rows) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for row in rows:
        out.setdefault(row["feed"], []).append(row["key"])
    return out


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text(SECRET + "\n")
    return path


@pytest.fixture
def faults(hostile_server: HostileServer, secret_file):
    return install_faults(hostile_server, str(secret_file))


async def poll(config, store) -> tuple[float, object]:
    poller = Poller(config, store)
    try:
        t0 = time.monotonic()
        summary = await poller.poll_once(force=True)
        return time.monotonic() - t0, summary
    finally:
        await poller.aclose()


async def test_every_fault_in_one_cycle(hostile_server, faults, tmp_path):
    db = tmp_path / "hostile.db"
    store = Store(db)
    try:
        elapsed, summary = await poll(make_config(faults.values()), store)
        states = store.feed_states()
    finally:
        store.close()

    assert len(faults) >= 29, "the fixture lost faults"
    assert elapsed < DEADLINE + MARGIN, f"cycle took {elapsed:.2f} s"
    assert {r.feed for r in summary.results} == set(faults), "every feed has a result in the cycle"

    rows = stored(db)
    by_feed = keys_by_feed(rows)
    problems = []
    for name, fault in faults.items():
        state = states.get(name)
        if state is None or state.outcome is None:
            problems.append(f"{name}: no state/outcome")
            continue
        keys = by_feed.get(name, [])
        if len(keys) != len(set(keys)):
            problems.append(f"{name}: duplicate keys stored")
        if fault.good and set(keys) != fault.good:
            problems.append(f"{name}: stored {len(set(keys))} of {len(fault.good)} good items "
                            f"(missing e.g. {sorted(fault.good - set(keys))[:3]}, state {state.outcome}: {state.last_error})")
        allowed = fault.good | fault.maybe
        if not set(keys) <= allowed:
            problems.append(f"{name}: unexpected keys {sorted(set(keys) - allowed)[:3]}")
        if fault.error is None:
            if state.outcome not in (FeedOutcome.OK, FeedOutcome.MOVED):
                problems.append(f"{name}: expected success, got {state.outcome}: {state.last_error}")
        elif fault.maybe and state.outcome == FeedOutcome.OK:
            pass  # "an error or its safe entries": the entries were checked above
        else:
            message = state.last_error or ""
            if state.outcome not in (FeedOutcome.ERROR, FeedOutcome.GONE):
                problems.append(f"{name}: expected an error outcome, got {state.outcome}")
            if not any(word.lower() in message.lower() for word in fault.error):
                problems.append(f"{name}: message {message!r} says none of {fault.error}")
        for text in (state.last_error, state.warning):
            if text and (len(text) > 500 or "Traceback" in text or "internal error" in text
                         or CONTROL.search(text) or SECRET in text):
                problems.append(f"{name}: message not fit for a person: {text[:200]!r}")
    assert not problems, "\n".join(problems)

    # Redirect bookkeeping: permanent chains move the feed, temporary ones do not.
    assert states["301-chain"].outcome == FeedOutcome.MOVED
    assert states["301-chain"].moved_to and states["301-chain"].moved_to.endswith("/p3")
    assert states["302-chain"].moved_to is None
    assert states["http-410"].gone
    assert states["http-429"].next_check_at is not None

    # Nothing stored carries a control character, a hidden payload or an unsafe link.
    for row in rows:
        for column in ("title", "summary", "author"):
            assert not CONTROL.search(row[column]), (row["feed"], row["key"], column, row[column][:120])
            assert SECRET not in row[column]
            assert "lol" * 40 not in row[column], "an entity was expanded"
        assert LINK_OK.match(row["link"]), (row["key"], row["link"])

    markup = {row["key"]: row for row in rows if row["feed"] == "markup-and-escapes"}
    for key, literal in MARKUP_LITERALS.items():
        assert literal in markup[key]["title"], "markup must stay literal text"
    assert "cm0gLXJmIH4vKg==" not in markup["mk-osc52"]["title"], "OSC 52 payload left behind"
    assert markup["mk-ansi"]["title"].startswith("Red")
    assert "enilno" in markup["mk-bidi"]["title"]
    assert len(markup["mk-long"]["title"]) <= TITLE_MAX
    assert "<script>" not in markup["mk-html"]["title"] and "Headline" in markup["mk-html"]["title"]
    for key in UNSAFE_LINKS:
        assert markup[key]["link"] == "", f"{key} kept an unsafe link"
    assert set(MARKUP_TITLES) <= set(markup)
    assert "Négociations" in next(r["title"] for r in rows if r["key"] == "latin1-0")

    # Nobody waited on a stalled server: good feeds' fetches finished long before the deadline.
    quick = [r for r in summary.results if faults[r.feed].error is None]
    assert quick and max(r.elapsed_ms for r in quick) < DEADLINE * 1000 / 2

    # --- a second cycle, by a new poller (a restart), with one title changed ---------------
    hostile_server.routes["/changing.xml"].body = changed_title_body()
    hostile_server.routes["/changing.xml"].etag = '"v2"'
    # The two stalling servers are left out: they would only add the deadline again.
    again = [f for f in faults.values() if f.name not in ("slow-drip", "never-answers")]
    store = Store(db)
    try:
        elapsed, summary = await poll(make_config(again), store)
    finally:
        store.close()
    assert elapsed < DEADLINE + MARGIN
    results = {r.feed: r for r in summary.results}
    assert (results["guid-stays-title-changes"].new_items, results["guid-stays-title-changes"].updated_items) == (0, 1)
    assert summary.new_items == 0, {r.feed: r.new_items for r in summary.results if r.new_items}
    rows_after = stored(db)
    assert sorted((r["feed"], r["key"]) for r in rows_after) == sorted((r["feed"], r["key"]) for r in rows)
    changed = [r for r in rows_after if r["key"] == "chg-0"]
    assert len(changed) == 1 and changed[0]["title"] == "Talks: second version of the headline"


async def test_huge_bodies_are_cut_off_in_bounded_memory(hostile_server, faults, tmp_path):
    names = ("50mb-undeclared", "50mb-declared", "gzip-bomb")
    store = Store(tmp_path / "memory.db")
    tracemalloc.start()
    try:
        elapsed, summary = await poll(make_config([faults[n] for n in names]), store)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        store.close()
    results = {r.feed: r for r in summary.results}
    for name in names:
        assert "larger than 4 MiB" in (results[name].error or ""), results[name]
    # Holding the bodies would take 50 MB or 32 MB each; the cap allows one
    # max_bytes buffer per feed in flight, plus the client's own overhead.
    assert peak < 3 * MAX_BYTES + (8 << 20), f"peak {peak / 2**20:.1f} MiB"
    assert elapsed < DEADLINE + MARGIN


def _one_line_laughs() -> bytes:
    # All declarations on one line: feedparser strips <!ENTITY> only where one starts a line.
    entities = '<!ENTITY l0 "lollollollol">' + "".join(
        f'<!ENTITY l{i} "' + f"&l{i - 1};" * 10 + '">' for i in range(1, 10)
    )
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [{entities}]><rss version="2.0"><channel><title>t</title>'
        "<item><guid>a</guid><title>&l9;</title></item><item><guid>b</guid><title>Safe</title></item>"
        "</channel></rss>"
    ).encode()


def test_billion_laughs_costs_no_cpu():
    """No expansion means no expansion work either: expat would expand the entities
    until its amplification limit (8 MiB, ~4 s of CPU here) before giving up."""
    from tui.parse import FeedParseError, parse_feed
    from tui.models import utc_now

    started = time.thread_time()
    try:
        parsed = parse_feed(_one_line_laughs(), feed="f", url="https://f.example/", content_type=None, now=utc_now())
    except FeedParseError:
        parsed = None
    cpu = time.thread_time() - started
    assert cpu < 0.5, f"parsing a 1 KB billion-laughs document took {cpu:.2f} s of CPU"
    if parsed is not None:
        assert all("lollollol" not in item.title for item in parsed.items)
