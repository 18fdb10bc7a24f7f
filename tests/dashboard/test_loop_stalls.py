"""The cheaper repaints behind the cold-poll loop-stall target: only what changed
is repainted, and nothing shown differs from a full repaint."""

from __future__ import annotations

import gc
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from tui.dashboard import story_view
from tui.dashboard.borders import set_border_titles
from tui.dashboard.footer import KeysFooter
from tui.dashboard.sources import LINES_PER_FRAME, SourcesPanel, _runs, sources_line_keys, sources_lines
from tui.dashboard.story_view import Breather
from tui.models import FeedOutcome, FeedState

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=timezone.utc)
FEEDS = [SimpleNamespace(name=f"Feed {i:02d}", enabled=True) for i in range(30)]


def states_at(now: datetime, *, failing: str | None = None) -> dict[str, FeedState]:
    states = {}
    for i, feed in enumerate(FEEDS):
        states[feed.name] = FeedState(
            name=feed.name, url=f"http://127.0.0.1:9/{i}.xml", outcome=FeedOutcome.OK,
            last_fetch_at=now - timedelta(seconds=i), next_check_at=now + timedelta(minutes=5), latency_ms=10.0,
        )
    if failing:
        states[failing] = FeedState(name=failing, url="http://127.0.0.1:9/x.xml", outcome=FeedOutcome.ERROR,
                                    last_error="timed out", failures=1, last_fetch_at=now)
    return states


class PanelApp(App):
    def compose(self) -> ComposeResult:
        yield Static("top", id="top")
        yield SourcesPanel(id="sources")


def repainted_lines(widget) -> set[int]:
    return set(widget._styles_cache._dirty_lines)


async def test_sources_repaint_only_the_changed_feed_and_show_what_a_rebuild_shows():
    app = PanelApp()
    async with app.run_test(size=(60, 30)) as pilot:
        panel = app.query_one(SourcesPanel)
        counts = {feed.name: (5, 1) for feed in FEEDS}
        states = states_at(NOW)
        panel.show(FEEDS, states, counts, NOW, None)
        await pilot.pause()
        assert panel.plain == "\n".join(line.plain for line in sources_lines(FEEDS, states, counts, NOW, None))

        counts = dict(counts, **{FEEDS[3].name: (9, 4)})  # one feed got items
        panel._styles_cache._dirty_lines.clear()
        panel.show(FEEDS, states, counts, NOW, None)
        # Feed 3's name-and-counts line (after the border row), nothing else.
        assert repainted_lines(panel) == {1 + 6}
        await pilot.pause()
        assert "  9 / 4" in panel.lines[6].plain

        # A second later every "next 5m" (and "fetched Ns ago") moves: the
        # status lines only, LINES_PER_FRAME of them a frame.
        refreshed: list[tuple[int, int]] = []
        refresh_lines = panel.refresh_lines
        panel.refresh_lines = lambda start, count=1: (refreshed.append((start, count)), refresh_lines(start, count))
        panel.show(FEEDS, states, counts, NOW + timedelta(seconds=1), None)
        visible = panel.scrollable_content_region.height
        assert refreshed == [(y, 1) for y in range(1, 2 * LINES_PER_FRAME, 2)]
        for _ in range(4):
            await pilot.pause()
        assert refreshed == [(y, 1) for y in range(1, visible, 2)]
        assert "next 4m" in panel.lines[1].plain and "  5 / 1" in panel.lines[0].plain

        # A third line (an error) shifts every line below: the whole panel is repainted.
        states = states_at(NOW, failing=FEEDS[0].name)
        panel.show(FEEDS, states, counts, NOW, None)
        assert len(panel.line_keys) == 2 * len(FEEDS) + 1
        assert panel.lines[2].plain.strip() == "timed out"
        await pilot.pause()
        assert panel.plain == "\n".join(line.plain for line in sources_lines(FEEDS, states, counts, NOW, None))


def test_runs_of_lines():
    assert _runs([1, 2, 3, 7, 9, 10]) == [(1, 3), (7, 1), (9, 2)]
    assert _runs([]) == []


def test_line_keys_build_the_same_lines_as_before():
    states = states_at(NOW, failing=FEEDS[5].name)
    counts = {FEEDS[1].name: (3, 2)}
    keys = sources_line_keys(FEEDS, states, counts, NOW, FEEDS[2].name, {FEEDS[4].name: 2})
    lines = sources_lines(FEEDS, states, counts, NOW, FEEDS[2].name, {FEEDS[4].name: 2})
    assert len(keys) == len(lines) == 2 * len(FEEDS) + 1
    assert "1st 2" in lines[9].plain
    assert sources_lines([], {}, {}, NOW, None)[0].plain == "No feeds configured."


class TitledApp(App):
    def compose(self) -> ComposeResult:
        static = Static("body\n" * 4, id="box")
        static.styles.border = ("round", "white")
        static.styles.height = 6
        yield static


