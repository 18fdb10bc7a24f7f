"""The sources side panel: one entry per feed, in feeds.toml order (the order
the `1`..`9` keys use), with its poll state and the last error in words."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.dashboard.formatting import age, plain, until
from tui.models import FeedOutcome, FeedState

# outcome -> (word, icon, colour)
OUTCOME_LOOK = {
    FeedOutcome.OK: ("ok", "●", "#4ade80"),
    FeedOutcome.NOT_MODIFIED: ("not modified", "●", "#22c55e"),
    FeedOutcome.ERROR: ("error", "✖", "#f87171"),
    FeedOutcome.BACKOFF: ("backing off", "◔", "#fb923c"),
    FeedOutcome.MOVED: ("moved", "➜", "#facc15"),
    FeedOutcome.GONE: ("gone", "✖", "#dc2626"),
}
NAME_W = 22


def feed_look(state: FeedState | None, enabled: bool = True) -> tuple[str, str, str]:
    if not enabled:
        return ("disabled", "○", "#64748b")
    if state is None or state.outcome is None:
        return ("waiting", "○", "#94a3b8")
    if state.gone:
        return OUTCOME_LOOK[FeedOutcome.GONE]
    if state.outcome == FeedOutcome.ERROR and state.failures > 1:
        return OUTCOME_LOOK[FeedOutcome.BACKOFF]
    return OUTCOME_LOOK.get(state.outcome, (plain(state.outcome), "●", "#94a3b8"))


def sources_text(
    feeds: Sequence[Any],
    states: dict[str, FeedState],
    counts: dict[str, tuple[int, int]],
    now: datetime,
    selected: str | None,
) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    if not feeds:
        text.append("No feeds configured.\nAdd a [[feed]] to feeds.toml.", style="#94a3b8")
        return text
    for index, feed in enumerate(feeds, start=1):
        name = feed.name
        state = states.get(name)
        word, icon, colour = feed_look(state, getattr(feed, "enabled", True))
        items, relevant = counts.get(name, (0, 0))
        number = str(index) if index <= 9 else " "
        picked = name == selected
        text.append(f"{number} ", style="bold #fde047" if picked else "#64748b")
        text.append(f"{icon} ", style=colour)
        shown = plain(name)
        if len(shown) > NAME_W:
            shown = shown[: NAME_W - 1] + "…"
        text.append(f"{shown:<{NAME_W}}", style="bold reverse" if picked else "bold")
        text.append(f" {items:>3}", style="#cbd5e1")
        text.append(" / ", style="#64748b")
        text.append(f"{relevant:<3}", style="bold #67e8f9" if relevant else "#64748b")
        text.append("\n    ")
        text.append(word, style=colour)
        if state is not None and state.last_fetch_at is not None:
            fetched = age(state.last_fetch_at, now)
            text.append(" just now" if fetched == "now" else f" {fetched} ago", style="#94a3b8")
        if state is not None and not state.gone and state.next_check_at is not None:
            text.append(f" · next {until(state.next_check_at, now).removeprefix('in ')}", style="#94a3b8")
        if state is not None and state.latency_ms is not None:
            text.append(f" · {state.latency_ms:.0f}ms", style="#64748b")
        if state is not None:
            if state.last_error and state.outcome in (FeedOutcome.ERROR, FeedOutcome.BACKOFF, FeedOutcome.GONE):
                text.append("\n    ")
                text.append(plain(state.last_error), style="#f87171")
            elif state.moved_to:
                text.append("\n    ")
                text.append(f"moved permanently to {plain(state.moved_to)}: update feeds.toml", style="#facc15")
            elif state.warning:
                text.append("\n    ")
                text.append(plain(state.warning), style="#a16207")
        text.append("\n")
    text.rstrip()
    return text


class SourcesPanel(VerticalScroll):
    DEFAULT_CSS = """
    SourcesPanel {
        width: 44;
        height: 1fr;
        border: round $primary-darken-2;
        border-title-color: $text;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        scrollbar-size-vertical: 1;
    }
    SourcesPanel #sources-body {
        width: 1fr;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.progress: tuple[int, int] | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("loading…", style="#94a3b8"), id="sources-body")

    def on_mount(self) -> None:
        self.border_title = "Sources"
        self.tooltip = "items / relevant in the last 24 h"

    def show(self, feeds, states, counts, now, selected) -> None:
        self.query_one("#sources-body", Static).update(sources_text(feeds, states, counts, now, selected))
        ok = sum(1 for f in feeds if feed_look(states.get(f.name), getattr(f, "enabled", True))[0] in ("ok", "not modified"))
        failing = sum(1 for f in feeds if feed_look(states.get(f.name))[0] in ("error", "backing off", "gone"))
        if self.progress is not None:
            done, total = self.progress
            self.border_subtitle = f"polling {done}/{total}"
        else:
            summary = f"{ok}/{len(feeds)} ok"
            if failing:
                summary += f" · {failing} failing"
            self.border_subtitle = summary + " · 24h items/rel"
