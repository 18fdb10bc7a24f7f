"""Story detail: the highlighted item in full, and why it was classified so."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from tui.dashboard.formatting import age, plain, signal_badge
from tui.models import StoredItem


def detail_text(item: StoredItem | None, now: datetime, *, full: bool = False) -> Text:
    if item is None:
        return Text("No story selected.", style="#94a3b8")
    text = Text()
    text.append(plain(item.title) or "(untitled)", style="bold")
    text.append("\n")
    text.append_text(signal_badge(item.signal, item.relevant))
    text.append("  ")
    text.append(plain(item.feed), style="bold #a5b4fc")
    published = item.published.strftime("%a %d %b %Y %H:%M UTC")
    text.append(f"  {published} ({age(item.published, now)} ago)", style="#94a3b8")
    if item.author:
        text.append(f"  by {plain(item.author)}", style="#94a3b8")
    if item.starred:
        text.append("  ★ starred", style="#facc15")
    text.append("\n")
    verdict = item.verdict
    why = Text("why: ", style="#64748b")
    if verdict.matched:
        why.append(", ".join(plain(m) for m in verdict.matched), style="#cbd5e1")
    else:
        why.append("no rule fired" if not verdict.relevant else "—", style="#94a3b8")
    why.append(f"  (score {verdict.score:.2f}", style="#64748b")
    if verdict.actors:
        why.append(f"; actors {', '.join(plain(a) for a in verdict.actors)}", style="#64748b")
    if verdict.places:
        why.append(f"; places {', '.join(plain(p) for p in verdict.places)}", style="#64748b")
    why.append(")", style="#64748b")
    text.append_text(why)
    text.append("\n")
    if item.link:
        text.append(plain(item.link), style="underline #60a5fa")
    else:
        text.append("no link", style="#64748b")
    text.append("\n")
    summary = plain(item.summary)
    if summary:
        if not full and len(summary) > 600:
            summary = summary[:600].rstrip() + "…"
        text.append("\n")
        text.append(summary, style="#e2e8f0")
    return text


class DetailPanel(VerticalScroll):
    DEFAULT_CSS = """
    DetailPanel {
        height: 10;
        border: round $primary-darken-2;
        border-title-color: $text;
        border-title-style: bold;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    """

    can_focus = False
    item: StoredItem | None = None

    def compose(self) -> ComposeResult:
        yield Static(detail_text(None, datetime.now()), id="detail-body")

    def on_mount(self) -> None:
        self.border_title = "Story"

    def show(self, item: StoredItem | None, now: datetime) -> None:
        self.item = item
        self.query_one("#detail-body", Static).update(detail_text(item, now))
        self.scroll_home(animate=False)


class DetailScreen(ModalScreen[None]):
    """Enter on a headline: the whole story, on any terminal size."""

    BINDINGS = [
        Binding("escape,enter,q", "dismiss", "Close", id="detail.close"),
        Binding("o", "app.open_link", "Open link", id="detail.open"),
    ]

    DEFAULT_CSS = """
    DetailScreen {
        align: center middle;
    }
    DetailScreen > Vertical {
        width: 90%;
        max-width: 110;
        height: auto;
        max-height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    DetailScreen VerticalScroll {
        height: auto;
        max-height: 100%;
    }
    """

    def __init__(self, item: StoredItem, now: datetime) -> None:
        super().__init__()
        self.item = item
        self.now = now

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Story"
            with VerticalScroll():
                yield Static(detail_text(self.item, self.now, full=True), id="detail-full")
        yield Footer()

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
