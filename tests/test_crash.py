"""SIGKILL a process in the middle of writing large batches, many times: nothing partial, nothing lost.

A child process writes batches of items through ``Store.upsert_items``. It
prints ``writing N`` before each batch and, from an SQLite progress handler, a
``tick`` every thousand virtual-machine steps *inside* the write, so the parent
can SIGKILL it at a random point of the transaction (the pipe is the signal,
not a sleep). A plain "kill after `writing N`" mostly lands before the write
has begun: the parent reacts faster than the child gets going. After every kill the
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

BATCH = 400  # items per batch: a large feed's worth; the write spans ~50 ticks
KILLS = 25

# The child: batches r-0, r-1, ... of BATCH items each, forever, announcing each one.
CHILD = r"""
import sys
from datetime import datetime, timedelta, timezone
from tui.models import Item, Verdict
from tui.store import Store

db, run, batch_size, start, TICK_STEPS = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
base = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
verdict = Verdict(relevant=True, score=2.0, signal="progress", matched=("talks",), actors=("Qatar",), places=("Doha",))
store = Store(db, clock=lambda: base)
# Instrumentation only: announce progress from inside SQLite's VM, so the kill
# can land anywhere in the transaction (INSERT ... SELECT, FTS triggers, COMMIT).
store._conn.set_progress_handler(lambda: print("tick", flush=True) or 0, TICK_STEPS)
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


TICK_STEPS = 1000  # SQLite VM steps between ticks: ~80 ticks per 600 items


def kill_mid_write(db: Path, run: str, start: int, rng: random.Random, batch_size: int = BATCH) -> tuple[int, bool]:
    """Start a writer and SIGKILL it after a random number of ticks (inside its first or
    second batch, usually). -> (the batch being written, whether the kill came inside it)."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), run, str(batch_size), str(start), str(TICK_STEPS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline()
        if line.strip() != "ready":
            raise AssertionError(f"writer did not start: {line!r} {child.stderr.read()}")
        target = rng.randint(1, 2 * 80 * batch_size // 600)
        ticks = 0
        current, inside = start, False
        while True:
            line = child.stdout.readline()
            if not line:
                raise AssertionError(f"writer exited early: {child.stderr.read()}")
            if line.startswith("writing "):
                current, inside = int(line.split()[1]), True
            elif line.startswith("wrote "):
                inside = False
            elif line.startswith("tick"):
                ticks += 1
                if ticks >= target:
                    child.send_signal(signal.SIGKILL)
                    return current, inside
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


def run_kills(db: Path, kills: int, rng: random.Random, batch_size: int = BATCH, report=None) -> tuple[dict[str, int], int]:
    """`kills` SIGKILLs of writers on `db`, checking the database after each.
    -> (run -> highest batch started, how many kills cut a batch's transaction short)."""
    from tui.store import Store

    Store(db).close()  # create the schema first: the children then only write items
    started: dict[str, int] = {}
    inside = 0
    for k in range(kills):
        run = f"run{k % 5}"  # five feeds, each resumed several times
        start = started.get(run, -1) + 1
        started[run], in_batch = kill_mid_write(db, run, start, rng, batch_size)
        per_batch = check_database(db, batch_size)  # the real check: every batch all or nothing
        if in_batch and per_batch.get(f"{run}/{started[run]}", 0) == 0:
            # Killed inside the transaction (a kill between COMMIT and "wrote N"
            # finds the batch complete, which is just as correct).
            inside += 1
        if report:
            report(k + 1)
    return started, inside


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
    started, inside = run_kills(db, KILLS, rng)
    # The kills must cut transactions short (most do): otherwise this test proves nothing.
    assert inside >= KILLS // 3, f"only {inside} of {KILLS} kills landed inside a write"
    new, present = repoll(db, started)
    assert new >= len(started) * BATCH  # at least each run's last, killed, batch was missing


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
        started, inside = run_kills(db, args.kills, rng, args.batch,
                                    report=lambda k: print(f"{k} kills survived", flush=True) if k % 25 == 0 else None)
        new, present = repoll(db, started, args.batch)
    print(f"seed {seed}: {args.kills} kills survived ({inside} cut a batch's transaction short); integrity ok "
          f"after each; no partial batch; re-poll inserted {new} missing items and duplicated none "
          f"({present} batches were already complete)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
