"""SIGKILL a process in the middle of writing large batches, many times: nothing partial, nothing lost.

A child process writes batches of items through ``Store.upsert_items`` and
prints ``writing N`` just before each batch, so the parent can kill it while a
batch is in flight (the pipe is the signal, not a sleep: the write takes tens
of milliseconds, the parent reacts in well under one). After every kill the
database must open cleanly (``PRAGMA integrity_check`` and the FTS index's own
check), and every batch must be all there or not there at all. Finally the
batches are written again, as the next poll would: nothing is duplicated and
only the missing batches are inserted.

Run more kills than the test does with:

    python tests/test_crash.py --kills 500
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

BATCH = 1500  # items per batch: a large feed's worth
KILLS = 25

# The child: batches r-0, r-1, ... of BATCH items each, forever, announcing each one.
CHILD = r"""
import sys
from datetime import datetime, timedelta, timezone
from tui.models import Item, Verdict
from tui.store import Store

db, run, batch_size, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
base = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
verdict = Verdict(relevant=True, score=2.0, signal="progress", matched=("talks",), actors=("Qatar",), places=("Doha",))
store = Store(db, clock=lambda: base)
print("ready", flush=True)
n = start
while True:
    pairs = [
        (Item(feed=run, key=f"{run}/{n}/{i}", title=f"batch {n} item {i} hostage talks in Doha",
              summary="Mediators met again. " * 8, link=f"https://crash.example/{run}/{n}/{i}",
              published=base - timedelta(seconds=i)), verdict)
        for i in range(batch_size)
    ]
    print(f"writing {n}", flush=True)
    store.upsert_items(run, pairs)
    print(f"wrote {n}", flush=True)
    n += 1
"""


def batch_pairs(run: str, n: int, batch_size: int = BATCH):
    """The same items the child writes for batch n (for the re-poll)."""
    from tui.models import Item, Verdict

    base = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    verdict = Verdict(relevant=True, score=2.0, signal="progress", matched=("talks",), actors=("Qatar",), places=("Doha",))
    return [
        (Item(feed=run, key=f"{run}/{n}/{i}", title=f"batch {n} item {i} hostage talks in Doha",
              summary="Mediators met again. " * 8, link=f"https://crash.example/{run}/{n}/{i}",
              published=base - timedelta(seconds=i)), verdict)
        for i in range(batch_size)
    ]


def kill_mid_write(db: Path, run: str, start: int, rng: random.Random, batch_size: int = BATCH) -> int:
    """Start a writer, SIGKILL it right after it announces a random batch. -> that batch's number."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), run, str(batch_size), str(start)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline()
        if line.strip() != "ready":
            raise AssertionError(f"writer did not start: {line!r} {child.stderr.read()}")
        target = rng.randint(1, 3)  # kill during the 1st, 2nd or 3rd batch of this run
        seen = 0
        while True:
            line = child.stdout.readline()
            if not line:
                raise AssertionError(f"writer exited early: {child.stderr.read()}")
            if line.startswith("writing "):
                seen += 1
                if seen == target:
                    child.send_signal(signal.SIGKILL)
                    return int(line.split()[1])
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close()
        child.stderr.close()


def check_database(db: Path, batch_size: int = BATCH) -> Counter:
    """integrity_check ok, FTS consistent, every batch complete or absent. -> items per (run, batch)."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        # FTS5's own check: the index matches the items table (the triggers ran in the same transaction).
        conn.execute("INSERT INTO items_fts(items_fts) VALUES ('integrity-check')")
        rows = conn.execute("SELECT key FROM items").fetchall()
        total, distinct = conn.execute("SELECT count(*), count(DISTINCT feed || '|' || key) FROM items").fetchone()
        assert total == distinct, "duplicate (feed, key) rows"
        fts_rows = conn.execute("SELECT count(*) FROM items_fts").fetchone()[0]
        assert fts_rows == total
    finally:
        conn.close()
    per_batch = Counter(key.rsplit("/", 1)[0] for (key,) in rows)
    partial = {batch: count for batch, count in per_batch.items() if count != batch_size}
    assert not partial, f"partial batches: {partial}"
    return per_batch


def run_kills(db: Path, kills: int, rng: random.Random, batch_size: int = BATCH, report=None) -> dict[str, int]:
    """`kills` SIGKILLs of writers on `db`, checking the database after each. -> run -> highest batch started."""
    from tui.store import Store

    Store(db).close()  # create the schema first: the children then only write items
    started: dict[str, int] = {}
    for k in range(kills):
        run = f"run{k % 5}"  # five feeds, each resumed several times
        start = started.get(run, -1) + 1
        started[run] = kill_mid_write(db, run, start, rng, batch_size)
        check_database(db, batch_size)
        if report:
            report(k + 1)
    return started


def repoll(db: Path, started: dict[str, int], batch_size: int = BATCH) -> tuple[int, int]:
    """Write every batch that was started again, as the next poll would. -> (new, already there)."""
    from tui.store import Store

    before = check_database(db, batch_size)
    store = Store(db)
    new_total = present = 0
    try:
        for run, last in started.items():
            for n in range(last + 1):
                had = before.get(f"{run}/{n}", 0)
                new, updated = store.upsert_items(run, batch_pairs(run, n, batch_size))
                assert updated == 0
                assert new == (0 if had else batch_size), (run, n, had, new)
                new_total += new
                present += bool(had)
    finally:
        store.close()
    after = check_database(db, batch_size)
    assert all(after[f"{run}/{n}"] == batch_size for run, last in started.items() for n in range(last + 1))
    return new_total, present


def test_sigkill_mid_batch_leaves_no_partial_batch_and_no_duplicates(tmp_path):
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    db = tmp_path / "crash.db"
    started = run_kills(db, KILLS, rng)
    per_batch = check_database(db)
    # The kills must actually have landed mid-write sometimes: otherwise this test
    # proves nothing. A killed batch is absent; batches before it are complete.
    killed_batches = sum(1 for run, last in started.items() if per_batch.get(f"{run}/{last}", 0) == 0)
    assert killed_batches >= 1, "no kill interrupted a batch; the test lost its teeth"
    new, present = repoll(db, started)
    assert new >= killed_batches * BATCH


def main() -> int:
    parser = argparse.ArgumentParser(description="SIGKILL writers mid-batch many times and audit the database.")
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--batch", type=int, default=BATCH)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--db", type=Path, default=None, help="default: a temporary file")
    args = parser.parse_args()
    import tempfile

    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="talkwatch-crash-") as tmp:
        db = args.db or Path(tmp) / "crash.db"
        started = run_kills(db, args.kills, rng, args.batch,
                            report=lambda k: print(f"{k} kills survived", flush=True) if k % 25 == 0 else None)
        per_batch = check_database(db, args.batch)
        interrupted = sum(1 for run, last in started.items() if per_batch.get(f"{run}/{last}", 0) == 0)
        new, present = repoll(db, started, args.batch)
    print(f"seed {seed}: {args.kills} kills survived; integrity ok after each; no partial batch; "
          f"re-poll inserted {new} missing items, duplicated none ({present} batches already complete, "
          f"{interrupted} of the final batches were cut off mid-write)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
