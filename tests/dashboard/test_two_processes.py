"""Two processes on one database: who polls, read-only mode, live reload of
the other process's commits, and takeover when it stops. Also [keys] remaps,
a deleted or atomically replaced feeds.toml, and the raw-items header."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

from .conftest import NOW, fixed_clock
from .helpers import FakePoller, settle, shown_titles
from tui.dashboard.app import create_app
from tui.models import Item, Verdict
from tui.polllock import PollLock
from tui.store import ItemQuery, Store


def make(config, store, **kwargs):
    return create_app(config, store, clock=fixed_clock, **kwargs)


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


def add_item(store: Store, key: str, title: str, minutes_ago: int = 1) -> None:
    store.upsert_items("Doha Wire", [(
        Item(feed="Doha Wire", key=key, title=title, summary="", link="https://example.org/x",
             published=NOW - timedelta(minutes=minutes_ago)),
        Verdict(relevant=True, score=3.0, signal="progress", matched=("hostage",)),
    )])


def test_flock_conflicts_between_two_lock_instances_in_one_process(tmp_path):
    first, second = PollLock(tmp_path / "x.db", role="a"), PollLock(tmp_path / "x.db", role="b")
    assert first.acquire()
    assert not second.acquire()  # two open file descriptions: flock conflicts even in one process
    assert second.holder() == f"pid {os.getpid()} (a)"
    first.release()
    assert second.acquire()
    second.release()


async def test_lock_held_elsewhere_reads_only_shows_new_commits_and_takes_over(config, store):
    holder = PollLock(store.path, role="talkwatch poll")
    assert holder.acquire()
    poller = FakePoller()
    app = make(config, store, poller=poller)
    try:
        async with app.run_test(size=(140, 40)) as pilot:
            await settle(pilot)
            assert app.polled_by == f"pid {os.getpid()} (talkwatch poll)"
            assert app.query_one("#sources").border_title == "Sources · read-only"
            subtitle = str(app.query_one("#headlines").border_subtitle)
            assert f"read-only: polled by pid {os.getpid()} (talkwatch poll) · " in subtitle
            await pilot.press("r")
            assert any("polls this database" in m for m in messages(app))
            app.watch_database()  # the first check: a baseline
            await settle(pilot)
            assert not app._database_changed()  # nothing committed since

            other = Store(store.path, clock=fixed_clock)  # the daemon's connection
            try:
                add_item(other, "live-1", "Daemon stored: hostage release talks resume in Doha")
                # The user marks an item read while the other process writes.
                await pilot.press("m")
                add_item(other, "live-2", "Daemon stored: quartz xylophone zebra")
            finally:
                other.close()
            app.watch_database()  # what the 2 s timer does
            await settle(pilot)
            titles = shown_titles(app)
            assert titles[0] == "Daemon stored: hostage release talks resume in Doha"
            assert "Daemon stored: quartz xylophone zebra" in {item.title for item in app.items}
            assert app.total_items == 10
            assert not any("locked" in m for m in messages(app))
            assert poller.calls == []  # read-only: never polled

            holder.release()  # the daemon exits
            app.watch_database()
            await asyncio.wait_for(poller.polled.wait(), 10)
            await settle(pilot)
            assert app.polled_by is None and poller.calls == [False]
            assert app.query_one("#sources").border_title == "Sources"
            assert any("stopped; this dashboard polls now" in m for m in messages(app))
            assert PollLock(store.path).acquire() is False  # ours now
        # Released on quit.
        again = PollLock(store.path)
        assert again.acquire()
        again.release()
    finally:
        holder.release()


async def test_without_a_competitor_the_dashboard_holds_the_lock_and_polls(config, store):
    poller = FakePoller()
    app = make(config, store, poller=poller)
    async with app.run_test(size=(140, 40)) as pilot:
        await asyncio.wait_for(poller.polled.wait(), 10)
        await settle(pilot)
        assert app.polled_by is None
        other = PollLock(store.path)
        assert not other.acquire()
        assert other.holder() == f"pid {os.getpid()} (talkwatch dashboard)"


def _read_lines(stream, lines: list[str], count: int, done: threading.Event) -> None:
    for line in stream:
        lines.append(line)
        if len(lines) >= count:
            done.set()
    done.set()


async def test_end_to_end_with_a_poll_daemon_subprocess(tmp_path):
    from tui.config import load_config
    from tui.demo import DemoServer
    from tui.poller import Poller

    server = DemoServer(release_every=None)
    server.start()
    db = tmp_path / "shared.db"
    config_path = tmp_path / "feeds.toml"
    config_path.write_text(server.config_text(), encoding="utf-8")
    config = load_config(config_path)
    feeds = len(config.feeds)
    daemon = subprocess.Popen(
        [sys.executable, "-m", "tui", "--db", str(db), "--config", str(config_path), "poll"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(Path(__file__).parents[2]),
        start_new_session=True,  # its parse workers too: killpg ends them with it
    )
    out_lines: list[str] = []
    first_cycle = threading.Event()
    threading.Thread(target=_read_lines, args=(daemon.stdout, out_lines, feeds, first_cycle), daemon=True).start()
    store = None
    try:
        # One line per feed: the daemon holds the lock and finished its first cycle.
        assert await asyncio.to_thread(first_cycle.wait, 60)
        assert len(out_lines) >= feeds, (out_lines, daemon.stderr.read() if daemon.poll() is not None else "")
        store = Store(db)
        app = create_app(config, store)
        app.attach_poller(Poller(config, store, on_result=app.poller_callback))
        polled = asyncio.Event()
        original = app.poller.poll_once

        async def spy(**kwargs):
            summary = await original(**kwargs)
            polled.set()
            return summary

        app.poller.poll_once = spy
        async with app.run_test(size=(140, 40)) as pilot:
            await settle(pilot)
            assert app.polled_by is not None and f"pid {daemon.pid} (talkwatch poll)" == app.polled_by
            app.watch_database()
            await settle(pilot)
            stored = store.item_count()
            assert stored > 0 and app.total_items == stored
            assert shown_titles(app)
            first = app.query_one("#headlines").highlighted_item()
            was_read = first.read
            await pilot.press("m")
            await settle(pilot)
            assert store.query(ItemQuery(limit=None)) and \
                next(i for i in store.query(ItemQuery(limit=None)) if i.id == first.id).read is (not was_read)
            assert not polled.is_set()  # the daemon polls, not us

            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait(timeout=10)
            app.watch_database()
            await asyncio.wait_for(polled.wait(), 30)
            await settle(pilot)
            assert app.polled_by is None
            assert not any("locked" in m.lower() for m in messages(app))
            assert any("polls now" in m for m in messages(app))
    finally:
        try:
            os.killpg(daemon.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        daemon.wait(timeout=10)
        if store is not None:
            store.close()
        server.stop()


# -- [keys] from feeds.toml ---------------------------------------------------------

KEYS = '\n[keys]\ntoggle_relevant = "x"\ntoggle_relevnt = "y"\n'


async def test_keys_table_remaps_and_names_unknown_ids(config_path, store):
    from tui.config import load_config

    base = config_path.read_text()
    config_path.write_text(base + KEYS)
    config = load_config(config_path)
    app = make(config, store, config_path=config_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        warning = next(n for n in app._notifications if n.title == "Unknown key bindings")
        assert "toggle_relevnt (did you mean toggle_relevant?)" in warning.message
        await pilot.press("x")
        await settle(pilot)
        assert not app.view.relevant_only
        await pilot.press("a")  # no longer bound
        await settle(pilot)
        assert not app.view.relevant_only
        # Hot reload without [keys]: the default comes back.
        config_path.write_text(base)
        assert app.check_config()
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert app.view.relevant_only


# -- feeds.toml deleted or replaced -------------------------------------------------


async def test_deleted_config_keeps_running_and_is_picked_up_again(config, config_path, store):
    app = make(config, store, config_path=config_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        text = config_path.read_text()
        config_path.unlink()
        assert not app.check_config()  # one check: may be an editor's save in progress
        assert app.check_config()
        await settle(pilot)
        assert app.config is config
        error = app.query_one("#config-error")
        assert error.display and "feeds.toml was deleted; keeping the running config" in str(error.render())
        assert any("feeds.toml was deleted; keeping the running config" in m for m in messages(app))
        assert not app.check_config()  # reported once
        config_path.write_text(text + '\n[[feed]]\nname = "Gulf Dispatch"\nurl = "http://127.0.0.1:9/gulf.xml"\n')
        assert app.check_config()
        await settle(pilot)
        assert [f.name for f in app.config.feeds][-1] == "Gulf Dispatch"
        assert not error.display


async def test_config_replaced_by_rename_is_reloaded(config, config_path, store):
    app = make(config, store, config_path=config_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        old = config_path.stat()
        text = config_path.read_text().replace('interval = "5m"', 'interval = "7m"')
        assert len(text) == old.st_size
        replacement = config_path.with_name("feeds.toml.tmp")
        replacement.write_text(text)
        os.utime(replacement, ns=(old.st_atime_ns, old.st_mtime_ns))  # same size, same mtime: only the inode differs
        os.replace(replacement, config_path)
        assert app.check_config()
        await settle(pilot)
        assert app.config is not config and app.config.settings.interval == 420
        assert not app.query_one("#config-error").display


# -- the raw items header -----------------------------------------------------------


async def test_srcs_column_shows_only_in_story_mode(config, store):
    app = make(config, store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        table = app.query_one("#headlines")
        assert "Srcs" in table.columns["row"].label.plain
        await pilot.press("g")
        await settle(pilot)
        assert "Srcs" not in table.columns["row"].label.plain
        assert "Headline" in table.columns["row"].label.plain
        await pilot.press("g")
        await settle(pilot)
        assert "Srcs" in table.columns["row"].label.plain
