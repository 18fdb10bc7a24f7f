"""Story detail: the highlighted item in full, and why it was classified so."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from tui.dashboard.formatting import age, plain, signal_badge
from tui.models import StoredItem


def detail_text(item: StoredItem | None, now: datetime, *, full: bool = False, with_title: bool = True) -> Text:
    if item is None:
        return Text("No story selected.", style="#94a3b8")
    text = Text()
    if with_title:
        text.append(plain(item.title) or "(untitled)", style="bold")
        text.append("\n")
    else:  # under a story's head, which showed the title and the first report
        if item.starred:
            text.append("★ starred\n", style="#facc15")
        _append_why_and_rest(text, item, full)
        return text
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
    _append_why_and_rest(text, item, full)
    return text


def _append_why_and_rest(text: Text, item: StoredItem, full: bool) -> None:
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


def story_text(story: Any, now: datetime) -> Text:
    """A story's head: its lead headline, who reported first and when, and who followed."""
    text = Text()
    text.append(plain(story.title) or "(untitled)", style="bold")
    text.append("\n")
    text.append_text(signal_badge(story.signal, True))
    n = story.confirmations
    text.append(f"  x{n} source{'s' if n != 1 else ''}", style="bold #67e8f9" if n >= 2 else "#94a3b8")
    if len(story.members) > n:
        text.append(f" · {len(story.members)} reports", style="#94a3b8")
    text.append("  first: ", style="#64748b")
    text.append(plain(story.first_source), style="bold #a5b4fc")
    text.append(f"  {story.first_at:%a %d %b %H:%M} UTC ({age(story.first_at, now)} ago)", style="#94a3b8")
    followers = story.sources[1:]
    if followers:
        text.append("\nthen:  ", style="#64748b")
        for index, (feed, minutes) in enumerate(followers):
            if index:
                text.append(", ", style="#64748b")
            text.append(plain(feed), style="#a5b4fc")
            text.append(f" +{_after(minutes)}", style="#94a3b8")
    text.append("\n")
    return text


def _after(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes}m"
    hours, rest = divmod(minutes, 60)
    return f"{hours}h{rest:02d}m" if rest else f"{hours}h"


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
    story: Any = None

    def compose(self) -> ComposeResult:
        yield Static(detail_text(None, datetime.now()), id="detail-body")

    def on_mount(self) -> None:
        self.border_title = "Story"

    def show(self, item: StoredItem | None, now: datetime, story: Any = None) -> None:
        """An item; with ``story`` (a story row), the story's head first, then its lead's detail."""
        self.item = item
        self.story = story
        if story is not None and item is not None:
            body = story_text(story, now)
            body.append_text(detail_text(item, now, with_title=False))
        else:
            body = detail_text(item, now)
        widget = self.query_one("#detail-body", Static)
        widget.update(body, layout=False)
        # A new story while a poll streams in is a new text of the same
        # height, most often: repaint it without laying out the whole screen
        # (10-25 ms a time). A new height (the panel's scrollbar may come or go) does need one.
        width = widget.content_region.width
        if not widget.is_mounted or not width or widget.get_content_height(
            widget.container_size, self.app.size, width
        ) != widget.content_region.height:
            widget.refresh(layout=True)
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

    def __init__(self, item: StoredItem, now: datetime, story: Any = None) -> None:
        super().__init__()
        self.item = item
        self.now = now
        self.story = story

    def compose(self) -> ComposeResult:
        if self.story is not None:
            body = story_text(self.story, self.now)
            body.append_text(detail_text(self.item, self.now, full=True, with_title=False))
        else:
            body = detail_text(self.item, self.now, full=True)
        with Vertical() as box:
            box.border_title = "Story"
            with VerticalScroll():
                yield Static(body, id="detail-full")
        yield Footer()

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
