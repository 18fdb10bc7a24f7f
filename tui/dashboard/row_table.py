"""A DataTable of one fixed-width column of one-line rows, rebuilt often and drawn fast.

The headlines list is refilled on every filter keystroke. Stock DataTable
costs grow with that: ``add_row`` re-validates the cursor per row, new rows
are measured cell by cell, and every cache of the drawing is keyed by an
update counter that each rebuild bumps, so every visible row is drawn again
through Rich (padding, wrapping, cropping: about a millisecond a line on a
slow box) even when it looks exactly as before. Here:

- rows are added in one batch (``add_rows_fast``) and no cell is measured;
- a drawn line is remembered by what it shows (the cell object, which the
  caller reuses for a row that looks the same) and how (styles, cursor,
  hover, widths), across rebuilds; only the row index in the mouse metadata
  depends on the position, and it is put right when a line moves;
- a line not drawn before is assembled from the cell's own segments, the
  same segments Rich's Padding/Styled path produces (``_draw_cell`` is
  checked against it in tests/dashboard/test_row_table.py), without it.

Anything else (a header, labels, fixed columns, zebra stripes, a cell that
is not a one-line Text that fits) goes through DataTable's own code. Relies
on DataTable internals of Textual 8 (pinned <9 in pyproject).
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import Row, RowKey

LINE_CACHE_SIZE = 4000


class OneLineRowsTable(DataTable):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._line_render_cache: dict[tuple, tuple] = {}
        self._cell_styles_cache: dict[tuple, tuple[Style, Style]] = {}
        self._rich_style_now: Style | None = None

    # -- content ---------------------------------------------------------------

    def add_rows_fast(self, rows: list[tuple[str, list[Any]]]) -> None:
        """``add_row`` for many one-line rows at once.

        ``DataTable.add_row`` re-assigns the cursor reactive for every row
        (half the cost of a 2,000-row rebuild); this does the same bookkeeping
        once for the batch."""
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
        size = Size(width + self._row_label_column_width, self._total_row_height + header_height)
        if size == self.virtual_size:
            return
        if not self.is_mounted or not self.container_size.area:  # not laid out yet
            self.virtual_size = size
            return
        # A new row count asks (through the virtual_size reactive) for a
        # layout of the whole screen, every widget measured and drawn again:
        # 10-20 ms a filter keystroke. The table's own size does not change;
        # only its scrollbars do, and when one appears or goes, that reactive
        # asks for the layout itself.
        self.set_reactive(OneLineRowsTable.virtual_size, size)
        self._scroll_update(size)
        self.refresh()

    # -- drawing -----------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._line_render_cache.clear()
        self._cell_styles_cache.clear()

    def render_lines(self, crop: Region) -> list[Strip]:
        # DataTable computes ``self.rich_style`` (a walk up the DOM) for every
        # line; once per screen update is enough.
        self._rich_style_now = None
        try:
            return super().render_lines(crop)
        finally:
            self._rich_style_now = None

    def render_line(self, y: int) -> Strip:
        if self.fixed_rows:
            return super().render_line(y)
        style = self._rich_style_now
        if style is None:
            style = self._rich_style_now = self.rich_style
        scroll_x, scroll_y = self.scroll_offset
        header = self.get_row_height(self._header_row_key) if self.show_header else 0
        if y >= header:
            y += scroll_y
        return self._render_line(y, scroll_x, scroll_x + self.size.width, style)

    def _plain_layout(self) -> bool:
        """True when this table is what the fast path draws (else DataTable draws it)."""
        return not (
            self.fixed_columns
            or self.fixed_rows
            or self.zebra_stripes
            or (self._labelled_row_exists and self.show_row_labels)
            or len(self.columns) != 1
            or self.cursor_type != "row"
        )

    def _render_line_in_row(self, row_key, line_no, base_style, cursor_location, hover_location):
        row_index = self._row_locations.get(row_key) if row_key is not self._header_row_key else None
        if row_index is None or line_no != 0 or not self._plain_layout():
            return super()._render_line_in_row(row_key, line_no, base_style, cursor_location, hover_location)
        cell = next(iter(self._data[row_key].values()), None)
        cursor = cursor_location.row == row_index
        hover = hover_location.row == row_index
        column_width = self.ordered_columns[0].get_render_width(self)
        key = (
            id(cell), base_style, cursor, hover, self.show_cursor, self._show_hover_cursor,
            self._pseudo_class_state, self.size.width, column_width,
        )  # fmt: skip
        cached = self._line_render_cache.get(key)
        if cached is not None and cached[0] is cell:
            _, drawn_at, row_pair = cached
            return row_pair if drawn_at == row_index else _moved(row_pair, row_index)
        row_pair = self._draw_row(cell, row_index, base_style, cursor, hover, column_width)
        if row_pair is None:
            row_pair = super()._render_line_in_row(row_key, line_no, base_style, cursor_location, hover_location)
        if len(self._line_render_cache) > LINE_CACHE_SIZE:
            self._line_render_cache.clear()
        self._line_render_cache[key] = (cell, row_index, row_pair)  # the cell kept alive: its id stays its own
        return row_pair

    def _cell_styles(self, hover: bool, cursor: bool, *, css_priority: bool = True) -> tuple[Style, Style]:
        """DataTable's ``_get_styles_to_render_cell`` for a body cell, kept across rebuilds
        (DataTable clears its cache of it on every change of the rows)."""
        key = (hover, cursor, self.show_cursor, self._show_hover_cursor, css_priority, self._pseudo_class_state)
        styles = self._cell_styles_cache.get(key)
        if styles is None:
            styles = self._cell_styles_cache[key] = self._get_styles_to_render_cell(
                False, False, False, hover, cursor, self.show_cursor, self._show_hover_cursor,
                css_priority and self.cursor_foreground_priority == "css",
                css_priority and self.cursor_background_priority == "css",
            )  # fmt: skip
        return styles

    def _draw_row(self, cell: Any, row_index: int, row_style: Style, cursor: bool, hover: bool, width: int):
        """DataTable's ``_render_line_in_row`` for one single-line cell, or None when it cannot."""
        component_style, post_style = self._cell_styles(hover, cursor)
        pre_style = row_style + Style.from_meta({"row": row_index, "column": 0}) + component_style
        line = self._draw_cell(cell, width, pre_style, post_style)
        if line is None:
            return None
        remaining = max(0, self.size.width - (width + self._row_label_column_width))
        extend_style, _ = self._cell_styles(hover, cursor, css_priority=False)
        extend_style = row_style + extend_style + Style.from_meta({"row": row_index, "column": 0, "out_of_bounds": True})
        return ([], [line, [Segment(" " * remaining, extend_style)]])

    def _draw_cell(self, cell: Any, width: int, pre_style: Style, post_style: Style) -> list[Segment] | None:
        """The segments ``Styled(Padding(cell, (0, p)), pre_style, post_style)`` renders to, on one line
        of ``width`` cells; None unless ``cell`` is a one-line Text that fits."""
        padding = self.cell_padding
        inner = width - 2 * padding
        if not isinstance(cell, Text) or "\n" in cell.plain or cell.end != "" or inner < 0:
            return None
        length = cell.cell_len
        if length > inner:
            return None
        segments = [Segment(" " * padding)] if padding else []
        segments.extend(cell.render(self.app.console, end=""))
        if length < inner:
            segments.append(Segment(" " * (inner - length)))
        if padding:
            segments.append(Segment(" " * padding))
        return list(Segment.apply_style(segments, style=pre_style, post_style=post_style))


def _moved(row_pair: tuple, row_index: int) -> tuple:
    """A drawn row line with its mouse metadata pointing at another row index."""
    meta = Style.from_meta({"row": row_index})
    fixed, scrollable = row_pair
    return (
        fixed,
        [[Segment(text, style + meta if style is not None else meta, control) for text, style, control in cell]
         for cell in scrollable],
    )  # fmt: skip
