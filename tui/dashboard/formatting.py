"""Small text helpers shared by the widgets: ages, signal badges, safe text.

Everything that carries feed text returns ``rich.text.Text`` built from plain
strings, never markup, so a headline like ``[bold red]x[/]`` shows literally.
"""

from __future__ import annotations

import re
from datetime import datetime

from rich.text import Text

# Feed text should already be clean (parse.clean_text), but the dashboard is
# the last line of defence against a terminal escape reaching the screen.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def plain(value: str | None) -> str:
    return _CONTROL.sub("", value or "")


def safe_text(value: str | None, style: str = "") -> Text:
    return Text(plain(value), style=style)


def age(then: datetime | None, now: datetime) -> str:
    """Compact relative time: "now", "45s", "4m", "3h", "2d", "5w"."""
    if then is None:
        return "—"
    seconds = (now - then).total_seconds()
    if seconds < 0:
        return "now"  # a clock a little ahead of ours
    if seconds < 10:
        return "now"
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    if seconds < 14 * 86400:
        return f"{int(seconds // 86400)}d"
    return f"{int(seconds // (7 * 86400))}w"


def until(then: datetime | None, now: datetime) -> str:
    """Compact time until: "in 3m", "due"."""
    if then is None:
        return "—"
    seconds = (then - now).total_seconds()
    if seconds <= 0:
        return "due"
    if seconds < 60:
        return "in <1m"  # minutes only: a panel that changed every second would redraw every second
    if seconds < 3600:
        return f"in {int(seconds // 60)}m"
    return f"in {int(seconds // 3600)}h"


def duration(seconds: float) -> str:
    if seconds < 3600:
        return f"{max(1, int(seconds // 60))}m"
    if seconds < 86400:
        hours, rest = divmod(int(seconds), 3600)
        return f"{hours}h{rest // 60:02d}m" if hours < 10 and rest >= 60 else f"{hours}h"
    days, rest = divmod(int(seconds), 86400)
    return f"{days}d{rest // 3600}h" if rest >= 3600 else f"{days}d"


# Colour carries meaning: green = hostages coming home, cyan/blue = talks
# moving, yellow = something on the table, orange = stuck, red = broken down.
SIGNAL_STYLE = {
    "deal": "bold #0b1f0b on #4ade80",
    "release": "bold #0b1f0b on #86efac",
    "progress": "bold #04202a on #67e8f9",
    "proposal": "bold #2a2204 on #fde047",
    "stalled": "bold #2a1404 on #fb923c",
    "collapse": "bold #ffffff on #dc2626",
}
SIGNAL_LABEL = {
    "deal": "DEAL",
    "release": "RELEASE",
    "progress": "PROGRESS",
    "proposal": "PROPOSAL",
    "stalled": "STALLED",
    "collapse": "COLLAPSE",
}
BADGE_WIDTH = 10


def signal_badge(signal: str, relevant: bool) -> Text:
    if signal in SIGNAL_LABEL:
        return Text(f" {SIGNAL_LABEL[signal]:<{BADGE_WIDTH - 2}} ", style=SIGNAL_STYLE[signal])
    if relevant:
        return Text(" talks", style="#94a3b8")
    return Text(" other", style="#64748b italic")


STATE_STYLE = {
    "DEAL IN EFFECT": ("#4ade80", "#0b1f0b"),
    "RELEASES UNDER WAY": ("#86efac", "#0b1f0b"),
    "ACTIVE TALKS": ("#67e8f9", "#04202a"),
    "PROPOSAL PENDING": ("#fde047", "#2a2204"),
    "STALLED": ("#fb923c", "#2a1404"),
    "COLLAPSED": ("#dc2626", "#ffffff"),
    "QUIET": ("#94a3b8", "#0f172a"),
}


def state_style(state: str) -> tuple[str, str]:
    """(background, foreground) for a talks state."""
    return STATE_STYLE.get(str(state).upper(), ("#94a3b8", "#0f172a"))
