"""The talkwatch dashboard app.

Shape: workers (DB reads and writes in threads, the poller as an async
worker, the config watcher) never touch widgets; they post the typed messages
of messages.py, and the ``@on`` handlers below are the only code that changes
the app's state and the screen.

Two processes on one database: exactly one polls, the holder of the poll lock
(``tui.polllock``, a flock on ``<db>.poll.lock``). The dashboard tries to take
it at start. If a ``talkwatch poll`` daemon (or another dashboard) holds it,
this dashboard does not poll: it only reads, says "read-only: polled by ..."
in the sources panel title and the headlines status line, and every
``DB_WATCH_EVERY`` seconds a worker thread checks ``PRAGMA data_version`` on
its own read-only connection; when the other process committed new items or
feed states, headlines, status and sources reload. The same check retries the
lock, so when the daemon exits the dashboard takes over polling and says so.
Writes the user makes (read, star) still go through the Store, whose busy
timeout queues them behind the daemon's transactions; "database is locked"
never reaches the screen. The lock is released on quit.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import threading
import webbrowser
from dataclasses import replace
from datetime import timedelta
from functools import partial
from pathlib import Path
from time import monotonic
from typing import Any, Callable, Iterable

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.widgets import DataTable, Input, Static

from tui.dashboard.borders import set_border_titles
from tui.dashboard.detail import DetailPanel, DetailScreen
from tui.dashboard.filter_bar import FilterBar
from tui.dashboard.filter_query import ViewState, build_query, next_signal, parse_filter
from tui.dashboard.footer import KeysFooter
from tui.dashboard.formatting import plain
from tui.dashboard.headlines import HeadlinesTable
from tui.dashboard.help import HelpScreen
from tui.dashboard.messages import (
    AlertsRaised,
    ConfigInvalid,
    DigestWritten,
    FirstReportersLoaded,
    ConfigReloaded,
    FeedPolled,
    FeedsLoaded,
    DatabaseWatched,
    ItemsLoaded,
    PollFinished,
    PollingTakenOver,
    PollStarted,
    Reclassified,
    StatusComputed,
)
from tui.dashboard.sources import SourcesPanel, feed_look
from tui.dashboard.status_bar import StatusBanner, state_name
from tui.dashboard.story_view import Breather, StoryBase, group_page
from tui.models import Clock, FeedPollResult, StoredItem, utc_now

# The list loads a page of the newest matches and grows when the cursor nears
# its end: a keystroke in the filter rebuilds a 200-row table, not 2,000.
PAGE_SIZES = (200, 1000, 2000)
SHOWN_ROWS_CAP = PAGE_SIZES[-1]
CONFIG_CHECK_EVERY = 2.0  # seconds between stat() calls on feeds.toml
STATUS_WINDOW = timedelta(days=30)  # the status needs 30 days for its daily counts
RELOAD_THROTTLE = 1.0  # at most one headlines reload per second while polling
WIDE_ENOUGH_FOR_SOURCES = 120
TYPING_PAUSE = 0.3  # seconds after a filter keystroke before the list loads a bigger page
# Story mode: the newest this many relevant items are grouped once (the story
# base, tui/dashboard/story_view.py) and each query's stories are cut from it;
# a query's matches older than the base are grouped up to this many, and past
# it each is its own story (grouping runs at ~2-5k items/s).
STORY_GROUP_CAP = 1000
FIRST_REPORT_WINDOW = timedelta(days=7)  # the sources panel's "first to report"
STATUS_STORY_CAP = 1500  # newest relevant items grouped for confidence and first reporters
ALERT_LOOKBACK = timedelta(hours=36)  # a story spans at most this: new items join stories this old
TALL_ENOUGH_FOR_DETAIL = 30
# Read-only mode (another process polls): how often the watcher checks for its
# commits and retries the poll lock. A schedule, like the config watch.
DB_WATCH_EVERY = 2.0
UI_SWITCH_INTERVAL = 0.001  # seconds: see prepare_ui_process
# While a poll streams in (prepare_ui_process only): a full garbage collection
# waits for this many younger ones, not 10. See _defer_full_gc.
POLL_FULL_GC_AFTER = 1000
# prepare_ui_process: the first poll starts once the start-up screens are
# painted, or after this many seconds whatever happened (see _items_loaded).
POLL_START_LATEST = 2.0


class TalkwatchCommands(Provider):
    """Command palette: every action, and "jump to source" for each feed."""

    def _commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        app: TalkwatchApp = self.app  # type: ignore[assignment]
        commands: list[tuple[str, str, Callable[[], Any]]] = [
            ("Poll all feeds now", "fetch every feed, ignoring schedules", app.action_poll_now),
            ("Toggle relevant / all items", "show items not about the talks too", app.action_toggle_relevant),
            ("Cycle signal filter", "deal, release, progress, proposal, stalled, collapse", app.action_cycle_signal),
            ("Filter headlines", "words, source:, signal:, since:, is:unread, is:starred", app.action_filter),
            ("Clear all filters", "show the default view", app.action_reset_view),
            ("Mark all shown as read", "", app.action_mark_all_read),
            ("Toggle stories / items", "one row per development, or every item", app.action_toggle_stories),
            ("Write the digest", "the last 24 h as Markdown, to a file", app.action_digest),
            ("Help", "keys and the filter language", app.action_help),
        ]
        for feed in app.feeds:
            commands.append(
                (f"Jump to source: {plain(feed.name)}", "show only this source's items", partial(app.pick_source_named, feed.name))
            )
        return commands

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


class TalkwatchApp(App[int]):
    TITLE = "talkwatch"
    CSS_PATH = "talkwatch.tcss"
    COMMANDS = App.COMMANDS | {TalkwatchCommands}
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("a", "toggle_relevant", "All/Relevant", id="toggle_relevant"),
        Binding("s", "cycle_signal", "Signal", id="cycle_signal"),
        Binding("enter", "open_detail", "Open", show=False, id="open_detail"),
        Binding("o", "open_link", "Link", id="open_link"),
        Binding("m", "toggle_read", "Read", id="toggle_read"),
        Binding("M", "mark_all_read", "All read", show=False, id="mark_all_read"),
        Binding("asterisk", "toggle_star", "Star", id="toggle_star"),
        Binding("g", "toggle_stories", "Stories/Items", id="toggle_stories"),
        Binding("D", "digest", "Digest", id="digest"),
        Binding("r", "poll_now", "Poll", id="poll_now"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("q", "quit", "Quit", id="quit"),
        *[Binding(str(n), f"pick_source({n})", f"Source {n}", show=False, id=f"pick_source_{n}") for n in range(1, 10)],
        Binding("0", "pick_source(0)", "All sources", show=False, id="pick_source_0"),
    ]

    def __init__(
        self,
        config: Any,
        store: Any,
        *,
        poller: Any = None,
        clock: Clock = utc_now,
        config_path: Path | str | None = None,
        demo: Any = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.store = store
        self.clock = clock
        self.config_path = Path(config_path) if config_path else None
        self.demo = demo
        self.view = ViewState(limit=PAGE_SIZES[0])
        self.items: list[StoredItem] = []
        self.total_items = 0
        self.feed_states: dict = {}
        self.feed_counts: dict = {}
        self.status: Any = None
        self.last_state: str | None = None
        self.status_had_signal = False
        self.config_problems: tuple = ()
        self._generation = 0
        self._shown_generation = -1
        # The headlines query: one worker at a time, the latest request waiting (see load_items).
        self._items_lock = threading.Lock()
        self._items_request: tuple | None = None
        self._items_busy = False
        self._story_base: StoryBase | None = None
        self._story_base_epoch = 0
        self._detail_pending = False
        self._typed_at = -TYPING_PAUSE  # when the filter last changed (monotonic)
        self._load_more_pending = False
        self._poll_wakeup = asyncio.Event()
        self._force_next_poll = False
        self._polling = False
        self._last_reload: dict[str, float] = {}
        self._reload_pending: set[str] = set()
        self._config_signature = self._stat_config()
        self._config_absent_once = False
        self.config_deleted = False
        self.open_url: Callable[[str], Any] = webbrowser.open
        # Stories: one row per development (``g`` switches to raw items).
        self.story_mode = True
        self.stories: list | None = None
        self.expanded: set[int] = set()
        self.first_reports: dict[str, int] = {}
        # Where ``D`` writes the digest: the directory talkwatch was started in.
        self.digest_dir = Path.cwd()
        # Alerts: a persistent story index (stable story ids) fed each poll's
        # new relevant items, and the engine deciding what to deliver. Both
        # live in worker threads and the event loop: one lock guards them.
        self._alert_lock = threading.Lock()
        self._alert_index: Any = None
        self._alert_engine: Any = None
        self._webhooks: Any = None
        self.alert_state_path = self._default_alert_state_path(store)
        # Who polls (see the module docstring): our poll lock, and while
        # another process holds it, that process in words ("pid 1234 (talkwatch poll)").
        self.poll_lock: Any = None
        self.polled_by: str | None = None
        self._lock_guard = threading.Lock()  # the watcher thread and quit both touch the lock
        self._poll_lock_closed = False
        self._watch_conn: Any = None
        self._watch_seen: tuple | None = None  # (data_version, signature) at the last check
        self._keys_from_config = False
        # run_dashboard sets this (see prepare_ui_process); tests leave it off.
        self.freeze_gc_after_start = False
        self._gc_thresholds: tuple[int, int, int] | None = None
        self.poll_after_start_paint = False  # run_dashboard sets this (see prepare_ui_process)
        self._poll_start_pending = False
        self.poller = None
        if poller is not None:
            self.attach_poller(poller)

    # -- wiring ----------------------------------------------------------------

    def attach_poller(self, poller: Any) -> None:
        """Route the poller's per-feed callback into FeedPolled messages."""
        self.poller = poller
        if hasattr(poller, "on_result"):
            poller.on_result = self.poller_callback

    def poller_callback(self, result: FeedPollResult, done: int, total: int) -> None:
        # May be called from the poller's threads: post_message is thread-safe.
        self.post_message(FeedPolled(result, done, total))

    @property
    def feeds(self) -> tuple:
        return tuple(getattr(self.config, "feeds", ()) or ())

    @property
    def feed_names(self) -> list[str]:
        return [feed.name for feed in self.feeds]

    # -- layout ----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        banner = StatusBanner(id="banner")
        banner.demo = self.demo is not None
        yield banner
        yield Static(id="config-error")
        with Horizontal(id="body"):
            with Vertical(id="main"):
                yield HeadlinesTable(id="headlines")
                with Horizontal(id="filter-row"):
                    yield Static(Text("/", style="bold"), id="filter-prompt")
                    yield FilterBar(id="filter")
                yield DetailPanel(id="detail")
            yield SourcesPanel(id="sources")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.sub_title = "demo" if self.demo is not None else ""
        self._apply_size_classes()
        self.query_one(HeadlinesTable).focus()
        self.load_items()  # first: the first paint waits for nothing else
        self.set_interval(30, self._tick, name="ages")
        self.set_interval(300, self.compute_status, name="status")
        if self.config_path is not None:
            self.set_interval(CONFIG_CHECK_EVERY, self.check_config, name="config-watch")
        self.apply_keys(self.config)
        if self.poller is not None:
            if not self._claim_polling():
                self._enter_read_only()
            elif self.poll_after_start_paint:
                self._poll_start_pending = True
                self.set_timer(POLL_START_LATEST, self._start_pending_poll)
            else:
                self.run_poller()

    def _start_pending_poll(self) -> None:
        """The first poll, after the start-up frames (see _feeds_loaded).

        Start-up paints the list, the footer's keys, the sources and the
        status: three or four frames of 20-35 ms each. A poll starting with
        them (its parse processes booting, its first bodies parsed) takes the
        CPU they need and stretches each past 50 ms; started after them it
        loses ~0.2 s."""
        if self._poll_start_pending and self.poller is not None and self.polled_by is None:
            self._poll_start_pending = False
            self.run_poller()

    def on_resize(self) -> None:
        self._apply_size_classes()

    def apply_keys(self, config: Any) -> None:
        """Remap bindings from feeds.toml's ``[keys]`` (binding id -> keys).

        Ids no binding has are left out and named in a notification: a typo
        in [keys] must not take the dashboard down."""
        remaps = dict(getattr(config, "keys", ()) or ())
        known = known_binding_ids()
        unknown = sorted(set(remaps) - known)
        if unknown:
            from difflib import get_close_matches

            words = []
            for binding_id in unknown:
                close = get_close_matches(binding_id, sorted(known), n=1)
                words.append(f"{binding_id} (did you mean {close[0]}?)" if close else binding_id)
            self.notify(
                f"[keys] in feeds.toml: no binding called {', '.join(words)}; those keys are ignored. "
                f"Binding ids: {', '.join(sorted(ACTION_IDS))}",
                title="Unknown key bindings",
                severity="warning",
                timeout=12,
                markup=False,
            )
        keymap = {binding_id: keys for binding_id, keys in remaps.items() if binding_id in known}
        if keymap or self._keys_from_config:
            self.set_keymap(keymap)  # replaces the previous [keys]: a removed remap reverts
            self._keys_from_config = bool(keymap)

    def _apply_size_classes(self) -> None:
        width, height = self.size
        self.screen.set_class(width < WIDE_ENOUGH_FOR_SOURCES, "-no-sources")
        self.screen.set_class(height < TALL_ENOUGH_FOR_DETAIL, "-no-detail")
        self.screen.set_class(width < 100, "-narrow")
        if self.is_mounted:
            try:
                self.query_one(StatusBanner).set_class(width < 100, "-narrow")
            except Exception:
                pass

    def _tick(self) -> None:
        """Ages ("4m") and "next poll" move with the clock."""
        self._show_items()
        self._show_sources()
        if self.status is not None:
            self.query_one(StatusBanner).show(self.status, self.clock())

    # -- workers: reads ----------------------------------------------------------

    def load_items(self) -> None:
        """Ask for the current view's items; only the latest question is answered.

        One query runs at a time: a request made meanwhile (the user typing)
        waits in a single slot, replacing any request already waiting there,
        and runs as soon as the current one is done. So a burst of keystrokes
        costs two queries, not one per key, and no thread works for an answer
        nobody will see (the loop drops any answer but the latest)."""
        self._generation += 1
        query = build_query(self.view, now=self.clock(), feed_names=self.feed_names)
        # The first paint waits for no story base: its page is grouped on its
        # own, and the base is built by the next query (see _story_base_now).
        request = (query, self._generation, self.story_mode, self._shown_generation >= 0)
        with self._items_lock:
            self._items_request = request
            start = not self._items_busy
            self._items_busy = True
        if start:
            self._query_items()

    @work(thread=True, group="items")
    def _query_items(self) -> None:
        try:
            while True:
                with self._items_lock:
                    request, self._items_request = self._items_request, None
                    if request is None:
                        self._items_busy = False
                        return
                self._answer_items_request(*request)
        except BaseException:
            with self._items_lock:
                self._items_busy = False
            raise

    def _newer_items_request(self) -> bool:
        return self._items_request is not None

    def _answer_items_request(self, query: Any, generation: int, stories: bool, use_base: bool) -> None:
        items = self.store.query(query)
        total = self.store.item_count()
        grouped = None
        if stories and not self._newer_items_request():
            # Filters apply to items first: a story shows with its matching members only.
            if use_base:
                pause = Breather(lambda: self._polling)
                base = self._story_base_now(pause)
                if not base.is_current_for(items):  # an item was updated since it was grouped
                    self._drop_story_base()
                    base = self._story_base_now(pause)
                grouped = base.stories_for(
                    items, group_cap=STORY_GROUP_CAP, stale=self._newer_items_request, pause=pause
                )
            else:
                grouped = group_page(items, group_cap=STORY_GROUP_CAP)
            if grouped is None:
                return
        if self._newer_items_request():
            return  # typed on meanwhile: the next answer replaces this one at once
        self.post_message(ItemsLoaded(items, total, generation, grouped))

    def _story_base_now(self, pause: Callable[[], None] | None = None) -> StoryBase:
        """The story base (built on first use; a reclassification drops it). Items worker only."""
        base, epoch = self._story_base, self._story_base_epoch
        if base is None:
            base = StoryBase.load(self.store, STORY_GROUP_CAP, pause=pause)
            if epoch == self._story_base_epoch:  # not dropped meanwhile
                self._story_base = base
        return base

    def _drop_story_base(self) -> None:
        """Verdicts changed: stories are grouped afresh by the next query."""
        self._story_base_epoch += 1
        self._story_base = None

    @work(thread=True, exclusive=True, group="feeds")
    def load_feeds(self) -> None:
        since = self.clock() - timedelta(hours=24)
        self.post_message(FeedsLoaded(self.store.feed_states(), self.store.feed_counts(since)))

    @work(thread=True, exclusive=True, group="status")
    def compute_status(self) -> None:
        """The talks status (confidence from story confirmations) and the first reporters."""
        from tui.reports import confidence_stories
        from tui.store import ItemQuery
        from tui.status import compute_status
        from tui.stories import first_reporter_counts

        now = self.clock()
        items = self.store.query(ItemQuery(relevant_only=True, since=now - STATUS_WINDOW, limit=None))
        week = [i for i in items if i.published >= now - FIRST_REPORT_WINDOW][:STATUS_STORY_CAP]
        stories = confidence_stories(week, now)
        self.post_message(StatusComputed(compute_status(items, now, stories=stories)))
        counts = first_reporter_counts(stories, since=now - FIRST_REPORT_WINDOW)
        self.post_message(FirstReportersLoaded(dict(counts)))

    # -- workers: alerts and the digest ---------------------------------------------

    @staticmethod
    def _default_alert_state_path(store: Any) -> Path | None:
        """``talkwatch.alerts.json`` beside ``talkwatch.db``: what already alerted, across restarts."""
        path = getattr(store, "path", None)
        if not isinstance(path, Path):
            return None
        return path.with_name(path.stem + ".alerts.json")

    def _engine(self) -> Any:
        """The alert engine, built on first use (call with the alert lock held)."""
        if self._alert_engine is None:
            from tui.alerts import AlertEngine
            from tui.stories import StoryIndex

            self._alert_engine = AlertEngine(getattr(self.config, "alerts", ()) or (), clock=self.clock)
            self._alert_index = StoryIndex()
            if self.alert_state_path is not None:
                try:
                    self._alert_engine.import_state(json.loads(self.alert_state_path.read_text("utf-8")))
                except (OSError, ValueError):
                    pass  # no file yet, or a damaged one: start afresh
        return self._alert_engine

    def _save_alert_state(self) -> None:
        if self.alert_state_path is None or self._alert_engine is None:
            return
        tmp = self.alert_state_path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(self._alert_engine.export_state()), "utf-8")
            os.replace(tmp, self.alert_state_path)
        except OSError:
            pass  # a read-only directory: alerts still work, a restart may repeat one

    @work(thread=True, group="alerts")
    def check_alerts(self) -> None:
        """Feed the relevant items that arrived since the last check into the stories and the engine."""
        from tui.store import ItemQuery
        from tui.stories import story_order

        now = self.clock()
        items = self.store.query(ItemQuery(relevant_only=True, since=now - ALERT_LOOKBACK, limit=None))
        with self._alert_lock:
            engine = self._engine()
            index = self._alert_index
            touched: dict[int, Any] = {}
            for item in story_order(items):
                if index.story_of(item.id) is not None:
                    continue
                story = index.add(item)
                if story is not None:
                    touched[story.id] = story
            alerts = []
            for story_id in sorted(touched):
                alerts.extend(engine.on_story(index.get(story_id)))
            if touched:
                self._save_alert_state()
        if alerts:
            self.post_message(AlertsRaised(alerts))

    def _state_change_alerts(self, change: Any) -> list:
        with self._alert_lock:
            alerts = self._engine().on_state_change(change)
            self._save_alert_state()
        return alerts

    @work(thread=True, group="desktop")
    def _deliver_desktop(self, alert: Any) -> None:
        from tui.alerts import deliver_desktop

        deliver_desktop(alert)

    @work(thread=True, group="digest")
    def write_digest(self) -> None:
        from tui.digest import render_markdown
        from tui.reports import digest

        now = self.clock()
        path = self.digest_dir / f"talkwatch-digest-{now:%Y%m%d-%H%M}.md"
        try:
            text = render_markdown(digest(self.store, since=now - timedelta(hours=24), now=now))
            path.write_text(text, "utf-8")
        except Exception as error:
            self.post_message(DigestWritten(path, f"{type(error).__name__}: {error}"))
        else:
            self.post_message(DigestWritten(path))

    # -- workers: writes -----------------------------------------------------------

    @work(thread=True, group="writes")
    def _write_read(self, ids: list[int], read: bool) -> None:
        self.store.set_read(ids, read)

    @work(thread=True, group="writes")
    def _write_starred(self, item_id: int, starred: bool) -> None:
        self.store.set_starred(item_id, starred)

    @work(thread=True, exclusive=True, group="reclassify")
    def reclassify(self, topic: Any) -> None:
        from tui.classify import Classifier

        classifier = Classifier(topic)
        changes = []
        total = 0
        for item in self.store.iter_items():
            total += 1
            verdict = classifier.classify(item.title, item.summary)
            if verdict != item.verdict:
                changes.append((item.id, verdict))
        if changes:
            self.store.set_verdicts(changes)
        self.post_message(Reclassified(len(changes), total))

    @work(thread=True, group="browser")
    def _open_in_browser(self, url: str) -> None:
        self.open_url(url)

    # -- the poller ------------------------------------------------------------------

    @work(exclusive=True, group="poller")
    async def run_poller(self) -> None:
        """Poll due feeds, then sleep until the next is due or `r` is pressed."""
        while self.poller is not None:
            forced = self._force_next_poll
            self._force_next_poll = False
            self._poll_wakeup.clear()
            self.post_message(PollStarted(forced))
            try:
                summary = await self.poller.poll_once(force=forced)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # one bad cycle must not end polling
                self.post_message(PollFinished(None, f"{type(error).__name__}: {error}"))
            else:
                self.post_message(PollFinished(summary))
            delay = 30.0
            next_due = self.poller.next_due() if hasattr(self.poller, "next_due") else None
            if next_due is not None:
                delay = min(60.0, max(1.0, (next_due - self.clock()).total_seconds()))
            try:
                await asyncio.wait_for(self._poll_wakeup.wait(), timeout=delay)
            except TimeoutError:
                pass

    async def _close_poller(self) -> None:
        poller, self.poller = self.poller, None
        if poller is not None and hasattr(poller, "aclose"):
            try:
                await asyncio.wait_for(poller.aclose(), timeout=2.0)
            except Exception:
                pass
        self._release_polling()

    # -- who polls: the poll lock and read-only mode ------------------------------------

    def _claim_polling(self) -> bool:
        """Take the poll lock; False when another process holds it (we then only read)."""
        path = getattr(self.store, "path", None)
        if not isinstance(path, Path):
            return True  # a store with no file (a test fake): nobody else can poll it
        from tui.polllock import PollLock

        with self._lock_guard:
            if self._poll_lock_closed:
                return False
            if self.poll_lock is None:
                self.poll_lock = PollLock(path, role="talkwatch dashboard")
            try:
                return self.poll_lock.acquire()
            except OSError:
                return True  # no lock file possible (odd permissions): poll, as before locks existed

    def _release_polling(self) -> None:
        with self._lock_guard:
            self._poll_lock_closed = True
            if self.poll_lock is not None:
                self.poll_lock.release()
            conn, self._watch_conn = self._watch_conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass

    def _enter_read_only(self) -> None:
        self.polled_by = self.poll_lock.holder() or "another talkwatch process"
        self._show_sources()
        self.notify(
            f"read-only: {self.polled_by} polls {self.store.path.name}; its new items show here as it "
            "stores them. This dashboard takes over polling when it stops.",
            title="Another talkwatch polls",
            timeout=10,
            markup=False,
        )
        self.set_interval(DB_WATCH_EVERY, self.watch_database, name="db-watch")

    @work(thread=True, exclusive=True, group="db-watch")
    def watch_database(self) -> None:
        """Read-only mode: retry the poll lock, and look for the other process's commits."""
        if self.polled_by is None or self._poll_lock_closed:
            return
        if self._claim_polling():
            self.post_message(PollingTakenOver())
            return
        changed = self._database_changed()
        holder = self.poll_lock.holder() if self.poll_lock is not None else ""
        if changed or (holder and holder != self.polled_by):
            self.post_message(DatabaseWatched(changed, holder))

    def _database_changed(self) -> bool:
        """True when another connection committed items or feed states since the last check.

        ``PRAGMA data_version`` on our own read-only connection moves only
        when another connection commits, and costs no I/O; only then is the
        signature (newest item id, latest fetch) read, so our own read/star
        writes and the daemon's idle seconds trigger no reload."""
        import sqlite3
        from urllib.parse import quote

        with self._lock_guard:
            if self._poll_lock_closed:
                return False
            try:
                conn = self._watch_conn
                if conn is None:
                    uri = f"file:{quote(str(Path(self.store.path).resolve()))}?mode=ro"
                    conn = self._watch_conn = sqlite3.connect(
                        uri, uri=True, timeout=1.0, isolation_level=None, check_same_thread=False
                    )
                version = conn.execute("PRAGMA data_version").fetchone()[0]
                if self._watch_seen is not None and self._watch_seen[0] == version:
                    return False
                signature = conn.execute(
                    "SELECT (SELECT max(id) FROM items), (SELECT max(last_fetch_at) FROM feeds),"
                    " (SELECT count(*) FROM feeds)"
                ).fetchone()
            except sqlite3.Error:
                # Busy for longer than the timeout, or the file moved: try
                # again next round; a reader has nothing to tell the user.
                if self._watch_conn is not None:
                    self._watch_conn.close()
                    self._watch_conn = None
                return False
            previous, self._watch_seen = self._watch_seen, (version, signature)
            return previous is None or previous[1] != signature

    # -- hot reload of feeds.toml ------------------------------------------------------

    def _stat_config(self) -> tuple[int, int, int] | None:
        if self.config_path is None:
            return None
        try:
            st = self.config_path.stat()
        except OSError:
            return None
        # The inode too: an editor that saves by renaming a new file over the
        # old one may keep the size, and a coarse mtime may not move.
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def check_config(self) -> bool:
        """Reload feeds.toml when it changed; True when a reload started or its deletion is shown.

        A deleted file keeps the running config (and says so) until it
        reappears. Missing at one check only is not reported: editors that
        save by delete-and-rename leave the name empty for a moment."""
        if self.config_path is None:
            return False
        signature = self._stat_config()
        if signature is None:
            if self._config_signature is None:
                return False  # already reported (or never there)
            if not self._config_absent_once:
                self._config_absent_once = True
                return False
            self._config_absent_once = False
            self._config_signature = None
            self.post_message(ConfigInvalid((), deleted=True))
            return True
        self._config_absent_once = False
        if signature == self._config_signature:
            return False
        self._config_signature = signature
        self._load_config()
        return True

    @work(thread=True, exclusive=True, group="config")
    def _load_config(self) -> None:
        from tui.config import ConfigError, load_config

        try:
            config = load_config(self.config_path)
        except ConfigError as error:
            self.post_message(ConfigInvalid(error.problems or (str(error),)))
        except Exception as error:  # unreadable file and the like
            self.post_message(ConfigInvalid((f"{self.config_path}: {error}",)))
        else:
            self.post_message(ConfigReloaded(config))

    # -- message handlers: the only state changers ------------------------------------------

    @on(ItemsLoaded)
    def _items_loaded(self, message: ItemsLoaded) -> None:
        if message.generation != self._generation:
            return  # a newer question is on its way (see load_items)
        first = self._shown_generation < 0
        self._shown_generation = message.generation
        self.items = message.items
        self.stories = message.stories
        self.total_items = message.total
        self._show_items(detail_now=False)
        if first:
            if self.freeze_gc_after_start:
                self.call_after_refresh(gc.freeze)
            # Only after the first paint: these read the store too and would
            # compete with it for the GIL.
            self.call_after_refresh(self.load_feeds)
            self.call_after_refresh(self.compute_status)
            self.call_after_refresh(self.check_alerts)

    def _show_items(self, *, detail_now: bool = True) -> None:
        table = self.query_one(HeadlinesTable)
        stories = self.stories if self.story_mode else None
        table.show_items(self.items, self.clock(), stories, self.expanded)
        set_border_titles(table, title=self._headlines_title(), subtitle=self._headlines_subtitle())
        if detail_now:
            self._show_detail()
        else:
            self._show_detail_soon()

    def _show_detail_soon(self) -> None:
        """The detail panel after the list is on screen: a new answer to the
        filter shows first, and the panel's re-layout follows a frame later."""
        if not self._detail_pending:
            self._detail_pending = True
            self.call_after_refresh(self._show_pending_detail)

    def _show_pending_detail(self) -> None:
        self._detail_pending = False
        self._show_detail()

    def _headlines_title(self) -> Text:
        title = Text("Stories" if self.story_mode else "Headlines", style="bold")
        title.append("  relevant" if self.view.relevant_only else "  all items", style="#67e8f9")
        if self.view.signal:
            title.append(f" · signal:{self.view.signal}", style="#fde047")
        if self.view.source:
            title.append(f" · source:{plain(self.view.source)}", style="#a5b4fc")
        if self.view.filter_text:
            title.append(" · /", style="#94a3b8")
            title.append(plain(self.view.filter_text), style="bold #fde047")
        return title

    def _headlines_subtitle(self) -> Text:
        shown = len(self.items)
        unread = sum(1 for item in self.items if not item.read)
        if shown == 0:
            text = self._sources_hint()
            if self.total_items == 0:
                text.append("no stored items yet: waiting for the first poll", style="#94a3b8")
            else:
                text.append("nothing matches: Esc clears the filter, a shows all, 0 all sources", style="#fb923c")
            return text
        text = self._sources_hint()
        text.append(f"{unread} unread · ", style="#94a3b8")
        if self.story_mode and self.stories is not None:
            text.append(f"{len(self.stories):,} stories · ", style="#94a3b8")
        if shown >= SHOWN_ROWS_CAP:
            text.append(f"showing newest {shown:,} of {self.total_items:,} stored", style="#fb923c")
        elif shown >= self.view.limit:
            text.append(f"newest {shown:,} of {self.total_items:,} stored, more as you scroll", style="#94a3b8")
        else:
            text.append(f"{shown:,} shown of {self.total_items:,} stored", style="#94a3b8")
        return text

    def _sources_hint(self) -> Text:
        """Who polls when it is not us; when the sources panel is hidden, its news in a few words."""
        hint = Text()
        if self.polled_by is not None:
            hint.append(f"read-only: polled by {plain(self.polled_by)} · ", style="bold #facc15")
        if self.size.width >= WIDE_ENOUGH_FOR_SOURCES or not self.feeds:
            return hint
        panel = self.query_one(SourcesPanel)
        if panel.progress is not None:
            done, total = panel.progress
            hint.append(f"polling {done}/{total} · ", style="#67e8f9")
            return hint
        failing = [f.name for f in self.feeds if feed_look(self.feed_states.get(f.name))[0] in ("error", "backing off", "gone")]
        if failing:
            hint.append(f"{len(failing)}/{len(self.feeds)} sources failing · ", style="bold #f87171")
        return hint

    def _show_detail(self) -> None:
        try:
            panel = self.query_one(DetailPanel)
        except NoMatches:  # shutting down
            return
        table = self.query_one(HeadlinesTable)
        item = table.highlighted_item()
        story = table.highlighted_story()
        if item is not None and item == panel.item and story == panel.story:
            return  # unchanged: skip re-wrapping the summary on every rebuild
        panel.show(item, self.clock(), story)

    @on(DataTable.RowHighlighted, "#headlines")
    def _row_highlighted(self) -> None:
        if not self._detail_pending:  # else a new answer was just shown: the panel follows it
            self._show_detail()
        self._maybe_load_more()

    @on(DataTable.RowSelected, "#headlines")
    def _row_selected(self) -> None:
        self.action_open_detail()

    @on(FeedsLoaded)
    def _feeds_loaded(self, message: FeedsLoaded) -> None:
        self.feed_states = message.states
        self.feed_counts = message.counts
        self._show_sources()
        if self._poll_start_pending:  # the sources were the last start-up paint
            self.call_after_refresh(self._start_pending_poll)

    @on(FirstReportersLoaded)
    def _first_reporters_loaded(self, message: FirstReportersLoaded) -> None:
        self.first_reports = message.counts
        self._show_sources()

    def _show_sources(self) -> None:
        panel = self.query_one(SourcesPanel)
        panel.show(self.feeds, self.feed_states, self.feed_counts, self.clock(), self.view.source, self.first_reports)
        set_border_titles(panel, title="Sources · read-only" if self.polled_by is not None else "Sources")
        set_border_titles(self.query_one(HeadlinesTable), subtitle=self._headlines_subtitle())

    @on(PollStarted)
    def _poll_started(self, message: PollStarted) -> None:
        self._polling = True
        self._defer_full_gc(True)

    def _defer_full_gc(self, defer: bool) -> None:
        """No full collection while a poll streams in; the usual schedule after it.

        A poll allocates hundreds of thousands of objects in this process (HTTP
        bodies, parsed items on their way to the store), and every 10th
        young collection then becomes a full one: 20-30 ms walking every
        object created since the gc.freeze() at first paint, the event loop
        frozen meanwhile whichever thread triggered it. The young collections
        go on (most garbage cycles die young), so memory stays bounded; the
        deferred full collection runs once, after the poll."""
        if not self.freeze_gc_after_start:
            return  # tests: the interpreter's defaults
        if defer and self._gc_thresholds is None:
            self._gc_thresholds = gc.get_threshold()
            young, middle, full = self._gc_thresholds
            gc.set_threshold(young, middle, max(full, POLL_FULL_GC_AFTER))
        elif not defer and self._gc_thresholds is not None:
            gc.set_threshold(*self._gc_thresholds)
            self._gc_thresholds = None

    @on(FeedPolled)
    def _feed_polled(self, message: FeedPolled) -> None:
        panel = self.query_one(SourcesPanel)
        panel.progress = (message.done, message.total) if message.done < message.total else None
        self._throttled("feeds", self.load_feeds)
        if message.result.new_items or message.result.updated_items:
            self._throttled("items", self.load_items)

    def _throttled(self, name: str, reload: Callable[[], Any]) -> None:
        """Run ``reload`` now, or once at the end of the throttle window.

        A cold poll of hundreds of feeds reports hundreds of results; reloading
        at most once a second per kind keeps the event loop responsive."""
        last = self._last_reload.get(name, -RELOAD_THROTTLE)
        wait = RELOAD_THROTTLE - (monotonic() - last)
        if wait <= 0:
            self._last_reload[name] = monotonic()
            reload()
        elif name not in self._reload_pending:
            self._reload_pending.add(name)

            def later() -> None:
                self._reload_pending.discard(name)
                self._last_reload[name] = monotonic()
                reload()

            self.set_timer(wait, later)

    @on(PollFinished)
    def _poll_finished(self, message: PollFinished) -> None:
        self._polling = False
        self._defer_full_gc(False)
        self.query_one(SourcesPanel).progress = None
        self.load_feeds()
        if message.error:
            self.notify(plain(f"poll failed: {message.error}"), severity="error", markup=False)
            return
        summary = message.summary
        if summary is not None and (summary.new_items or any(r.updated_items for r in summary.results)):
            self.load_items()
            self.compute_status()
        if summary is not None and summary.new_items:
            self.check_alerts()

    @on(DatabaseWatched)
    def _database_watched(self, message: DatabaseWatched) -> None:
        if self.polled_by is None:
            return  # we took over meanwhile
        if message.holder:
            self.polled_by = message.holder
        self._show_sources()
        if message.changed:
            self.load_feeds()
            self.load_items()
            self.compute_status()
            self.check_alerts()  # the daemon delivers no alerts: the dashboard does

    @on(PollingTakenOver)
    def _polling_taken_over(self, message: PollingTakenOver) -> None:
        if self.polled_by is None:
            return
        previous, self.polled_by = self.polled_by, None
        self._show_sources()
        self.notify(f"{previous} stopped; this dashboard polls now", title="Polling", markup=False, timeout=8)
        if self.poller is not None:
            self.run_poller()
        self.load_feeds()
        self.load_items()

    @on(StatusComputed)
    def _status_computed(self, message: StatusComputed) -> None:
        self.status = message.status
        banner = self.query_one(StatusBanner)
        state = state_name(message.status)
        # A status with no signal ever (empty database, first poll still
        # running) is not a state the talks were in: no "was QUIET" then.
        had_signal = self.status_had_signal
        self.status_had_signal = getattr(message.status, "since", None) is not None
        if had_signal and self.last_state is not None and state != self.last_state:
            banner.previous_state = self.last_state
            self._deliver(self._state_change_alerts(self._state_change(message.status, self.last_state, state)))
        self.last_state = state
        banner.show(message.status, self.clock())

    def _state_change(self, status: Any, previous: str, state: str) -> Any:
        """The change the timeline records, or one built from what the banner saw."""
        from tui.status import StateChange

        timeline = getattr(status, "timeline", ()) or ()
        if timeline and str(timeline[-1].state) == state:
            return timeline[-1]
        at = getattr(status, "since", None) or getattr(status, "as_of", None)
        return StateChange(at=at or self.clock(), state=state, previous_state=previous, item=None)

    @on(AlertsRaised)
    def _alerts_raised(self, message: AlertsRaised) -> None:
        self._deliver(message.alerts)

    def _deliver(self, alerts: Iterable[Any]) -> None:
        """Each alert through its channels; none of them blocks the event loop."""
        for alert in alerts:
            if alert.wants("bell"):
                self.bell()
            if alert.wants("notify"):
                # markup=False: the toast shows the string as it is (Textual's
                # toast takes a str then, not a Text).
                body = plain(alert.body) + (f"\n{plain(alert.link)}" if alert.link else "")
                severity = "information"
                if alert.kind == "state" and any(s in alert.title for s in ("STALLED", "COLLAPSED")):
                    severity = "warning"
                self.notify(body, title=plain(alert.title), severity=severity, timeout=12, markup=False)
            if alert.wants("desktop"):
                self._deliver_desktop(alert)
            if alert.wants("webhook") and alert.webhook:
                if self._webhooks is None:
                    from tui.alerts import WebhookSender

                    settings = getattr(self.config, "settings", None)
                    self._webhooks = WebhookSender(user_agent=getattr(settings, "user_agent", "talkwatch"))
                self._webhooks.send(alert)

    @on(DigestWritten)
    def _digest_written(self, message: DigestWritten) -> None:
        if message.error:
            self.notify(plain(f"could not write the digest {message.path}: {message.error}"),
                        severity="error", markup=False)
        else:
            self.notify(plain(f"digest of the last 24 h written to {message.path}"), title="Digest",
                        markup=False, timeout=10)

    @on(ConfigReloaded)
    def _config_reloaded(self, message: ConfigReloaded) -> None:
        old, new = self.config, message.config
        self.config = new
        if getattr(old, "alerts", ()) != getattr(new, "alerts", ()):
            with self._alert_lock:
                if self._alert_engine is not None:  # new rules; what fired stays fired
                    state, index = self._alert_engine.export_state(), self._alert_index
                    self._alert_engine = None
                    self._engine().import_state(state)
                    self._alert_index = index  # keep the story ids the fired alerts refer to
        self.config_problems = ()
        self.config_deleted = False
        self._show_config_problems()
        if getattr(old, "keys", ()) != getattr(new, "keys", ()):
            self.apply_keys(new)
        if self.poller is not None and hasattr(self.poller, "reconfigure"):
            self.poller.reconfigure(new)
            self._poll_wakeup.set()  # new feeds are due at once
        old_names = {f.name for f in getattr(old, "feeds", ())}
        new_names = {f.name for f in new.feeds}
        added, removed = len(new_names - old_names), len(old_names - new_names)
        if self.view.source is not None and self.view.source not in new_names:
            self.view = self.view.with_(source=None)
        words = f"feeds.toml reloaded: {len(new_names)} feeds"
        if added or removed:
            words += f" (+{added} / -{removed})"
        if getattr(old, "topic", None) != new.topic:
            words += "; topic changed, reclassifying"
            self.reclassify(new.topic)
        self.notify(words, title="Config", markup=False)
        self.load_feeds()
        self.load_items()

    @on(ConfigInvalid)
    def _config_invalid(self, message: ConfigInvalid) -> None:
        self.config_problems = message.problems
        self.config_deleted = message.deleted
        self._show_config_problems()
        if message.deleted:
            self.notify(
                f"{self._config_name()} was deleted; keeping the running config. "
                "It is read again when the file reappears.",
                title="Config",
                severity="warning",
                timeout=15,
                markup=False,
            )
            return
        first = "\n".join(str(p) for p in message.problems[:3])
        self.notify(
            f"{first}\nStill running the previous config.",
            title="feeds.toml is invalid",
            severity="error",
            timeout=15,
            markup=False,
        )

    def _show_config_problems(self) -> None:
        widget = self.query_one("#config-error", Static)
        if self.config_deleted:
            text = Text(f"✖ {self._config_name()} was deleted; keeping the running config", style="bold #f87171")
            text.append(f"  (watching {plain(str(self.config_path))} for it to reappear)", style="#fecaca")
            widget.update(text)
            widget.display = True
            return
        if not self.config_problems:
            widget.update("")
            widget.display = False
            return
        text = Text("✖ feeds.toml is invalid; still running the previous config:  ", style="bold #f87171")
        text.append("  ".join(plain(str(p)) for p in self.config_problems[:2]), style="#fecaca")
        if len(self.config_problems) > 2:
            text.append(f"  (+{len(self.config_problems) - 2} more)", style="#fca5a5")
        widget.update(text)
        widget.display = True

    def _config_name(self) -> str:
        return plain(self.config_path.name) if self.config_path is not None else "feeds.toml"

    @on(Reclassified)
    def _reclassified(self, message: Reclassified) -> None:
        self.notify(f"reclassified {message.total:,} items: {message.changed:,} verdicts changed", markup=False)
        self._drop_story_base()
        self.load_items()
        self.compute_status()
        self.load_feeds()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._typed_at = monotonic()
        self._change_view(filter_text=event.value, reload=False)
        problems = parse_filter(event.value, now=self.clock(), feed_names=self.feed_names).problems
        self.query_one(FilterBar).border_subtitle = Text(problems[0], style="#fb923c") if problems else None
        self.load_items()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.action_focus_headlines()

    # -- actions -----------------------------------------------------------------------

    def _change_view(self, *, reload: bool = True, **changes: Any) -> None:
        """A new question: start again from the first page."""
        self.view = self.view.with_(limit=PAGE_SIZES[0], **changes)
        if reload:
            self.load_items()

    def _maybe_load_more(self) -> None:
        table = self.query_one(HeadlinesTable)
        limit = self.view.limit
        if limit >= SHOWN_ROWS_CAP or len(self.items) < limit:
            return  # everything that matches is shown, or the cap is reached
        typing = self._typed_at + TYPING_PAUSE - monotonic()
        if typing > 0:
            # A bigger page costs a query of thousands of rows, and the next
            # keystroke would wait for it: fill the list when typing pauses.
            if not self._load_more_pending:
                self._load_more_pending = True
                self.set_timer(typing, self._load_more_after_typing)
            return
        wanted_rows = table.cursor_row + 40
        if table.row_count <= wanted_rows:
            # Stories fold many items into one row: aim straight for a page
            # that should give twice the rows wanted, not one size up at a time.
            wanted_items = limit * 2 * wanted_rows / max(1, table.row_count)
            bigger = next((size for size in PAGE_SIZES if size >= wanted_items), SHOWN_ROWS_CAP)
            bigger = max(bigger, next(size for size in PAGE_SIZES if size > limit))
            self.view = self.view.with_(limit=bigger)
            self.load_items()

    def _load_more_after_typing(self) -> None:
        self._load_more_pending = False
        try:
            self._maybe_load_more()
        except NoMatches:  # the app closed meanwhile: its widgets are gone
            pass

    def action_filter(self) -> None:
        self.query_one("#filter-row").add_class("-active")
        self.query_one(FilterBar).focus()

    def action_clear_filter(self) -> None:
        bar = self.query_one(FilterBar)
        bar.value = ""  # posts Input.Changed, which reloads
        self.query_one("#filter-row").remove_class("-active")
        if self.view.filter_text:
            self._change_view(filter_text="")
        self.action_focus_headlines()

    def action_focus_headlines(self) -> None:
        bar = self.query_one(FilterBar)
        if not bar.value:
            self.query_one("#filter-row").remove_class("-active")
        self.query_one(HeadlinesTable).focus()

    def action_reset_view(self) -> None:
        self.query_one(FilterBar).value = ""
        self.query_one("#filter-row").remove_class("-active")
        self.view = ViewState(limit=PAGE_SIZES[0])
        self._show_sources()
        self.load_items()

    def action_toggle_relevant(self) -> None:
        self._change_view(relevant_only=not self.view.relevant_only)

    def action_cycle_signal(self) -> None:
        self._change_view(signal=next_signal(self.view.signal))

    def action_pick_source(self, number: int) -> None:
        if number == 0:
            self.pick_source_named(None)
            return
        feeds = self.feeds
        if 1 <= number <= len(feeds):
            self.pick_source_named(feeds[number - 1].name)

    def pick_source_named(self, name: str | None) -> None:
        self._change_view(source=name)
        self._show_sources()

    def action_toggle_stories(self) -> None:
        self.story_mode = not self.story_mode
        self.notify("one row per story" if self.story_mode else "every item", markup=False, timeout=2)
        self.load_items()

    def action_digest(self) -> None:
        self.write_digest()

    def action_open_detail(self) -> None:
        """Enter: expand or collapse a story of several reports; open an item's detail."""
        table = self.query_one(HeadlinesTable)
        story = table.highlighted_story()
        if story is not None and len(story.members) > 1:
            self.expanded.symmetric_difference_update({story.id})
            self._show_items()
            return
        item = table.highlighted_item()
        if item is None:
            return
        if not item.read:
            self._set_read([item], True)
            item = table.items_by_id[item.id]
        self.push_screen(DetailScreen(item, self.clock(), table.highlighted_story()))

    def action_open_link(self) -> None:
        item = self._current_item()
        if item is None:
            return
        link = item.link or ""
        if not link.lower().startswith(("http://", "https://")):
            self.notify("this story has no web link", severity="warning", markup=False)
            return
        self._open_in_browser(link)
        self.notify(f"opening {plain(link)}", markup=False, timeout=3)

    def _current_item(self) -> StoredItem | None:
        screen = self.screen
        if isinstance(screen, DetailScreen):
            return screen.item
        return self.query_one(HeadlinesTable).highlighted_item()

    def action_toggle_read(self) -> None:
        table = self.query_one(HeadlinesTable)
        story = table.highlighted_story()
        if story is not None:  # a story: all its reports
            members = [table.items_by_id.get(m.id, m) for m in story.members]
            self._set_read(members, not all(m.read for m in members))
            return
        item = table.highlighted_item()
        if item is not None:
            self._set_read([item], not item.read)

    def action_mark_all_read(self) -> None:
        unread = [item for item in self.items if not item.read]
        if unread:
            self._set_read(unread, True)
            self.notify(f"marked {len(unread):,} items read", markup=False, timeout=3)

    def _set_read(self, items: Iterable[StoredItem], read: bool) -> None:
        items = list(items)
        self._replace_items({item.id: replace(item, read=read) for item in items})
        self._write_read([item.id for item in items], read)

    def action_toggle_star(self) -> None:
        table = self.query_one(HeadlinesTable)
        story = table.highlighted_story()
        if story is not None:
            members = [table.items_by_id.get(m.id, m) for m in story.members]
            starred = [m for m in members if m.starred]
            if starred:  # unstar the whole story
                self._replace_items({m.id: replace(m, starred=False) for m in starred})
                for member in starred:
                    self._write_starred(member.id, False)
                return
        item = table.highlighted_item()  # a story: its lead
        if item is None:
            return
        self._replace_items({item.id: replace(item, starred=not item.starred)})
        self._write_starred(item.id, not item.starred)

    def _replace_items(self, changed: dict[int, StoredItem]) -> None:
        """Optimistic update: the row changes now, the write follows in a thread."""
        self.items = [changed.get(item.id, item) for item in self.items]
        if self.stories is not None:
            self.stories = [self._story_with(story, changed) for story in self.stories]
        table = self.query_one(HeadlinesTable)
        now = self.clock()
        with self.batch_update():
            for item in changed.values():
                table.refresh_item(item, now)
        set_border_titles(table, subtitle=self._headlines_subtitle())
        self._show_detail()

    @staticmethod
    def _story_with(story: Any, changed: dict[int, StoredItem]) -> Any:
        if not any(m.id in changed for m in story.members):
            return story
        return replace(
            story,
            members=tuple(changed.get(m.id, m) for m in story.members),
            lead=changed.get(story.lead.id, story.lead),
        )

    def action_poll_now(self) -> None:
        if self.polled_by is not None:
            self.notify(
                f"read-only: {self.polled_by} polls this database; new items show as it stores them",
                markup=False,
                timeout=4,
            )
            return
        if self.poller is None:
            self.notify("no poller running", severity="warning", markup=False)
            return
        self._force_next_poll = True
        self._poll_wakeup.set()
        self.notify("polling all feeds…", markup=False, timeout=2)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.keys_for_actions()))

    def keys_for_actions(self) -> dict[str, str]:
        """The key shown for each action, after any remapping."""
        keys: dict[str, str] = {}
        for active in self.active_bindings.values():
            binding = active.binding
            # Our bindings carry ids named after their action; prefer them over
            # Textual's built-ins for the same action (ctrl+q for quit).
            name = binding.id if binding.id in ACTION_IDS else binding.action.split("(")[0]
            if binding.id in ACTION_IDS:
                keys[name] = self.get_key_display(binding)
            else:
                keys.setdefault(name, self.get_key_display(binding))
        keys["pick_source"] = "1-9 0"
        keys.setdefault("open_detail", "enter")
        keys["command_palette"] = "ctrl+p"
        return keys

    async def action_quit(self) -> None:
        await self._close_poller()
        self.exit(0)

    async def on_unmount(self) -> None:
        self._defer_full_gc(False)
        await self._close_poller()
        webhooks, self._webhooks = self._webhooks, None
        if webhooks is not None:
            try:
                await asyncio.wait_for(webhooks.aclose(), timeout=2.0)
            except Exception:
                pass


