"""The `?` help screen: the keys (read from the live bindings, so remapped keys
show as remapped), the filter language and what the panels mean."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEY_HELP: tuple[tuple[str, str], ...] = (
    ("filter", "filter line: words and tokens, narrows as you type"),
    ("toggle_relevant", "relevant only / all items"),
    ("cycle_signal", "cycle the signal filter"),
    ("pick_source", "pick a source (sources panel order); 0 clears"),
    ("open_detail", "expand / collapse a story; open an item"),
    ("toggle_stories", "one row per story (xN sources) / every item"),
    ("open_link", "open the link in the browser"),
    ("toggle_read", "toggle read (a story: all its reports)"),
    ("mark_all_read", "mark all shown as read"),
    ("toggle_star", "star / unstar"),
    ("digest", "write the last 24 h digest (Markdown) to the current directory"),
    ("poll_now", "poll all feeds now"),
    ("help", "this help"),
    ("command_palette", "command palette (actions, jump to a source)"),
    ("quit", "quit"),
)

FILTER_HELP = (
    ("doha ceasefire", "words in title or summary (full-text search)"),
    ("source:NAME", 'a source; part of the name is enough; quote spaces: source:"Times of"'),
    ("signal:stalled", "deal release progress proposal stalled collapse none"),
    ("since:6h", "published in the last 30m / 6h / 2d / 1w"),
    ("is:unread  is:starred", "only unread / only starred items"),
)

SIGNAL_HELP = Text.assemble(
    ("Signals  ", "bold"),
    (" DEAL ", "bold #0b1f0b on #4ade80"), " ",
    (" RELEASE ", "bold #0b1f0b on #86efac"), " ",
    (" PROGRESS ", "bold #04202a on #67e8f9"), " ",
    (" PROPOSAL ", "bold #2a2204 on #fde047"), " ",
    (" STALLED ", "bold #2a1404 on #fb923c"), " ",
    (" COLLAPSE ", "bold #ffffff on #dc2626"), "\n",
    ("● unread   ★ starred   grey headlines are not about the talks (shown with `a`)", "#94a3b8"),
)


def keys_table(keys_for: dict[str, str]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold #fde047", no_wrap=True, min_width=9)
    table.add_column()
    table.add_row("j k ↑ ↓", "move")
    for action, words in KEY_HELP:
        key = keys_for.get(action)
        if key:
            table.add_row(key, words)
    return table


def filter_table() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold #67e8f9", no_wrap=True, min_width=22)
    table.add_column()
    for token, words in FILTER_HELP:
        table.add_row(token, words)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > Vertical {
        width: 84;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen VerticalScroll {
        height: auto;
        max-height: 100%;
    }
    HelpScreen .heading {
        text-style: bold;
        color: $text;
        margin-top: 1;
    }
    HelpScreen .first {
        margin-top: 0;
    }
    """

    def __init__(self, keys_for: dict[str, str]) -> None:
        super().__init__()
        self.keys_for = keys_for

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "talkwatch help"
            box.border_subtitle = "Esc closes"
            with VerticalScroll():
                yield Static("Keys", classes="heading first")
                yield Static(keys_table(self.keys_for))
                yield Static("Filter line (/)", classes="heading")
                yield Static(filter_table())
                yield Static(SIGNAL_HELP, classes="heading")

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
