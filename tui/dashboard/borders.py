"""Border titles that repaint only when they change, and then only their border row.

Textual's ``border_title``/``border_subtitle`` setters repaint the whole
widget on every assignment, even of the same text. The dashboard sets them on
every reload and every sources refresh while a poll streams in: a 45-row
headlines table repainted for an unchanged subtitle is 5-13 ms of the event
loop each time. Here an unchanged title costs a comparison, and a changed one
repaints the one row of the border that shows it.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.geometry import Region

_UNSET = object()


def _comparable(value: Any) -> Any:
    # rich Text compares by identity; its plain text and spans say what shows.
    if isinstance(value, Text):
        return ("text", value.plain, tuple(value.spans), str(value.style))
    return value


def set_border_titles(widget: Any, *, title: Any = _UNSET, subtitle: Any = _UNSET) -> bool:
    """Set the border title and/or subtitle; True when something changed."""
    seen = widget.__dict__.setdefault("_talkwatch_border_seen", {})
    rows: list[str] = []
    for name, value, row in (("border_title", title, "top"), ("border_subtitle", subtitle, "bottom")):
        if value is _UNSET:
            continue
        key = _comparable(value)
        if name in seen and seen[name] == key:
            continue
        seen[name] = key
        _assign_quietly(widget, name, value)
        rows.append(row)
    if rows:
        _refresh_border_rows(widget, rows)
    return bool(rows)


def _assign_quietly(widget: Any, name: str, value: Any) -> None:
    """Assign through Textual's descriptor (its conversion of Text and str), minus its full repaint."""
    widget.refresh = lambda *args, **kwargs: widget  # the descriptor's obj.refresh()
    try:
        setattr(widget, name, value)
    finally:
        del widget.refresh


def _refresh_border_rows(widget: Any, rows: list[str]) -> None:
    if not widget.is_mounted:
        widget.refresh()
        return
    width, height = widget.outer_size
    if not width or not height:
        widget.refresh()
        return
    # refresh() takes regions in content coordinates: the border sits at
    # minus the content offset (top) and just past the content (bottom).
    offset = widget.content_offset
    regions = []
    if "top" in rows:
        regions.append(Region(-offset.x, -offset.y, width, 1))
    if "bottom" in rows:
        regions.append(Region(-offset.x, height - 1 - offset.y, width, 1))
    widget.refresh(*regions)
