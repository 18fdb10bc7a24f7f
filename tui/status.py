"""The status of the hostage talks, computed from the stored verdicts (pure, no I/O).

``compute_status(items, now)`` replays the relevant items that carry a signal
in published order (ties broken by feed, key, id, so the arrival order of the
items never matters) through a small state machine, and reports where it ends
at ``now``.

State rules
===========

The machine keeps three layers; the state shown is the highest layer that
holds, in this order:

1. QUIET -- no signal item (relevant, signal != "none") in the last 72 h.
   Nothing is forgotten while quiet: a later signal brings back whatever the
   layers below say.
2. RELEASES UNDER WAY -- a ``release`` item in the last 72 h. Releases
   outrank everything else, deal or not: a handover, a rescue or a return of
   bodies is what is happening to the hostages. When 72 h pass without a
   release the state falls back to DEAL IN EFFECT if a deal is in effect,
   otherwise to the talks state underneath (releases do not change it).
3. DEAL IN EFFECT -- a ``deal`` item has been seen and no collapse since.
   While a deal is in effect, ``progress``/``proposal`` items (talks on the
   next phase) and ``stalled`` items (phase-two talks stuck, "truce at risk")
   do not demote it; only a COLLAPSED outcome of the talks layer ends the
   deal (and the releases with it).
4. The talks layer -- ``progress`` -> ACTIVE TALKS, ``proposal`` -> PROPOSAL
   PENDING, ``stalled`` -> STALLED, ``collapse`` -> COLLAPSED, decided at
   each such item by the contest rule below. A later progress/proposal ends
   a stall or a collapse that way.

Collapse needs corroboration. A ``collapse`` item counts as a collapse when
the classifier marked it explicit -- any string in ``verdict.matched`` that
contains "collapse" (the classifier's collapse-specific terms) -- or when
another feed reported a collapse in the 12 h before it. Otherwise the lone
claim counts as STALLED: the label guide files "fears that talks may
collapse" under stalled, and a single feed's "talks break down" is at least
a stall. When a second feed confirms, the state becomes COLLAPSED.

Contest rule (two sources disagreeing). The talks signals form two camps:
positive (progress, proposal) and negative (stalled, collapse). At each
talks item, every feed that reported a talks signal in the 6 h up to that
item counts once, with its newest position (a feed that says "stalled" and
then "talks resume" is positive). The camp with more feeds wins; a tie goes
to the newest item. Within the winning camp the newest position sets the
state. So a lone "talks resume" right after three feeds said "stalled"
leaves the talks STALLED (``contested`` is set), while the same report six
hours later ends the stall. The window is a news cycle: short enough that a
genuine development is not outvoted by the morning's news, long enough that
same-day conflicting briefings are weighed rather than flip-flopped.

``since`` is when the current state run began: the time of the item that
caused the last state change, or the moment a timer fired (72 h without a
signal -> QUIET; 72 h without a release -> fall back).

``timeline`` lists every change (oldest first) with the headline that caused
it; timer changes carry ``item=None``.

``evidence`` is the items supporting the state (newest first, at most
``EVIDENCE_LIMIT``): deal and release items since the deal began for DEAL IN
EFFECT; release items since the releases began for RELEASES UNDER WAY;
for talks states the items of that state from 6 h (12 h for COLLAPSED, the
confirmation window) before the run began -- progress and proposal both
support ACTIVE TALKS, stalled and unconfirmed collapse claims support
STALLED. QUIET has no evidence.

``confidence`` is the largest number of distinct feeds among the supporting
items that fall within 12 h of each other (a sliding window), so duplicates
from one feed never count twice; ``confirmed`` means at least two.

``momentum`` is (pos - neg) / (pos + neg + MOMENTUM_PRIOR) over the signal
items, each weighted 0.5 ** (age / 24 h); pos = deal, release, progress,
proposal; neg = stalled, collapse. The prior (half a fresh neutral item)
makes old news fade towards 0 instead of reading +1.00 for a week-old lone
report; one fresh item alone gives +-0.67, many give close to +-1. No
signal at all gives 0.

``mediators``: items of the last 72 h that name a mediator, per mediator
(officials fold into their country: MEDIATOR_ACTORS); ``venues``: the places
of those items except the Gaza Strip's own localities (where the war is, not
where talks are held). Both count each item once per name, sorted by count
then name.

``hourly``/``daily``: relevant items (any signal) per rolling hour for the
last 48 h and per rolling 24 h for the last 30 days, oldest first; an item
exactly 1 h old falls in the second-to-last hour, one exactly 48 h old in
none.

Times: items dated up to 1 h after ``now`` (clock skew) count as published
``now``; items dated further ahead are ignored as bad dates. The replay is
deterministic and cheap, so ``previous`` is accepted for the caller's
convenience but the result depends only on ``items`` and ``now``.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from datetime import datetime, timedelta, timezone
from enum import StrEnum

from tui.models import StoredItem


class TalksState(StrEnum):
    DEAL_IN_EFFECT = "DEAL IN EFFECT"
    RELEASES_UNDER_WAY = "RELEASES UNDER WAY"
    ACTIVE_TALKS = "ACTIVE TALKS"
    PROPOSAL_PENDING = "PROPOSAL PENDING"
    STALLED = "STALLED"
    COLLAPSED = "COLLAPSED"
    QUIET = "QUIET"


HOUR = 3600.0
QUIET_AFTER = 72 * HOUR
RELEASE_HOLD = 72 * HOUR
CORROBORATION_WINDOW = 12 * HOUR
CONTEST_WINDOW = 6 * HOUR
HALF_LIFE = 24 * HOUR
MOMENTUM_PRIOR = 0.5
FUTURE_SKEW = 1 * HOUR
MENTION_WINDOW = 72 * HOUR
HOURLY_BUCKETS = 48
DAILY_BUCKETS = 30
EVIDENCE_LIMIT = 20

POSITIVE_SIGNALS = frozenset({"deal", "release", "progress", "proposal"})
NEGATIVE_SIGNALS = frozenset({"stalled", "collapse"})
TALKS_SIGNALS = frozenset({"progress", "proposal", "stalled", "collapse"})

# Canonical actor names (as the classifier emits them) -> the mediator counted.
# Compared case-insensitively.
MEDIATOR_ACTORS: dict[str, str] = {
    "qatar": "Qatar",
    "qatari": "Qatar",
    "al thani": "Qatar",
    "sheikh mohammed bin abdulrahman al thani": "Qatar",
    "mohammed bin abdulrahman al thani": "Qatar",
    "majed al-ansari": "Qatar",
    "egypt": "Egypt",
    "egyptian": "Egypt",
    "sisi": "Egypt",
    "abdel fattah el-sisi": "Egypt",
    "abbas kamel": "Egypt",
    "hassan rashad": "Egypt",
    "badr abdelatty": "Egypt",
    "us": "US",
    "u.s.": "US",
    "usa": "US",
    "united states": "US",
    "washington": "US",
    "white house": "US",
    "witkoff": "US",
    "steve witkoff": "US",
    "mcgurk": "US",
    "brett mcgurk": "US",
    "blinken": "US",
    "antony blinken": "US",
    "william burns": "US",
    "bill burns": "US",
    "kushner": "US",
    "jared kushner": "US",
    "adam boehler": "US",
    "boehler": "US",
    "trump": "US",
    "donald trump": "US",
    "biden": "US",
    "joe biden": "US",
    "rubio": "US",
    "marco rubio": "US",
    "turkey": "Turkey",
    "türkiye": "Turkey",
}

# Places inside the Gaza Strip are where the war is, not where talks are held.
NOT_VENUES: frozenset[str] = frozenset(
    {
        "gaza",
        "gaza strip",
        "gaza city",
        "rafah",
        "khan younis",
        "khan yunis",
        "jabalia",
        "nuseirat",
        "deir al-balah",
        "deir el-balah",
        "beit lahia",
        "beit hanoun",
        "netzarim",
        "philadelphi",
        "philadelphi corridor",
        "netzarim corridor",
        "morag corridor",
    }
)

_SIGNAL_STATE = {
    "progress": TalksState.ACTIVE_TALKS,
    "proposal": TalksState.PROPOSAL_PENDING,
    "stalled": TalksState.STALLED,
}
_POS, _NEG = 0, 1

# Which signals corroborate a state (evidence and confidence).
_SUPPORTS: dict[TalksState, frozenset[str]] = {
    TalksState.DEAL_IN_EFFECT: frozenset({"deal", "release"}),
    TalksState.RELEASES_UNDER_WAY: frozenset({"release"}),
    TalksState.ACTIVE_TALKS: frozenset({"progress", "proposal"}),
    TalksState.PROPOSAL_PENDING: frozenset({"proposal"}),
    TalksState.STALLED: frozenset({"stalled", "collapse"}),
    TalksState.COLLAPSED: frozenset({"collapse"}),
    TalksState.QUIET: frozenset(),
}


@dataclass(frozen=True, slots=True)
class StateChange:
    at: datetime
    state: TalksState
    previous_state: TalksState
    item: StoredItem | None  # the headline that caused it; None when a timer fired


@dataclass(frozen=True, slots=True)
class TalksStatus:
    state: TalksState = TalksState.QUIET
    since: datetime | None = None  # None: no signal ever
    evidence: tuple[StoredItem, ...] = ()  # newest first
    confidence: int = 0  # distinct feeds within 12 h of each other
    momentum: float = 0.0  # -1 .. +1
    timeline: tuple[StateChange, ...] = ()  # oldest first
    mediators: tuple[tuple[str, int], ...] = ()
    venues: tuple[tuple[str, int], ...] = ()
    hourly: tuple[int, ...] = (0,) * HOURLY_BUCKETS  # oldest first
    daily: tuple[int, ...] = (0,) * DAILY_BUCKETS  # oldest first
    last_signal_at: datetime | None = None
    contested: bool = False  # the talks state was decided against a disagreeing feed
    as_of: datetime | None = None

    @property
    def confirmed(self) -> bool:
        return self.confidence >= 2


def is_explicit_collapse(item: StoredItem) -> bool:
    """The classifier fired a collapse-specific term (see the module docstring)."""
    return any("collapse" in rule.casefold() for rule in item.verdict.matched)


# --- replay --------------------------------------------------------------------------


class _Replay:
    """The state machine; times are float seconds since the epoch.

    It runs once per item of the last 30 days after every poll, so the hot
    path avoids per-item allocation and scans: the timers are folded into one
    ``wake`` time, and the contest window is kept incrementally.
    """

    def __init__(self) -> None:
        self.state = TalksState.QUIET
        self.changes: list[StateChange] = []
        self.wake = math.inf  # the earliest time a timer can change the state
        self.last_signal: float | None = None
        self.deal_since: float | None = None
        self.release_since: float | None = None
        self.last_release: float | None = None
        self.track: TalksState | None = None
        self.track_since: float | None = None
        self.contested = False
        # Contest window: entries (ts, feed, camp, state), oldest first; each feed's
        # newest entry (its position) and how many of its entries are in the window.
        self._window: deque[tuple[float, str, int, TalksState]] = deque()
        self._position: dict[str, tuple[float, str, int, TalksState]] = {}
        self._in_window: dict[str, int] = {}
        self._camp_feeds = [0, 0]
        # Collapse claims of the last 12 h, for confirmation by a second feed.
        self._collapses: deque[tuple[float, str]] = deque()
        self._collapse_feeds: dict[str, int] = {}

    # timers ---------------------------------------------------------------

    def advance(self, until: float) -> None:
        """Fire the timers (quiet, end of releases) that fall at or before ``until``."""
        while self.wake <= until:
            at = self.wake
            self._change(_utc(at), self.derive(at), None)

    def derive(self, t: float) -> TalksState:
        if self.last_signal is None or t - self.last_signal >= QUIET_AFTER:
            return TalksState.QUIET
        if self.last_release is not None and t - self.last_release < RELEASE_HOLD:
            return TalksState.RELEASES_UNDER_WAY
        if self.deal_since is not None:
            return TalksState.DEAL_IN_EFFECT
        return self.track or TalksState.QUIET

    def _change(self, at: datetime, new: TalksState, item: StoredItem | None) -> None:
        self.changes.append(StateChange(at=at, state=new, previous_state=self.state, item=item))
        self.state = new
        self._set_wake()

    def _set_wake(self) -> None:
        # The release hold is never later than the quiet timer (a release is a signal).
        if self.state is TalksState.QUIET:
            self.wake = math.inf
        elif self.state is TalksState.RELEASES_UNDER_WAY:
            self.wake = self.last_release + RELEASE_HOLD
        else:
            self.wake = self.last_signal + QUIET_AFTER

    # items ----------------------------------------------------------------

    def apply(self, ts: float, at: datetime, item: StoredItem, signal: str) -> None:
        if ts >= self.wake:
            self.advance(ts)
        if signal == "deal":
            if self.deal_since is None:
                self.deal_since = ts
        elif signal == "release":
            if self.last_release is None or ts - self.last_release >= RELEASE_HOLD:
                self.release_since = ts
            self.last_release = ts
        else:
            self._talks(ts, item, signal)
        self.last_signal = ts
        new = self.derive(ts)
        if new is not self.state:
            self._change(at, new, item)
        else:
            self._set_wake()

    def _talks(self, ts: float, item: StoredItem, signal: str) -> None:
        feed = item.feed
        if signal == "collapse":
            confirmed = is_explicit_collapse(item) or self._other_feed_collapsed(ts, feed)
            self._collapses.append((ts, feed))
            self._collapse_feeds[feed] = self._collapse_feeds.get(feed, 0) + 1
            state = TalksState.COLLAPSED if confirmed else TalksState.STALLED
            camp = _NEG
        else:
            state = _SIGNAL_STATE[signal]
            camp = _NEG if signal == "stalled" else _POS
        self._push((ts, feed, camp, state))

        other = 1 - camp
        camps = self._camp_feeds
        new = state if camps[camp] >= camps[other] else self._newest_position(other)[3]
        self.contested = camps[other] > 0
        if new is not self.track:
            self.track = new
            self.track_since = ts
        if new is TalksState.COLLAPSED and state is TalksState.COLLAPSED:
            # A confirmed collapse that carries the contest ends the deal and its releases.
            self.deal_since = None
            self.last_release = None
            self.release_since = None

    def _newest_position(self, camp: int) -> tuple[float, str, int, TalksState]:
        position = self._position
        for entry in reversed(self._window):
            if entry[2] == camp and position[entry[1]] is entry:
                return entry
        raise AssertionError("a camp with feeds has a position")  # pragma: no cover

    def _other_feed_collapsed(self, ts: float, feed: str) -> bool:
        cutoff = ts - CORROBORATION_WINDOW
        collapses, counts = self._collapses, self._collapse_feeds
        while collapses and collapses[0][0] < cutoff:
            _, old = collapses.popleft()
            counts[old] -= 1
            if not counts[old]:
                del counts[old]
        return len(counts) - (1 if feed in counts else 0) > 0

    def _push(self, entry: tuple[float, str, int, TalksState]) -> None:
        cutoff = entry[0] - CONTEST_WINDOW
        window, position, in_window, camps = self._window, self._position, self._in_window, self._camp_feeds
        while window and window[0][0] <= cutoff:
            old = window.popleft()[1]
            in_window[old] -= 1
            if not in_window[old]:
                camps[position.pop(old)[2]] -= 1
                del in_window[old]
        window.append(entry)
        feed = entry[1]
        previous = position.get(feed)
        if previous is None:
            in_window[feed] = 1
        else:
            camps[previous[2]] -= 1
            in_window[feed] += 1
        position[feed] = entry
        camps[entry[2]] += 1


# --- the status ----------------------------------------------------------------------


def compute_status(
    items: Sequence[StoredItem], now: datetime, *, previous: TalksStatus | None = None
) -> TalksStatus:
    """The status of the talks at ``now`` (rules in the module docstring)."""
    del previous  # see the module docstring: the replay needs no carried-over state
    now_ts = now.timestamp()
    latest_ok = now_ts + FUTURE_SKEW
    hourly = [0] * HOURLY_BUCKETS
    daily = [0] * DAILY_BUCKETS
    mediator_counts: dict[str, int] = {}
    venue_counts: dict[str, int] = {}
    signals: list[tuple[float, str, str, int, datetime, StoredItem, str]] = []
    pos_weight = neg_weight = 0.0
    decay = math.log(2) / HALF_LIFE
    hour_span = HOURLY_BUCKETS * HOUR
    day_span = DAILY_BUCKETS * 24 * HOUR

    for item in items:
        verdict = item.verdict
        if not verdict.relevant:
            continue
        ts = item.published.timestamp()
        if ts > now_ts:
            if ts > latest_ok:
                continue  # a bad date, not news from the future
            ts, at = now_ts, now
        else:
            at = item.published
        age = now_ts - ts
        if age < day_span:
            daily[DAILY_BUCKETS - 1 - int(age // 86400.0)] += 1
            if age < hour_span:
                hourly[HOURLY_BUCKETS - 1 - int(age // HOUR)] += 1
            if age < MENTION_WINDOW:
                _count_mentions(verdict.actors, verdict.places, mediator_counts, venue_counts)
        signal = verdict.signal
        if signal in TALKS_SIGNALS or signal == "deal" or signal == "release":
            weight = math.exp(-decay * age)
            if signal in NEGATIVE_SIGNALS:
                neg_weight += weight
            else:
                pos_weight += weight
            signals.append((ts, item.feed, item.key, item.id, at, item, signal))

    signals.sort(key=itemgetter(0, 1, 2, 3))
    replay = _Replay()
    for ts, _feed, _key, _id, at, item, signal in signals:
        replay.apply(ts, at, item, signal)
    replay.advance(now_ts)

    state = replay.state
    evidence, confidence = _evidence(replay, state, signals)
    total = pos_weight + neg_weight
    momentum = (pos_weight - neg_weight) / (total + MOMENTUM_PRIOR) if total else 0.0
    return TalksStatus(
        state=state,
        since=replay.changes[-1].at if replay.changes else None,
        evidence=evidence,
        confidence=confidence,
        momentum=momentum,
        timeline=tuple(replay.changes),
        mediators=_ranked(mediator_counts),
        venues=_ranked(venue_counts),
        hourly=tuple(hourly),
        daily=tuple(daily),
        last_signal_at=_utc(replay.last_signal) if replay.last_signal is not None else None,
        contested=replay.contested and state in _TALKS_STATES,
        as_of=now,
    )


_TALKS_STATES = frozenset(
    {TalksState.ACTIVE_TALKS, TalksState.PROPOSAL_PENDING, TalksState.STALLED, TalksState.COLLAPSED}
)


def _count_mentions(
    actors: tuple[str, ...], places: tuple[str, ...], mediators: dict[str, int], venues: dict[str, int]
) -> None:
    if actors:
        named = {MEDIATOR_ACTORS.get(actor.casefold()) for actor in actors}
        named.discard(None)
        for name in named:
            mediators[name] = mediators.get(name, 0) + 1
    if places:
        for place in set(places):
            if place.casefold() not in NOT_VENUES:
                venues[place] = venues.get(place, 0) + 1


def _ranked(counts: dict[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counts.items(), key=lambda pair: (-pair[1], pair[0])))


def _evidence(replay: _Replay, state: TalksState, signals: list) -> tuple[tuple[StoredItem, ...], int]:
    if state is TalksState.QUIET:
        return (), 0
    if state is TalksState.DEAL_IN_EFFECT:
        anchor = replay.deal_since
    elif state is TalksState.RELEASES_UNDER_WAY:
        anchor = replay.release_since
    elif state is TalksState.COLLAPSED:
        anchor = replay.track_since - CORROBORATION_WINDOW
    else:
        anchor = replay.track_since - CONTEST_WINDOW
    supports = _SUPPORTS[state]
    start = bisect_left(signals, anchor, key=lambda entry: entry[0])
    chosen = [entry for entry in signals[start:] if entry[6] in supports]
    newest_first = tuple(entry[5] for entry in reversed(chosen[-EVIDENCE_LIMIT:]))
    return newest_first, _max_feeds_within(chosen, CORROBORATION_WINDOW)


def _max_feeds_within(entries: list, window: float) -> int:
    """Most distinct feeds among entries (sorted by time) that lie within ``window`` of each other."""
    best = 0
    counts: dict[str, int] = {}
    left = 0
    for ts, feed, *_ in entries:
        counts[feed] = counts.get(feed, 0) + 1
        while ts - entries[left][0] > window:
            old = entries[left][1]
            counts[old] -= 1
            if not counts[old]:
                del counts[old]
            left += 1
        best = max(best, len(counts))
    return best


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


# --- output ----------------------------------------------------------------------------


def _item_dict(item: StoredItem) -> dict:
    return {
        "id": item.id,
        "feed": item.feed,
        "title": item.title,
        "published": item.published.isoformat(),
        "signal": item.verdict.signal,
        "link": item.link,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def status_to_dict(status: TalksStatus) -> dict:
    """JSON-serialisable form, for ``talkwatch status --json``."""
    return {
        "state": str(status.state),
        "since": _iso(status.since),
        "confidence": status.confidence,
        "confirmed": status.confirmed,
        "contested": status.contested,
        "momentum": round(status.momentum, 4),
        "last_signal_at": _iso(status.last_signal_at),
        "as_of": _iso(status.as_of),
        "evidence": [_item_dict(item) for item in status.evidence],
        "timeline": [
            {
                "at": change.at.isoformat(),
                "state": str(change.state),
                "previous_state": str(change.previous_state),
                "item": _item_dict(change.item) if change.item is not None else None,
            }
            for change in status.timeline
        ],
        "mediators": [{"name": name, "count": count} for name, count in status.mediators],
        "venues": [{"name": name, "count": count} for name, count in status.venues],
        "hourly": list(status.hourly),
        "daily": list(status.daily),
    }


# Feed text reaches the terminal: drop anything that could move the cursor or recolour it.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SPARKS = "▁▂▃▄▅▆▇█"


def format_age(seconds: float) -> str:
    """Coarse age for a glance: 45s, 5m, 3h, 2d."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < HOUR:
        return f"{int(seconds // 60)}m"
    if seconds < 48 * HOUR:
        return f"{int(seconds // HOUR)}h"
    return f"{int(seconds // 86400)}d"


