"""Story grouping: pairwise precision/recall on tests/cases/story_pairs.jsonl, and throughput.

    .venv/bin/python bench/bench_stories.py [-v]

A pair is predicted "same" when, fed to a fresh StoryIndex in time order, the
two items end up in one story (so the window, the vetoes and the signal rules
all take part, exactly as in the app).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tui.models import StoredItem, Verdict
from tui.stories import StoryIndex

PAIRS = Path(__file__).resolve().parent.parent / "tests" / "cases" / "story_pairs.jsonl"


def to_item(data: dict, item_id: int) -> StoredItem:
    published = datetime.fromisoformat(data["published"]).astimezone(timezone.utc)
    verdict = Verdict(
        relevant=True,
        score=1.0,
        signal=data["signal"],
        actors=tuple(data.get("actors", ())),
        places=tuple(data.get("places", ())),
    )
    return StoredItem(
        id=item_id, feed=data["feed"], key=f"k{item_id}", title=data["title"], summary=data.get("summary", ""),
        link=f"https://example.com/{item_id}", author="", published=published, first_seen=published,
        read=False, starred=False, verdict=verdict,
    )  # fmt: skip


def load_pairs(path: Path = PAIRS) -> list[tuple[StoredItem, StoredItem, bool, str]]:
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            row = json.loads(line)
            pairs.append((to_item(row["a"], 2 * number), to_item(row["b"], 2 * number + 1), row["same"], row.get("note", "")))
    return pairs


def predicted_same(a: StoredItem, b: StoredItem) -> bool:
    index = StoryIndex()
    index.group([a, b])
    return index.story_of(a.id) == index.story_of(b.id)


def evaluate(pairs) -> dict:
    tp = fp = fn = tn = 0
    errors = []
    for a, b, same, note in pairs:
        got = predicted_same(a, b)
        tp += got and same
        fp += got and not same
        fn += same and not got
        tn += not got and not same
        if got != same:
            errors.append(("FP" if got else "FN", note, a.title, b.title))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {"pairs": len(pairs), "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "precision": precision, "recall": recall, "errors": errors}  # fmt: skip


def throughput(n: int = 20_000) -> float:
    """Items/s grouping a synthetic stream: the labelled headlines replayed over weeks by many feeds."""
    base = [item for a, b, _, _ in load_pairs() for item in (a, b)]
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    items = []
    for i in range(n):
        src = base[i % len(base)]
        published = start + timedelta(minutes=7 * i)
        items.append(StoredItem(**{**{f: getattr(src, f) for f in src.__slots__}, "id": i + 1,
                                   "feed": f"feed{i % 13}", "published": published, "first_seen": published}))  # fmt: skip
    began = time.perf_counter()
    StoryIndex().group(items)
    return n / (time.perf_counter() - began)


def demo_items(start: datetime | None = None) -> list[tuple[StoredItem, str]]:
    """The packaged demo timeline through the real classifier: (item, story slug) for relevant items.

    Live items are placed 10 minutes apart after the backlog.
    """
    from tui.classify import classify
    from tui.demo import load_timeline
    from tui.parse import clean_text

    start = start or datetime(2025, 1, 20, 12, 0, tzinfo=timezone.utc)
    out = []
    for number, demo in enumerate(load_timeline().items, start=1):
        at = start + demo.offset if demo.offset is not None else start + timedelta(minutes=10 * (demo.live or 0))
        summary = clean_text(demo.summary)
        title = clean_text(demo.title)
        verdict = classify(title, summary)
        if not verdict.relevant:
            continue
        item = StoredItem(
            id=number, feed=demo.outlet, key=f"d{number}", title=title, summary=summary,
            link=f"https://demo.example/{number}", author="", published=at, first_seen=at,
            read=False, starred=False, verdict=verdict,
        )  # fmt: skip
        out.append((item, demo.story or f"single-{number}"))
    return out


def evaluate_demo() -> dict:
    """Pairwise over every pair of relevant demo items: same story slug vs grouped together."""
    labelled = demo_items()
    index = StoryIndex()
    index.group([item for item, _ in labelled])
    tp = fp = fn = 0
    errors = []
    for i, (a, slug_a) in enumerate(labelled):
        for b, slug_b in labelled[i + 1 :]:
            same = slug_a == slug_b
            got = index.story_of(a.id) == index.story_of(b.id)
            tp += got and same
            fp += got and not same
            fn += same and not got
            if got != same:
                errors.append(("FP" if got else "FN", f"{slug_a}/{slug_b}", a.title, b.title))
    return {"items": len(labelled), "stories": len(index), "slugs": len({s for _, s in labelled}),
            "precision": tp / (tp + fp) if tp + fp else 1.0, "recall": tp / (tp + fn) if tp + fn else 1.0,
            "tp": tp, "fp": fp, "fn": fn, "errors": errors}  # fmt: skip


def main(argv: list[str]) -> int:
    result = evaluate(load_pairs())
    print(f"labelled pairs: {result['pairs']}  tp={result['tp']} fp={result['fp']} fn={result['fn']} tn={result['tn']}")
    print(f"precision: {result['precision']:.3f}  recall: {result['recall']:.3f}")
    if "-v" in argv:
        for kind, note, ta, tb in result["errors"]:
            print(f"  {kind} [{note}]\n     {ta}\n     {tb}")
    try:
        from dataclasses import replace

        from tui.classify import classify

        def reclassified(item: StoredItem) -> StoredItem:
            verdict = classify(item.title, item.summary)
            return replace(item, verdict=replace(verdict, relevant=True))

        real = evaluate([(reclassified(a), reclassified(b), same, note) for a, b, same, note in load_pairs()])
        print(
            f"labelled pairs, real classifier's signal/actors/places instead of the hand labels: "
            f"precision {real['precision']:.3f} recall {real['recall']:.3f}"
        )
        demo = evaluate_demo()
    except Exception as exc:  # the classifier's rules may be mid-edit
        print(f"demo timeline: skipped ({type(exc).__name__}: {exc})")
    else:
        print(
            f"demo timeline (real classifier): {demo['items']} relevant items, {demo['slugs']} labelled stories, "
            f"{demo['stories']} grouped; pairwise precision {demo['precision']:.3f} recall {demo['recall']:.3f} "
            f"(tp={demo['tp']} fp={demo['fp']} fn={demo['fn']})"
        )
        if "-v" in argv:
            for kind, note, ta, tb in demo["errors"]:
                print(f"  {kind} [{note}]\n     {ta}\n     {tb}")
    print(f"throughput: {throughput():,.0f} items/s (grouping, one core)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
