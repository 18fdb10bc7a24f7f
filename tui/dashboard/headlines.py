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
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from tui.dashboard.formatting import BADGE_WIDTH, age, plain, signal_badge
from tui.models import StoredItem

FLAG_W, AGE_W, SOURCE_W = 1, 3, 16
FIXED_WIDTH = FLAG_W + AGE_W + SOURCE_W + BADGE_WIDTH + 4 * 2  # + cell padding
MIN_HEADLINE_W = 20


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
        self._headline_width = 60

    def on_mount(self) -> None:
        self.add_column("", width=FLAG_W, key="flag")
        self.add_column("Age", width=AGE_W, key="age")
        self.add_column("Source", width=SOURCE_W, key="source")
        self.add_column("Signal", width=BADGE_WIDTH, key="signal")
        self.add_column("Headline", width=self._headline_width, key="headline")
        self.border_title = "Headlines"

    # -- content -------------------------------------------------------------

    def _row(self, item: StoredItem, now: datetime) -> list[Text]:
        headline = _headline(item)
        headline.truncate(self._headline_width, overflow="ellipsis")
        return [
            _flag(item),
            Text(age(item.published, now), style="#94a3b8", justify="right"),
            _source(item.feed),
            signal_badge(item.signal, item.relevant),
            headline,
        ]

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
            rows = [self._row(item, now) for item in items]
            keys = [str(item.id) for item in items]
            for row, key in zip(rows, keys):
                self.add_row(*row, key=key)
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
        for column, value in zip(("flag", "age", "source", "signal", "headline"), self._row(item, now)):
            self.update_cell(key, column, value)

    def _fit_headline_width(self) -> bool:
        width = self.size.width or self.app.size.width
        # 2 for the border, 1 for the scrollbar.
        wanted = max(MIN_HEADLINE_W, width - FIXED_WIDTH - 2 - 1)
        if wanted == self._headline_width:
            return False
        self._headline_width = wanted
        if "headline" in self.columns:
            self.columns["headline"].width = wanted
        return True

    def on_resize(self) -> None:
        if self._fit_headline_width() and self.items_by_id:
            items = list(self.items_by_id.values())
            items.sort(key=lambda it: self.get_row_index(str(it.id)))
            self.show_items(items, self.app.clock())  # type: ignore[attr-defined]
