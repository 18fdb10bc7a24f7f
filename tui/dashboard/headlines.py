"""The headlines list: a DataTable keyed by item id, newest first.

The cursor follows the *item*, not the row number: when live arrivals are
inserted above it, it is put back on the same row key, so a reader is never
pulled off the story they are reading.
"""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.widgets import DataTable
from textual.widgets.data_table import Row, RowDoesNotExist, RowKey

from tui.dashboard.formatting import BADGE_WIDTH, age, plain, signal_badge
from tui.models import StoredItem

FLAG_W, AGE_W, SOURCE_W = 1, 3, 16
# One cell per row, laid out here: DataTable renders each cell through Rich
# padding and cropping, so five cells per row cost five times the render time
# of one, and a filter keystroke re-renders every visible row.
PREFIX_WIDTH = FLAG_W + 1 + AGE_W + 2 + SOURCE_W + 1 + BADGE_WIDTH + 2
MIN_HEADLINE_W = 20


def header_text() -> Text:
    return Text(
        " " * (FLAG_W + 1) + "Age".rjust(AGE_W) + "  " + "Source".ljust(SOURCE_W) + " "
        + "Signal".ljust(BADGE_WIDTH) + "  " + "Headline",
        style="bold",
    )


def _flag(item: StoredItem) -> Text:
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


class HeadlinesTable(DataTable):
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
        self._row_cache: dict[tuple, list[Text]] = {}
        self._headline_width = 60

    def on_mount(self) -> None:
        self.add_column(header_text(), width=PREFIX_WIDTH + self._headline_width, key="row")
        self.border_title = "Headlines"

    # -- content -------------------------------------------------------------

    def _add_rows_fast(self, rows: list[tuple[str, list[Text]]]) -> None:
        """``add_row`` for many one-line rows at once.

        ``DataTable.add_row`` re-assigns the cursor reactive for every row
        (half the cost of a 2,000-row rebuild); this does the same bookkeeping
        once for the batch. Relies on DataTable internals of Textual 8 (pinned
        <9 in pyproject)."""
        columns = self.ordered_columns
        start = self.row_count
        for offset, (key, cells) in enumerate(rows):
            row_key = RowKey(key)
            self._row_locations[row_key] = start + offset
            self._data[row_key] = {column.key: cell for column, cell in zip(columns, cells)}
            self.rows[row_key] = Row(row_key, 1, None, False)
            self._new_rows.add(row_key)
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate
        if start == 0 and rows and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()
        self._update_count += 1
        self.check_idle()
        self.refresh()

    def _update_dimensions(self, new_rows) -> None:
        # DataTable measures every cell of every new row to size auto-width
        # columns (10,000 measurements for 2,000 rows, most of a rebuild's
        # cost). Every column here has a fixed width and every row one line,
        # so only the virtual size needs recomputing.
        header_height = self.header_height if self.show_header else 0
        width = sum(column.get_render_width(self) for column in self.columns.values())
        self.virtual_size = Size(width + self._row_label_column_width, self._total_row_height + header_height)

    def _row(self, item: StoredItem, now: datetime) -> list[Text]:
        # Rows are rebuilt on every keystroke of the filter: reuse the cells of
        # an item that looks the same (same flags, same age, same width).
        key = (item.id, item.read, item.starred, item.title, item.signal, item.relevant,
               age(item.published, now), self._headline_width)
        row = self._row_cache.get(key)
        if row is None:
            if len(self._row_cache) > 20_000:
                self._row_cache.clear()
            row = self._row_cache[key] = self._make_row(item, key[6])
        return row

    def _make_row(self, item: StoredItem, item_age: str) -> list[Text]:
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        line.append_text(_flag(item))
        line.append(" ")
        line.append(item_age.rjust(AGE_W), style="#94a3b8")
        line.append("  ")
        source = _source(item.feed)
        line.append_text(source)
        line.append(" " * max(1, SOURCE_W - source.cell_len + 1))
        badge = signal_badge(item.signal, item.relevant)
        line.append_text(badge)
        line.append(" " * max(2, BADGE_WIDTH - badge.cell_len + 2))
        headline = _headline(item)
        headline.truncate(self._headline_width, overflow="ellipsis")
        line.append_text(headline)
        return [line]

    def highlighted_id(self) -> int | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:
            return None
        return int(key.value) if key.value is not None else None

    def highlighted_item(self) -> StoredItem | None:
        item_id = self.highlighted_id()
        return self.items_by_id.get(item_id) if item_id is not None else None

    def show_items(self, items: Sequence[StoredItem], now: datetime) -> None:
        """Replace the rows, keeping the cursor on the same item when it is still shown."""
        keep = self.highlighted_id()
        self._fit_headline_width()
        with self.app.batch_update():
            self.clear()
            self.items_by_id = {item.id: item for item in items}
            self._add_rows_fast([(str(item.id), self._row(item, now)) for item in items])
            if keep is not None and keep in self.items_by_id:
                index = self.get_row_index(str(keep))
                self.move_cursor(row=index, animate=False, scroll=False)
                # Keep the highlighted story at the same place on screen.
                self.call_after_refresh(self._scroll_to_cursor)

    def _scroll_to_cursor(self) -> None:
        self.move_cursor(row=self.cursor_row, animate=False, scroll=True)

    def refresh_item(self, item: StoredItem, now: datetime) -> None:
        """Redraw one row in place (read/starred changed)."""
        self.items_by_id[item.id] = item
        key = str(item.id)
        try:
            self.get_row_index(key)
        except RowDoesNotExist:
            return
        self.update_cell(key, "row", self._row(item, now)[0])

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
        if self._fit_headline_width() and self.items_by_id:
            items = list(self.items_by_id.values())
            items.sort(key=lambda it: self.get_row_index(str(it.id)))
            self.show_items(items, self.app.clock())  # type: ignore[attr-defined]
