"""store.py: schema, upserts, FTS, filters, retention, feed state, refusal of foreign files."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timedelta, timezone

import pytest

from conftest import NOW, make_item, make_verdict
from tui.models import FeedOutcome, FeedState, Verdict
from tui.store import SCHEMA_VERSION, ItemQuery, Store, StoreError, fts_query


def titles(items) -> list[str]:
    return [i.title for i in items]


# --- opening ----------------------------------------------------------------------


def test_a_new_database_gets_the_whole_schema_in_wal_mode(tmp_path):
    path = tmp_path / "deep" / "dir" / "talkwatch.db"
    store = Store(path)
    try:
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert {"items", "feeds", "items_fts", "_sqlite_migrations", "items_published"} <= names
        applied = conn.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = 'talkwatch'").fetchall()
        assert len(applied) == SCHEMA_VERSION
        conn.close()
    finally:
        store.close()


def test_reopening_is_idempotent_and_keeps_data(tmp_path, make_item, make_verdict):
    path = tmp_path / "t.db"
    with Store(path) as store:
        store.upsert_items("F", [(make_item(feed="F"), make_verdict())])
    with Store(path) as store:
        assert store.item_count() == 1
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def _file_bytes(path):
    return {p.name: p.read_bytes() for p in sorted(path.parent.iterdir())}


def test_a_database_from_a_newer_version_is_refused_untouched(tmp_path):
    path = tmp_path / "t.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = _file_bytes(path)
    with pytest.raises(StoreError) as caught:
        Store(path)
    message = str(caught.value)
    assert str(path) in message and "newer" in message and "--db" in message
    assert _file_bytes(path) == before


@pytest.mark.parametrize(
    "content",
    [b"this is not a database, just some text\n" * 50, bytes(range(256)) * 40, b"SQLite format 3\x00" + b"\xff" * 4000],
)
def test_a_corrupt_file_is_refused_and_left_byte_identical(tmp_path, content):
    path = tmp_path / "t.db"
    path.write_bytes(content)
    for readonly in (False, True):
        with pytest.raises(StoreError, match="is not a talkwatch database or is corrupt: move it aside or pass --db"):
            Store(path, readonly=readonly)
    assert path.read_bytes() == content
    assert [p.name for p in tmp_path.iterdir()] == ["t.db"]  # no -wal/-shm/-journal left behind


def test_someone_elses_sqlite_file_is_refused_untouched(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a talkwatch database"):
        Store(path)
    assert path.read_bytes() == before


def test_an_unwritable_location_is_a_store_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="--db"):
        Store(blocker / "talkwatch.db")
    with pytest.raises(StoreError, match="is not a file"):
        Store(tmp_path)  # a directory


def test_readonly_refuses_a_missing_file_and_writes(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        Store(tmp_path / "missing.db", readonly=True)
    assert not (tmp_path / "missing.db").exists()
    Store(tmp_path / "t.db").close()
    with Store(tmp_path / "t.db", readonly=True) as reader:
        with pytest.raises(StoreError, match="read-only"):
            reader.set_starred(1, True)


def test_a_readonly_store_sees_the_writers_committed_rows(tmp_path):
    path = tmp_path / "t.db"
    with Store(path, clock=lambda: NOW) as writer:
        writer.upsert_items("F", [(make_item(feed="F", title="first"), make_verdict())])
        with Store(path, readonly=True) as reader:
            assert titles(reader.query(ItemQuery())) == ["first"]
            writer.upsert_items("F", [(make_item(feed="F", title="second"), make_verdict())])
            assert sorted(titles(reader.query(ItemQuery()))) == ["first", "second"]
            assert reader.item_count() == 2


def test_writes_from_a_worker_thread(fresh_store):
    errors: list[BaseException] = []

    def work():
        try:
            fresh_store.upsert_items("F", [(make_item(feed="F"), make_verdict()) for _ in range(20)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert not errors
    assert fresh_store.item_count() == 20


def test_a_failed_write_rolls_back(fresh_store):
    fresh_store.upsert_items("F", [(make_item(feed="F", key="a"), make_verdict())])
    with pytest.raises(RuntimeError):
        with fresh_store._write() as conn:
            conn.execute("DELETE FROM items")
            raise RuntimeError("boom")
    assert fresh_store.item_count() == 1
    fresh_store.upsert_items("F", [(make_item(feed="F", key="b"), make_verdict())])  # connection still usable
    assert fresh_store.item_count() == 2


# --- upsert -----------------------------------------------------------------------


def test_upsert_counts_new_updated_and_unchanged(fresh_store):
    a, b = make_item(feed="F", key="a"), make_item(feed="F", key="b")
    assert fresh_store.upsert_items("F", [(a, make_verdict()), (b, make_verdict())]) == (2, 0)
    assert fresh_store.upsert_items("F", [(a, make_verdict()), (b, make_verdict())]) == (0, 0)
    c = make_item(feed="F", key="c")
    changed = make_item(feed="F", key="b", title="Changed title")
    assert fresh_store.upsert_items("F", [(a, make_verdict()), (changed, make_verdict()), (c, make_verdict())]) == (1, 1)
    assert fresh_store.item_count() == 3


def test_same_key_in_two_feeds_is_two_items(fresh_store):
    fresh_store.upsert_items("F", [(make_item(feed="F", key="k"), make_verdict())])
    assert fresh_store.upsert_items("G", [(make_item(feed="G", key="k"), make_verdict())]) == (1, 0)


def test_duplicate_keys_in_one_batch_insert_once(fresh_store):
    first, second = make_item(feed="F", key="k", title="one"), make_item(feed="F", key="k", title="two")
    assert fresh_store.upsert_items("F", [(first, make_verdict()), (second, make_verdict())]) == (1, 0)
    assert titles(fresh_store.query(ItemQuery())) == ["one"]


def test_upsert_many_counts_each_feed_as_upsert_items_would(tmp_path):
    """One transaction for several feeds gives the rows, ids and counts of one call per feed."""
    shared = make_item(feed="F", key="shared")
    rounds = [
        [("F", [shared, make_item(feed="F", key="f1")]), ("G", [make_item(feed="G", key="shared")]), ("H", [])],
        [("F", [shared, make_item(feed="F", key="f2")]),
         ("G", [make_item(feed="G", key="shared", title="G retitled")])],
    ]
    results = {}
    for mode in ("one-by-one", "many"):
        with Store(tmp_path / f"{mode}.db", clock=lambda: NOW) as store:
            counts = []
            for batches in rounds:
                pairs = [(feed, [(item, make_verdict("deal")) for item in items]) for feed, items in batches]
                if mode == "many":
                    counts.append(store.upsert_many(pairs))
                else:
                    counts.append([store.upsert_items(feed, p) for feed, p in pairs])
            rows = [(i.id, i.feed, i.key, i.title, i.verdict) for i in store.query(ItemQuery())]
            results[mode] = (counts, sorted(rows))
    assert results["many"] == results["one-by-one"]
    assert results["many"][0] == [[(2, 0), (1, 0), (0, 0)], [(1, 0), (0, 1)]]


def test_upsert_many_with_a_feed_twice_stores_a_repeated_key_once(fresh_store):
    first, again = make_item(feed="F", key="k", title="first"), make_item(feed="F", key="k", title="again")
    counts = fresh_store.upsert_many([("F", [(first, make_verdict())]), ("F", [(again, make_verdict())])])
    assert counts == [(1, 0), (0, 1)]
    assert titles(fresh_store.query(ItemQuery())) == ["again"]


def test_upsert_many_is_all_or_nothing(fresh_store, monkeypatch):
    fresh_store.upsert_items("F", [(make_item(feed="F", key="old"), make_verdict())])
    real_stage = Store._stage
    calls = []

    def stage_then_fail(conn, feed, batch, now, inserts, updates):
        calls.append(feed)
        if feed == "G":
            raise sqlite3.OperationalError("database or disk is full")
        real_stage(conn, feed, batch, now, inserts, updates)

    monkeypatch.setattr(Store, "_stage", staticmethod(stage_then_fail))
    with pytest.raises(sqlite3.OperationalError, match="full"):
        fresh_store.upsert_many([("F", [(make_item(feed="F"), make_verdict())]),
                                 ("G", [(make_item(feed="G"), make_verdict())])])
    assert calls == ["F", "G"]
    assert fresh_store.item_count() == 1  # F's staged row went with the rollback


def test_a_title_change_updates_in_place_keeping_flags_and_first_seen(tmp_path):
    clock_now = [NOW]
    with Store(tmp_path / "t.db", clock=lambda: clock_now[0]) as store:
        original = make_item(feed="F", key="k", title="Talks stall in Cairo")
        store.upsert_items("F", [(original, make_verdict("stalled", matched=("stall",)))])
        [stored] = store.query(ItemQuery())
        store.set_read([stored.id])
        store.set_starred(stored.id, True)
        clock_now[0] = NOW + timedelta(hours=1)
        revised = make_item(feed="F", key="k", title="Talks collapse in Cairo", published=original.published)
        assert store.upsert_items("F", [(revised, make_verdict("collapse", matched=("collapse",)))]) == (0, 1)
        [after] = store.query(ItemQuery())
        assert after.id == stored.id
        assert after.title == "Talks collapse in Cairo"
        assert after.verdict.signal == "collapse" and after.verdict.matched == ("collapse",)
        assert after.read and after.starred
        assert after.first_seen == NOW
        assert store.item_count() == 1


def test_an_identical_reupsert_does_not_touch_the_verdict(fresh_store):
    item = make_item(feed="F")
    fresh_store.upsert_items("F", [(item, make_verdict("deal"))])
    fresh_store.upsert_items("F", [(item, make_verdict("stalled"))])
    assert fresh_store.query(ItemQuery())[0].signal == "deal"


def test_item_and_verdict_round_trip(fresh_store):
    published = datetime(2026, 2, 27, 8, 15, 30, 123456, tzinfo=timezone.utc)
    item = make_item(feed="F", key="k", title="Qatar: talks \u201cadvanced\u201d", summary="S", link="https://x.example/1",
                     author="Desk", published=published)
    verdict = Verdict(relevant=True, score=3.25, signal="progress", matched=("talks", "advanced"),
                      actors=("Qatar", "Hamas"), places=("Doha",))
    fresh_store.upsert_items("F", [(item, verdict)])
    [stored] = fresh_store.query(ItemQuery())
    assert (stored.feed, stored.key, stored.title, stored.summary, stored.link, stored.author) == (
        "F", "k", item.title, "S", "https://x.example/1", "Desk")
    assert stored.published == published and stored.published.tzinfo is not None
    assert stored.first_seen == NOW
    assert stored.verdict == verdict
    assert not stored.read and not stored.starred


def test_ten_thousand_items_in_one_upsert(fresh_store):
    # Speed is measured by bench/bench_store.py; this checks the batch path is right at size.
    pairs = [(make_item(feed="F", title=f"Hostage talks round {i} in Doha", summary="Mediators met " * 10), make_verdict("progress"))
             for i in range(10_000)]
    assert fresh_store.upsert_items("F", pairs) == (10_000, 0)
    assert fresh_store.upsert_items("F", pairs) == (0, 0)
    assert fresh_store.item_count() == 10_000


# --- FTS ----------------------------------------------------------------------------


def test_text_search_matches_prefixes_and_narrows_as_words_are_added(fresh_store):
    fresh_store.upsert_items("F", [
        (make_item(feed="F", title="Hostage talks resume in Doha"), make_verdict("progress")),
        (make_item(feed="F", title="Hostages released at Rafah"), make_verdict("release")),
        (make_item(feed="F", title="Football results", summary="The Doha derby"), make_verdict()),
    ])
    assert len(fresh_store.query(ItemQuery(text="host"))) == 2
    assert titles(fresh_store.query(ItemQuery(text="host doh"))) == ["Hostage talks resume in Doha"]
    assert titles(fresh_store.query(ItemQuery(text="derby"))) == ["Football results"]  # summary is searched
    assert fresh_store.query(ItemQuery(text="hostage cairo")) == []
    assert len(fresh_store.query(ItemQuery(text="DOHA"))) == 2  # case-insensitive


def test_fts_follows_updates_and_deletes(fresh_store):
    item = make_item(feed="F", key="k", title="Truce talks in Cairo", published=NOW - timedelta(days=100))
    fresh_store.upsert_items("F", [(item, make_verdict())])
    fresh_store.upsert_items("F", [(make_item(feed="F", key="k", title="Ceasefire agreed in Doha",
                                               published=item.published), make_verdict())])
    assert fresh_store.query(ItemQuery(text="cairo")) == []
    assert titles(fresh_store.query(ItemQuery(text="ceasefire"))) == ["Ceasefire agreed in Doha"]
    conn = fresh_store._conn
    conn.execute("UPDATE items SET first_seen = ?", ((NOW - timedelta(days=100)).timestamp(),))
    assert fresh_store.prune(30 * 86400) == 1
    assert fresh_store.query(ItemQuery(text="ceasefire")) == []
    # The external-content index agrees with its table.
    conn.execute("INSERT INTO items_fts(items_fts, rank) VALUES ('integrity-check', 1)")


@pytest.mark.parametrize(
    "text", ['"', '""', "*", "talks*", "NEAR(", "NEAR(talks doha)", "OR", "talks OR", "-", "-talks", ":", "title:talks",
             "^talks", "(", ")", "AND NOT", "'", "talks\"doha", "\x00", "{title}: x", "a", "  "]
)
def test_fts_syntax_in_user_text_never_raises(fresh_store, text):
    fresh_store.upsert_items("F", [(make_item(feed="F", title="Talks in Doha"), make_verdict())])
    fresh_store.query(ItemQuery(text=text))  # must not raise


def test_fts_operators_are_literal_words(fresh_store):
    fresh_store.upsert_items("F", [
        (make_item(feed="F", title="Talks in Doha"), make_verdict()),
        (make_item(feed="F", title="Talks OR else, near the border"), make_verdict()),
        (make_item(feed="F", title="Title: not here"), make_verdict()),
    ])
    # "OR" and "NEAR" are searched as words, not operators
    assert titles(fresh_store.query(ItemQuery(text="talks OR"))) == ["Talks OR else, near the border"]
    assert titles(fresh_store.query(ItemQuery(text="NEAR(talks"))) == ["Talks OR else, near the border"]
    # "title:" is not a column filter
    assert titles(fresh_store.query(ItemQuery(text="title:here"))) == ["Title: not here"]
    # "-" does not negate
    assert len(fresh_store.query(ItemQuery(text="-talks"))) == 2
    # punctuation alone filters nothing
    assert len(fresh_store.query(ItemQuery(text='"*'))) == 3


def test_fts_query_quotes_every_word():
    assert fts_query('talks "doha" NEAR(x') == '"talks"* "doha"* "NEAR"*'
    assert fts_query("a - *") is None
    assert fts_query("Gaza's") == '"Gaza"*'


def test_text_search_picks_the_same_rows_either_way(fresh_store, monkeypatch):
    # Many matches take the scan plan, few the lookup plan; both must agree.
    import tui.store as store_module

    pairs = [(make_item(feed="F", title=f"Hostage talks day {i}" if i % 3 else f"Other news {i}"), make_verdict())
             for i in range(60)]
    fresh_store.upsert_items("F", pairs)
    expected = fresh_store.query(ItemQuery(text="hostage", limit=15))
    monkeypatch.setattr(store_module, "_FEW_MATCHES", 0)
    assert fresh_store.query(ItemQuery(text="hostage", limit=15)) == expected
    assert len(expected) == 15
    assert [i.published for i in expected] == sorted((i.published for i in expected), reverse=True)


# --- query filters --------------------------------------------------------------------


@pytest.fixture
def filled(fresh_store):
    rows = [
        ("BBC", "Deal reached in Doha", "deal", 1),
        ("BBC", "Football scores", "none", 2),
        ("Wire", "Talks stall in Cairo", "stalled", 30),
        ("Wire", "Hostages released", "release", 50),
        ("Post", "Talks collapse", "collapse", 24 * 60 + 5),
    ]
    for feed, title, signal, minutes in rows:
        fresh_store.upsert_items(feed, [(make_item(feed=feed, title=title, published=NOW - timedelta(minutes=minutes)),
                                         make_verdict(signal))])
    return fresh_store


def test_query_is_newest_first(filled):
    assert titles(filled.query(ItemQuery())) == [
        "Deal reached in Doha", "Football scores", "Talks stall in Cairo", "Hostages released", "Talks collapse"]


def test_query_filters(filled):
    assert titles(filled.query(ItemQuery(feeds=("Wire",)))) == ["Talks stall in Cairo", "Hostages released"]
    assert titles(filled.query(ItemQuery(feeds=("Wire", "Post")))) == [
        "Talks stall in Cairo", "Hostages released", "Talks collapse"]
    assert titles(filled.query(ItemQuery(signals=("stalled", "collapse")))) == ["Talks stall in Cairo", "Talks collapse"]
    assert titles(filled.query(ItemQuery(since=NOW - timedelta(hours=1)))) == [
        "Deal reached in Doha", "Football scores", "Talks stall in Cairo", "Hostages released"]
    assert "Football scores" not in titles(filled.query(ItemQuery(relevant_only=True)))
    assert len(filled.query(ItemQuery(relevant_only=True))) == 4
    assert titles(filled.query(ItemQuery(limit=2))) == ["Deal reached in Doha", "Football scores"]
    assert len(filled.query(ItemQuery(limit=None))) == 5
    assert titles(filled.query(ItemQuery(text="talks", feeds=("Post",)))) == ["Talks collapse"]


def test_read_and_starred_flags_filter(filled):
    items = filled.query(ItemQuery())
    filled.set_read([items[0].id, items[1].id])
    filled.set_starred(items[2].id, True)
    assert titles(filled.query(ItemQuery(unread_only=True))) == ["Talks stall in Cairo", "Hostages released", "Talks collapse"]
    assert titles(filled.query(ItemQuery(starred_only=True))) == ["Talks stall in Cairo"]
    filled.set_read([items[0].id], read=False)
    filled.set_starred(items[2].id, False)
    assert len(filled.query(ItemQuery(unread_only=True))) == 4
    assert filled.query(ItemQuery(starred_only=True)) == []
    filled.set_read([])  # nothing to do is fine


def test_feed_counts_and_item_count(filled):
    assert filled.feed_counts(NOW - timedelta(hours=24)) == {"BBC": (2, 1), "Wire": (2, 2)}
    assert filled.feed_counts(NOW - timedelta(days=2))["Post"] == (1, 1)
    assert filled.item_count() == 5


def test_set_verdicts_and_iter_items(filled):
    every = list(filled.iter_items())
    assert len(every) == 5 and [i.id for i in every] == sorted(i.id for i in every)
    football = next(i for i in every if i.title == "Football scores")
    new = Verdict(relevant=True, score=1.5, signal="progress", matched=("x",), actors=("Egypt",), places=("Cairo",))
    filled.set_verdicts([(football.id, new)])
    assert next(i for i in filled.iter_items() if i.id == football.id).verdict == new
    assert titles(filled.query(ItemQuery(signals=("progress",)))) == ["Football scores"]


def test_iter_items_pages_through_more_than_one_page(fresh_store, monkeypatch):
    import tui.store as store_module

    monkeypatch.setattr(store_module, "_PAGE", 7)
    fresh_store.upsert_items("F", [(make_item(feed="F"), make_verdict()) for _ in range(30)])
    seen = [i.id for i in fresh_store.iter_items()]
    assert len(seen) == 30 and len(set(seen)) == 30


# --- retention --------------------------------------------------------------------------


def test_prune_deletes_old_items_but_keeps_starred_and_recent(tmp_path):
    clock_now = [NOW - timedelta(days=100)]
    with Store(tmp_path / "t.db", clock=lambda: clock_now[0]) as store:
        old = [make_item(feed="F", title=f"old {i}", published=NOW - timedelta(days=100)) for i in range(3)]
        store.upsert_items("F", [(i, make_verdict()) for i in old])
        clock_now[0] = NOW
        store.upsert_items("F", [(make_item(feed="F", title="fresh", published=NOW - timedelta(days=1)), make_verdict()),
                                 (make_item(feed="F", title="old story, first seen today",
                                            published=NOW - timedelta(days=200)), make_verdict())])
        starred = next(i for i in store.query(ItemQuery()) if i.title == "old 1")
        store.set_starred(starred.id, True)
        assert store.prune(90 * 86400) == 2
        assert sorted(titles(store.query(ItemQuery()))) == ["fresh", "old 1", "old story, first seen today"]


# --- feed state ---------------------------------------------------------------------------


def test_feed_state_round_trips_every_field(fresh_store):
    full = FeedState(
        name="BBC", url="https://feeds.example/bbc.xml", etag='W/"abc"', last_modified="Sun, 01 Mar 2026 10:00:00 GMT",
        body_hash="ab" * 32, last_status=200, outcome=FeedOutcome.MOVED, last_error="timed out after 20 s",
        warning="malformed XML", moved_to="https://new.example/bbc.xml", gone=True,
        last_fetch_at=datetime(2026, 3, 1, 11, 59, 58, 123456, tzinfo=timezone.utc), latency_ms=123.456, failures=3,
        next_check_at=datetime(2026, 3, 1, 12, 5, 0, 1, tzinfo=timezone.utc), min_interval=900.0,
    )
    bare = FeedState(name="Wire", url="https://wire.example/rss")
    fresh_store.save_feed_state(full)
    fresh_store.save_feed_state(bare)
    assert fresh_store.feed_state("BBC") == full
    assert fresh_store.feed_state("Wire") == bare
    assert fresh_store.feed_state("nope") is None
    assert fresh_store.feed_states() == {"BBC": full, "Wire": bare}
    # saving again replaces, including back to None
    cleared = FeedState(name="BBC", url="https://feeds.example/bbc.xml")
    fresh_store.save_feed_state(cleared)
    assert fresh_store.feed_state("BBC") == cleared


def test_save_feed_states_writes_many_in_one_call(fresh_store):
    states = [FeedState(name=f"feed-{i}", url=f"https://feeds.example/{i}.xml", etag=f'"{i}"', failures=i)
              for i in range(50)]
    fresh_store.save_feed_states(states)
    fresh_store.save_feed_states([])
    assert fresh_store.feed_states() == {s.name: s for s in states}
    fresh_store.save_feed_states([FeedState(name="feed-3", url="https://moved.example/3.xml")])
    assert fresh_store.feed_state("feed-3") == FeedState(name="feed-3", url="https://moved.example/3.xml")
    assert len(fresh_store.feed_states()) == 50


def test_closed_store_says_so(tmp_path):
    store = Store(tmp_path / "t.db")
    store.close()
    store.close()  # twice is fine
    with pytest.raises(StoreError, match="closed"):
        store.item_count()


def test_a_file_without_write_permission_is_refused_untouched(tmp_path, monkeypatch):
    # Tests run as root here, where chmod does not bite; the check is os.access.
    import tui.store as store_module

    path = tmp_path / "t.db"
    Store(path).close()
    before = _file_bytes(path)
    real_access = store_module.os.access
    monkeypatch.setattr(store_module.os, "access", lambda p, mode: False if str(p) == str(path) else real_access(p, mode))
    with pytest.raises(StoreError, match="is not writable: check its permissions or pass --db"):
        Store(path)
    assert _file_bytes(path) == before


def test_arbitrary_user_text_never_breaks_the_query(tmp_path):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    with Store(tmp_path / "fuzz.db", clock=lambda: NOW) as store:
        store.upsert_items("F", [(make_item(feed="F", title="Talks in Doha \u00e9t\u00e9 \u05e9\u05dc\u05d5\u05dd 7"), make_verdict())])

        @settings(max_examples=300, deadline=None)
        @given(st.text(max_size=40))
        def check(text):
            store.query(ItemQuery(text=text))

        check()


def test_verdict_lists_are_written_as_json_dumps_writes_them():
    import json

    from hypothesis import given, strategies as st

    from tui.parse_worker import json_list as _json_list

    @given(st.lists(st.text(), max_size=5))
    def check(values):
        assert _json_list(tuple(values)) == (json.dumps(values, ensure_ascii=False) if values else "[]")

    check()


# --- fast paths of the cold poll --------------------------------------------------


def _schema(path) -> tuple:
    conn = sqlite3.connect(path)
    try:
        master = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name != 'sqlite_stat1' ORDER BY rowid"
        ).fetchall()
        applied = conn.execute("SELECT id, migration_set, name FROM _sqlite_migrations ORDER BY id").fetchall()
        fts = conn.execute("SELECT * FROM items_fts_config").fetchall()
        return master, applied, fts, conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def test_a_new_file_gets_exactly_the_schema_the_migrations_build(tmp_path, monkeypatch):
    import tui.store
    from sqlite_utils import Database

    assert tui.store._FRESH_SCHEMA_VERSION == SCHEMA_VERSION, "refresh _FRESH_SCHEMA after adding a migration"
    Store(tmp_path / "snapshot.db").close()
    monkeypatch.setattr(tui.store, "_FRESH_SCHEMA_VERSION", -1)  # the sqlite-utils path
    Store(tmp_path / "migrated.db").close()
    assert _schema(tmp_path / "snapshot.db") == _schema(tmp_path / "migrated.db")
    conn = sqlite3.connect(tmp_path / "snapshot.db")
    try:  # sqlite-utils sees every migration as applied
        assert tui.store._build_migrations().pending(Database(conn)) == []
    finally:
        conn.close()


def test_rows_of_another_feed_are_refused(fresh_store):
    from tui.parse_worker import item_row

    row = item_row(make_item(feed="G", key="k"), make_verdict())
    with pytest.raises(ValueError):
        fresh_store.upsert_rows([("F", [row])])
    assert fresh_store.item_count() == 0


def test_upsert_rows_is_upsert_many_for_worker_rows(tmp_path):
    from tui.parse_worker import item_row

    first = [make_item(feed="F", key="a", title="one"), make_item(feed="F", key="a", title="dup"),
             make_item(feed="F", key="b")]
    later = [make_item(feed="F", key="a", title="retitled"), make_item(feed="F", key="c")]
    results = {}
    for mode in ("pairs", "rows"):
        with Store(tmp_path / f"{mode}.db", clock=lambda: NOW) as store:
            counts = []
            for items in (first, later):
                pairs = [(item, make_verdict("deal", matched=("deal",))) for item in items]
                if mode == "pairs":
                    counts.append(store.upsert_many([("F", pairs)]))
                else:
                    counts.append(store.upsert_rows([("F", [item_row(i, v) for i, v in pairs])]))
            results[mode] = (counts, sorted((i.id, i.key, i.title, i.first_seen, i.verdict) for i in store.query(ItemQuery())))
    assert results["rows"] == results["pairs"]
    assert results["rows"][0] == [[(2, 0)], [(1, 1)]]
