"""The `talkwatch` command: argparse sub-commands, each a thin call into the modules.

Imports are lazy on purpose: `talkwatch poll --once` is benchmarked start-up
included, and httpx + feedparser + sqlite-utils alone cost a fifth of a second.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from tui import __version__

if TYPE_CHECKING:
    from tui.config import Config
    from tui.store import Store

EXIT_OK = 0
EXIT_ERROR = 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="talkwatch",
        description="Watch the news about the Gaza hostage negotiations. "
        "With no command, opens the dashboard.",
    )
    parser.add_argument("--version", action="version", version=f"talkwatch {__version__}")
    parser.add_argument("--config", metavar="PATH", help="feeds.toml to use (default: $TALKWATCH_CONFIG, ./feeds.toml, then the user config dir)")
    parser.add_argument("--db", metavar="PATH", help="SQLite database (default: $TALKWATCH_DB, then [settings] db)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("check", help="validate feeds.toml and list the feeds")

    poll = sub.add_parser("poll", help="poll the feeds (on schedule until Ctrl-C, or --once)")
    poll.add_argument("--once", action="store_true", help="one cycle over the due feeds, then exit")
    poll.add_argument("--all", action="store_true", help="poll every feed now, due or not")

    export = sub.add_parser("export", help="write stored items to stdout")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--since", metavar="DURATION", help='only items published in this window, e.g. "24h"')
    export.add_argument("--relevant", action="store_true", help="only items about the hostage talks")

    demo = sub.add_parser("demo", help="open the dashboard on the bundled offline demo feeds")
    demo.add_argument("--serve", action="store_true", help="only serve the demo feeds and print a feeds.toml snippet")
    demo.add_argument("--port", type=int, default=0, help="port for --serve (default: any free port)")

    sub.add_parser("classify", help="classify JSON Lines from stdin ({id, title, summary}) to stdout")
    sub.add_parser("reclassify", help="re-run the current rules over the stored items")

    status = sub.add_parser("status", help="print the current status of the talks")
    status.add_argument("--json", action="store_true", help="machine-readable output")

    digest = sub.add_parser("digest", help="what changed in the talks over a period, ready to paste")
    digest.add_argument("--since", metavar="DURATION", default="24h", help='the period, e.g. "24h" (default), "7d"')
    digest.add_argument("--format", choices=("md", "json"), default="md")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = args.command or "dashboard"
    handler = COMMANDS[command]
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except _Fatal as exc:
        print(f"talkwatch: {exc}", file=sys.stderr)
        return EXIT_ERROR


class _Fatal(Exception):
    """An error already phrased for the user; main prints it and exits 1."""


# --- shared plumbing -------------------------------------------------------


def _load_config(args: argparse.Namespace, *, quiet: bool = False) -> Config:
    from tui.config import ConfigError, find_config, load_config

    try:
        path, created = find_config(args.config)
    except ConfigError as exc:
        raise _Fatal(_problems_text(exc)) from None
    if created and not quiet:
        print(f"talkwatch: created {path} from the default feeds; edit it to add sources", file=sys.stderr)
    try:
        return load_config(path)
    except ConfigError as exc:
        raise _Fatal(f"{path} is invalid, nothing was run:\n{_problems_text(exc)}") from None


def _problems_text(exc) -> str:
    return "\n".join(f"  {problem}" for problem in exc.problems) or f"  {exc}"


def _open_store(args: argparse.Namespace, config: Config, *, readonly: bool = False) -> Store:
    from tui.config import ConfigError, resolve_db_path
    from tui.store import Store, StoreError

    try:
        path = resolve_db_path(config, args.db)
    except ConfigError as exc:  # the database's folder cannot be created: a message, not a traceback
        raise _Fatal(str(exc)) from None
    try:
        return Store(path, readonly=readonly)
    except StoreError as exc:
        raise _Fatal(str(exc)) from None


def _duration(text: str | None) -> float | None:
    if text is None:
        return None
    from tui.config import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise _Fatal(f"--since: {exc}") from None


class Progress:
    """'feeds done / total' on a terminal; silent when stderr is piped."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.live = stream.isatty()

    def update(self, done: int, total: int, label: str = "") -> None:
        if self.live:
            self.stream.write(f"\r\x1b[K{done}/{total} feeds {label[:50]}")
            self.stream.flush()

    def clear(self) -> None:
        if self.live:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


# --- commands ----------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    config = _load_config(args)
    print(f"{config.path}: ok, {len(config.feeds)} feeds")
    rows = [("NAME", "INTERVAL", "ENABLED", "URL")]
    for feed in config.feeds:
        interval = feed.interval or config.settings.interval
        rows.append((feed.name, _human_seconds(interval), "yes" if feed.enabled else "no", feed.url))
    _print_table(rows)
    return EXIT_OK


