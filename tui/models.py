"""Data that crosses layers: frozen dataclasses only, no behaviour beyond tiny helpers.

Every timestamp is a timezone-aware ``datetime`` in UTC. Code that needs "now"
takes a ``Clock`` argument instead of calling ``datetime.now`` deep inside, so
schedules, status and "4m ago" are testable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


# Ordered as the label guide lists them; "none" = relevant but no status signal.
SIGNALS: tuple[str, ...] = ("deal", "release", "progress", "proposal", "stalled", "collapse", "none")


@dataclass(frozen=True, slots=True)
class Item:
    """One normalised feed entry, as parsed (before it is stored)."""

    feed: str  # the feed's name in feeds.toml
    key: str  # stable identity within the feed: guid, else link, else hash of title+summary
    title: str  # plain text, no control characters
    summary: str  # plain text, no control characters
    link: str  # http/https only, else ""
    published: datetime  # UTC; published, else updated, else first-seen
    author: str = ""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the classifier says about one item."""

    relevant: bool
    score: float
    signal: str  # one of SIGNALS; always "none" when not relevant
    matched: tuple[str, ...] = ()  # rules/terms that fired, for "why is this here?"
    actors: tuple[str, ...] = ()  # canonical names: "Israel", "Hamas", "Qatar", ...
    places: tuple[str, ...] = ()  # canonical names: "Doha", "Cairo", "Gaza", ...


NOT_RELEVANT = Verdict(relevant=False, score=0.0, signal="none")


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item as read back from the store, with its verdict and user flags."""

    id: int
    feed: str
    key: str
    title: str
    summary: str
    link: str
    author: str
    published: datetime
    first_seen: datetime
    read: bool
    starred: bool
    verdict: Verdict

    @property
    def relevant(self) -> bool:
        return self.verdict.relevant

    @property
    def signal(self) -> str:
        return self.verdict.signal


@dataclass(frozen=True, slots=True)
class FeedState:
    """Per-feed polling state, persisted so a restart does not re-poll everything at once."""

    name: str
    url: str  # the URL currently polled (a permanent redirect may have changed it)
    etag: str | None = None  # exactly as received
    last_modified: str | None = None  # exactly as received
    body_hash: str | None = None  # sha256 of the last parsed body
    last_status: int | None = None  # HTTP status of the last response, None on network error
    outcome: str | None = None  # see FeedOutcome
    last_error: str | None = None  # in words a person understands
    warning: str | None = None  # e.g. feedparser's bozo message, kept while entries parse
    moved_to: str | None = None  # set when every redirect hop was permanent
    gone: bool = False  # 410: never polled again until the config changes
    last_fetch_at: datetime | None = None
    latency_ms: float | None = None
    failures: int = 0  # consecutive
    next_check_at: datetime | None = None
    min_interval: float | None = None  # seconds, from <ttl> / Cache-Control max-age (capped)


class FeedOutcome:
    """What happened on a feed's last poll (string constants, stored as text)."""

    OK = "ok"  # 200, parsed, stored
    NOT_MODIFIED = "not_modified"  # 304, or 200 with an identical body hash
    ERROR = "error"  # network, HTTP or parse error; backing off
    BACKOFF = "backoff"  # skipped: host asked us to wait (Retry-After) or feed backing off
    MOVED = "moved"  # 200 after permanent redirects only: update feeds.toml
    GONE = "gone"  # 410: stopped


@dataclass(frozen=True, slots=True)
class FeedPollResult:
    """One feed's part of a poll cycle, for the CLI table and the dashboard."""

    feed: str
    outcome: str  # FeedOutcome.*
    status: int | None = None
    new_items: int = 0
    updated_items: int = 0
    error: str | None = None
    elapsed_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class PollSummary:
    """A whole cycle."""

    results: tuple[FeedPollResult, ...] = field(default_factory=tuple)
    started_at: datetime | None = None
    elapsed_ms: float = 0.0

    @property
    def new_items(self) -> int:
        return sum(r.new_items for r in self.results)
