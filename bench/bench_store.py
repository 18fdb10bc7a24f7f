"""Store benchmark: fill a temporary database with 100,000 synthetic items and
time the writes and the dashboard's typical queries.

    .venv/bin/python bench/bench_store.py [--items 100000] [--keep PATH]

Headlines are drawn from a news vocabulary with a Zipf-like long tail, so
common words ("talks") match tens of thousands of rows and rare ones a handful,
as in real feeds. Each query is run several times; the median is printed.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui.models import SIGNALS, Item, Verdict  # noqa: E402
from tui.store import ItemQuery, Store  # noqa: E402

COMMON = (
    "the a to in of and on for with as at by says said after over new from talks hostage hostages"
    " ceasefire gaza israel hamas deal release qatar egypt doha cairo mediators proposal truce war"
    " officials sources minister government negotiators delegation round plan phase prisoners aid"
    " strip border us president envoy week day report amid first second families army attack"
).split()
PLACES = ["Doha", "Cairo", "Gaza", "Paris", "Sharm el-Sheikh", "Rafah", "Jerusalem"]
ACTORS = ["Israel", "Hamas", "Qatar", "Egypt", "US", "Red Cross"]


def _vocabulary(rng: random.Random, size: int = 20000) -> list[str]:
    syllables = ["ka", "ri", "mo", "tan", "el", "sha", "lu", "vor", "nek", "da", "pi", "zu", "ber", "ol", "gan"]
    words = set(COMMON)
    while len(words) < size:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    ordered = list(COMMON) + sorted(words - set(COMMON))
    return ordered


def _make_items(n: int, now: datetime, rng: random.Random) -> list[tuple[Item, Verdict]]:
    vocab = _vocabulary(rng)
    weights = [1.0 / (rank + 1) ** 1.05 for rank in range(len(vocab))]
    cum_weights = list(itertools.accumulate(weights))
    feeds = [f"Outlet {i:02d}" for i in range(24)]
    pairs = []
    for i in range(n):
        title_words = rng.choices(vocab, cum_weights=cum_weights, k=rng.randint(7, 14))
        summary_words = rng.choices(vocab, cum_weights=cum_weights, k=rng.randint(25, 60))
        relevant = rng.random() < 0.3
        signal = rng.choice(SIGNALS) if relevant else "none"
        feed = rng.choice(feeds)
        published = now - timedelta(seconds=i * 90 * 86400 / n + rng.random() * 60)
        pairs.append(
            (
                Item(
                    feed=feed,
                    key=f"https://{feed.replace(' ', '').lower()}.example/news/{i:07d}",
                    title=" ".join(title_words).capitalize(),
                    summary=" ".join(summary_words).capitalize() + ".",
                    link=f"https://{feed.replace(' ', '').lower()}.example/news/{i:07d}",
                    published=published,
                    author="Staff reporter",
                ),
                Verdict(
                    relevant=relevant,
                    score=rng.random() * 5 if relevant else 0.0,
                    signal=signal,
                    matched=("hostage", "talks") if relevant else (),
                    actors=tuple(rng.sample(ACTORS, 2)) if relevant else (),
                    places=(rng.choice(PLACES),) if relevant else (),
                ),
            )
        )
    return pairs


def _median_ms(fn, repeat: int = 7) -> tuple[float, float, int]:
    """Median wall and CPU milliseconds. On a shared machine the CPU time is
    the steadier figure (the queries are single-threaded and CPU-bound)."""
    walls, cpus = [], []
    result = None
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        result = fn()
        walls.append((time.perf_counter() - t0) * 1000)
        cpus.append((time.process_time() - c0) * 1000)
    return statistics.median(walls), statistics.median(cpus), len(result) if hasattr(result, "__len__") else result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="write the database here instead of a temporary directory")
    args = parser.parse_args(argv)

    rng = random.Random(42)
    now = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
    print(f"generating {args.items:,} synthetic items ...", flush=True)
    pairs = _make_items(args.items, now, rng)

    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "bench.db"
        store = Store(path, clock=lambda: now)
        try:
            # Polls arrive feed by feed, ~50 items at a time; time both that
            # shape and one big batch.
            by_feed: dict[str, list[tuple[Item, Verdict]]] = {}
            for item, verdict in pairs[: args.items // 2]:
                by_feed.setdefault(item.feed, []).append((item, verdict))
            t0 = time.perf_counter()
            batches = 0
            for feed, feed_pairs in by_feed.items():
                for start in range(0, len(feed_pairs), 50):
                    store.upsert_items(feed, feed_pairs[start : start + 50])
                    batches += 1
            small = time.perf_counter() - t0
            print(f"insert, {batches:,} batches of <=50:  {args.items // 2 / small:10,.0f} items/s")

            rest = pairs[args.items // 2 :]
            per_feed: dict[str, list[tuple[Item, Verdict]]] = {}
            for item, verdict in rest:
                per_feed.setdefault(item.feed, []).append((item, verdict))
            t0 = time.perf_counter()
            for feed, feed_pairs in per_feed.items():
                store.upsert_items(feed, feed_pairs)
            big = time.perf_counter() - t0
            print(f"insert, {len(per_feed)} batches of ~{len(rest) // len(per_feed):,}: {len(rest) / big:10,.0f} items/s")

            feed, feed_pairs = next(iter(per_feed.items()))
            batch = feed_pairs[:10_000]
            t0 = time.perf_counter()
            new, updated = store.upsert_items(feed, batch)
            print(f"re-upsert {len(batch):,} unchanged items:  {(time.perf_counter() - t0) * 1000:8.1f} ms (new={new}, updated={updated})")
            print(f"items stored: {store.item_count():,}")

            since = now - timedelta(hours=24)
            queries = [
                ("no filter", ItemQuery()),
                ("relevant only", ItemQuery(relevant_only=True)),
                ("text 'talks' (common)", ItemQuery(text="talks")),
                ("text 'hostage ceasefire'", ItemQuery(text="hostage ceasefire")),
                ("text 't' (1-letter prefix)", ItemQuery(text="t")),
                ("text 'ka' (2-letter prefix)", ItemQuery(text="ka")),
                ("text rare word", ItemQuery(text="kaelvor")),
                ("text + relevant", ItemQuery(text="doha", relevant_only=True)),
                ("signal 'stalled'", ItemQuery(signals=("stalled",))),
                ("signal 'deal' + relevant", ItemQuery(signals=("deal",), relevant_only=True)),
                ("since 24h", ItemQuery(since=since)),
                ("feed filter", ItemQuery(feeds=("Outlet 03",))),
                ("unread only", ItemQuery(unread_only=True)),
            ]
            print(f"\n{'query (limit 2000)':32} {'wall ms':>8} {'cpu ms':>8} {'rows':>6}")
            worst = 0.0
            for label, q in queries:
                wall, cpu, rows = _median_ms(lambda q=q: store.query(q))
                worst = max(worst, wall)
                print(f"{label:32} {wall:8.1f} {cpu:8.1f} {rows:6}")
            wall, cpu, _ = _median_ms(lambda: store.feed_counts(since))
            print(f"{'feed_counts(24h)':32} {wall:8.1f} {cpu:8.1f}")
            t0 = time.perf_counter()
            n = sum(1 for _ in store.iter_items())
            print(f"{'iter_items (all)':32} {(time.perf_counter() - t0) * 1000:10.1f} {n:6}")
            print(f"\nslowest query: {worst:.1f} ms wall (target: well under 100 ms)")
        finally:
            store.close()
        size = sum(p.stat().st_size for p in Path(path).parent.glob(Path(path).name + "*"))
        print(f"database size: {size / 2**20:.1f} MiB for {args.items:,} items")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
