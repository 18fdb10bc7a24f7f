"""Test helpers: wait for the app's workers and messages to settle, and fakes."""

from __future__ import annotations

import asyncio

from textual.worker import WorkerCancelled
from datetime import datetime

from tui.models import FeedPollResult, PollSummary


async def settle(pilot, rounds: int = 6) -> None:
    """Let worker threads finish and the messages they posted be handled.

    Handlers may start further workers (a reload after a config change), so
    repeat until a round starts no new work."""
    app = pilot.app
    for _ in range(rounds):
        # The poller worker runs for the app's lifetime: never wait on it.
        for worker in [w for w in app.workers if w.group != "poller"]:
            try:
                await worker.wait()
            except WorkerCancelled:  # an exclusive worker replaced by a newer one
                pass
        await pilot.pause()
        if not any(w.is_running for w in app.workers if w.group != "poller"):
            await pilot.pause()
            if not any(w.is_running for w in app.workers if w.group != "poller"):
                return


def shown_titles(app) -> list[str]:
    """Full titles of the shown rows (a story's: its lead's), in row order."""
    table = app.query_one("#headlines")
    return [table.row_title(row.key.value) for row in table.ordered_rows]


def row_text(app, index: int):
    """The rich Text of one headline row as displayed."""
    return app.query_one("#headlines").get_row_at(index)[0]


def cell_titles(app) -> list[str]:
    """The headlines as displayed (truncated to the column)."""
    from tui.dashboard.headlines import PREFIX_WIDTH

    table = app.query_one("#headlines")
    return [row_text(app, i).plain[PREFIX_WIDTH:] for i in range(table.row_count)]


def row_is_bold(app, index: int) -> bool:
    return any("bold" in str(span.style) and "on #" not in str(span.style) for span in row_text(app, index).spans[-1:])


class FakePoller:
    """Records calls; poll_once returns a scripted summary."""

    def __init__(self) -> None:
        self.calls: list[bool] = []
        self.reconfigured: list = []
        self.on_result = None
        self.closed = False
        self.polled = asyncio.Event()

    async def poll_once(self, *, force: bool = False) -> PollSummary:
        self.calls.append(force)
        self.polled.set()
        return PollSummary(results=(FeedPollResult(feed="Doha Wire", outcome="not_modified", status=304),))

    def next_due(self) -> datetime | None:
        return None

    def reconfigure(self, config) -> None:
        self.reconfigured.append(config)

    async def aclose(self) -> None:
        self.closed = True
