"""The I/O side of `talkwatch classify`: JSON Lines in, one verdict line per item out.

Each input line is an object with ``id``, ``title`` and optional ``summary``. Output
lines keep the input order. A bad line (not JSON, not an object, no string title)
gets an error on stderr naming its line number, and the rest still flows; blank
lines are skipped. The exit status is 1 when any line was bad, else 0.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Iterator, TextIO

if TYPE_CHECKING:
    from tui.classify import Classifier


def verdict_record(item_id: object, verdict) -> dict:
    return {
        "id": item_id,
        "relevant": verdict.relevant,
        "score": verdict.score,
        "signal": verdict.signal,
        "matched": list(verdict.matched),
        "actors": list(verdict.actors),
        "places": list(verdict.places),
    }


def _problem(record: object) -> str | None:
    if not isinstance(record, dict):
        return "expected a JSON object"
    if not isinstance(record.get("title"), str):
        return 'missing "title" (a string)'
    summary = record.get("summary")
    if summary is not None and not isinstance(summary, str):
        return '"summary" must be a string'
    return None


def _lines(stdin: TextIO) -> Iterator[str]:
    """Lines of stdin; undecodable bytes become U+FFFD so one bad line cannot stop the rest
    (a text stream over bytes, like sys.stdin, would raise mid-iteration instead)."""
    buffer = getattr(stdin, "buffer", None)
    if buffer is None:
        yield from stdin
        return
    for raw in buffer:
        yield raw.decode("utf-8", errors="replace")


def run(stdin: TextIO, stdout: TextIO, stderr: TextIO, classifier: "Classifier") -> int:
    bad = 0
    for number, line in enumerate(_lines(stdin), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:  # JSONDecodeError
            stderr.write(f"line {number}: not valid JSON ({exc})\n")
            bad += 1
            continue
        problem = _problem(record)
        if problem:
            stderr.write(f"line {number}: {problem}\n")
            bad += 1
            continue
        verdict = classifier.classify(record["title"], record.get("summary") or "")
        stdout.write(json.dumps(verdict_record(record.get("id"), verdict), ensure_ascii=False) + "\n")
    stdout.flush()
    return 1 if bad else 0
