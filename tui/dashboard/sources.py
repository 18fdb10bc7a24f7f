"""The sources side panel: one entry per feed, in feeds.toml order (the order
the `1`..`9` keys use), with its poll state and the last error in words."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, Sequence

from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

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


@lru_cache(maxsize=8192)
def _feed_lines(
    index: int, name: str, enabled: bool, state: FeedState | None, items: int, relevant: int,
    picked: bool, fetched: str | None, next_poll: str | None, first: int = 0,
) -> tuple[Text, ...]:
    """The 2-3 lines of one feed. Cached: the panel is refreshed on every poll
    result, and with hundreds of feeds building Text spans is the cost."""
    word, icon, colour = feed_look(state, enabled)
    shown = plain(name)
    if len(shown) > NAME_W:
        shown = shown[: NAME_W - 1] + "…"
    first_line = Text.assemble(
        (f"{index if index <= 9 else ' '} ", "bold #fde047" if picked else "#64748b"),
        (f"{icon} ", colour),
        (f"{shown:<{NAME_W}}", "bold reverse" if picked else "bold"),
        (f" {items:>3}", "#cbd5e1"),
        (" / ", "#64748b"),
        (f"{relevant:<3}", "bold #67e8f9" if relevant else "#64748b"),
        no_wrap=True,
    )
    second = Text.assemble(("    ", ""), (word, colour), no_wrap=True)
    if fetched is not None:
        second.append(" just now" if fetched == "now" else f" {fetched} ago", style="#94a3b8")
    if next_poll is not None:
        second.append(f" · next {next_poll}", style="#94a3b8")
    if first:  # before the latency: the narrow panel cuts the end of the line
        second.append(" · ", style="#64748b")
        second.append(f"1st {first}", style="bold #facc15")
    if state is not None and state.latency_ms is not None:
        second.append(f" · {state.latency_ms:.0f}ms", style="#64748b")
    lines = [first_line, second]
    if state is not None:
        if state.last_error and state.outcome in (FeedOutcome.ERROR, FeedOutcome.BACKOFF, FeedOutcome.GONE):
            lines.append(Text.assemble(("    ", ""), (plain(state.last_error), "#f87171"), no_wrap=True))
        elif state.moved_to:
            lines.append(Text.assemble(
                ("    ", ""), (f"moved permanently to {plain(state.moved_to)}: update feeds.toml", "#facc15"),
                no_wrap=True,
            ))
        elif state.warning:
            lines.append(Text.assemble(("    ", ""), (plain(state.warning), "#a16207"), no_wrap=True))
    return tuple(lines)


def sources_lines(
    feeds: Sequence[Any],
    states: dict[str, FeedState],
    counts: dict[str, tuple[int, int]],
    now: datetime,
    selected: str | None,
    first_reports: dict[str, int] | None = None,
) -> list[Text]:
    if not feeds:
        return [Text("No feeds configured.", style="#94a3b8"), Text("Add a [[feed]] to feeds.toml.", style="#94a3b8")]
    lines: list[Text] = []
    for index, feed in enumerate(feeds, start=1):
        state = states.get(feed.name)
        fetched = next_poll = None
        if state is not None and state.last_fetch_at is not None:
            fetched = age(state.last_fetch_at, now)
        if state is not None and not state.gone and state.next_check_at is not None:
            next_poll = until(state.next_check_at, now).removeprefix("in ")
        items, relevant = counts.get(feed.name, (0, 0))
        lines.extend(_feed_lines(
            index, feed.name, getattr(feed, "enabled", True), state, items, relevant,
            feed.name == selected, fetched, next_poll, (first_reports or {}).get(feed.name, 0),
        ))
    return lines


class SourcesPanel(ScrollView, can_focus=False):
    """Renders only the visible lines: with hundreds of feeds the panel is
    refreshed on every poll result, and a Static would lay out all of it."""

    DEFAULT_CSS = """
    SourcesPanel {
        width: 44;
        height: 1fr;
        border: round $primary-darken-2;
        border-title-color: $text;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        scrollbar-size-vertical: 1;
        background: $surface;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.progress: tuple[int, int] | None = None
        self.lines: list[Text] = [Text("loading…", style="#94a3b8")]
        self._strips: dict[tuple[int, int], tuple[Text, Strip]] = {}

    def on_mount(self) -> None:
        self.border_title = "Sources"
        self.tooltip = "items / relevant in the last 24 h; 1st N: first to report N stories others confirmed (7 days)"

    @property
    def plain(self) -> str:
        return "\n".join(line.plain for line in self.lines)

    def show(self, feeds, states, counts, now, selected, first_reports=None) -> None:
        self.lines = sources_lines(feeds, states, counts, now, selected, first_reports)
        if len(self._strips) > 4096:
            self._strips.clear()
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.lines))
        self.refresh()
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

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        if not 0 <= index < len(self.lines):
            return Strip.blank(width, self.rich_style)
        line = self.lines[index]
        # Lines come from a cache (_feed_lines), so an unchanged feed keeps the
        # same Text object across refreshes and its rendered strip is reused.
        key = (id(line), width)
        cached = self._strips.get(key)
        if cached is None or cached[0] is not line:
            copy = line.copy()
            copy.truncate(width, overflow="ellipsis", pad=True)
            strip = Strip(list(copy.render(self.app.console)), width).apply_style(self.rich_style)
            cached = self._strips[key] = (line, strip)
        return cached[1]

    def on_resize(self) -> None:
        self._strips.clear()
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.lines))