ACTION_IDS = {b.id for b in TalkwatchApp.BINDINGS if isinstance(b, Binding) and b.id}


def known_binding_ids() -> set[str]:
    """Every binding id [keys] may remap: the app's and its widgets' and screens'."""
    ids: set[str] = set()
    for cls in (TalkwatchApp, HeadlinesTable, FilterBar, DetailScreen, HelpScreen):
        for binding in getattr(cls, "BINDINGS", ()):
            if isinstance(binding, Binding) and binding.id:
                ids.add(binding.id)
    return ids


def create_app(
    config: Any,
    store: Any,
    *,
    poller: Any = None,
    clock: Clock = utc_now,
    config_path: Path | str | None = None,
    demo: Any = None,
) -> TalkwatchApp:
    """Build the dashboard; shared by the CLI and the tests."""
    return TalkwatchApp(config, store, poller=poller, clock=clock, config_path=config_path, demo=demo)


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker before Textual takes the terminal.

    Inside ``App.run`` sys.stderr is Textual's capture object, whose fileno()
    is -1; the tracker hands sys.stderr.fileno() to its child process, so the
    poller's parse process pool, started lazily inside the app, would fail with
    "bad value(s) in fds_to_keep". Started here, it is simply reused later.
    """
    try:
        from multiprocessing import resource_tracker

        resource_tracker.ensure_running()
    except Exception:  # no multiprocessing support: the poller falls back to threads
        pass


def prepare_ui_process(app: TalkwatchApp) -> None:
    """What the process running the dashboard needs, done by ``run_dashboard`` (and the benchmark).

    The resource tracker (see ``_start_resource_tracker``); the GIL's switch
    interval (below); the first poll started after the start-up frames
    (``_start_pending_poll``); no full garbage collection while a poll
    streams in (``_defer_full_gc``); and the garbage
    collector's full collections, which walk every object the process holds
    (modules, widgets, the loaded items: 50-90 ms on a slow box, a visible
    freeze of the event loop whichever thread triggers it). Everything alive
    once the first screen is painted lives as long as the app, so it is
    moved out of the collector's sight then (``gc.freeze``). Not for tests:
    they run many apps in one process, and a frozen app is never collected.
    """
    _start_resource_tracker()
    app.freeze_gc_after_start = True
    app.poll_after_start_paint = True
    # A thread holding the GIL (a story grouping, a store write, the poller's
    # parsing) gives it up every switch interval; 5 ms by default, and the
    # event loop waits that long each time it wants it back: several times per
    # frame. 1 ms keeps the screen and the keys responsive while workers run.
    sys.setswitchinterval(min(sys.getswitchinterval(), UI_SWITCH_INTERVAL))


def run_dashboard(config: Any, store: Any, *, config_path: Path | str | None, demo_server: Any = None) -> int:
    """Open the dashboard with a live poller; returns the exit code.

    The caller owns ``store`` and ``demo_server`` (starts and stops them);
    the app owns the poller it creates here and closes it on exit.
    """
    from tui.poller import Poller

    app = create_app(config, store, config_path=config_path, demo=demo_server)
    prepare_ui_process(app)
    app.attach_poller(Poller(config, store, on_result=app.poller_callback))
    result = app.run()
    return int(result or 0) if app.return_code in (None, 0) else int(app.return_code)
