"""The headlines list: a DataTable of stories or items, newest first.

Rows are keyed so the cursor can follow them: ``"s<story id>"`` for a story
(one development, several sources), ``"s<story id>/<item id>"`` for a member
shown under an expanded story, ``"<item id>"`` for a lone item (raw mode, or
an item no story holds: not relevant). The cursor follows the *key*, not the
row number: when live arrivals are inserted above it, it is put back on the
same row key, so a reader is never pulled off the story they are reading.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Collection, NamedTuple, Sequence

from rich.text import Text
from textual.binding import Binding
from textual.widgets.data_table import RowDoesNotExist

from tui.dashboard.formatting import BADGE_WIDTH, age, plain, signal_badge
from tui.dashboard.row_table import OneLineRowsTable
from tui.models import StoredItem

FLAG_W, AGE_W, SOURCE_W, COUNT_W = 1, 3, 16, 4
# One cell per row, laid out here: DataTable renders each cell through Rich
# padding and cropping, so five cells per row cost five times the render time
# of one, and a filter keystroke re-renders every visible row.
PREFIX_WIDTH = FLAG_W + 1 + AGE_W + 2 + SOURCE_W + 1 + BADGE_WIDTH + 1 + COUNT_W + 1
MIN_HEADLINE_W = 20


def header_text(stories: bool = True) -> Text:
    """The column header; "Srcs" (sources per story) only where rows are stories."""
    return Text(
        " " * (FLAG_W + 1) + "Age".rjust(AGE_W) + "  " + "Source".ljust(SOURCE_W) + " "
        + "Signal".ljust(BADGE_WIDTH) + " " + ("Srcs" if stories else "").rjust(COUNT_W) + " " + "Headline",
        style="bold",
    )


class HeadlineRow(NamedTuple):
    """What one table row shows: a story, a member of an expanded story, or a lone item."""

    key: str
    item: StoredItem  # the item shown (a story row: its lead)
    story: Any = None  # tui.stories.Story, for story and member rows
    member: bool = False

    @property
    def is_story(self) -> bool:
        return self.story is not None and not self.member


def story_key(story_id: int) -> str:
    return f"s{story_id}"


def build_rows(items: Sequence[StoredItem], stories: Sequence[Any] | None, expanded: Collection[int]) -> list[HeadlineRow]:
    """The rows, newest first: stories (by first report) merged with items no story holds."""
    if stories is None:
        return [HeadlineRow(str(item.id), item) for item in items]
    in_story: set[int] = set()
    dated: list[tuple[datetime, int, list[HeadlineRow]]] = []
    for story in stories:
        in_story.update([member.id for member in story.members])
        rows = [HeadlineRow(story_key(story.id), story.lead, story)]
        if story.id in expanded and len(story.members) > 1:
            rows.extend(HeadlineRow(f"s{story.id}/{m.id}", m, story, True) for m in story.members)
        dated.append((story.first_at, story.lead.id, rows))
    for item in items:
        if item.id not in in_story:
            dated.append((item.published, item.id, [HeadlineRow(str(item.id), item)]))
    dated.sort(key=lambda entry: (entry[0], entry[1]), reverse=True)
    return [row for _, _, rows in dated for row in rows]


def _count(row: HeadlineRow, expanded: bool) -> Text:
    if row.member:
        return Text("└".rjust(COUNT_W), style="#64748b")
    if row.story is None:
        return Text(" " * COUNT_W)
    n = row.story.confirmations
    if len(row.story.members) < 2:
        return Text(f"x{n}".rjust(COUNT_W), style="#64748b")
    marker = "▾" if expanded else "▸"
    style = "bold #67e8f9" if n >= 2 else "#94a3b8"
    return Text.assemble((marker, "#64748b"), (f"x{n}".rjust(COUNT_W - 1), style))


def _prefix(row: HeadlineRow, flagged: Any, when: str, feed: str, signal: str, expanded: bool) -> Text:
    """A row up to its headline: flag, age, source, signal badge, count."""
    line = Text(no_wrap=True, overflow="ellipsis", end="")
    line.append_text(_flag(flagged))
    line.append(" ")
    line.append(when.rjust(AGE_W), style="#94a3b8")
    line.append("  ")
    source = _source(feed)
    line.append_text(source)
    line.append(" " * max(1, SOURCE_W - source.cell_len + 1))
    badge = signal_badge(signal, row.item.relevant)
    line.append_text(badge)
    line.append(" " * max(1, BADGE_WIDTH - badge.cell_len + 1))
    line.append_text(_count(row, expanded))
    line.append(" ")
    return line


def _flag(item: StoredItem | Any) -> Text:
    """Starred, else unread, else blank: for an item or a story (which answers the same)."""
    if item.starred:
        return Text("★", style="bold #facc15")
    if not item.read:
        return Text("●", style="bold #38bdf8")
    return Text(" ")


def _headline(item: StoredItem) -> Text:
    style = "bold" if not item.read else ""
    if not item.relevant:
        style = f"{style} #94a3b8".strip()
    text = Text(plain(item.title) or "(untitled)", style=style, no_wrap=True, overflow="ellipsis")
    return text


def _source(name: str) -> Text:
    text = Text(plain(name), style="#a5b4fc", no_wrap=True, overflow="ellipsis")
    text.truncate(SOURCE_W, overflow="ellipsis")
    return text


class HeadlinesTable(OneLineRowsTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="headlines.down"),
        Binding("k", "cursor_up", "Up", show=False, id="headlines.up"),
    ]

    DEFAULT_CSS = """
    HeadlinesTable {
        height: 1fr;
        border: round $primary-darken-2;
        border-title-color: $text;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        scrollbar-size-vertical: 1;
    }
    HeadlinesTable:focus {
        border: round $primary;
    }
    HeadlinesTable > .datatable--header {
        color: $text-muted;
        text-style: bold;
        background: $surface;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, show_row_labels=False, **kwargs)
        self.items_by_id: dict[int, StoredItem] = {}
        self.rows_by_key: dict[str, HeadlineRow] = {}
        self.stories_by_id: dict[int, Any] = {}
        self.expanded: set[int] = set()
        self._row_cache: dict[tuple, list[Text]] = {}
        self._headline_width = 60
        self._shown: tuple = ((), None, ())
        self._keys_of_item: dict[int, list[str]] | None = {}
        self._prefix_cache: dict[tuple, Text] = {}

    def on_mount(self) -> None:
        self.add_column(header_text(), width=PREFIX_WIDTH + self._headline_width, key="row")
        self.border_title = "Headlines"

    # -- content -------------------------------------------------------------

    def _row(self, row: HeadlineRow, now: datetime) -> list[Text]:
        # Rows are rebuilt on every keystroke of the filter: reuse the cells of
        # a row that looks the same (same flags, same age, same width).
        item, story = row.item, row.story
        if row.is_story:
            key = ("s", story.id, story.read, story.starred, item.title, story.signal, story.confirmations,
                   len(story.members), story.id in self.expanded, story.first_source,
                   age(story.first_at, now), self._headline_width)
        else:
            key = (row.member, item.id, item.read, item.starred, item.title, item.signal, item.relevant,
                   age(item.published, now), self._headline_width)
        cells = self._row_cache.get(key)
        if cells is None:
            if len(self._row_cache) > 20_000:
                self._row_cache.clear()
            cells = self._row_cache[key] = self._make_row(row, now)
        return cells

    def _make_row(self, row: HeadlineRow, now: datetime) -> list[Text]:
        item, story = row.item, row.story
        # Flag, age, source, badge and count: a few hundred combinations among
        # thousands of rows; built once each, then copied.
        flagged = story if row.is_story else item
        when, feed, signal = (story.first_at, story.first_source, story.signal) if row.is_story else (
            item.published, item.feed, item.signal)
        expanded = story is not None and story.id in self.expanded
        count_key = None if story is None else (row.member, story.confirmations, len(story.members) < 2, expanded)
        key = (flagged.starred, flagged.read, age(when, now), feed, signal, item.relevant, count_key)
        prefix = self._prefix_cache.get(key)
        if prefix is None:
            if len(self._prefix_cache) > 5000:
                self._prefix_cache.clear()
            prefix = self._prefix_cache[key] = _prefix(row, flagged, key[2], feed, signal, expanded)
        line = prefix.copy()
        headline = _headline(item)
        if row.is_story and not story.read:
            headline.stylize("bold")
        elif row.is_story:
            headline.style = "#94a3b8" if not item.relevant else ""
        if row.member:
            headline.stylize("#cbd5e1")
        headline.truncate(self._headline_width, overflow="ellipsis")
        line.append_text(headline)
        return [line]

    def highlighted_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:
            return None
        return key.value

    def highlighted_row(self) -> HeadlineRow | None:
        key = self.highlighted_key()
        return self.rows_by_key.get(key) if key is not None else None

    def highlighted_id(self) -> int | None:
        row = self.highlighted_row()
        return row.item.id if row is not None else None

    def highlighted_item(self) -> StoredItem | None:
        """The highlighted item; for a story row, its lead (the first report)."""
        row = self.highlighted_row()
        return self.items_by_id.get(row.item.id, row.item) if row is not None else None

    def highlighted_story(self) -> Any:
        """The story of the highlighted story row (not of a member row), else None."""
        row = self.highlighted_row()
        if row is None or not row.is_story:
            return None
        return self.stories_by_id.get(row.story.id, row.story)

    def row_title(self, key: str) -> str:
        return self.rows_by_key[key].item.title

    def show_items(
        self,
        items: Sequence[StoredItem],
        now: datetime,
        stories: Sequence[Any] | None = None,
        expanded: Collection[int] = (),
    ) -> None:
        """Replace the rows, keeping the cursor on the same row key when it is still shown.

        ``stories`` None: one row per item; else one row per story (plus items
        no story holds), with the ``expanded`` stories' members under them."""
        keep = self.highlighted_key()
        self._shown = (items, stories, expanded)
        self._fit_headline_width()
        self.expanded = set(expanded)
        rows = build_rows(items, stories, self.expanded)
        with self.app.batch_update():
            self.clear()
            if "row" in self.columns:
                self.columns["row"].label = header_text(stories is not None)
            self.items_by_id = {item.id: item for item in items}
            self.stories_by_id = {story.id: story for story in stories or ()}
            self.rows_by_key = {row.key: row for row in rows}
            self._keys_of_item = None  # built when first needed (refresh_item)
            self.add_rows_fast([(row.key, self._row(row, now)) for row in rows])
            if keep is not None and keep not in self.rows_by_key and "/" in keep:
                keep = keep.split("/")[0]  # a member of a story that was collapsed: its story
            if keep is not None and keep in self.rows_by_key:
                index = self.get_row_index(keep)
                self.move_cursor(row=index, animate=False, scroll=False)
                # Keep the highlighted story at the same place on screen.
                self.call_after_refresh(self._scroll_to_cursor)

    def _scroll_to_cursor(self) -> None:
        self.move_cursor(row=self.cursor_row, animate=False, scroll=True)

    def _rows_showing(self) -> dict[int, list[str]]:
        """Which rows show an item (its own, its story's): ``M`` redraws thousands
        of items, and a scan of every row for each would be quadratic."""
        if self._keys_of_item is None:
            keys: dict[int, list[str]] = {}
            for row in self.rows_by_key.values():
                members = row.story.members if row.is_story else (row.item,)
                for member in members:
                    keys.setdefault(member.id, []).append(row.key)
            self._keys_of_item = keys
        return self._keys_of_item

    def refresh_item(self, item: StoredItem, now: datetime) -> None:
        """Redraw the rows showing one item in place (read/starred changed)."""
        self.items_by_id[item.id] = item
        changed_keys = []
        for key in self._rows_showing().get(item.id, ()):
            row = self.rows_by_key[key]
            if row.item.id == item.id:
                self.rows_by_key[key] = row = row._replace(item=item)
                changed_keys.append(key)
            if row.story is not None and item.id in row.story.item_ids:
                story = self.stories_by_id.get(row.story.id, row.story)
                if item not in story.members:
                    story = replace(
                        story,
                        members=tuple(item if m.id == item.id else m for m in story.members),
                        lead=item if story.lead.id == item.id else story.lead,
                    )
                    self.stories_by_id[story.id] = story
                self.rows_by_key[key] = row._replace(story=story)
                if key not in changed_keys:
                    changed_keys.append(key)
        for key in changed_keys:
            try:
                self.get_row_index(key)
            except RowDoesNotExist:
                continue
            self.update_cell(key, "row", self._row(self.rows_by_key[key], now)[0])

    def _fit_headline_width(self) -> bool:
        width = self.size.width or self.app.size.width
        # 2 for the border, 1 for the scrollbar, 2 for the cell's padding.
        wanted = max(MIN_HEADLINE_W, width - PREFIX_WIDTH - 2 - 1 - 2)
        if wanted == self._headline_width:
            return False
        self._headline_width = wanted
        if "row" in self.columns:
            self.columns["row"].width = PREFIX_WIDTH + wanted
        return True

    def on_resize(self) -> None:
        if self._fit_headline_width() and self.rows_by_key:
            items, stories, expanded = self._shown
            items = [self.items_by_id.get(item.id, item) for item in items]
            stories = [self.stories_by_id.get(story.id, story) for story in stories] if stories is not None else None
            self.show_items(items, self.app.clock(), stories, expanded)  # type: ignore[attr-defined]
