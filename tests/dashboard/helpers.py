"""Test helpers: wait for the app's workers and messages to settle, and fakes."""

from __future__ import annotations

import asyncio
from datetime import datetime

from tui.models import FeedPollResult, PollSummary


async def settle(pilot, rounds: int = 6) -> None:
    """Let worker threads finish and the messages they posted be handled.

    Handlers may start further workers (a reload after a config change), so
    repeat until a round starts no new work."""
    app = pilot.app
    for _ in range(rounds):
        # The poller worker runs for the app's lifetime: never wait on it.
        await app.workers.wait_for_complete([w for w in app.workers if w.group != "poller"])
        await pilot.pause()
        if not any(w.is_running for w in app.workers if w.group != "poller"):
            await pilot.pause()
            if not any(w.is_running for w in app.workers if w.group != "poller"):
                return


def shown_titles(app) -> list[str]:
    """Full titles of the shown rows, in row order."""
    table = app.query_one("#headlines")
    return [table.items_by_id[int(row.key.value)].title for row in table.ordered_rows]


def cell_titles(app) -> list[str]:
    """The headline cells as displayed (truncated to the column)."""
    table = app.query_one("#headlines")
    return [table.get_row_at(i)[4].plain for i in range(table.row_count)]


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
