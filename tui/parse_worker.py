"""The worker side of polling: hash, parse and classify one feed body.

Runs in the parse pool's worker processes (or threads where processes cannot
start). Kept apart from tui.poller so the pool's fork server imports only what
a worker needs (no asyncio, no HTTP client): workers are ready sooner.
"""

from __future__ import annotations

import dataclasses
import hashlib
import operator
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from tui.models import Item, Verdict

if TYPE_CHECKING:
    from tui.config import TopicSpec

# Workers hash, parse and classify: the CPU-heavy, GIL-bound part. Each worker
# process builds the classifier once per topic and keeps it; the topic travels
# with every job, so a reconfigured topic reaches workers that are already
# running. The writer thread then only stores.


@dataclass(frozen=True, slots=True)
class Digest:
    """What a worker made of a 200 body."""

    body_hash: str
    unchanged: bool
    pairs: tuple[tuple[Item, Verdict], ...] = ()
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
        pairs=tuple((item, classify(item.title, item.summary)) for item in parsed.items),
        warning=parsed.warning,
        ttl_seconds=parsed.ttl_seconds,
    )


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
    from multiprocessing.reduction import ForkingPickler

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import tui.parse  # noqa: F401  (preloaded by the fork server: free)

    # Results go back pickled, and the parent unpickles them while it holds the
    # GIL its event loop needs. A frozen dataclass unpickles field by field
    # through object.__setattr__; these rebuild Items and Verdicts in half the time.
    ForkingPickler.register(Item, _reduce_item)
    ForkingPickler.register(Verdict, _reduce_verdict)


def _slots_maker(cls):
    """(a fast cls(*fields) for a frozen slotted dataclass, the field getter)."""
    names = [f.name for f in dataclasses.fields(cls)]
    getter = operator.attrgetter(*names)
    slots = [cls.__dict__.get(name) for name in names]
    if not all(type(slot).__name__ == "member_descriptor" for slot in slots):
        return cls, getter  # not slotted after all: the ordinary constructor
    setters = tuple(slot.__set__ for slot in slots)
    new = object.__new__

    def make(*values):
        obj = new(cls)
        for setter, value in zip(setters, values):
            setter(obj, value)
        return obj

    return make, getter


_make_item, _item_fields = _slots_maker(Item)
_make_verdict, _verdict_fields = _slots_maker(Verdict)


def _item_from_fields(*values) -> Item:
    return _make_item(*values)


def _verdict_from_fields(*values) -> Verdict:
    return _make_verdict(*values)


def _reduce_item(item: Item):
    return _item_from_fields, _item_fields(item)


def _reduce_verdict(verdict: Verdict):
    return _verdict_from_fields, _verdict_fields(verdict)


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
