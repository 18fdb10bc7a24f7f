"""Typing in the filter: one query at a time, and the list shows the latest question's answer."""

from __future__ import annotations

import asyncio
import threading

from .conftest import fixed_clock
from .helpers import settle, shown_titles
from tui.dashboard.app import create_app
from tui.store import ItemQuery


class GatedStore:
    """The real store, except that the query for ``gate_text`` waits until released."""

    def __init__(self, store, gate_text: str) -> None:
        self._store = store
        self.gate_text = gate_text
        self.entered = threading.Event()
        self.release = threading.Event()
        self.texts: list[str] = []

    def __getattr__(self, name):
        return getattr(self._store, name)

    def query(self, q: ItemQuery):
        if q.text:
            self.texts.append(q.text)
        if q.text == self.gate_text:
            self.entered.set()
            self.release.wait(10)
        return self._store.query(q)


async def test_keys_typed_while_a_query_runs_are_answered_by_one_query_for_the_latest_text(config, store):
    gated = GatedStore(store, gate_text="d")
    app = create_app(config, gated, clock=fixed_clock)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        before = shown_titles(app)
        bar = app.query_one("#filter")
        await pilot.press("slash")
        bar.value = "d"
        assert await asyncio.to_thread(gated.entered.wait, 10)
        for text in ("do", "doh", "doha"):  # typed while "d" is still being answered
            bar.value = text
            await pilot.pause()
        assert shown_titles(app) == before  # nothing answered yet
        gated.release.set()
        await settle(pilot)
        assert gated.texts == ["d", "doha"]  # "do" and "doh" were never asked
        expected = [i.title for i in store.query(ItemQuery(text="doha", relevant_only=True))]
        assert shown_titles(app) == expected and expected
        assert app.view.filter_text == "doha"


async def test_the_page_growth_after_typing_is_harmless_once_the_app_has_closed(config, store):
    """The bigger page is asked for on a timer after the last key; the app may be gone by then."""
    app = create_app(config, store, clock=fixed_clock)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", "d")
        await settle(pilot)
    app._load_more_pending = True
    app._load_more_after_typing()  # what the timer does: no widget left to look at, and no error
    assert not app._load_more_pending
