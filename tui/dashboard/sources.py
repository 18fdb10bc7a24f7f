"""The sources side panel: one entry per feed, in feeds.toml order (the order
the `1`..`9` keys use), with its poll state and the last error in words."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, Sequence

from rich.text import Text
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.dashboard.borders import set_border_titles
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
LINES_PER_FRAME = 12


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


# Each line of a feed is built (and cached) from what it shows only: while a
# poll streams in, "fetched 4s ago" changes every second for every feed, and
# the name-and-counts line above it then stays the same Text (its rendered
# strip reused, no repaint).
@lru_cache(maxsize=8192)
def _head_line(index: int, name: str, icon: str, colour: str, items: int, relevant: int, picked: bool) -> Text:
    shown = plain(name)
    if len(shown) > NAME_W:
        shown = shown[: NAME_W - 1] + "…"
    return Text.assemble(
        (f"{index if index <= 9 else ' '} ", "bold #fde047" if picked else "#64748b"),
        (f"{icon} ", colour),
        (f"{shown:<{NAME_W}}", "bold reverse" if picked else "bold"),
        (f" {items:>3}", "#cbd5e1"),
        (" / ", "#64748b"),
        (f"{relevant:<3}", "bold #67e8f9" if relevant else "#64748b"),
        no_wrap=True,
    )


@lru_cache(maxsize=8192)
def _status_line(
    word: str, colour: str, fetched: str | None, next_poll: str | None, first: int, latency_ms: float | None
) -> Text:
    second = Text.assemble(("    ", ""), (word, colour), no_wrap=True)
    if fetched is not None:
        second.append(" just now" if fetched == "now" else f" {fetched} ago", style="#94a3b8")
    if next_poll is not None:
        second.append(f" · next {next_poll}", style="#94a3b8")
    if first:  # before the latency: the narrow panel cuts the end of the line
        second.append(" · ", style="#64748b")
        second.append(f"1st {first}", style="bold #facc15")
    if latency_ms is not None:
        second.append(f" · {latency_ms:.0f}ms", style="#64748b")
    return second


@lru_cache(maxsize=1024)
def _note_line(text: str, colour: str) -> Text:
    return Text.assemble(("    ", ""), (text, colour), no_wrap=True)


def _note(state: FeedState | None) -> tuple[str, str] | None:
    """The third line's text and colour: the last error, a permanent move or a warning."""
    if state is None:
        return None
    if state.last_error and state.outcome in (FeedOutcome.ERROR, FeedOutcome.BACKOFF, FeedOutcome.GONE):
        return (plain(state.last_error), "#f87171")
    if state.moved_to:
        return (f"moved permanently to {plain(state.moved_to)}: update feeds.toml", "#facc15")
    if state.warning:
        return (plain(state.warning), "#a16207")
    return None


# A line of the panel, unbuilt: the function building it and its arguments.
# Building Text for 200 feeds is ~10 ms, and a poll changes every feed's
# "fetched 4s ago" each second; only the ~20 feeds on screen are built.
LineKey = tuple


def sources_line_keys(
    feeds: Sequence[Any],
    states: dict[str, FeedState],
    counts: dict[str, tuple[int, int]],
    now: datetime,
    selected: str | None,
    first_reports: dict[str, int] | None = None,
) -> list[LineKey | Text]:
    if not feeds:
        return [Text("No feeds configured.", style="#94a3b8"), Text("Add a [[feed]] to feeds.toml.", style="#94a3b8")]
    keys: list[LineKey | Text] = []
    first_reports = first_reports or {}
    for index, feed in enumerate(feeds, start=1):
        state = states.get(feed.name)
        fetched = next_poll = None
        if state is not None and state.last_fetch_at is not None:
            fetched = age(state.last_fetch_at, now)
        if state is not None and not state.gone and state.next_check_at is not None:
            next_poll = until(state.next_check_at, now).removeprefix("in ")
        items, relevant = counts.get(feed.name, (0, 0))
        word, icon, colour = feed_look(state, getattr(feed, "enabled", True))
        keys.append((_head_line, (index, feed.name, icon, colour, items, relevant, feed.name == selected)))
        latency = state.latency_ms if state is not None else None
        keys.append((_status_line, (word, colour, fetched, next_poll, first_reports.get(feed.name, 0), latency)))
        note = _note(state)
        if note is not None:
            keys.append((_note_line, note))
    return keys


def line_of(key: LineKey | Text) -> Text:
    if isinstance(key, Text):
        return key
    build, args = key
    return build(*args)


def sources_lines(
    feeds: Sequence[Any],
    states: dict[str, FeedState],
    counts: dict[str, tuple[int, int]],
    now: datetime,
    selected: str | None,
    first_reports: dict[str, int] | None = None,
) -> list[Text]:
    """The panel's lines: 2-3 per feed (name and counts; state and times; an error, a move or a warning)."""
    return [line_of(key) for key in sources_line_keys(feeds, states, counts, now, selected, first_reports)]