def cmd_poll(args: argparse.Namespace) -> int:
    import asyncio
    import sqlite3

    from tui.polllock import PollLock
    from tui.store import StoreError

    config = _load_config(args)
    if _database_is_new(args, config):
        # Every feed will send a body to parse: boot the parse workers while
        # the store is created (~0.1 s of a cold `poll --once` otherwise spent waiting).
        from tui.poller import prestart_parse_pool

        prestart_parse_pool(config.topic)
    store = _open_store(args, config)
    lock = PollLock(store.path, role="talkwatch poll")
    try:
        if not lock.acquire():
            if args.once:
                # Two pollers would fetch every feed twice: the holder already keeps the store fresh.
                print(f"another talkwatch ({lock.holder() or 'unknown pid'}) is polling {store.path}; nothing polled")
                return EXIT_OK
            asyncio.run(_wait_for_lock(lock))
        if args.once:
            return asyncio.run(_poll_once(config, store, force=args.all))
        return asyncio.run(_poll_forever(config, store, force=args.all))
    except (StoreError, sqlite3.Error) as exc:
        # Disk full or an I/O error while saving feed states: a message, not a
        # traceback. Each write is one transaction, so the file stays consistent.
        raise _Fatal(f"{store.path}: could not save the poll results ({exc}): free some disk space"
                     " or pass --db, then poll again") from None
    finally:
        lock.release()
        store.close()


def _database_is_new(args: argparse.Namespace, config: Config) -> bool:
    from tui.config import ConfigError, resolve_db_path

    try:
        return not resolve_db_path(config, args.db).exists()
    except (ConfigError, OSError):
        return False  # _open_store says what is wrong


async def _wait_for_lock(lock) -> None:
    import asyncio

    print(
        f"another talkwatch ({lock.holder() or 'unknown pid'}) is polling this database; "
        "this daemon takes over when it exits (Ctrl-C to give up)",
        file=sys.stderr,
    )
    while not lock.acquire():
        await asyncio.sleep(2.0)  # a schedule: flock has no async wait


async def _poll_once(config: Config, store: Store, *, force: bool) -> int:
    from tui.poller import Poller

    progress = Progress()
    rows: list[tuple[str, ...]] = [("FEED", "STATUS", "NEW", "MS")]

    def on_result(result, done: int, total: int) -> None:
        progress.update(done, total, result.feed)

    poller = Poller(config, store, on_result=on_result)
    try:
        summary = await poller.poll_once(force=force)
    finally:
        await poller.aclose()
    progress.clear()
    for result in summary.results:
        rows.append((result.feed, _result_status(result), str(result.new_items), f"{result.elapsed_ms:.0f}"))
    if len(rows) > 1:
        _print_table(rows)
    failed = sum(1 for r in summary.results if r.error)
    print(
        f"{len(summary.results)} feeds polled, {summary.new_items} new items, "
        f"{failed} failed, {summary.elapsed_ms / 1000:.2f} s"
    )
    if not summary.results:
        due = poller.next_due()
        when = f"; next due at {due:%H:%M:%S} UTC" if due else ""
        print(f"no feed was due (use --all to poll every feed now){when}")
    return EXIT_OK


async def _poll_forever(config: Config, store: Store, *, force: bool) -> int:
    import asyncio
    import signal

    from tui.poller import Poller

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass

    def on_result(result, done: int, total: int) -> None:
        line = f"{result.feed}: {_result_status(result)}, {result.new_items} new, {result.elapsed_ms:.0f} ms"
        print(line, flush=True)

    poller = Poller(config, store, on_result=on_result)
    print(f"polling {len(config.feeds)} feeds on schedule; Ctrl-C to stop", file=sys.stderr)
    try:
        if force:
            await poller.poll_once(force=True)
        await poller.run(stop)
    finally:
        await poller.aclose()
    print("stopped", file=sys.stderr)
    return EXIT_OK


def _result_status(result) -> str:
    if result.error:
        return result.error if result.status is None else f"{result.status} {result.error}"
    if result.status is not None:
        return f"{result.status} {result.outcome.replace('_', ' ')}"
    return result.outcome.replace("_", " ")


def cmd_export(args: argparse.Namespace) -> int:
    import csv
    import json
    from datetime import timedelta

    from tui.models import utc_now
    from tui.store import ItemQuery

    since_seconds = _duration(args.since)
    config = _load_config(args, quiet=True)
    store = _open_store(args, config, readonly=True)
    try:
        since = utc_now() - timedelta(seconds=since_seconds) if since_seconds else None
        items = store.query(ItemQuery(since=since, relevant_only=args.relevant, limit=None))
    finally:
        store.close()
    fields = ("id", "feed", "published", "title", "summary", "link", "author", "relevant", "signal", "score", "read", "starred")
    out = sys.stdout
    if args.format == "csv":
        writer = csv.writer(out)
        writer.writerow(fields)
        for item in items:
            writer.writerow([_export_value(item, f) for f in fields])
    else:
        for item in items:
            out.write(json.dumps({f: _export_value(item, f) for f in fields}, ensure_ascii=False) + "\n")
    return EXIT_OK


