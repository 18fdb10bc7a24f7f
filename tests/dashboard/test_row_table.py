"""OneLineRowsTable draws exactly what DataTable draws, however its lines are cached."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from tui.dashboard.row_table import OneLineRowsTable

WIDTH = 40


def cell(n: int, flag: str = "●") -> Text:
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    text.append(flag, style="bold #38bdf8")
    text.append(f" {n:>3}m  ", style="#94a3b8")
    text.append(" deal ", style="bold black on #22c55e")
    headline = Text(f"Headline number {n} about the talks", style="bold" if n % 2 else "", no_wrap=True)
    headline.truncate(WIDTH - 16 - (n % 5), overflow="ellipsis")
    text.append_text(headline)
    return text


class TableApp(App):
    def compose(self) -> ComposeResult:
        yield OneLineRowsTable(cursor_type="row", id="table")

    def on_mount(self) -> None:
        self.query_one(OneLineRowsTable).add_column("Head", width=WIDTH, key="row")


def stock_lines(table: OneLineRowsTable) -> list:
    """Every row's line as DataTable's own code draws it."""
    style = table.rich_style
    return [
        DataTable._render_line_in_row(table, row.key, 0, style, table.cursor_coordinate, table.hover_coordinate)
        for row in table.ordered_rows
    ]


def fast_lines(table: OneLineRowsTable) -> list:
    style = table.rich_style
    return [
        table._render_line_in_row(row.key, 0, style, table.cursor_coordinate, table.hover_coordinate)
        for row in table.ordered_rows
    ]


async def test_fast_lines_equal_datatable_lines_with_cursor_hover_and_after_rows_move():
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(OneLineRowsTable)
        cells = {n: cell(n, "●" if n % 3 else "★") for n in range(12)}
        table.add_rows_fast([(str(n), [cells[n]]) for n in range(12)])
        table.move_cursor(row=2)
        table.hover_coordinate = Coordinate(5, 0)
        await pilot.pause()
        table._pseudo_class_state = table.get_pseudo_class_state()
        first = fast_lines(table)
        assert first == stock_lines(table)
        assert len(table._line_render_cache) == 12
        # Rebuild in another order, reusing the same cell objects: cached lines are
        # reused at new positions, and their mouse metadata follows the rows.
        table.clear()
        table.add_rows_fast([(str(n), [cells[n]]) for n in reversed(range(12))])
        table.move_cursor(row=2)
        await pilot.pause()
        moved = fast_lines(table)
        assert moved == stock_lines(table)
        metas = [line[1][0][0].style.meta["row"] for line in moved]
        assert metas == list(range(12))


async def test_cells_that_do_not_fit_or_are_not_text_are_drawn_by_datatable():
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(OneLineRowsTable)
        too_long = Text("x" * (WIDTH + 5), no_wrap=True, overflow="ellipsis", end="")
        table.add_rows_fast([("long", [too_long]), ("plain", ["a plain string"]), ("ok", [cell(1)])])
        await pilot.pause()
        table._pseudo_class_state = table.get_pseudo_class_state()
        assert table._draw_cell(too_long, WIDTH + 2, table.rich_style, table.rich_style) is None
        assert fast_lines(table) == stock_lines(table)


async def test_scrolling_follows_the_row_count_without_a_screen_layout():
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(OneLineRowsTable)

        async def fill(count: int) -> None:
            table.clear()
            table.add_rows_fast([(str(n), [cell(n)]) for n in range(count)])
            await pilot.pause()

        await fill(50)
        visible = table.scrollable_content_region.height
        assert table.show_vertical_scrollbar and table.max_scroll_y == 50 + 1 - visible
        table.scroll_end(animate=False)
        await pilot.pause()
        assert table.scroll_y == table.max_scroll_y
        await fill(80)  # more rows, the scrollbar stays: its window follows
        assert table.max_scroll_y == 80 + 1 - visible
        assert table.vertical_scrollbar.window_virtual_size == 81
        await fill(5)  # fewer rows than lines: the scrollbar goes, the list is at its top
        assert not table.show_vertical_scrollbar and table.scroll_y == 0 and table.max_scroll_y == 0
        await fill(60)  # and comes back
        assert table.show_vertical_scrollbar and table.max_scroll_y == 60 + 1 - table.scrollable_content_region.height
