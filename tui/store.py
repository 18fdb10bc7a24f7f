"""The SQLite store: items with their verdicts and user flags, and per-feed poll state.

One ``Store`` owns one writer connection (WAL mode, 5 s busy timeout, every
write in a ``BEGIN IMMEDIATE`` transaction so two writers queue instead of
failing half-way). Readers that want their own connection open a second
``Store(path, readonly=True)``. A lock serialises use of the connection, so one
``Store`` may be shared between the poller's worker thread and the UI.

The schema is built by sqlite-utils migrations; ``PRAGMA user_version`` mirrors
how many have run so the common case (schema current) is checked without
importing sqlite-utils at all (~0.1 s of start-up).

Before anything is written, an existing file is checked: not a database, a
foreign database or one from a newer talkwatch raise ``StoreError`` and leave
the file exactly as it was.

Timestamps are REAL epoch seconds; they round-trip to the microsecond.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timezone
from pathlib import Path

from tui.models import Clock, FeedState, Item, StoredItem, Verdict, utc_now
from tui.parse_worker import item_row, verdict_columns as _verdict_columns

BUSY_TIMEOUT_S = 5.0
_PAGE = 1000  # rows per page in iter_items
_FEW_MATCHES = 5000  # text matches below which query() sorts the matches instead of scanning by date


class StoreError(Exception):
    """The database cannot be used; the message names the file and what to do."""


@dataclass(frozen=True)
class ItemQuery:
    text: str = ""  # free text over title and summary; words AND-ed, each a prefix
    feeds: tuple[str, ...] = ()
    signals: tuple[str, ...] = ()
    since: datetime | None = None  # published at or after
    relevant_only: bool = False
    unread_only: bool = False
    starred_only: bool = False
    limit: int | None = 2000


# --- schema -----------------------------------------------------------------

_MIGRATION_SET = "talkwatch"


def _migration_001_initial(db) -> None:
    from sqlite_utils.db import DescIndex

    db["feeds"].create(
        {
            "name": str,
            "url": str,
            "etag": str,
            "last_modified": str,
            "body_hash": str,
            "last_status": int,
            "outcome": str,
            "last_error": str,
            "warning": str,
            "moved_to": str,
            "gone": int,
            "last_fetch_at": float,
            "latency_ms": float,
            "failures": int,
            "next_check_at": float,
            "min_interval": float,
        },
        pk="name",
        not_null={"url", "gone", "failures"},
        defaults={"gone": 0, "failures": 0},
    )
    items = db["items"]
    items.create(
        {
            "id": int,
            "feed": str,
            "key": str,
            "title": str,
            "summary": str,
            "link": str,
            "author": str,
            "published": float,
            "first_seen": float,
            "updated_at": float,
            "read": int,
            "starred": int,
            "relevant": int,
            "score": float,
            "signal": str,
            "matched": str,  # JSON list
            "actors": str,  # JSON list
            "places": str,  # JSON list
        },
        pk="id",
        not_null={"feed", "key", "title", "summary", "link", "author", "published", "first_seen",
                  "updated_at", "read", "starred", "relevant", "score", "signal", "matched", "actors", "places"},
        defaults={"title": "", "summary": "", "link": "", "author": "", "read": 0, "starred": 0,
                  "relevant": 0, "score": 0.0, "signal": "none", "matched": "[]", "actors": "[]", "places": "[]"},
    )
    items.create_index(["feed", "key"], index_name="items_feed_key", unique=True)
    # Every listing is "newest first", ties broken by id: (..., published DESC,
    # id DESC) lets SQLite walk an index and stop at the LIMIT, with no sort.
    newest = [DescIndex("published"), DescIndex("id")]
    items.create_index(newest, index_name="items_published")
    items.create_index(["relevant", *newest], index_name="items_relevant_published")
    items.create_index(["feed", *newest], index_name="items_feed_published")
    items.create_index(["signal", *newest], index_name="items_signal_published")
    # External-content FTS5 index. sqlite-utils' enable_fts() would re-index a
    # row on *any* update (marking 5,000 items read would rewrite their index
    # entries), so the triggers are written here to fire on text changes only.
    for sql in (
        "CREATE VIRTUAL TABLE items_fts USING fts5(title, summary, content='items', content_rowid='id',"
        " tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
        "CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN"
        " INSERT INTO items_fts(rowid, title, summary) VALUES (new.id, new.title, new.summary); END",
        "CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN"
        " INSERT INTO items_fts(items_fts, rowid, title, summary) VALUES ('delete', old.id, old.title, old.summary); END",
        "CREATE TRIGGER items_fts_update AFTER UPDATE OF title, summary ON items BEGIN"
        " INSERT INTO items_fts(items_fts, rowid, title, summary) VALUES ('delete', old.id, old.title, old.summary);"
        " INSERT INTO items_fts(rowid, title, summary) VALUES (new.id, new.title, new.summary); END",
    ):
        db.execute(sql)


# Append only; never edit one that has shipped.
_MIGRATIONS = (_migration_001_initial,)
SCHEMA_VERSION = len(_MIGRATIONS)


# The schema every migration above leaves in a new database, as sqlite-utils
# writes it (sqlite_master's text, in its order), for creating a NEW file
# without importing sqlite-utils and letting it inspect an empty database: a
# cold `talkwatch poll` waited ~0.1 s for that before its first fetch.
# tests/test_store.py checks it matches what the migrations build, and asks
# for a refresh once a migration is added (until then _FRESH_SCHEMA_VERSION no
# longer matches and new files simply go through sqlite-utils).
_FRESH_SCHEMA_VERSION = 1
_FRESH_SCHEMA = (
    'CREATE TABLE "_sqlite_migrations" (\n   "id" INTEGER PRIMARY KEY,\n   "migration_set" TEXT,\n   "name" TEXT,\n'
    '   "applied_at" TEXT\n)',
    'CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"\n    ON "_sqlite_migrations" ("migration_set", "name")',
    'CREATE TABLE "feeds" (\n   "name" TEXT PRIMARY KEY,\n   "url" TEXT NOT NULL,\n   "etag" TEXT,\n   "last_modified" TEXT,\n'
    '   "body_hash" TEXT,\n   "last_status" INTEGER,\n   "outcome" TEXT,\n   "last_error" TEXT,\n   "warning" TEXT,\n'
    '   "moved_to" TEXT,\n   "gone" INTEGER NOT NULL DEFAULT 0,\n   "last_fetch_at" REAL,\n   "latency_ms" REAL,\n'
    '   "failures" INTEGER NOT NULL DEFAULT 0,\n   "next_check_at" REAL,\n   "min_interval" REAL\n)',
    'CREATE TABLE "items" (\n   "id" INTEGER PRIMARY KEY,\n   "feed" TEXT NOT NULL,\n   "key" TEXT NOT NULL,\n'
    '   "title" TEXT NOT NULL DEFAULT \'\',\n   "summary" TEXT NOT NULL DEFAULT \'\',\n   "link" TEXT NOT NULL DEFAULT \'\',\n'
    '   "author" TEXT NOT NULL DEFAULT \'\',\n   "published" REAL NOT NULL,\n   "first_seen" REAL NOT NULL,\n'
    '   "updated_at" REAL NOT NULL,\n   "read" INTEGER NOT NULL DEFAULT 0,\n   "starred" INTEGER NOT NULL DEFAULT 0,\n'
    '   "relevant" INTEGER NOT NULL DEFAULT 0,\n   "score" REAL NOT NULL DEFAULT 0.0,\n   "signal" TEXT NOT NULL DEFAULT \'none\',\n'
    '   "matched" TEXT NOT NULL DEFAULT \'[]\',\n   "actors" TEXT NOT NULL DEFAULT \'[]\',\n   "places" TEXT NOT NULL DEFAULT \'[]\'\n)',
    'CREATE UNIQUE INDEX "items_feed_key"\n    ON "items" ("feed", "key")',
    'CREATE INDEX "items_published"\n    ON "items" ("published" desc, "id" desc)',
    'CREATE INDEX "items_relevant_published"\n    ON "items" ("relevant", "published" desc, "id" desc)',
    'CREATE INDEX "items_feed_published"\n    ON "items" ("feed", "published" desc, "id" desc)',
    'CREATE INDEX "items_signal_published"\n    ON "items" ("signal", "published" desc, "id" desc)',
    "CREATE VIRTUAL TABLE items_fts USING fts5(title, summary, content='items', content_rowid='id',"
    " tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN"
    " INSERT INTO items_fts(rowid, title, summary) VALUES (new.id, new.title, new.summary); END",
    "CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN"
    " INSERT INTO items_fts(items_fts, rowid, title, summary) VALUES ('delete', old.id, old.title, old.summary); END",
    "CREATE TRIGGER items_fts_update AFTER UPDATE OF title, summary ON items BEGIN"
    " INSERT INTO items_fts(items_fts, rowid, title, summary) VALUES ('delete', old.id, old.title, old.summary);"
    " INSERT INTO items_fts(rowid, title, summary) VALUES (new.id, new.title, new.summary); END",
)


def _build_migrations():
    from sqlite_utils.migrations import Migrations

    migrations = Migrations(_MIGRATION_SET)
    for fn in _MIGRATIONS:
        migrations()(fn)
    return migrations


# --- conversions ------------------------------------------------------------


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, timezone.utc)


@lru_cache(maxsize=4096)
def _tuple(text: str) -> tuple[str, ...]:
    # Verdicts repeat the same few term lists; decoding each once matters
    # when a query turns 2,000 rows into StoredItems.
    return tuple(json.loads(text))


# An item row (tui.parse_worker.item_row): what upsert_rows takes and the
# staging table holds. first_seen and updated_at are the store's clock, added
# when the rows go into items.
_ROW_COLUMNS = "feed, key, title, summary, link, author, published, relevant, score, signal, matched, actors, places"
_ROW_LEN = len(_ROW_COLUMNS.split(", "))
_ITEM_COLUMNS = (
    "id, feed, key, title, summary, link, author, published, first_seen, read, starred,"
    " relevant, score, signal, matched, actors, places"
)


def _stored_item(row: tuple) -> StoredItem:
    # Positional arguments, in StoredItem's field order: a query builds up to
    # 2,000 of these per keystroke and keywords cost a third more.
    (id_, feed, key, title, summary, link, author, published, first_seen, read, starred,
     relevant, score, signal, matched, actors, places) = row
    return StoredItem(
        id_, feed, key, title, summary, link, author,
        datetime.fromtimestamp(published, timezone.utc),
        datetime.fromtimestamp(first_seen, timezone.utc),
        bool(read), bool(starred),
        _verdict(relevant, score, signal, matched, actors, places),
    )


@lru_cache(maxsize=8192)
def _verdict(relevant: int, score: float, signal: str, matched: str, actors: str, places: str) -> Verdict:
    # Most rows share a handful of verdicts (every irrelevant item has the
    # same one); Verdict is frozen, so sharing the objects is safe.
    return Verdict(bool(relevant), score, signal, _tuple(matched), _tuple(actors), _tuple(places))


_FEED_COLUMNS = (
    "name", "url", "etag", "last_modified", "body_hash", "last_status", "outcome", "last_error",
    "warning", "moved_to", "gone", "last_fetch_at", "latency_ms", "failures", "next_check_at", "min_interval",
)


def _feed_row(state: FeedState) -> tuple:
    return (
        state.name, state.url, state.etag, state.last_modified, state.body_hash, state.last_status,
        state.outcome, state.last_error, state.warning, state.moved_to, int(state.gone),
        _ts(state.last_fetch_at), state.latency_ms, state.failures, _ts(state.next_check_at), state.min_interval,
    )


_SAVE_FEED_SQL = (
    f"INSERT INTO feeds ({', '.join(_FEED_COLUMNS)}) VALUES ({', '.join('?' for _ in _FEED_COLUMNS)})"
    f" ON CONFLICT(name) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in _FEED_COLUMNS[1:])}"
)


def _feed_state(row: tuple) -> FeedState:
    (name, url, etag, last_modified, body_hash, last_status, outcome, last_error, warning, moved_to,
     gone, last_fetch_at, latency_ms, failures, next_check_at, min_interval) = row
    return FeedState(
        name=name, url=url, etag=etag, last_modified=last_modified, body_hash=body_hash,
        last_status=last_status, outcome=outcome, last_error=last_error, warning=warning,
        moved_to=moved_to, gone=bool(gone), last_fetch_at=_dt(last_fetch_at), latency_ms=latency_ms,
        failures=failures, next_check_at=_dt(next_check_at), min_interval=min_interval,
    )


# Same notion of a "word" as FTS5's unicode61 tokenizer: letters and digits;
# everything else (quotes, *, -, :, parentheses, underscores) separates words.
# One-letter words are left out: as a prefix "t" matches nearly every row,
# narrows nothing and costs a full index walk; the second keystroke narrows.
_WORD = re.compile(r"[^\W_]{2,}")


def fts_query(text: str) -> str | None:
    """User text as an FTS5 query that cannot inject syntax: every word a quoted
    prefix term, all AND-ed, so each keystroke narrows. None when there are no
    words (of two letters or more)."""
    words = _WORD.findall(text)
    if not words:
        return None
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words)


# --- the store --------------------------------------------------------------


class Store:
    def __init__(self, path: Path | str, *, clock: Clock = utc_now, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        self._clock = clock
        self._lock = threading.RLock()
        self._conn = self._open_readonly() if readonly else self._open_writer()

    # -- opening ---------------------------------------------------------------

    def _problem(self, what: str) -> StoreError:
        return StoreError(f"{self.path} {what}")

    def _corrupt(self) -> StoreError:
        return self._problem("is not a talkwatch database or is corrupt: move it aside or pass --db")

    def _connect(self, uri: str) -> sqlite3.Connection:
        conn = sqlite3.connect(
            uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        return conn

    def _uri(self, mode: str) -> str:
        from urllib.parse import quote

        return f"file:{quote(str(self.path.resolve()))}?mode={mode}"

    def _open_readonly(self) -> sqlite3.Connection:
        if not self.path.is_file():
            raise self._problem("does not exist: run `talkwatch poll` first, or pass --db")
        try:
            conn = self._connect(self._uri("ro"))
        except sqlite3.Error as exc:
            raise self._problem(f"cannot be opened for reading ({exc}): check its permissions") from exc
        try:
            version = self._check_schema(conn)
            if version < SCHEMA_VERSION:
                raise self._problem("uses an older schema: open it once with talkwatch (not read-only) to upgrade it")
        except BaseException:
            conn.close()
            raise
        return conn

    def _open_writer(self) -> sqlite3.Connection:
        if self.path.exists() and not self.path.is_file():
            raise self._problem("is not a file: pass --db with a file path")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._problem(f"cannot be created ({exc.strerror}): pass --db with a writable location") from exc
        # WAL needs to write the file and create -wal/-shm beside it; say so
        # now rather than fail on the first poll.
        if self.path.exists() and not os.access(self.path, os.R_OK | os.W_OK):
            raise self._problem("is not writable: check its permissions or pass --db")
        if not os.access(self.path.parent, os.W_OK | os.X_OK):
            raise self._problem(f"is in a directory talkwatch cannot write to ({self.path.parent}): pass --db")
        try:
            conn = self._connect(self._uri("rwc"))
        except sqlite3.Error as exc:
            raise self._problem(f"cannot be opened ({exc}): check the permissions or pass --db") from exc
        try:
            # Everything up to here only read the file; nothing is written to
            # it until we know it is ours and not from a newer version.
            version = self._check_schema(conn)
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.execute("PRAGMA foreign_keys = ON")
                if version < SCHEMA_VERSION:
                    self._migrate(conn)
                conn.execute("PRAGMA temp_store = MEMORY")
                conn.execute(f"CREATE TEMP TABLE staged_items ({_ROW_COLUMNS})")
                conn.execute(
                    "CREATE TEMP TABLE staged_updates (title, summary, link, author, published, updated_at,"
                    " relevant, score, signal, matched, actors, places, id)"
                )
            except sqlite3.OperationalError as exc:
                if "readonly" in str(exc) or "read-only" in str(exc) or "unable to open" in str(exc):
                    raise self._problem(f"is not writable ({exc}): check its permissions or pass --db") from exc
                raise self._problem(f"could not be prepared ({exc})") from exc
        except BaseException:
            conn.close()
            raise
        return conn

    def _check_schema(self, conn: sqlite3.Connection) -> int:
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise self._problem("is locked by another program: close it and retry") from exc
            raise self._corrupt() from exc
        if version > SCHEMA_VERSION:
            raise self._problem(
                f"was written by a newer talkwatch (schema {version}, this one knows {SCHEMA_VERSION}):"
                " upgrade talkwatch, or pass --db to use another file"
            )
        if version == 0 and tables:
            raise self._corrupt()  # someone else's SQLite file: do not build ours into it
        if version > 0 and not {"items", "feeds", "items_fts"} <= tables:
            raise self._corrupt()
        return version

    def _migrate(self, conn: sqlite3.Connection) -> None:
        # One IMMEDIATE transaction around the whole run: a second process
        # opening the same new file waits, then finds nothing left to do.
        # sqlite-utils nests its own transactions as savepoints inside it.
        conn.execute("BEGIN IMMEDIATE")
        try:
            if not self._create_fresh(conn):
                self._run_migrations(conn)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _create_fresh(self, conn: sqlite3.Connection) -> bool:
        """In an empty database, the current schema from the snapshot. -> done?"""
        if _FRESH_SCHEMA_VERSION != SCHEMA_VERSION or conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            return False
        for sql in _FRESH_SCHEMA:
            conn.execute(sql)
        conn.executemany(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES (?, ?, ?)",
            [(_MIGRATION_SET, fn.__name__, str(self._clock())) for fn in _MIGRATIONS],
        )
        return True

    def _run_migrations(self, conn: sqlite3.Connection) -> None:
        from sqlite_utils import Database

        migrations = _build_migrations()
        db = Database(conn, execute_plugins=False)
        known = {fn.__name__ for fn in _MIGRATIONS}
        applied = {m.name for m in migrations.applied(db)}
        if applied - known:
            raise self._problem(
                "was written by a newer talkwatch (unknown migrations "
                f"{', '.join(sorted(applied - known))}): upgrade talkwatch, or pass --db to use another file"
            )
        migrations.apply(db)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                if not self.readonly:
                    try:
                        # Keeps the planner's statistics fresh; the limit
                        # bounds the work on a large database to milliseconds.
                        self._conn.execute("PRAGMA analysis_limit = 400")
                        self._conn.execute("PRAGMA optimize")
                    except sqlite3.Error:
                        pass
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- plumbing ----------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise StoreError(f"{self.path}: the store is closed")
            yield self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        if self.readonly:
            raise StoreError(f"{self.path} was opened read-only: writes go through the writer Store")
        with self._lock:
            conn = self._conn
            if conn is None:
                raise StoreError(f"{self.path}: the store is closed")
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                else:
                    conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if "readonly" in str(exc) or "read-only" in str(exc):
                    raise self._problem(f"is not writable ({exc}): check its permissions or pass --db") from exc
                raise

    # -- writes ------------------------------------------------------------------

    def upsert_items(self, feed: str, pairs: Sequence[tuple[Item, Verdict]]) -> tuple[int, int]:
        """Insert new keys, update items whose title/summary/link changed (verdict
        too; read, starred and first_seen kept), ignore identical ones. -> (new, updated)"""
        return self.upsert_many([(feed, pairs)])[0]

    def upsert_many(self, batches: Sequence[tuple[str, Sequence[tuple[Item, Verdict]]]]) -> list[tuple[int, int]]:
        """``upsert_items`` for several feeds in ONE transaction: all of them are
        stored or, on any error, none. -> (new, updated) per batch, in order.

        One transaction and one staged INSERT ... SELECT for a whole poll cycle
        instead of one per feed: each commit and each FTS5 flush has a fixed cost."""
        return self.upsert_rows([(feed, [item_row(item, verdict) for item, verdict in pairs]) for feed, pairs in batches])

    def upsert_rows(self, batches: Sequence[tuple[str, Sequence[tuple]]]) -> list[tuple[int, int]]:
        """``upsert_many`` for items already shaped as rows (``tui.parse_worker.item_row``,
        which the parse workers build): the poller's path, with no conversion left
        for the process that holds the event loop. Each row's feed must be its batch's."""
        prepared: list[tuple[str, Sequence[tuple]]] = []
        for feed, rows in batches:
            for row in rows:
                if len(row) != _ROW_LEN or row[0] != feed:
                    raise ValueError(f"not an item row of feed {feed!r}: {row[:2]!r}")
            if len({row[1] for row in rows}) != len(rows):
                firsts: dict[str, tuple] = {}
                for row in rows:
                    firsts.setdefault(row[1], row)  # first wins, as in parse
                rows = list(firsts.values())
            prepared.append((feed, rows))
        counts = [(0, 0)] * len(prepared)
        if not any(rows for _, rows in prepared):
            return counts
        now = self._clock().timestamp()
        with self._write() as conn:
            inserts: list[tuple] = []
            updates: list[tuple] = []
            staged_feeds: set[str] = set()
            for index, (feed, rows) in enumerate(prepared):
                if not rows:
                    continue
                if feed in staged_feeds:
                    # The same feed twice: its first rows must be in items before
                    # the second lookup, or a repeated key would be inserted twice.
                    self._apply_staged(conn, inserts, updates, now)
                    inserts, updates, staged_feeds = [], [], set()
                staged_feeds.add(feed)
                new, updated = len(inserts), len(updates)
                self._stage(conn, feed, rows, now, inserts, updates)
                counts[index] = (len(inserts) - new, len(updates) - updated)
            self._apply_staged(conn, inserts, updates, now)
        return counts

    @staticmethod
    def _stage(conn: sqlite3.Connection, feed: str, rows: Sequence[tuple], now: float,
               inserts: list[tuple], updates: list[tuple]) -> None:
        """Sort one feed's rows (keys unique) into rows to insert and rows to update."""
        existing = {
            key: (id_, title, summary, link)
            for key, id_, title, summary, link in conn.execute(
                "SELECT key, id, title, summary, link FROM items"
                " WHERE feed = ? AND key IN (SELECT value FROM json_each(?))",
                (feed, json.dumps([row[1] for row in rows], ensure_ascii=False)),
            )
        }
        if not existing:  # a new feed, or every item new: the common cold case
            inserts.extend(rows)
            return
        for row in rows:
            old = existing.get(row[1])
            if old is None:
                inserts.append(row)
            elif (old[1], old[2], old[3]) != row[2:5]:
                updates.append((*row[2:7], now, *row[7:], old[0]))

    @staticmethod
    def _apply_staged(conn: sqlite3.Connection, inserts: list[tuple], updates: list[tuple], now: float) -> None:
        # Rows go through TEMP staging tables and then into items in one
        # statement each: FTS5 flushes its pending index data at every
        # statement savepoint, so row-by-row inserts through the sync
        # triggers cost ~5x more than one INSERT ... SELECT.
        if inserts:
            conn.executemany(f"INSERT INTO temp.staged_items VALUES ({', '.join('?' * _ROW_LEN)})", inserts)
            conn.execute(
                "INSERT INTO items (feed, key, title, summary, link, author, published, first_seen, updated_at,"
                " relevant, score, signal, matched, actors, places) SELECT feed, key, title, summary, link, author,"
                " published, ?1, ?1, relevant, score, signal, matched, actors, places FROM temp.staged_items"
                " ORDER BY rowid",
                (now,),
            )
            conn.execute("DELETE FROM temp.staged_items")
        if updates:
            conn.executemany(f"INSERT INTO temp.staged_updates VALUES ({', '.join('?' * 13)})", updates)
            conn.execute(
                "UPDATE items SET title = s.title, summary = s.summary, link = s.link, author = s.author,"
                " published = s.published, updated_at = s.updated_at, relevant = s.relevant, score = s.score,"
                " signal = s.signal, matched = s.matched, actors = s.actors, places = s.places"
                " FROM temp.staged_updates AS s WHERE items.id = s.id"
            )
            conn.execute("DELETE FROM temp.staged_updates")

    def save_feed_state(self, state: FeedState) -> None:
        self.save_feed_states([state])

    def save_feed_states(self, states: Iterable[FeedState]) -> None:
        """Several feeds' states in one transaction (a poll cycle saves 200 at once)."""
        rows = [_feed_row(state) for state in states]
        if not rows:
            return
        with self._write() as conn:
            conn.executemany(_SAVE_FEED_SQL, rows)

    def set_read(self, ids: Iterable[int], read: bool = True) -> None:
        flag = int(read)
        rows = [(flag, int(i)) for i in ids]
        if not rows:
            return
        with self._write() as conn:
            conn.executemany("UPDATE items SET read = ? WHERE id = ?", rows)

    def set_starred(self, item_id: int, starred: bool) -> None:
        with self._write() as conn:
            conn.execute("UPDATE items SET starred = ? WHERE id = ?", (int(starred), int(item_id)))

    def set_verdicts(self, changes: Iterable[tuple[int, Verdict]]) -> None:
        rows = [(*_verdict_columns(v), int(item_id)) for item_id, v in changes]
        if not rows:
            return
        with self._write() as conn:
            conn.executemany(
                "UPDATE items SET relevant = ?, score = ?, signal = ?, matched = ?, actors = ?, places = ?"
                " WHERE id = ?",
                rows,
            )

    def prune(self, retention_seconds: float) -> int:
        """Delete items older than the retention, except starred ones. -> how many.

        "Older" means both published and first seen before the cutoff: an old
        story that a feed still carries would otherwise be deleted and
        re-inserted as "new" on every poll."""
        cutoff = self._clock().timestamp() - retention_seconds
        with self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM items WHERE published < ? AND first_seen < ? AND starred = 0", (cutoff, cutoff)
            )
            return cursor.rowcount

    # -- reads -------------------------------------------------------------------

    def feed_state(self, name: str) -> FeedState | None:
        with self._read() as conn:
            row = conn.execute(f"SELECT {', '.join(_FEED_COLUMNS)} FROM feeds WHERE name = ?", (name,)).fetchone()
        return None if row is None else _feed_state(row)

    def feed_states(self) -> dict[str, FeedState]:
        with self._read() as conn:
            rows = conn.execute(f"SELECT {', '.join(_FEED_COLUMNS)} FROM feeds ORDER BY name").fetchall()
        return {row[0]: _feed_state(row) for row in rows}

    def query(self, q: ItemQuery) -> list[StoredItem]:
        """Items matching every filter, newest first (by published)."""
        where: list[str] = []
        params: list[object] = []
        match = fts_query(q.text) if q.text else None
        if match is not None:
            where.append(self._text_condition(match))
            params.append(match)
        if q.feeds:
            where.append(f"feed IN ({', '.join('?' for _ in q.feeds)})")
            params.extend(q.feeds)
        if q.signals:
            where.append(f"signal IN ({', '.join('?' for _ in q.signals)})")
            params.extend(q.signals)
        if q.since is not None:
            where.append("published >= ?")
            params.append(q.since.timestamp())
        if q.relevant_only:
            where.append("relevant = 1")
        if q.unread_only:
            where.append("read = 0")
        if q.starred_only:
            where.append("starred = 1")
        sql = f"SELECT {_ITEM_COLUMNS} FROM items"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY published DESC, id DESC"
        if q.limit is not None:
            sql += " LIMIT ?"
            params.append(max(0, int(q.limit)))
        with self._read() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [_stored_item(row) for row in rows]

    def _text_condition(self, match: str) -> str:
        # Two plans, chosen by how many rows the words match (counting them is
        # cheap: FTS5 prefix indexes). Few: fetch those rows by id and sort
        # them. Many: walk the newest-first index and test each row against
        # the matched set, stopping at the LIMIT. SQLite's planner always
        # picks the first, which costs ~5 us per matched row; the unary "+"
        # makes it pick the second.
        with self._read() as conn:
            count = conn.execute("SELECT count(*) FROM items_fts WHERE items_fts MATCH ?", (match,)).fetchone()[0]
        target = "items.id" if count <= _FEW_MATCHES else "+items.id"
        return f"{target} IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)"

    def iter_items(self) -> Iterator[StoredItem]:
        """Every item, oldest id first, a page at a time (the lock is not held
        between pages, so the caller may write verdicts as it goes)."""
        last_id = -1
        while True:
            with self._read() as conn:
                rows = conn.execute(
                    f"SELECT {_ITEM_COLUMNS} FROM items WHERE id > ? ORDER BY id LIMIT ?", (last_id, _PAGE)
                ).fetchall()
            if not rows:
                return
            for row in rows:
                yield _stored_item(row)
            last_id = rows[-1][0]

    def feed_counts(self, since: datetime) -> dict[str, tuple[int, int]]:
        """feed -> (items, relevant items) published since ``since``."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT feed, count(*), total(relevant) FROM items WHERE published >= ? GROUP BY feed",
                (since.timestamp(),),
            ).fetchall()
        return {feed: (count, int(relevant)) for feed, count, relevant in rows}

    def item_count(self) -> int:
        with self._read() as conn:
            return conn.execute("SELECT count(*) FROM items").fetchone()[0]
