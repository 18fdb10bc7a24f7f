"""The worker side of polling: hash, parse and classify one feed body.

Runs in the parse pool's worker processes (or threads where processes cannot
start). Kept apart from tui.poller so the pool's fork server imports only what
a worker needs (no asyncio, no HTTP client): workers are ready sooner.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from tui.models import Item, Verdict

if TYPE_CHECKING:
    from tui.config import TopicSpec

# Workers hash, parse and classify: the CPU-heavy, GIL-bound part. Each worker
# process builds the classifier once per topic and keeps it; the topic travels
# with every job, so a reconfigured topic reaches workers that are already
# running. They also shape each item into the row the store inserts
# (`item_row`): a tuple of strings and numbers pickles and unpickles in C, where
# Items and Verdicts cost a Python call each, and the parent, whose event loop
# and writer thread share one GIL, then has nothing left to convert. The writer
# thread only stores.


@dataclass(frozen=True, slots=True)
class Digest:
    """What a worker made of a 200 body."""

    body_hash: str
    unchanged: bool
    rows: tuple[tuple, ...] = ()  # item_row() of each item, ready for Store.upsert_rows
    warning: str | None = None
    ttl_seconds: float | None = None
    error: str | None = None


def digest_body(
    body: bytes,
    old_hash: str | None,
    *,
    feed: str,
    url: str,
    content_type: str | None,
    now: datetime,
    topic: TopicSpec | None = None,
) -> Digest:
    """Hash, and unless the body is unchanged, parse and classify. Top-level so it pickles."""
    body_hash = hashlib.sha256(body).hexdigest()
    if body_hash == old_hash:
        return Digest(body_hash=body_hash, unchanged=True)
    from tui.parse import FeedParseError, parse_feed

    try:
        parsed = parse_feed(body, feed=feed, url=url, content_type=content_type, now=now)
    except FeedParseError as exc:
        return Digest(body_hash=body_hash, unchanged=False, error=str(exc))
    classify = classifier_for(topic).classify
    return Digest(
        body_hash=body_hash,
        unchanged=False,
        rows=tuple([item_row(item, classify(item.title, item.summary)) for item in parsed.items]),
        warning=parsed.warning,
        ttl_seconds=parsed.ttl_seconds,
    )


_json_string = json.encoder.encode_basestring  # the C encoder json.dumps uses with ensure_ascii=False


# Verdicts repeat the same few term lists: each is encoded once per process.
_json_lists: dict[tuple, str] = {}
_JSON_LISTS_MAX = 4096


def json_list(values: Sequence[str]) -> str:
    """A list of strings as the store keeps it: what json.dumps(list(values), ensure_ascii=False) writes."""
    if not values:
        return "[]"
    try:
        text = _json_lists.get(values) if type(values) is tuple else None
    except TypeError:  # something unhashable inside: not from a Verdict, just encode it
        return _encode_list(values)
    if text is None:
        text = _encode_list(values)
        if type(values) is tuple and len(_json_lists) < _JSON_LISTS_MAX:
            _json_lists[values] = text
    return text


def _encode_list(values: Sequence[str]) -> str:
    if all(type(value) is str for value in values):
        # Without json.dumps's per-call set-up: a cold cycle writes 10,000 items, three lists each.
        return "[" + ", ".join(map(_json_string, values)) + "]"
    return json.dumps(list(values), ensure_ascii=False)


def verdict_columns(v: Verdict) -> tuple:
    """A verdict as the store's columns: relevant, score, signal, matched, actors, places."""
    return (int(v.relevant), float(v.score), v.signal, json_list(v.matched), json_list(v.actors), json_list(v.places))


def item_row(item: Item, verdict: Verdict) -> tuple:
    """An item and its verdict as one row for ``Store.upsert_rows``: (feed, key, title,
    summary, link, author, published epoch seconds, *verdict_columns(verdict)).
    Here, not in tui.store, because the parse workers build the rows and must not
    import sqlite3 (their fork server has to start fast)."""
    return (item.feed, item.key, item.title, item.summary, item.link, item.author, item.published.timestamp(),
            *verdict_columns(verdict))


# topic -> Classifier, per process (each worker process has its own).
_classifiers: dict = {}
_classifiers_lock = threading.Lock()


def classifier_for(topic: TopicSpec | None):
    if topic is not None and topic == type(topic)():
        topic = None  # an empty [topic] tunes nothing: it shares the default rules built ahead
    classifier = _classifiers.get(topic)
    if classifier is None:
        with _classifiers_lock:  # parse threads share this dict
            classifier = _classifiers.get(topic)
            if classifier is None:
                from tui.classify import Classifier

                _classifiers.clear()  # a topic change replaces the old classifier
                classifier = _classifiers[topic] = Classifier(topic)
    return classifier


def init_worker() -> None:
    """Process-pool worker start. Ctrl-C is for the parent, which shuts us down
    cleanly (otherwise every worker prints a KeyboardInterrupt traceback)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import tui.parse  # noqa: F401  (preloaded by the fork server: free)


def warm_worker(topic: TopicSpec | None) -> None:
    """Build the classifier before the first body arrives (about 0.3 s of rules)."""
    classifier_for(topic)


@dataclass(frozen=True, slots=True)
class DigestJob:
    """A picklable call of digest_body (a process pool cannot take a lambda)."""

    body: bytes
    old_hash: str | None
    feed: str
    url: str
    content_type: str | None
    now: datetime
    topic: TopicSpec | None

    def __call__(self) -> Digest:
        return digest_body(
            self.body, self.old_hash, feed=self.feed, url=self.url, content_type=self.content_type, now=self.now,
            topic=self.topic,
        )
