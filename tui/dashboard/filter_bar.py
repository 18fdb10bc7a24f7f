"""The `/` filter line: an Input docked above the footer, hidden until used."""

from __future__ import annotations

from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input

PLACEHOLDER = "filter: words  source:NAME  signal:stalled  since:6h  is:unread  is:starred   (Enter keeps, Esc clears)"


class FilterBar(Input):
    BINDINGS = [
        Binding("escape", "app.clear_filter", "Clear filter", id="filter.clear"),
        Binding("down", "app.focus_headlines", "To list", show=False, id="filter.to_list"),
    ]

    # Input sets its virtual size (the text's width) on every keystroke, and
    # Widget's virtual_size asks for a layout of the whole screen when it
    # changes: ~10 ms of a filter keystroke on a slow box, for a line of fixed
    # size with no scrollbars (horizontal scrolling reads the size as it is).
    virtual_size = Reactive(Size(0, 0), layout=False)

    DEFAULT_CSS = """
    FilterBar, FilterBar:focus {
        height: 1;
        width: 1fr;
        border: none;
        padding: 0 1 0 0;
        background: $boost;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(placeholder=PLACEHOLDER, **kwargs)

    def on_mount(self) -> None:
        self.border_title = "/ filter"