def _export_value(item, field: str):
    if field == "published":
        return item.published.isoformat()
    if field in ("relevant", "signal", "score"):
        return getattr(item.verdict, field)
    return getattr(item, field)


def cmd_classify(args: argparse.Namespace) -> int:
    from tui.classify import Classifier
    from tui.classify_jsonl import run

    topic = None
    if args.config or os.environ.get("TALKWATCH_CONFIG"):
        topic = _load_config(args, quiet=True).topic
    return run(sys.stdin, sys.stdout, sys.stderr, Classifier(topic))


def cmd_reclassify(args: argparse.Namespace) -> int:
    from tui.classify import Classifier

    config = _load_config(args)
    store = _open_store(args, config)
    classifier = Classifier(config.topic)
    progress = Progress()
    try:
        total = store.item_count()
        changes = []
        for n, item in enumerate(store.iter_items(), 1):
            verdict = classifier.classify(item.title, item.summary)
            if verdict != item.verdict:
                changes.append((item.id, verdict))
            if n % 2000 == 0:
                progress.update(n, total, "items")
        progress.clear()
        store.set_verdicts(changes)
    finally:
        store.close()
    print(f"{total} items reclassified, {len(changes)} verdicts changed")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    import json

    from tui.models import utc_now
    from tui.reports import talks_status
    from tui.status import format_status, status_to_dict

    config = _load_config(args, quiet=True)
    store = _open_store(args, config, readonly=True)
    now = utc_now()
    try:
        status = talks_status(store, now)
    finally:
        store.close()
    if args.json:
        print(json.dumps(status_to_dict(status), ensure_ascii=False, indent=2))
    else:
        print(format_status(status, now))
    return EXIT_OK


def cmd_digest(args: argparse.Namespace) -> int:
    import json
    from datetime import timedelta

    from tui.digest import render_json, render_markdown
    from tui.models import utc_now
    from tui.reports import digest

    period = _duration(args.since)
    config = _load_config(args, quiet=True)
    store = _open_store(args, config, readonly=True)
    now = utc_now()
    try:
        result = digest(store, since=now - timedelta(seconds=period), now=now)
    finally:
        store.close()
    if args.format == "json":
        print(json.dumps(render_json(result), ensure_ascii=False, indent=2))
    else:
        print(render_markdown(result))
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from tui.demo import DemoServer, serve_forever_cli

    if args.serve:
        return serve_forever_cli(args.port, sys.stdout)
    import tempfile

    from tui.config import parse_config

    server = DemoServer()
    server.start()
    try:
        with tempfile.TemporaryDirectory(prefix="talkwatch-demo-") as tmp:
            config_path = Path(tmp) / "feeds.toml"
            config_path.write_text(server.config_text(), encoding="utf-8")
            config = parse_config(config_path.read_text(encoding="utf-8"), config_path)
            from tui.store import Store

            store = Store(Path(tmp) / "demo.db")
            try:
                return _run_dashboard(config, store, config_path=config_path, demo_server=server)
            finally:
                store.close()
    finally:
        server.stop()


def cmd_dashboard(args: argparse.Namespace) -> int:
    config = _load_config(args)
    store = _open_store(args, config)
    try:
        return _run_dashboard(config, store, config_path=config.path, demo_server=None)
    finally:
        store.close()


def _run_dashboard(config: Config, store: Store, *, config_path, demo_server) -> int:
    try:
        from tui.dashboard.app import run_dashboard
    except ImportError as exc:  # pragma: no cover - only while the dashboard is missing
        raise _Fatal(f"the dashboard is not available ({exc}); use `talkwatch poll`") from None
    return run_dashboard(config, store, config_path=config_path, demo_server=demo_server)


# --- formatting ----------------------------------------------------------------


def _human_seconds(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _print_table(rows: list[tuple[str, ...]], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths)] + [row[-1]]
        out.write("  ".join(cells).rstrip() + "\n")


COMMANDS = {
    "check": cmd_check,
    "poll": cmd_poll,
    "export": cmd_export,
    "demo": cmd_demo,
    "classify": cmd_classify,
    "reclassify": cmd_reclassify,
    "status": cmd_status,
    "digest": cmd_digest,
    "dashboard": cmd_dashboard,
}
