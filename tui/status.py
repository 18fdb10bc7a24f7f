"""The status of the hostage talks, computed from the stored verdicts (pure, no I/O).

``compute_status(items, now)`` replays the relevant items that carry a signal
in published order (ties broken by feed, key, id, so the arrival order of the
items never matters) through a small state machine, and reports where it ends
at ``now``.

State rules
===========

The state shown is the first of these that holds:

1. QUIET -- no signal item (relevant, signal != "none") in the last 72 h.
   Nothing is forgotten while quiet: a later signal brings back whatever the
   layers below say (a deal still in effect, say).
2. RELEASES UNDER WAY -- a ``release`` in the last 72 h. Releases outrank
   everything else, deal or not: a handover, a rescue or a return of bodies
   is what is happening to the hostages, and the deal behind them may be
   older than the items at hand. A release starts this state when a deal is
   in effect (releases are expected), when another feed reported a release
   in the 12 h before, or when there is no talks signal of the last 72 h to
   displace. Otherwise a lone report (a one-off gesture, a rescue, a misread
   "prisoner release" elsewhere) does not displace the talks state, though
   it counts in the momentum. Once releases are under way each release
   extends them. When 72 h pass without one the state falls back to DEAL IN
   EFFECT if a deal is in effect, otherwise to the talks state underneath
   (releases do not change it).
3. DEAL IN EFFECT -- a ``deal`` item has been seen and no collapse since.
   While a deal is in effect, ``progress``/``proposal`` items (talks on the
   next phase) and ``stalled`` items (phase-two talks stuck, "truce at
   risk") do not demote it; only a COLLAPSED outcome of the talks layer ends
   the deal, and the releases with it. A deal does not expire by time alone,
   but one older than the items given (the CLI passes 30 days) is unknown.
4. The talks layer -- ``progress`` -> ACTIVE TALKS, ``proposal`` -> PROPOSAL
   PENDING, ``stalled`` -> STALLED, ``collapse`` -> COLLAPSED, decided at
   each such item by the contest rule below. So a later progress/proposal
   ends a stall or a collapse; a stall report after a collapse ("mediator
   steps back") leaves the talks COLLAPSED.

Collapse needs corroboration. A ``collapse`` item counts as a collapse when
the classifier fired a collapse-specific term -- a phrase in
``verdict.matched`` (the part after "kind: ", as in "signal collapse: 'truce
collapses'") containing "collapse"/"collapsed"/"collapsing" -- or when
another feed reported a collapse in the 12 h before it. Otherwise the lone
claim ("talks break down", "Israel resumes strikes" from one feed) counts as
STALLED: the label guide files "fears that talks may collapse" under
stalled, and a single feed's breakdown report is at least a stall. When a
second feed confirms within 12 h, the state becomes COLLAPSED.

Contest rule (two sources disagreeing). The talks signals form two camps:
positive (progress, proposal) and negative (stalled, collapse). At each
talks item, every feed that reported a talks signal in the 6 h up to that
item counts once, with its newest position (a feed that says "stalled" and
then "talks resume" is positive). The camp with more feeds wins; a tie goes
to the camp of the item at hand (the newest). Within the winning camp the
newest position sets the state. So a lone "talks resume" right after two
feeds said "stalled" leaves the talks STALLED (``contested`` is set), while
the same report six hours later ends the stall. The window is a news cycle: short enough that a
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
from one feed never count twice; ``confirmed`` means at least two. Given
``stories``, it is instead the most distinct feeds confirming one story (one
development) among those holding a supporting item, within 12 h of the
story's first report: three feeds reporting three different developments no
longer read as "confirmed by 3".

``momentum`` is (pos - neg) / (pos + neg + MOMENTUM_PRIOR) over the signal
items, each weighted 0.5 ** (age / 24 h); pos = deal, release, progress,
proposal; neg = stalled, collapse. The prior (half a fresh neutral item)
makes old news fade towards 0 instead of reading +1.00 for a week-old lone
report; one fresh item alone gives +-0.67, many give close to +-1. No
signal at all gives 0.

``mediators``: items of the last 72 h that name a mediator, per mediator
(officials fold into their country: MEDIATOR_ACTORS); ``venues``: the places
of those items except those in the Gaza Strip, Israel and the West Bank
(where the war and the handovers are, not where talks are held). Both count
each item once per name, sorted by count then name.

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
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum
from operator import itemgetter
from typing import Any

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

# Places in the Gaza Strip, Israel and the West Bank are where the war and the
# handovers are, not where talks are held (the same list as tui/stories.py).
NOT_VENUES: frozenset[str] = frozenset(
    "gaza, gaza strip, gaza city, rafah, khan younis, khan yunis, jabalia, nuseirat, deir al-balah, "
    "deir el-balah, beit lahia, beit hanoun, netzarim, philadelphi, philadelphi corridor, "
    "netzarim corridor, morag corridor, israel, tel aviv, jerusalem, west bank, ofer, ofer prison, "
    "ramallah, kerem shalom, re'im, reim, be'eri, kibbutz be'eri, nir oz, kfar aza".split(", ")
)

# A phrase containing this is the classifier's explicit evidence of a collapse.
EXPLICIT_COLLAPSE_STEM = "collaps"

_POS, _NEG = 0, 1  # the two camps of the contest rule
# What a talks signal other than collapse claims: (state, camp).
_TALKS_CLAIM = {
    "progress": (TalksState.ACTIVE_TALKS, _POS),
    "proposal": (TalksState.PROPOSAL_PENDING, _POS),
    "stalled": (TalksState.STALLED, _NEG),
}

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
    """The classifier fired a collapse-specific term (see the module docstring).

    Its notes read ``kind: 'phrase'`` ("signal collapse: 'truce collapses'"), so
    only the phrase is searched: the kind names the signal for every collapse.
    """
    for note in item.verdict.matched:
        _, sep, phrase = note.partition(": ")
        if EXPLICIT_COLLAPSE_STEM in (phrase if sep else note).casefold():
            return True
    return False


# --- replay --------------------------------------------------------------------------


class _RecentClaims:
    """Claims of one kind (collapse, release) in the last 12 h, by feed: is there a second source?"""

    __slots__ = ("_claims", "_per_feed")

    def __init__(self) -> None:
        self._claims: deque[tuple[float, str]] = deque()
        self._per_feed: dict[str, int] = {}

    def has_other(self, ts: float, feed: str) -> bool:
        """Another feed made this claim in the 12 h up to ``ts``."""
        claims, per_feed = self._claims, self._per_feed
        cutoff = ts - CORROBORATION_WINDOW
        while claims and claims[0][0] < cutoff:
            old = claims.popleft()[1]
            per_feed[old] -= 1
            if not per_feed[old]:
                del per_feed[old]
        return len(per_feed) > (feed in per_feed)

    def earliest_other(self, ts: float, feed: str) -> float | None:
        """The earliest such claim by another feed; None when there is none."""
        if not self.has_other(ts, feed):
            return None
        return next(when for when, source in self._claims if source != feed)

    def add(self, ts: float, feed: str) -> None:
        self._claims.append((ts, feed))
        self._per_feed[feed] = self._per_feed.get(feed, 0) + 1


@dataclass(slots=True)
class _Replayed:
    """Where the replay ends; times are float seconds since the epoch."""

    state: TalksState
    changes: list[StateChange]
    last_signal: float | None
    deal_since: float | None
    release_since: float | None
    track_since: float | None
    contested: bool


# An entry is (ts, feed, key, id, seq, item, signal): sorting the tuples themselves
# orders by time, then by the item's identity (seq only separates exact duplicates),
# so the result never depends on the order the items arrived in.
_Entry = tuple[float, str, str, int, int, StoredItem, str]


def _replay(entries: list[_Entry], now_ts: float) -> _Replayed:
    """Run the state machine of the module docstring over ``entries`` (sorted).

    This runs over every signal item of the last 30 days after each poll, so it
    is one flat loop on local variables: the timers (72 h quiet, 72 h release
    hold) fold into one ``wake`` time, and the contest window is kept
    incrementally (each feed's newest position and a count of feeds per camp).
    """
    QUIET, RELEASES, DEAL, COLLAPSED, STALLED = (
        TalksState.QUIET,
        TalksState.RELEASES_UNDER_WAY,
        TalksState.DEAL_IN_EFFECT,
        TalksState.COLLAPSED,
        TalksState.STALLED,
    )
    state = QUIET
    changes: list[StateChange] = []
    wake = math.inf  # the earliest time a timer can change the state
    last_signal = -math.inf
    last_release = -math.inf
    release_since: float | None = None
    deal_since: float | None = None
    track: TalksState | None = None
    track_since: float | None = None
    last_talks = -math.inf
    contested = False
    # Contest window, without allocating per item: the talks entries of the last 6 h,
    # oldest first; per feed with entries there, [how many, its newest entry (its
    # position), that entry's camp, its claim]; how many feeds hold each camp.
    window: deque[_Entry] = deque()
    feeds_in: dict[str, list] = {}
    camps = [0, 0]
    # Collapse and release claims of the last 12 h, for confirmation by a second feed.
    collapse_claims = _RecentClaims()
    release_claims = _RecentClaims()

    def derive(t: float) -> TalksState:
        if t - last_signal >= QUIET_AFTER:
            return QUIET
        if t - last_release < RELEASE_HOLD:
            return RELEASES
        if deal_since is not None:
            return DEAL
        return track or QUIET

    def fire_timers(until: float) -> None:
        nonlocal state, wake
        while wake <= until:
            new = derive(wake)
            changes.append(StateChange(at=_utc(wake), state=new, previous_state=state, item=None))
            state = new
            # After a release hold the quiet timer may still be ahead; after quiet, nothing.
            wake = math.inf if new is QUIET else last_signal + QUIET_AFTER

    for entry in entries:
        ts, feed, _key, _id, _seq, item, signal = entry
        if ts >= wake:
            fire_timers(ts)
        if signal == "deal":
            if deal_since is None:
                deal_since = ts
        elif signal == "release":
            if ts - last_release < RELEASE_HOLD:
                last_release = ts  # releases go on
            elif deal_since is not None or ts - last_talks >= QUIET_AFTER:
                release_since = last_release = ts  # expected, or nothing current to displace
            else:  # outside a deal a lone report does not displace the talks state
                first = release_claims.earliest_other(ts, feed)
                if first is not None:
                    release_since, last_release = first, ts
            release_claims.add(ts, feed)
        else:
            last_talks = ts
            if signal == "collapse":
                corroborated = collapse_claims.has_other(ts, feed)
                claim = COLLAPSED if corroborated or is_explicit_collapse(item) else STALLED
                collapse_claims.add(ts, feed)
                camp = _NEG
            else:
                claim, camp = _TALKS_CLAIM[signal]
            # The contest window: drop what is older than 6 h, then move this feed's position.
            cutoff = ts - CONTEST_WINDOW
            while window and window[0][0] <= cutoff:
                old = window.popleft()[1]
                held = feeds_in[old]
                held[0] -= 1
                if not held[0]:
                    camps[held[2]] -= 1
                    del feeds_in[old]
            window.append(entry)
            held = feeds_in.get(feed)
            if held is None:
                feeds_in[feed] = [1, entry, camp, claim]
            else:
                camps[held[2]] -= 1
                held[0] += 1
                held[1] = entry
                held[2] = camp
                held[3] = claim
            camps[camp] += 1
            other = 1 - camp
            if camps[camp] >= camps[other]:
                new_track = claim
            else:  # outvoted: the newest position of the other camp stands (one per feed)
                newest = max(held[1] for held in feeds_in.values() if held[2] == other)
                new_track = feeds_in[newest[1]][3]
            contested = camps[other] > 0
            if new_track is STALLED and track is COLLAPSED:
                new_track = COLLAPSED  # a stall report does not revive collapsed talks
            if new_track is not track:
                track = new_track
                track_since = ts
            if claim is COLLAPSED and new_track is COLLAPSED:
                # A confirmed collapse that carries the contest ends the deal and its releases.
                deal_since = None
                last_release = -math.inf
                release_since = None
        last_signal = ts
        if ts - last_release < RELEASE_HOLD:
            new = RELEASES
            wake = last_release + RELEASE_HOLD
        else:
            new = DEAL if deal_since is not None else track
            wake = ts + QUIET_AFTER
        if new is not state:
            changes.append(StateChange(at=_entry_time(item, ts), state=new, previous_state=state, item=item))
            state = new
    fire_timers(now_ts)
    return _Replayed(
        state=state,
        changes=changes,
        last_signal=last_signal if entries else None,
        deal_since=deal_since,
        release_since=release_since,
        track_since=track_since,
        contested=contested,
    )


def _entry_time(item: StoredItem, ts: float) -> datetime:
    # Items a little in the future were clamped to now (ts); keep the original otherwise.
    published = item.published
    return published if published.timestamp() == ts else _utc(ts)


# --- the status ----------------------------------------------------------------------


_SIGNALLING = POSITIVE_SIGNALS | NEGATIVE_SIGNALS


def compute_status(
    items: Sequence[StoredItem],
    now: datetime,
    *,
    previous: TalksStatus | None = None,
    stories: Sequence[Any] | Callable[[], Sequence[Any]] | None = None,
) -> TalksStatus:
    """The status of the talks at ``now`` (rules in the module docstring).

    ``stories`` (``tui.stories.Story`` objects, or a callable returning them,
    called only when the state has evidence) makes ``confidence`` count
    confirmations of one development rather than feeds reporting anything that
    supports the state: see ``_story_confidence``.
    """
    del previous  # see the module docstring: the replay needs no carried-over state
    now_ts = now.timestamp()
    latest_ok = now_ts + FUTURE_SKEW
    mention_cutoff = now_ts - MENTION_WINDOW
    relevant_times: list[float] = []
    recent: list[StoredItem] = []
    entries: list[_Entry] = []
    signalling = _SIGNALLING

    for item in items:
        verdict = item.verdict
        if not verdict.relevant:
            continue
        ts = item.published.timestamp()
        if ts > now_ts:
            if ts > latest_ok:
                continue  # a bad date, not news from the future
            ts = now_ts
        relevant_times.append(ts)
        if ts > mention_cutoff:
            recent.append(item)
        if verdict.signal in signalling:
            entries.append((ts, item.feed, item.key, item.id, len(entries), item, verdict.signal))

    entries.sort()
    replayed = _replay(entries, now_ts)
    state = replayed.state
    evidence, confidence, supporting = _evidence(replayed, entries)
    if stories is not None and supporting:
        confidence = _story_confidence(stories() if callable(stories) else stories, supporting) or confidence
    relevant_times.sort()
    mediators, venues = _mentions(recent)
    return TalksStatus(
        state=state,
        since=replayed.changes[-1].at if replayed.changes else None,
        evidence=evidence,
        confidence=confidence,
        momentum=_momentum(entries, now_ts),
        timeline=tuple(replayed.changes),
        mediators=mediators,
        venues=venues,
        hourly=_buckets(relevant_times, now_ts, HOUR, HOURLY_BUCKETS),
        daily=_buckets(relevant_times, now_ts, 24 * HOUR, DAILY_BUCKETS),
        last_signal_at=_utc(replayed.last_signal) if replayed.last_signal is not None else None,
        contested=replayed.contested and state in _TALKS_STATES,
        as_of=now,
    )


_TALKS_STATES = frozenset(
    {TalksState.ACTIVE_TALKS, TalksState.PROPOSAL_PENDING, TalksState.STALLED, TalksState.COLLAPSED}
)


def _momentum(entries: list[_Entry], now_ts: float) -> float:
    decay = math.log(2) / HALF_LIFE
    exp = math.exp
    weights = [exp(decay * (entry[0] - now_ts)) for entry in entries]
    negative = NEGATIVE_SIGNALS
    neg = sum([weight for weight, entry in zip(weights, entries) if entry[6] in negative])
    total = sum(weights)
    return (total - 2 * neg) / (total + MOMENTUM_PRIOR) if total else 0.0


def _buckets(times: list[float], now_ts: float, width: float, count: int) -> tuple[int, ...]:
    """Items per rolling bucket, oldest first; bucket k (from the end) holds ages in [k, k+1) widths."""
    edges = [bisect_right(times, now_ts - k * width) for k in range(count, -1, -1)]
    return tuple(edges[i + 1] - edges[i] for i in range(count))


def _mentions(recent: list[StoredItem]) -> tuple[tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]]:
    """Mediators and venues named by ``recent``, each item counted once per name."""
    mediators: dict[str, int] = {}
    venues: dict[str, int] = {}
    # Items repeat the same few actor and place tuples: resolve each tuple once.
    mediators_of: dict[tuple[str, ...], tuple[str, ...]] = {}
    venues_of: dict[tuple[str, ...], tuple[str, ...]] = {}
    for item in recent:
        verdict = item.verdict
        actors, places = verdict.actors, verdict.places
        if actors:
            names = mediators_of.get(actors)
            if names is None:
                names = mediators_of[actors] = _mediators_named(actors)
            for name in names:
                mediators[name] = mediators.get(name, 0) + 1
        if places:
            names = venues_of.get(places)
            if names is None:
                names = venues_of[places] = _venues_named(places)
            for name in names:
                venues[name] = venues.get(name, 0) + 1
    return _ranked(mediators), _ranked(venues)


def _mediators_named(actors: tuple[str, ...]) -> tuple[str, ...]:
    named = {MEDIATOR_ACTORS.get(actor.casefold()) for actor in actors}
    named.discard(None)
    return tuple(named)


def _venues_named(places: tuple[str, ...]) -> tuple[str, ...]:
    return tuple({place for place in places if place.casefold() not in NOT_VENUES})


def _ranked(counts: dict[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counts.items(), key=lambda pair: (-pair[1], pair[0])))


def _evidence(replayed: _Replayed, entries: list[_Entry]) -> tuple[tuple[StoredItem, ...], int, list]:
    """Evidence (newest first), the feed-count confidence, and every supporting entry."""
    state = replayed.state
    if state is TalksState.QUIET:
        return (), 0, []
    if state is TalksState.DEAL_IN_EFFECT:
        anchor = replayed.deal_since
    elif state is TalksState.RELEASES_UNDER_WAY:
        anchor = replayed.release_since
    elif state is TalksState.COLLAPSED:
        anchor = replayed.track_since - CORROBORATION_WINDOW
    else:
        anchor = replayed.track_since - CONTEST_WINDOW
    supports = _SUPPORTS[state]
    start = bisect_left(entries, anchor, key=itemgetter(0))
    chosen = [entry for entry in entries[start:] if entry[6] in supports]
    newest_first = tuple(entry[5] for entry in reversed(chosen[-EVIDENCE_LIMIT:]))
    return newest_first, _max_feeds_within(chosen, CORROBORATION_WINDOW), chosen


def _story_confidence(stories: Sequence[Any], supporting: list) -> int:
    """The most distinct feeds confirming one story that supports the state, counting
    the story's members within ``CORROBORATION_WINDOW`` (12 h) of its first report.

    A story supports the state when one of its members is a supporting entry.
    0 when no given story holds a supporting item (the caller grouped other
    items): the feed-count confidence stands then.
    """
    supporting_ids = {entry[3] for entry in supporting}
    best = 0
    for story in stories:
        members = story.members
        if not any(member.id in supporting_ids for member in members):
            continue
        first = min(member.published for member in members).timestamp()
        feeds = {m.feed for m in members if m.published.timestamp() - first <= CORROBORATION_WINDOW}
        best = max(best, len(feeds))
    return best


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
    steps = len(_SPARKS) - 1
    # Any item at all shows above the floor; the busiest bucket is a full block.
    return "".join(_SPARKS[max(1, round(value * steps / top)) if value else 0] for value in values)


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
