"""Typed messages: the only way workers (threads, the poller) reach the widgets.

Workers never touch a widget; they post one of these and the app's ``@on``
handlers, running on the event loop, change state and refresh the screen.
"""

from __future__ import annotations

from typing import Any, Sequence

from textual.message import Message

from tui.models import FeedPollResult, FeedState, PollSummary, StoredItem


class ItemsLoaded(Message):
    """A headlines query finished. ``generation`` lets stale answers be dropped."""

    def __init__(
        self, items: Sequence[StoredItem], total: int, generation: int, stories: Sequence[Any] | None = None
    ) -> None:
        super().__init__()
        self.items = list(items)
        self.total = total
        self.generation = generation
        self.stories = list(stories) if stories is not None else None  # None: raw items mode


class FeedsLoaded(Message):
    """Per-feed state and 24 h counts for the sources panel."""

    def __init__(self, states: dict[str, FeedState], counts: dict[str, tuple[int, int]]) -> None:
        super().__init__()
        self.states = states
        self.counts = counts


class PollStarted(Message):
    def __init__(self, forced: bool) -> None:
        super().__init__()
        self.forced = forced


class FeedPolled(Message):
    """One feed of a running poll finished (the poller's on_result callback)."""

    def __init__(self, result: FeedPollResult, done: int, total: int) -> None:
        super().__init__()
        self.result = result
        self.done = done
        self.total = total


class PollFinished(Message):
    def __init__(self, summary: PollSummary | None, error: str | None = None) -> None:
        super().__init__()
        self.summary = summary
        self.error = error


class StatusComputed(Message):
    """A fresh ``TalksStatus`` (duck-typed: see status_bar.py)."""

    def __init__(self, status: Any) -> None:
        super().__init__()
        self.status = status


class ConfigReloaded(Message):
    def __init__(self, config: Any) -> None:
        super().__init__()
        self.config = config


class ConfigInvalid(Message):
    """The edited feeds.toml is invalid, or was deleted; the running config stays."""

    def __init__(self, problems: Sequence[Any], *, deleted: bool = False) -> None:
        super().__init__()
        self.problems = tuple(problems)
        self.deleted = deleted


class Reclassified(Message):
    def __init__(self, changed: int, total: int) -> None:
        super().__init__()
        self.changed = changed
        self.total = total


class ItemsChanged(Message):
    """Something wrote items (a poll, a reclassify): reload what is shown."""


class FirstReportersLoaded(Message):
    """How often each feed was first to report a confirmed story, last 7 days."""

    def __init__(self, counts: dict[str, int]) -> None:
        super().__init__()
        self.counts = counts


class AlertsRaised(Message):
    """``tui.alerts.Alert``s to deliver (the engine already applied quiet hours)."""

    def __init__(self, alerts: Sequence[Any]) -> None:
        super().__init__()
        self.alerts = list(alerts)


class DigestWritten(Message):
    def __init__(self, path: Any, error: str | None = None) -> None:
        super().__init__()
        self.path = path
        self.error = error


class DatabaseWatched(Message):
    """Read-only mode: what the watcher saw of the process that polls.

    ``changed``: it committed something the dashboard shows (new items, a
    poll's feed states); ``holder``: who holds the poll lock, in words."""

    def __init__(self, changed: bool, holder: str) -> None:
        super().__init__()
        self.changed = changed
        self.holder = holder


class PollingTakenOver(Message):
    """The process that polled has stopped: this dashboard now holds the poll lock."""
