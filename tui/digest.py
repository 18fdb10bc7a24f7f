"""The digest: what changed in the hostage talks over a period, ready to paste into a message (pure).

``build_digest(items, status, stories, since=, now=)`` gathers:

- the talks state now (from the ``TalksStatus``: state, since, confidence,
  momentum) and the state changes whose time falls in the period;
- the stories active in the period (at least one member published in
  ``[since, now]``), grouped by signal in the label guide's order, newest
  first within a signal, each with its lead headline and link and all its
  sources, first reporter first;
- the numbers: stories per signal ("releases reported: N stories"), relevant
  items and their distinct sources in the period, all items, mediators and
  venues named (from the status).

``render_markdown`` writes it for a chat message; headlines are feed text,
so Markdown's active characters in them are escaped and links are only
http(s) URLs with the characters that would end a Markdown link encoded.
``render_json`` gives the same content as plain JSON types.

The status is duck-typed (``tui.status.TalksStatus``): any object with
``state``, ``since``, ``confidence``, ``momentum``, ``timeline``,
``mediators`` and ``venues`` attributes will do; missing ones read as empty.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from tui.models import SIGNALS, StoredItem

SIGNAL_HEADINGS = {
    "deal": "Deal",
    "release": "Releases",
    "progress": "Progress",
    "proposal": "Proposals",
    "stalled": "Stalled",
    "collapse": "Collapse",
    "none": "Other news",
}


@dataclass(frozen=True, slots=True)
class DigestChange:
    at: datetime
    state: str
    previous_state: str
    headline: str  # "" when a timer caused it
    feed: str
    link: str


@dataclass(frozen=True, slots=True)
class DigestStory:
    story_id: int
    signal: str
    headline: str
    link: str
    first_source: str
    first_at: datetime
    sources: tuple[tuple[str, int], ...]  # (feed, minutes after the first report)
    links: tuple[tuple[str, str], ...]  # (feed, link) of each source's first report
    confirmations: int


@dataclass(frozen=True, slots=True)
class Digest:
    since: datetime
    now: datetime
    state: str
    state_since: datetime | None
    confidence: int
    momentum: float
    changes: tuple[DigestChange, ...]  # oldest first
    stories: tuple[tuple[str, tuple[DigestStory, ...]], ...]  # (signal, stories newest first), signals in order
    story_counts: tuple[tuple[str, int], ...]  # (signal, stories) for every signal
    relevant_items: int
    sources: int  # distinct feeds of the relevant items
    all_items: int
    mediators: tuple[tuple[str, int], ...]
    venues: tuple[tuple[str, int], ...]

    @property
    def confirmed(self) -> bool:
        return self.confidence >= 2

    def count(self, signal: str) -> int:
        return dict(self.story_counts).get(signal, 0)


def _name(value: Any) -> str:
    return str(getattr(value, "value", value))


def _in(moment: datetime, since: datetime, now: datetime) -> bool:
    return since <= moment <= now


def safe_url(url: str) -> str:
    """An http(s) URL with the characters that end a Markdown link or URL encoded; else ""."""
    if not re.match(r"(?i)https?://[^\s/]", url or ""):
        return ""
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")


def _first_links(story: Any) -> tuple[tuple[str, str], ...]:
    firsts: dict[str, str] = {}
    for member in story.members:  # oldest first
        if member.feed not in firsts:
            firsts[member.feed] = safe_url(member.link)
    return tuple((feed, firsts.get(feed, "")) for feed, _ in story.sources)


def build_digest(
    items: Sequence[StoredItem], status: Any, stories: Sequence[Any], *, since: datetime, now: datetime
) -> Digest:
    period_items = [i for i in items if _in(i.published, since, now)]
    relevant = [i for i in period_items if i.relevant]

    changes = []
    for change in getattr(status, "timeline", ()) or ():
        if not _in(change.at, since, now):
            continue
        cause = change.item
        changes.append(
            DigestChange(
                at=change.at,
                state=_name(change.state),
                previous_state=_name(change.previous_state),
                headline=cause.title if cause is not None else "",
                feed=cause.feed if cause is not None else "",
                link=safe_url(cause.link) if cause is not None else "",
            )
        )
    changes.sort(key=lambda c: c.at)

    active = [s for s in stories if any(_in(m.published, since, now) for m in s.members)]
    by_signal: dict[str, list[DigestStory]] = {}
    for story in active:
        by_signal.setdefault(story.signal, []).append(
            DigestStory(
                story_id=story.id,
                signal=story.signal,
                headline=story.lead.title,
                link=safe_url(story.lead.link) or next((safe_url(m.link) for m in story.members if safe_url(m.link)), ""),
                first_source=story.first_source,
                first_at=story.first_at,
                sources=tuple(story.sources),
                links=_first_links(story),
                confirmations=story.confirmations,
            )
        )
    order = list(SIGNALS) + sorted(set(by_signal) - set(SIGNALS))
    grouped = tuple(
        (signal, tuple(sorted(by_signal[signal], key=lambda d: (d.first_at, d.story_id), reverse=True)))
        for signal in order
        if signal in by_signal
    )
    return Digest(
        since=since,
        now=now,
        state=_name(getattr(status, "state", "QUIET")),
        state_since=getattr(status, "since", None),
        confidence=int(getattr(status, "confidence", 0) or 0),
        momentum=float(getattr(status, "momentum", 0.0) or 0.0),
        changes=tuple(changes),
        stories=grouped,
        story_counts=tuple((signal, len(by_signal.get(signal, ()))) for signal in order),
        relevant_items=len(relevant),
        sources=len({i.feed for i in relevant}),
        all_items=len(period_items),
        mediators=tuple(getattr(status, "mediators", ()) or ()),
        venues=tuple(getattr(status, "venues", ()) or ()),
    )


# --------------------------------------------------------------------------- markdown

_MD_ACTIVE = re.compile(r"([\\`*_\[\]<>#|~])")


def escape_markdown(text: str) -> str:
    """Feed text as literal Markdown: active characters backslash-escaped, on one line."""
    return _MD_ACTIVE.sub(r"\\\1", " ".join(text.split()))


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(timezone.utc).strftime("%d %b %H:%M UTC").lstrip("0")


def _delay(minutes: int) -> str:
    if minutes < 60:
        return f"+{minutes}m"
    hours, rest = divmod(minutes, 60)
    return f"+{hours}h{rest:02d}m" if rest else f"+{hours}h"


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def _link(text: str, url: str) -> str:
    return f"[{text}]({url})" if url else text


def render_markdown(digest: Digest) -> str:
    lines = [f"# Hostage talks: what changed, {_when(digest.since)} to {_when(digest.now)}", ""]
    confirmation = (
        f"confirmed by {digest.confidence} sources" if digest.confirmed else "unconfirmed (one source)"
    ) if digest.confidence else "no corroborating reports"  # fmt: skip
    lines.append(
        f"**Now: {escape_markdown(digest.state)}** since {_when(digest.state_since)}, "
        f"{confirmation}, momentum {digest.momentum:+.2f}"
    )
    lines.append("")
    lines.append("## State changes")
    if digest.changes:
        for change in digest.changes:
            cause = (
                f": {_link(escape_markdown(change.headline), change.link)} ({escape_markdown(change.feed)})"
                if change.headline
                else ": no new report (timed out)"
            )
            lines.append(
                f"- {_when(change.at)}: {escape_markdown(change.previous_state)} -> "
                f"**{escape_markdown(change.state)}**{cause}"
            )
    else:
        lines.append(f"- none; {escape_markdown(digest.state)} throughout")
    lines.append("")
    lines.append("## Stories")
    if not digest.stories:
        lines.append("- no relevant reports in this period")
    for signal, stories in digest.stories:
        lines.append(f"### {SIGNAL_HEADINGS.get(signal, escape_markdown(signal.title()))} ({len(stories)})")
        for story in stories:
            first, *others = story.sources
            sources = [f"{escape_markdown(first[0])} first at {_when(story.first_at)}"]
            sources += [f"{escape_markdown(feed)} {_delay(minutes)}" for feed, minutes in others]
            lines.append(
                f"- {_link(escape_markdown(story.headline), story.link)} "
                f"(x{story.confirmations}: {', '.join(sources)})"
            )
        lines.append("")
    if not digest.stories:
        lines.append("")
    lines.append("## Numbers")
    lines.append(f"- Releases reported: {_plural(digest.count('release'), 'story', 'stories')}")
    others = [f"{SIGNAL_HEADINGS[s].lower()} {n}" for s, n in digest.story_counts if n and s != "release" and s in SIGNAL_HEADINGS]
    total = sum(n for _, n in digest.story_counts)
    lines.append(f"- Stories: {total}" + (f" ({', '.join(others)})" if others else ""))
    lines.append(
        f"- Relevant items: {digest.relevant_items} from {_plural(digest.sources, 'source')} "
        f"({digest.all_items} items in all)"
    )
    if digest.mediators:
        lines.append("- Mediators named: " + ", ".join(f"{escape_markdown(n)} {c}" for n, c in digest.mediators))
    if digest.venues:
        lines.append("- Venues named: " + ", ".join(f"{escape_markdown(n)} {c}" for n, c in digest.venues))
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------- json


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(timezone.utc).isoformat()


def render_json(digest: Digest) -> dict[str, Any]:
    return {
        "since": _iso(digest.since),
        "now": _iso(digest.now),
        "state": {
            "state": digest.state,
            "since": _iso(digest.state_since),
            "confidence": digest.confidence,
            "confirmed": digest.confirmed,
            "momentum": round(digest.momentum, 3),
        },
        "changes": [
            {
                "at": _iso(c.at),
                "state": c.state,
                "previous_state": c.previous_state,
                "headline": c.headline,
                "feed": c.feed,
                "link": c.link,
            }
            for c in digest.changes
        ],
        "stories": {
            signal: [
                {
                    "id": s.story_id,
                    "headline": s.headline,
                    "link": s.link,
                    "first_source": s.first_source,
                    "first_at": _iso(s.first_at),
                    "confirmations": s.confirmations,
                    "sources": [
                        {"feed": feed, "minutes_after_first": minutes, "link": link}
                        for (feed, minutes), (_, link) in zip(s.sources, s.links)
                    ],
                }
                for s in stories
            ]
            for signal, stories in digest.stories
        },
        "numbers": {
            "stories": dict(digest.story_counts),
            "releases_reported": digest.count("release"),
            "relevant_items": digest.relevant_items,
            "sources": digest.sources,
            "all_items": digest.all_items,
            "mediators": dict(digest.mediators),
            "venues": dict(digest.venues),
        },
    }