def _runs(indexes: list[int]) -> list[tuple[int, int]]:
    """Sorted line numbers as (first, count) runs of consecutive lines."""
    runs: list[tuple[int, int]] = []
    for index in indexes:
        if runs and runs[-1][0] + runs[-1][1] == index:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((index, 1))
    return runs


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
        self.line_keys: list[LineKey | Text] = [Text("loading…", style="#94a3b8")]
        self._strips: dict[tuple[int, int], tuple[Text, Strip]] = {}
        self._pass: tuple[int, int, Any] | None = None
        self._pending_lines: set[int] = set()  # changed, not repainted yet (see _paint_pending_lines)
        self._paint_scheduled = False

    def on_mount(self) -> None:
        self.border_title = "Sources"
        self.tooltip = "items / relevant in the last 24 h; 1st N: first to report N stories others confirmed (7 days)"

    @property
    def lines(self) -> list[Text]:
        return [line_of(key) for key in self.line_keys]

    @property
    def plain(self) -> str:
        return "\n".join(line.plain for line in self.lines)

    def show(self, feeds, states, counts, now, selected, first_reports=None) -> None:
        old = self.line_keys
        self.line_keys = lines = sources_line_keys(feeds, states, counts, now, selected, first_reports)
        if len(self._strips) > 4096:
            self._strips.clear()
        if len(lines) == len(old) and self.is_mounted:
            # Refreshed on every poll result: repaint only the lines that
            # changed (an unchanged feed keeps an equal line key).
            self._refresh_changed_lines(old, lines)
        else:
            self._pending_lines.clear()
            self._set_virtual_height(len(lines))
            self.refresh()
        ok = failing = 0
        for feed in feeds:
            word = feed_look(states.get(feed.name), getattr(feed, "enabled", True))[0]
            if word in ("ok", "not modified"):
                ok += 1
            elif word in ("error", "backing off", "gone"):
                failing += 1
        if self.progress is not None:
            done, total = self.progress
            subtitle = f"polling {done}/{total}"
        else:
            subtitle = f"{ok}/{len(feeds)} ok"
            if failing:
                subtitle += f" · {failing} failing"
            subtitle += " · 24h items/rel"
        set_border_titles(self, subtitle=subtitle)

    def _refresh_changed_lines(self, old: list, new: list) -> None:
        top = self.scroll_offset.y
        bottom = min(top + self.scrollable_content_region.height, len(new))
        self._pending_lines.update(index for index in range(top, bottom) if new[index] != old[index])
        self._paint_pending_lines()

    def _paint_pending_lines(self) -> None:
        """Repaint up to LINES_PER_FRAME changed lines now, the rest in the next frames.

        The first results of a poll change every feed on screen (its icon,
        its counts, its times): 40-odd lines at ~0.3 ms each, in one frame
        with whatever else changed. A few lines a frame keep each frame short;
        the panel is complete a few frames (tens of ms) later."""
        if not self._pending_lines:
            return
        batch = sorted(self._pending_lines)[:LINES_PER_FRAME]
        self._pending_lines.difference_update(batch)
        for start, count in _runs(batch):
            self.refresh_lines(start, count)
        if self._pending_lines and not self._paint_scheduled:
            self._paint_scheduled = True
            self.call_after_refresh(self._paint_next_lines)

    def _paint_next_lines(self) -> None:
        self._paint_scheduled = False
        self._paint_pending_lines()

    def _set_virtual_height(self, lines: int) -> None:
        size = Size(self.scrollable_content_region.width, lines)
        if size == self.virtual_size:
            return
        if not self.is_mounted or not self.container_size.area:  # not laid out yet
            self.virtual_size = size
            return
        # The virtual_size reactive asks for a layout of the whole screen; the
        # panel's own size does not change, only its scrollbar may (and
        # _scroll_update asks for the layout then). As in OneLineRowsTable.
        self.set_reactive(SourcesPanel.virtual_size, size)
        self._scroll_update(size)

    def render_lines(self, crop: Region) -> list[Strip]:
        # rich_style and the content region walk the DOM: once per repaint,
        # not once per line (a poll refreshes this panel every second).
        self._pass = (self.scroll_offset.y, self.scrollable_content_region.width, self.rich_style)
        try:
            return super().render_lines(crop)
        finally:
            self._pass = None

    def render_line(self, y: int) -> Strip:
        scroll_y, width, style = self._pass or (
            self.scroll_offset.y, self.scrollable_content_region.width, self.rich_style
        )
        index = scroll_y + y
        if not 0 <= index < len(self.line_keys):
            return Strip.blank(width, style)
        line = line_of(self.line_keys[index])
        # Lines come from a cache (_head_line and the others), so an unchanged feed keeps the
        # same Text object across refreshes and its rendered strip is reused.
        key = (id(line), width)
        cached = self._strips.get(key)
        if cached is None or cached[0] is not line:
            copy = line.copy()
            copy.truncate(width, overflow="ellipsis", pad=True)
            strip = Strip(list(copy.render(self.app.console)), width).apply_style(style)
            cached = self._strips[key] = (line, strip)
        return cached[1]

    def on_resize(self) -> None:
        self._strips.clear()
        self._pending_lines.clear()  # the whole panel is repainted
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.line_keys))
