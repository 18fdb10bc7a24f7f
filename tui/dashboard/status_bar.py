"""The status-of-the-talks banner: state, how long, confidence, momentum,
mediators and venues, and a 48 h sparkline of relevant items per hour.

``TalksStatus`` comes from tui/status.py; it is read by attribute name
(state, since, evidence, confidence, confirmed, momentum, mediators, venues,
hourly) so the banner keeps working with a partial status (e.g. before the
first computation finishes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Sparkline, Static

from tui.dashboard.formatting import duration, plain, state_style


def state_name(status: Any) -> str:
    state = getattr(status, "state", None)
    if state is None:
        return "LOADING"
    return str(getattr(state, "value", state)).upper()


def _pairs(value: Any) -> list[tuple[str, int]]:
    """Mediators/venues as (name, count), most mentioned first; accepts a dict,
    (name, count) pairs or bare names."""
    if not value:
        return []
    if isinstance(value, dict):
        pairs = [(str(k), int(v)) for k, v in value.items()]
    else:
        pairs = []
        for entry in value:
            if isinstance(entry, (tuple, list)) and len(entry) == 2:
                pairs.append((str(entry[0]), int(entry[1])))
            else:
                pairs.append((str(entry), 0))
    return sorted(pairs, key=lambda p: (-p[1], p[0]))


def _join_counts(pairs: Iterable[tuple[str, int]], limit: int = 4) -> Text:
    text = Text()
    for i, (name, count) in enumerate(list(pairs)[:limit]):
        if i:
            text.append(" · ", style="#64748b")
        text.append(plain(name), style="bold")
        if count:
            text.append(f" {count}", style="#94a3b8")
    return text if text.plain else Text("none in 72 h", style="#64748b")


def momentum_text(momentum: float | None) -> Text:
    if momentum is None:
        return Text("")
    if momentum > 0.15:
        arrow, word, style = "▲", "improving", "bold #4ade80"
    elif momentum < -0.15:
        arrow, word, style = "▼", "worsening", "bold #f87171"
    else:
        arrow, word, style = "▶", "steady", "bold #94a3b8"
    return Text.assemble((f"{arrow} {word} ", style), (f"{momentum:+.2f}", "#94a3b8"))


def banner_text(status: Any, now: datetime, previous: str | None, demo: bool = False) -> Text:
    state = state_name(status)
    background, foreground = state_style(state)
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f" {state} ", style=f"bold {foreground} on {background}")
    since = getattr(status, "since", None)
    if since is not None:
        text.append(f"  for {duration(max(0.0, (now - since).total_seconds()))}", style="bold")
    if previous and previous != state:
        text.append("  was ", style="#94a3b8")
        text.append(previous, style="bold #94a3b8")
    text.append("   ")
    text.append_text(momentum_text(getattr(status, "momentum", None)))
    if demo:
        text.append("   DEMO", style="bold #c084fc")
    text.append("\n")

    if status is not None:
        sources = int(getattr(status, "confidence", 0) or 0)
        if getattr(status, "confirmed", sources >= 2):
            text.append(f" ✔ confirmed by {sources} sources", style="#4ade80")
        elif state == "QUIET":
            text.append(" no talks signal for 72 h", style="#94a3b8")
        else:
            text.append(" ? unconfirmed", style="bold #facc15")
            text.append(f" — {sources or 1} source so far", style="#94a3b8")
        evidence = list(getattr(status, "evidence", ()) or ())
        if evidence:
            latest = evidence[0]
            text.append("   latest: ", style="#64748b")
            text.append(plain(getattr(latest, "title", "")), style="italic")
            feed = getattr(latest, "feed", "")
            if feed:
                text.append(f" — {plain(feed)}", style="#a5b4fc")
    text.append("\n")
    text.append(" Mediators ", style="#64748b")
    text.append_text(_join_counts(_pairs(getattr(status, "mediators", None))))
    text.append("   Venues ", style="#64748b")
    text.append_text(_join_counts(_pairs(getattr(status, "venues", None))))
    return text


class StatusBanner(Horizontal):
    DEFAULT_CSS = """
    StatusBanner {
        height: 5;
        border: round $primary-darken-2;
        border-title-color: $text-muted;
        padding: 0 1 0 0;
    }
    StatusBanner #banner-text {
        width: 1fr;
        height: 3;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    StatusBanner #spark-box {
        width: 50;
        height: 3;
    }
    StatusBanner #spark-label {
        height: 1;
        color: $text-muted;
    }
    StatusBanner Sparkline {
        height: 2;
        width: 48;
    }
    StatusBanner Sparkline > .sparkline--max-color {
        color: #67e8f9;
    }
    StatusBanner Sparkline > .sparkline--min-color {
        color: #1e3a5f;
    }
    StatusBanner.-narrow #spark-box {
        display: none;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.status: Any = None
        self.previous_state: str | None = None
        self.demo = False

    def compose(self) -> ComposeResult:
        yield Static(Text(" LOADING ", style="reverse"), id="banner-text")
        with Vertical(id="spark-box"):
            yield Static(Text("relevant items per hour, last 48 h"), id="spark-label")
            yield Sparkline([0] * 48, id="spark")

    def on_mount(self) -> None:
        self.border_title = "Status of the talks"

    def show(self, status: Any, now: datetime) -> None:
        self.status = status
        # Fixed heights (CSS above): no layout of the whole screen for new text.
        self.query_one("#banner-text", Static).update(
            banner_text(status, now, self.previous_state, demo=self.demo), layout=False
        )
        hourly = list(getattr(status, "hourly", ()) or ())[-48:]
        if hourly:
            peak = max(hourly)
            self.query_one("#spark-label", Static).update(
                Text.assemble(
                    ("relevant items per hour, 48 h ", "#94a3b8"),
                    (f"peak {peak}/h  total {sum(hourly)}", "#64748b"),
                ),
                layout=False,
            )
            self.query_one(Sparkline).data = [float(v) for v in hourly]