def sparkline(values: Sequence[int]) -> str:
    top = max(values, default=0)
    if not top:
        return _SPARKS[0] * len(values)
    return "".join(_SPARKS[min(len(_SPARKS) - 1, value * len(_SPARKS) // (top + 1))] for value in values)


def _plain(text: str, limit: int = 120) -> str:
    text = " ".join(_UNPRINTABLE.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _momentum_text(momentum: float) -> str:
    arrow = "↑" if momentum > 0.1 else "↓" if momentum < -0.1 else "→"
    return f"momentum {momentum:+.2f} {arrow}"


def _counts_text(pairs: tuple[tuple[str, int], ...], limit: int = 4) -> str:
    return ", ".join(f"{_plain(name, 40)} {count}" for name, count in pairs[:limit])


def headline(status: TalksStatus, now: datetime) -> str:
    """The one-line summary: state, age, corroboration, momentum, mediators, venues."""
    parts = [str(status.state)]
    if status.since is not None:
        parts[0] += f" for {format_age((now - status.since).total_seconds())}"
    if status.state is TalksState.QUIET:
        if status.last_signal_at is not None:
            parts.append(f"last signal {format_age((now - status.last_signal_at).total_seconds())} ago")
        else:
            parts.append("no signal yet")
    elif status.confirmed:
        parts.append(f"confirmed by {status.confidence} sources")
    else:
        parts.append(f"unconfirmed ({status.confidence} source)")
    if status.contested:
        parts.append("contested")
    parts.append(_momentum_text(status.momentum))
    if status.mediators:
        parts.append("mediators " + _counts_text(status.mediators))
    if status.venues:
        parts.append("venues " + _counts_text(status.venues))
    return " · ".join(parts)


def format_status(status: TalksStatus, now: datetime, *, changes: int = 5, evidence: int = 5) -> str:
    """A plain-text, multi-line summary for the terminal (no markup, no control characters)."""
    lines = [headline(status, now)]
    if status.timeline:
        lines.append("")
        lines.append("Recent changes:")
        for change in status.timeline[-changes:]:
            when = change.at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")
            line = f"  {when}  {change.previous_state} -> {change.state}"
            if change.item is not None:
                line += f"  {_plain(change.item.title, 90)} ({_plain(change.item.feed, 30)})"
            else:
                line += "  (no new signal)" if change.state is TalksState.QUIET else "  (no release for 72h)"
            lines.append(line)
    if status.evidence:
        lines.append("")
        lines.append("Evidence:")
        for item in status.evidence[:evidence]:
            age = format_age((now - item.published).total_seconds())
            lines.append(f"  {age:>4} ago  {_plain(item.feed, 24)}: {_plain(item.title, 100)} [{item.verdict.signal}]")
    lines.append("")
    lines.append(f"Relevant items, last 48h: {sparkline(status.hourly)} ({sum(status.hourly)})")
    lines.append(f"Relevant items, last 30d: {sparkline(status.daily)} ({sum(status.daily)})")
    return "\n".join(lines)
