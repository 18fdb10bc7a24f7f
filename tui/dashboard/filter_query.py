"""The filter line's little language, parsed into a store ``ItemQuery``.

``source:NAME signal:stalled since:6h is:unread is:starred`` plus free text.
Pure (no Textual, no I/O) so it is unit-tested on its own; it lives next to
the dashboard because nothing else speaks this language.

Tokens are forgiving because the query runs on every keystroke: a half-typed
``signal:sta`` already means "stalled", ``source:doha`` matches any source
whose name contains "doha" (case-insensitive), and a name with spaces can be
quoted (``source:"Times of Israel"``). A token that cannot mean anything
(``since:soon``) is reported in ``problems`` and otherwise ignored, so the
list does not blank out while the user is still typing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Iterable, Sequence

from tui.models import SIGNALS
from tui.store import ItemQuery

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_FLAGS = ("unread", "starred")


@dataclass(frozen=True)
class ParsedFilter:
    """What the user typed, understood."""

    text: str = ""  # free text for the store's full-text search
    feeds: tuple[str, ...] = ()  # exact feed names the source: tokens resolved to
    source_terms: tuple[str, ...] = ()  # what was typed after source:
    signals: tuple[str, ...] = ()
    since: datetime | None = None
    unread_only: bool = False
    starred_only: bool = False
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_empty(self) -> bool:
        return not (
            self.text
            or self.source_terms
            or self.signals
            or self.since
            or self.unread_only
            or self.starred_only
        )


def parse_since(value: str) -> timedelta | None:
    """``"6h"`` -> 6 hours; ``None`` when it is not a duration."""
    match = _DURATION.match(value.strip().lower())
    if not match:
        return None
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def match_signal(value: str) -> str | None:
    """Exact signal name, else the only signal it is a prefix of."""
    value = value.strip().lower()
    if not value:
        return None
    if value in SIGNALS:
        return value
    candidates = [s for s in SIGNALS if s.startswith(value)]
    return candidates[0] if len(candidates) == 1 else None


def match_sources(value: str, feed_names: Iterable[str]) -> tuple[str, ...]:
    """Feed names equal to ``value`` (case-insensitive), else containing it."""
    needle = value.strip().casefold()
    names = list(feed_names)
    exact = tuple(n for n in names if n.casefold() == needle)
    if exact:
        return exact
    return tuple(n for n in names if needle and needle in n.casefold())


_TOKEN = re.compile(r'(\w+:"[^"]*"?|"[^"]*"?|\S+)')


def _split(text: str) -> list[str]:
    # Only double quotes group words (source:"Times of Israel"); apostrophes
    # are text ("Israel's"). An unclosed quote while typing runs to the end.
    return [token.replace('"', "") for token in _TOKEN.findall(text) if token.replace('"', "").strip()]


def parse_filter(text: str, *, now: datetime, feed_names: Sequence[str] = ()) -> ParsedFilter:
    words: list[str] = []
    feeds: list[str] = []
    source_terms: list[str] = []
    signals: list[str] = []
    problems: list[str] = []
    since: datetime | None = None
    unread = starred = False
    for token in _split(text):
        key, sep, value = token.partition(":")
        key = key.lower()
        if not sep or key not in ("source", "signal", "since", "is"):
            words.append(token)
            continue
        if not value:
            continue  # "signal:" being typed: nothing to apply yet
        if key == "source":
            source_terms.append(value)
            for name in match_sources(value, feed_names):
                if name not in feeds:
                    feeds.append(name)
        elif key == "signal":
            signal = match_signal(value)
            if signal is None:
                problems.append(f"unknown signal {value!r} (one of {', '.join(SIGNALS)})")
            elif signal not in signals:
                signals.append(signal)
        elif key == "since":
            delta = parse_since(value)
            if delta is None:
                problems.append(f"since:{value} is not a duration like 30m, 6h, 2d")
            else:
                since = now - delta
        else:  # is:
            flag = next((f for f in _FLAGS if f.startswith(value.lower())), None)
            if flag == "unread":
                unread = True
            elif flag == "starred":
                starred = True
            else:
                problems.append(f"is:{value} is not one of is:unread, is:starred")
    return ParsedFilter(
        text=" ".join(words),
        feeds=tuple(feeds),
        source_terms=tuple(source_terms),
        signals=tuple(signals),
        since=since,
        unread_only=unread,
        starred_only=starred,
        problems=tuple(problems),
    )


@dataclass(frozen=True)
class ViewState:
    """Everything that decides which items the headlines list shows."""

    filter_text: str = ""
    relevant_only: bool = True
    signal: str | None = None  # the `s` key's cycle
    source: str | None = None  # the `1`..`9` keys
    limit: int = 2000

    def with_(self, **changes) -> "ViewState":
        return replace(self, **changes)


# `s` cycles through these; None means every signal.
SIGNAL_CYCLE: tuple[str | None, ...] = (None, "deal", "release", "progress", "proposal", "stalled", "collapse")


def next_signal(current: str | None) -> str | None:
    index = SIGNAL_CYCLE.index(current) if current in SIGNAL_CYCLE else 0
    return SIGNAL_CYCLE[(index + 1) % len(SIGNAL_CYCLE)]


_NO_MATCH = "\x00no such source\x00"  # a feed name no feed can have: "match nothing"


def build_query(view: ViewState, *, now: datetime, feed_names: Sequence[str] = ()) -> ItemQuery:
    """Combine the filter line with the toggles; both narrow, never widen."""
    parsed = parse_filter(view.filter_text, now=now, feed_names=feed_names)
    feeds: tuple[str, ...] = parsed.feeds
    if parsed.source_terms and not feeds:
        feeds = (_NO_MATCH,)
    if view.source is not None:
        feeds = (view.source,) if (not feeds or view.source in feeds) else (_NO_MATCH,)
    signals = parsed.signals
    if view.signal is not None:
        signals = (view.signal,) if (not signals or view.signal in signals) else ("\x00",)
    return ItemQuery(
        text=parsed.text,
        feeds=feeds,
        signals=signals,
        since=parsed.since,
        relevant_only=view.relevant_only,
        unread_only=parsed.unread_only,
        starred_only=parsed.starred_only,
        limit=view.limit,
    )
