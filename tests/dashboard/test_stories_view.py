"""Pilot tests for issue 6 in the dashboard: the story view and its keys, the
first-to-report counts, the digest key, and alert delivery (bell, notification,
desktop through a fake notify-send, webhook on loopback), without duplicates
and across a restart."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .conftest import CONFIG_TEXT, NOW, fill, fixed_clock
from .helpers import row_text, settle, shown_titles
from tui.config import load_config
from tui.dashboard.app import create_app
from tui.dashboard.detail import DetailScreen
from tui.dashboard.messages import FeedPolled, PollFinished
from tui.models import FeedPollResult, Item, PollSummary, Verdict
from tui.store import ItemQuery, Store

DEAL = "Israel and Hamas agree truce and hostage release deal"
# (feed, minutes ago, title, summary, relevant, signal, matched): one development
# from three sources, a lone stalled report and an irrelevant item.
STORY_ROWS = [
    ("Doha Wire", 40, DEAL, "Qatar announced the agreement.", True, "deal", ("deal",)),
    ("Cairo Bulletin", 28, "Israel, Hamas agree truce and hostage release deal - Cairo Bulletin",
     "Egypt confirmed the agreement.", True, "deal", ("deal",)),
    ("Levant Ledger", 12, "Israel and Hamas agree on truce and hostage release deal",
     "Officials confirmed it.", True, "deal", ("deal",)),
    ("Levant Ledger", 70, "Talks stall over withdrawal maps, officials say",
     "Israeli officials said negotiations in Cairo had stalled.", True, "stalled", ("stalled",)),
    ("Harbour Times", 95, "Port strike ends after pay deal agreed", "Dockworkers accepted.", False, "none", ()),
]

ALERT_RULE = """
[[alert]]
name = "deals"
signals = ["deal"]
channels = ["bell", "notify"]
"""


@pytest.fixture
def story_store(tmp_path: Path):
    store = Store(tmp_path / "stories.db", clock=fixed_clock)
    fill(store, STORY_ROWS)
    yield store
    store.close()


def config_with(tmp_path: Path, extra: str = ""):
    path = tmp_path / "feeds.toml"
    path.write_text(CONFIG_TEXT + extra, encoding="utf-8")
    return load_config(path)


def make(config, store, **kwargs):
    app = create_app(config, store, clock=fixed_clock, **kwargs)
    return app


def table(app):
    return app.query_one("#headlines")


def row_keys(app) -> list[str]:
    return [row.key.value for row in table(app).ordered_rows]


def add_live(store: Store, feed: str, title: str, minutes: int, signal: str = "deal") -> None:
    store.upsert_items(feed, [(
        Item(feed=feed, key=f"live-{feed}-{minutes}", title=title, summary="", link=f"https://example.org/{minutes}",
             published=NOW - timedelta(minutes=minutes)),
        Verdict(relevant=True, score=3.0, signal=signal, matched=(signal,), actors=("Qatar", "Egypt"), places=("Doha",)),
    )])


async def test_story_rows_show_confirmations_and_first_reporter(tmp_path, story_store):
    app = make(config_with(tmp_path), story_store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert shown_titles(app) == [DEAL, "Talks stall over withdrawal maps, officials say"]
        first = row_text(app, 0).plain
        assert "Doha Wire" in first and "x3" in first and "40m" in first  # first reporter, its time
        assert "x1" in row_text(app, 1).plain
        assert table(app).border_title.startswith("[bold]Stories")
        # The detail panel: the first report, then each other source after it.
        detail = str(app.query_one("#detail-body").render())
        assert "first: Doha Wire" in detail
        assert "Cairo Bulletin +12m" in detail and "Levant Ledger +28m" in detail


async def test_enter_expands_and_collapses_a_story_and_opens_a_member(tmp_path, story_store):
    app = make(config_with(tmp_path), story_store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        story_key = row_keys(app)[0]
        await pilot.press("enter")
        keys = row_keys(app)
        assert len(keys) == 5 and keys[0] == story_key
        assert all(k.startswith(story_key + "/") for k in keys[1:4])
        assert [table(app).rows_by_key[k].item.feed for k in keys[1:4]] == ["Doha Wire", "Cairo Bulletin", "Levant Ledger"]
        assert "▾" in row_text(app, 0).plain
        await pilot.press("j", "j", "enter")  # a member row: its detail
        assert isinstance(app.screen, DetailScreen) and app.screen.item.feed == "Cairo Bulletin"
        await pilot.press("escape")
        await pilot.press("k", "k", "enter")  # the story row again: collapse
        assert row_keys(app) == [story_key, row_keys(app)[1]] and len(row_keys(app)) == 2
        assert table(app).highlighted_key() == story_key


async def test_g_switches_between_stories_and_raw_items(tmp_path, story_store):
    app = make(config_with(tmp_path), story_store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert len(row_keys(app)) == 2
        await pilot.press("g")
        await settle(pilot)
        assert not app.story_mode and len(row_keys(app)) == 4
        assert table(app).border_title.startswith("[bold]Headlines")
        await pilot.press("a")  # relevant/all still works in raw mode
        await settle(pilot)
        assert len(row_keys(app)) == 5
        await pilot.press("g")  # and in story mode the irrelevant item is a row of its own
        await settle(pilot)
        assert app.story_mode and len(row_keys(app)) == 3
        assert "Port strike ends after pay deal agreed" in shown_titles(app)


async def test_story_mode_applies_filters_to_items_first(tmp_path, story_store):
    app = make(config_with(tmp_path), story_store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        app.query_one("#filter").value = "source:Cairo"
        await settle(pilot)
        assert shown_titles(app) == ["Israel, Hamas agree truce and hostage release deal - Cairo Bulletin"]
        assert "x1" in row_text(app, 0).plain  # only the matching item is grouped


async def test_m_marks_a_whole_story_read_and_star_stars_its_lead(tmp_path, story_store):
    app = make(config_with(tmp_path), story_store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        unread = {i.title for i in story_store.query(ItemQuery(unread_only=True, limit=None))}
        assert unread == {"Talks stall over withdrawal maps, officials say", "Port strike ends after pay deal agreed"}
        assert row_text(app, 0).plain.startswith(" ")  # no unread dot
        await pilot.press("m")  # again: all unread
        await settle(pilot)
        assert len(story_store.query(ItemQuery(unread_only=True, limit=None))) == 5
        await pilot.press("asterisk")
        await settle(pilot)
        starred = story_store.query(ItemQuery(starred_only=True, limit=None))
        assert [i.feed for i in starred] == ["Doha Wire"]
        assert row_text(app, 0).plain.startswith("★")
        await pilot.press("asterisk")
        await settle(pilot)
        assert story_store.query(ItemQuery(starred_only=True, limit=None)) == []


async def test_mark_all_read_in_story_mode_marks_every_member(tmp_path, story_store):
    app = make(config_with(tmp_path), story_store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("M")
        await settle(pilot)
        unread = story_store.query(ItemQuery(unread_only=True, limit=None))
        assert [i.title for i in unread] == ["Port strike ends after pay deal agreed"]  # not shown: relevant only


async def test_live_arrival_joining_a_story_updates_its_count_and_keeps_the_cursor(tmp_path, story_store):
    app = make(config_with(tmp_path), story_store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("j")
        reading = table(app).highlighted_key()  # the stalled story
        deal_key = row_keys(app)[0]
        add_live(story_store, "Harbour Times", "Israel and Hamas agree truce, hostage release deal", 3)
        add_live(story_store, "Cairo Bulletin", "Red Cross vehicles reach Gaza crossing for handover", 1, "release")
        app.post_message(FeedPolled(FeedPollResult(feed="Harbour Times", outcome="ok", status=200, new_items=2), 1, 4))
        await settle(pilot)
        keys = row_keys(app)
        assert len(keys) == 3 and keys[1] == deal_key  # the new story on top, the deal story joined
        assert "x4" in row_text(app, 1).plain
        assert table(app).highlighted_key() == reading and table(app).cursor_row == 2


async def test_sources_panel_shows_first_to_report_counts(tmp_path, story_store):
    app = make(config_with(tmp_path), story_store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert app.first_reports == {"Doha Wire": 1}
        lines = app.query_one("#sources").plain.splitlines()
        doha = next(i for i, line in enumerate(lines) if "Doha Wire" in line)
        assert "1st 1" in lines[doha + 1]
        assert sum("1st" in line for line in lines) == 1  # a story nobody confirmed makes no one first
        # The status' confidence counts the story's confirmations.
        assert app.status is not None and app.status.confidence == 3


async def test_digest_key_writes_the_markdown_digest_and_says_where(tmp_path, story_store):
    app = make(config_with(tmp_path), story_store)
    app.digest_dir = tmp_path / "out"
    app.digest_dir.mkdir()
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)
        path = tmp_path / "out" / "talkwatch-digest-20260304-1200.md"
        text = path.read_text("utf-8")
        assert text.startswith("# Hostage talks")
        assert DEAL in text and "x3" in text and "Doha Wire first" in text
        assert "Port strike" not in text.split("## Stories", 1)[1].split("##", 1)[0]
        assert any(str(path) in n.message for n in app._notifications)


# --- alerts ----------------------------------------------------------------------------


def _count_bells(app) -> list[int]:
    rang: list[int] = []
    app.bell = lambda: rang.append(1)  # type: ignore[method-assign]
    return rang


def _alert_titles(app) -> list[str]:
    return [n.title for n in app._notifications if n.title.startswith("Deal:")]


async def test_alert_rings_and_notifies_once_per_story_and_not_again_after_restart(tmp_path, story_store):
    config = config_with(tmp_path, ALERT_RULE)
    app = make(config, story_store)
    rang = _count_bells(app)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert rang == [1]
        assert _alert_titles(app) == [f"Deal: {DEAL}"]
        message = next(n.message for n in app._notifications if n.title.startswith("Deal:"))
        assert "3 sources: Doha Wire first, Cairo Bulletin +12m, Levant Ledger +28m" in message
        # The story gains a source: no second alert.
        add_live(story_store, "Harbour Times", "Israel and Hamas agree truce, hostage release deal", 3)
        app.post_message(PollFinished(PollSummary(results=(
            FeedPollResult(feed="Harbour Times", outcome="ok", status=200, new_items=1),))))
        await settle(pilot)
        assert "x4" in row_text(app, 0).plain
        assert rang == [1] and len(_alert_titles(app)) == 1
    state = json.loads((tmp_path / "stories.alerts.json").read_text("utf-8"))
    assert state["stories"]
    # A restart reads what already alerted.
    again = make(config, story_store)
    rang_again = _count_bells(again)
    async with again.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert rang_again == [] and _alert_titles(again) == []


async def test_quiet_hours_hold_the_alert_back(tmp_path, story_store):
    config = config_with(tmp_path, ALERT_RULE + 'quiet_hours = "00:00-23:59"\n')
    app = make(config, story_store)
    rang = _count_bells(app)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert rang == [] and _alert_titles(app) == []
        assert [a.rule for a in app._alert_engine.suppressed] == ["deals"]


async def test_talks_state_change_goes_through_the_engine_quiet_hours_included(tmp_path, story_store):
    from tui.dashboard.messages import StatusComputed
    from tui.status import TalksState, TalksStatus

    quiet_states = '\n[[alert]]\nname = "states"\nstates = ["STALLED"]\nquiet_hours = "00:00-23:59"\n'
    app = make(config_with(tmp_path, quiet_states), story_store)
    rang = _count_bells(app)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        app.post_message(StatusComputed(TalksStatus(state=TalksState.ACTIVE_TALKS, since=NOW - timedelta(hours=3))))
        app.post_message(StatusComputed(TalksStatus(state=TalksState.STALLED, since=NOW)))
        await settle(pilot)
        assert rang == [] and not any(n.title.startswith("Talks:") for n in app._notifications)
        assert [a.kind for a in app._alert_engine.suppressed] == ["state"]


async def test_desktop_alert_runs_notify_send_in_a_worker(tmp_path, story_store, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "notify-send.args"
    script = bin_dir / "notify-send"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{calls}"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    config = config_with(tmp_path, ALERT_RULE.replace('["bell", "notify"]', '["desktop"]'))
    app = make(config, story_store)
    rang = _count_bells(app)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        args = calls.read_text("utf-8").splitlines()
        assert args[:3] == ["--app-name=talkwatch", "--", f"Deal: {DEAL}"]
        assert rang == [] and _alert_titles(app) == []


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []
    arrived = threading.Event()

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"json": json.loads(body), "agent": self.headers["User-Agent"]})
        self.send_response(204)
        self.end_headers()
        type(self).arrived.set()

    def log_message(self, *args) -> None:
        pass


async def test_webhook_alert_posts_json_to_a_loopback_server(tmp_path, story_store):
    _Hook.received, _Hook.arrived = [], threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        rule = ALERT_RULE.replace('["bell", "notify"]', '["webhook"]') + f'webhook = "{url}"\n'
        config = config_with(tmp_path, rule)
        app = make(config, story_store)
        async with app.run_test(size=(140, 40)) as pilot:
            await settle(pilot)
            assert await asyncio.to_thread(_Hook.arrived.wait, 10)
            await app._webhooks.drain()
        payload = _Hook.received[0]["json"]
        assert payload["title"] == f"Deal: {DEAL}" and payload["kind"] == "story"
        assert payload["sources"] == ["Doha Wire", "Cairo Bulletin", "Levant Ledger"]
        assert _Hook.received[0]["agent"] == config.settings.user_agent
    finally:
        server.shutdown()
        server.server_close()
