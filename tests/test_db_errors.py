"""A database talkwatch cannot use, through the real CLI: a clear message, exit 1, the file untouched.

Each case runs ``python -m tui --db X --config Y poll --once`` (the writer path)
and ``status`` (the read-only path) in a subprocess, as a user would, and
checks that stderr names the file and says what to do, that the exit status is
1 without a traceback, and that neither the file's bytes nor its directory
changed (no journal or WAL left behind).

Disk full is real SQLite behaviour: the CLI runs with ``PRAGMA max_page_count``
set on the store's connection, so the database cannot grow; a feed whose items
do not fit gets the error, the others are stored, the file stays consistent,
and once there is room again the next poll stores everything.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

try:
    from tests.feedserver import feed_server  # noqa: F401  (fixture)
except ImportError:  # tests/ is on sys.path itself when it is not a package
    from feedserver import feed_server  # noqa: F401

from tui.store import SCHEMA_VERSION, Store

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, cwd: Path, prelude: str = "") -> subprocess.CompletedProcess:
    """`python -m tui ARGS`, optionally after `prelude` (Python run first, in the same process)."""
    if prelude:
        code = prelude + "\nimport sys\nfrom tui.cli import main\nsys.exit(main(sys.argv[1:]))\n"
        # Run as a file whose __main__ is guarded: the poller's worker processes
        # re-import the main module, which must not run the CLI again.
        script = cwd / "cli_with_prelude.py"
        body = "\n".join("    " + line for line in code.splitlines())
        script.write_text(f"if __name__ == '__main__':\n{body}\n")
        command = [sys.executable, str(script), *args]
    else:
        command = [sys.executable, "-m", "tui", *args]
    env = dict(os.environ, TALKWATCH_CONFIG="", TALKWATCH_DB="", NO_COLOR="1")
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def write_config(path: Path, feeds: dict[str, str]) -> Path:
    lines = ['[settings]', 'timeout = "5s"', ""]
    for name, url in feeds.items():
        lines += ["[[feed]]", f'name = "{name}"', f'url = "{url}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def rss(prefix: str, n: int, words: int = 40) -> bytes:
    items = "".join(
        f"<item><guid>{prefix}-{i}</guid><title>{prefix} item {i}: talks in Doha</title>"
        f"<description>{'negotiators met again ' * (words // 3)}</description></item>"
        for i in range(n)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{prefix}</title>{items}</channel></rss>'.encode()


@pytest.fixture
def workdir(tmp_path):
    """The database lives alone in its own folder, so 'untouched' can cover the whole folder."""
    (tmp_path / "db").mkdir()
    write_config(tmp_path / "feeds.toml", {"unreachable": "http://127.0.0.1:9/feed.xml"})
    return tmp_path


def assert_refused(result: subprocess.CompletedProcess, db: Path, *words: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert str(db) in result.stderr, f"the message must name the file: {result.stderr!r}"
    message = result.stderr.lower()
    assert any(w.lower() in message for w in words), f"expected one of {words} in {result.stderr!r}"
    assert "pass --db" in message or "upgrade talkwatch" in message or "permission" in message, (
        f"the message must say what to do: {result.stderr!r}")
    assert result.stdout == "", "nothing may run on an unusable database"


def newer_schema_db(path: Path) -> None:
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.execute("PRAGMA journal_mode = DELETE")  # leave a single self-contained file
    conn.close()


CORRUPTIONS = {
    "random-bytes": lambda: os.urandom(16384),
    "sqlite-header-then-garbage": lambda: b"SQLite format 3\x00" + os.urandom(8192),
    "text-file": lambda: b"this is my shopping list, not a database\n" * 50,
}


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
@pytest.mark.parametrize("command", [["poll", "--once"], ["status"]])
def test_corrupt_database_is_refused_and_untouched(workdir, kind, command):
    db = workdir / "db" / "talkwatch.db"
    db.write_bytes(CORRUPTIONS[kind]())
    before = snapshot(db.parent)
    result = run_cli("--db", str(db), "--config", str(workdir / "feeds.toml"), *command, cwd=workdir)
    assert_refused(result, db, "corrupt", "not a talkwatch database")
    assert snapshot(db.parent) == before


def test_foreign_sqlite_database_is_refused_and_untouched(workdir):
    db = workdir / "db" / "other-app.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.execute("INSERT INTO invoices VALUES (1, 9.5)")
    conn.commit()
    conn.close()
    before = snapshot(db.parent)
    result = run_cli("--db", str(db), "--config", str(workdir / "feeds.toml"), "poll", "--once", cwd=workdir)
    assert_refused(result, db, "not a talkwatch database")
    assert snapshot(db.parent) == before


@pytest.mark.parametrize("command", [["poll", "--once"], ["status"]])
def test_newer_schema_is_refused_and_untouched(workdir, command):
    db = workdir / "db" / "talkwatch.db"
    newer_schema_db(db)
    before = snapshot(db.parent)
    result = run_cli("--db", str(db), "--config", str(workdir / "feeds.toml"), *command, cwd=workdir)
    assert_refused(result, db, "newer talkwatch")
    assert "upgrade talkwatch" in result.stderr
    assert snapshot(db.parent) == before


def _chmod_is_meaningless(path: Path) -> bool:
    """True when permissions do not stop us (root, CAP_DAC_OVERRIDE): chmod tests would prove nothing."""
    return os.access(path, os.W_OK)


def test_unwritable_database_file(workdir):
    db = workdir / "db" / "talkwatch.db"
    Store(db).close()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    db.chmod(0o444)
    db.parent.chmod(0o555)  # no WAL/SHM can be created next to it either
    try:
        if _chmod_is_meaningless(db):
            pytest.skip("running with permissions that ignore chmod (root): an unwritable file cannot be made")
        before = snapshot(db.parent)
        result = run_cli("--db", str(db), "--config", str(workdir / "feeds.toml"), "poll", "--once", cwd=workdir)
        assert_refused(result, db, "not writable", "permission", "cannot be opened", "read-only", "readonly")
        assert snapshot(db.parent) == before
    finally:
        db.parent.chmod(0o755)
        db.chmod(0o644)


def test_unwritable_directory(workdir):
    locked = workdir / "db" / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if _chmod_is_meaningless(locked):
            pytest.skip("running with permissions that ignore chmod (root): an unwritable folder cannot be made")
        db = locked / "talkwatch.db"
        result = run_cli("--db", str(db), "--config", str(workdir / "feeds.toml"), "poll", "--once", cwd=workdir)
        assert_refused(result, db, "cannot be created", "cannot be opened", "permission", "not writable")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize("db", ["/proc/talkwatch-test.db", "/proc/talkwatch-test/sub/talkwatch.db"])
def test_database_on_a_filesystem_nothing_can_be_created_on(workdir, db):
    """The root-proof variant of the two above: /proc refuses new files even to root."""
    if not Path("/proc/self").exists() or Path(db).exists():
        pytest.skip("no procfs here")
    result = run_cli("--db", db, "--config", str(workdir / "feeds.toml"), "poll", "--once", cwd=workdir)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert db in result.stderr and "--db" in result.stderr, result.stderr
    assert not Path(db).exists()


# --- disk full ---------------------------------------------------------------------


def limit_pages(extra: int) -> str:
    """A prelude that caps every store connection at (its current size + extra) pages."""
    return (
        "import tui.store\n"
        "_connect = tui.store.Store._connect\n"
        "def _limited(self, uri):\n"
        "    conn = _connect(self, uri)\n"
        "    pages = conn.execute('PRAGMA page_count').fetchone()[0]\n"
        f"    conn.execute(f'PRAGMA max_page_count = {{max(pages, 1) + {extra}}}')\n"
        "    return conn\n"
        "tui.store.Store._connect = _limited\n"
    )


def items_by_feed(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        conn.execute("INSERT INTO items_fts(items_fts) VALUES ('integrity-check')")
        return dict(conn.execute("SELECT feed, count(*) FROM items GROUP BY feed").fetchall())
    finally:
        conn.close()


def test_disk_full_while_writing_reports_the_feed_and_keeps_the_database_consistent(feed_server, workdir):
    big = feed_server.route("/big.xml", body=rss("big", 400))
    small = feed_server.route("/small.xml", body=rss("small", 2, words=3))
    config = write_config(workdir / "full.toml", {"big": big, "small": small})
    db = workdir / "db" / "talkwatch.db"
    Store(db).close()

    # 12 spare pages (48 KB): the small feed fits, the big one (~250 KB with its index) does not.
    result = run_cli("--db", str(db), "--config", str(config), "poll", "--once", cwd=workdir, prelude=limit_pages(12))
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.split()}
    assert "full" in rows["big"].lower(), result.stdout  # "database or disk is full", on big's row
    assert "Traceback" not in result.stdout
    assert "1 failed" in result.stdout
    counts = items_by_feed(db)
    assert counts.get("small") == 2
    assert counts.get("big", 0) == 0, "a batch that did not fit must leave nothing behind"
    state = Store(db, readonly=True)
    try:
        big_state = state.feed_state("big")
    finally:
        state.close()
    assert big_state is not None and big_state.outcome == "error" and "full" in big_state.last_error

    # Room again: the next poll stores the whole feed, once.
    result = run_cli("--db", str(db), "--config", str(config), "poll", "--once", "--all", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert items_by_feed(db) == {"big": 400, "small": 2}


def test_disk_full_when_saving_feed_states_is_a_message_not_a_traceback(feed_server, workdir):
    """When even the small feed-state write fails, the poll cannot finish: exit 1 with
    a sentence naming the file, and the items already committed stay consistent."""
    url = feed_server.route("/small.xml", body=rss("small", 3, words=3))
    config = write_config(workdir / "full.toml", {"small": url})
    db = workdir / "db" / "talkwatch.db"
    prelude = (
        "import sqlite3\n"
        "import tui.store\n"
        "def _full(self, *args, **kwargs):\n"
        "    raise sqlite3.OperationalError('database or disk is full')\n"
        "tui.store.Store.save_feed_state = _full\n"
        "tui.store.Store.save_feed_states = _full\n"
    )
    result = run_cli("--db", str(db), "--config", str(config), "poll", "--once", cwd=workdir, prelude=prelude)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert str(db) in result.stderr and "full" in result.stderr, result.stderr
    assert items_by_feed(db) in ({}, {"small": 3})
