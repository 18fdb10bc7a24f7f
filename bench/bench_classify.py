"""Classifier throughput on one core: python bench/bench_classify.py [--seconds N]

The mix is the project's labelled cases (tests/cases/classify_cases.jsonl) as feeds
deliver them: about half with a Google-News " - Publisher" suffix, most with a
summary of one to three sentences, a few with a long or empty summary, about a
quarter off-topic. Prints items/s per CPU second (what one core does,
even on a busy machine) and by the wall clock, best and median of several rounds,
and the time to load the rules: compiled from rules.toml, and read from the compiled
rules cache (a temporary one here: the user's cache is neither used nor touched).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PUBLISHERS = ["Reuters", "The Times of Israel", "Al Jazeera English", "AP News", "BBC", "Haaretz", "CNN", "AFP"]
FILLER = [
    "Officials speaking on condition of anonymity said the talks would continue.",
    "The statement was released late on Tuesday after a day of meetings.",
    "The war began on October 7, 2023, when Hamas-led militants attacked southern Israel.",
    "Mediators from Qatar, Egypt and the United States have been shuttling between the sides.",
    "Israel's military said its forces were continuing operations in the area.",
]


def build_mix(n: int, seed: int = 7) -> list[tuple[str, str]]:
    cases_path = ROOT / "tests" / "cases" / "classify_cases.jsonl"
    cases = [json.loads(line) for line in cases_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(seed)
    mix = []
    for i in range(n):
        case = cases[i % len(cases)]
        title = case["title"]
        if " - " not in title and rng.random() < 0.5:
            title = f"{title} - {rng.choice(PUBLISHERS)}"
        roll = rng.random()
        if roll < 0.1:
            summary = ""
        elif roll < 0.15:
            summary = " ".join(rng.choice(FILLER) for _ in range(12))  # a long one
        else:
            summary = " ".join([case["summary"] or title] + rng.sample(FILLER, rng.randint(0, 2)))
        mix.append((title, summary))
    return mix


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    c0 = time.process_time()
    from tui.classify import Classifier, load_rules

    import_s = time.process_time() - c0
    compile_s, cached_s = [], []
    with tempfile.TemporaryDirectory() as cache_dir:
        for _ in range(3):
            c0 = time.process_time()
            load_rules(None)
            compile_s.append(time.process_time() - c0)
        load_rules(Path(cache_dir))  # writes the cache
        if not any(Path(cache_dir).glob("*.pickle")):
            print("warning: the rules cache could not be written; 'read from the cache' is a compile")
        for _ in range(3):
            c0 = time.process_time()
            rules = load_rules(Path(cache_dir))
            cached_s.append(time.process_time() - c0)
    classifier = Classifier(rules=rules)
    mix = build_mix(args.items)
    classify = classifier.classify
    wall_rates, cpu_rates = [], []
    relevant = 0
    for _ in range(args.rounds):
        w0, c0 = time.perf_counter(), time.process_time()
        relevant = sum(classify(title, summary).relevant for title, summary in mix)
        wall_rates.append(len(mix) / (time.perf_counter() - w0))
        cpu_rates.append(len(mix) / max(time.process_time() - c0, 1e-9))
    median = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    # A fixed reference loop, so a number from a slow or shared machine can be compared
    # with another: sum(range(1000)) takes about 10 us on a current desktop core.
    c0 = time.process_time()
    for _ in range(2000):
        sum(range(1000))
    reference_us = (time.process_time() - c0) / 2000 * 1e6
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"rules (CPU, median of 3): compiled from rules.toml {median(compile_s) * 1000:.0f} ms,"
        f" read from the cache {median(cached_s) * 1000:.0f} ms; import of tui.classify {import_s * 1000:.0f} ms"
    )
    print(f"{len(mix)} items x {args.rounds} rounds, {relevant} relevant per round")
    # CPU time is what one core spends; wall time also counts waiting for a busy machine.
    print(f"items/s per CPU second: best {max(cpu_rates):,.0f}  median {median(cpu_rates):,.0f}")
    print(f"items/s wall clock:     best {max(wall_rates):,.0f}  median {median(wall_rates):,.0f}")
    print(f"reference: sum(range(1000)) takes {reference_us:.1f} us of CPU here")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