async def test_border_titles_repaint_their_row_only_when_they_change():
    app = TitledApp()
    async with app.run_test(size=(40, 10)) as pilot:
        box = app.query_one("#box")
        assert set_border_titles(box, title="Title", subtitle=Text("3 unread", style="bold"))
        await pilot.pause()
        assert box.border_title == "Title" and box.border_subtitle == "[bold]3 unread[/bold]"

        box._styles_cache._dirty_lines.clear()
        assert not set_border_titles(box, title="Title", subtitle=Text("3 unread", style="bold"))
        assert repainted_lines(box) == set()  # Textual's setter repaints all 6 rows here

        assert set_border_titles(box, subtitle="4 unread")
        assert repainted_lines(box) == {5}  # the bottom border
        assert set_border_titles(box, title="Other")
        assert repainted_lines(box) == {0, 5}
        await pilot.pause()
        assert box.border_title == "Other" and box.border_subtitle == "4 unread"


class FooterApp(App):
    BINDINGS = [Binding("x", "ex", "Ex", id="ex"), Binding("y", "why", "Why", id="why")]

    def compose(self) -> ComposeResult:
        yield Static("x")
        yield KeysFooter()

    def action_ex(self) -> None:
        pass

    def action_why(self) -> None:
        pass


async def test_footer_rebuilds_only_when_its_keys_change():
    app = FooterApp()
    async with app.run_test(size=(60, 5)) as pilot:
        footer = app.query_one(KeysFooter)
        await pilot.pause()
        keys = list(footer.children)
        assert [key.description for key in keys][:2] == ["Ex", "Why"]
        await footer.recompose()  # the same keys: the same widgets
        assert list(footer.children) == keys
        app.set_keymap({"ex": "z"})
        await pilot.pause()
        await pilot.pause()
        shown = {key.description: key.key for key in footer.children}
        assert shown["Ex"] == "z" and not set(footer.children) & set(keys)


def test_breather_sleeps_only_while_busy_and_after_a_slice(monkeypatch):
    slept: list[float] = []
    clock = iter([0.0, 0.001, 0.0035, 0.0035, 0.004, 0.007, 0.007])
    monkeypatch.setattr(story_view.time, "thread_time", lambda: next(clock))
    monkeypatch.setattr(story_view.time, "sleep", slept.append)
    busy = [True]
    pause = Breather(lambda: busy[0])  # since 0.0
    pause()  # 1 ms of work: on
    pause()  # 3.5 ms: a slice, busy: sleeps as long
    assert slept == [0.0035]
    busy[0] = False
    pause()  # 0.5 ms since the last slice: on
    pause()  # 3.5 ms, not busy: no sleep
    assert slept == [0.0035]


def test_grouping_with_pauses_gives_the_same_stories():
    from .conftest import make_pairs
    from tui.models import StoredItem

    items = []
    for n, (feed, pairs) in enumerate(make_pairs().items()):
        for m, (item, verdict) in enumerate(pairs):
            items.append(StoredItem(id=n * 100 + m, feed=feed, key=item.key, title=item.title, summary=item.summary, author="",
                                    link=item.link, published=item.published, first_seen=NOW, read=False, starred=False,
                                    verdict=verdict))
    items.sort(key=lambda i: i.published, reverse=True)
    calls = []
    plain = story_view.StoryBase(items, 3).stories_for(items, group_cap=100)
    paused = story_view.StoryBase(items, 3, pause=lambda: calls.append(1)).stories_for(
        items, group_cap=100, pause=lambda: calls.append(1)
    )
    assert [(s.id, s.item_ids) for s in paused] == [(s.id, s.item_ids) for s in plain]
    assert len(calls) >= sum(1 for i in items if i.relevant)


async def test_full_collections_wait_for_the_poll_to_end_in_the_ui_process(config, store):
    from tui.dashboard.app import POLL_FULL_GC_AFTER, create_app
    from tui.dashboard.messages import PollFinished, PollStarted

    app = create_app(config, store, clock=lambda: NOW)
    before = gc.get_threshold()
    async with app.run_test(size=(160, 50)) as pilot:
        app.freeze_gc_after_start = True  # as prepare_ui_process, without freezing this test process
        app.post_message(PollStarted(False))
        await pilot.pause()
        assert gc.get_threshold() == (before[0], before[1], max(before[2], POLL_FULL_GC_AFTER))
        app.post_message(PollFinished(None, "boom"))
        await pilot.pause()
        assert gc.get_threshold() == before
        app.post_message(PollStarted(False))
        await pilot.pause()
    assert gc.get_threshold() == before  # quitting mid-poll restores it too


async def test_the_ui_process_starts_polling_once_the_start_up_frames_are_painted(config, store):
    from .helpers import FakePoller
    from tui.dashboard.app import create_app

    poller = FakePoller()
    seen_at_poll: list[str] = []
    poll_once = poller.poll_once

    async def recording_poll_once(*, force: bool = False):
        seen_at_poll.append(app.query_one("#sources").plain)
        return await poll_once(force=force)

    poller.poll_once = recording_poll_once
    app = create_app(config, store, poller=poller, clock=lambda: NOW)
    app.poll_after_start_paint = True  # as prepare_ui_process does
    async with app.run_test(size=(160, 50)):
        await poller.polled.wait()
        assert poller.calls == [False] and not app._poll_start_pending
        assert "Doha Wire" in seen_at_poll[0] and "loading" not in seen_at_poll[0]
