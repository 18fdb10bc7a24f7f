"""Snapshot tests (pytest-textual-snapshot): fixed clock, fixed data.

Regenerate the baselines after an intended change of the screen with
``pytest tests/dashboard/test_snapshots.py --snapshot-update`` and look at
the report before committing them."""

from __future__ import annotations

from .conftest import fixed_clock
from .helpers import settle
from tui.dashboard.app import create_app


def _app(config, store):
    return create_app(config, store, clock=fixed_clock)


def test_main_screen(snap_compare, config, store):
    async def ready(pilot):
        await settle(pilot)
        await pilot.press("j")

    assert snap_compare(_app(config, store), terminal_size=(140, 40), run_before=ready)


def test_filter_applied(snap_compare, config, store):
    async def filtered(pilot):
        await settle(pilot)
        await pilot.press("a", "slash")
        pilot.app.query_one("#filter").value = "hostage since:3h"
        await settle(pilot)

    assert snap_compare(_app(config, store), terminal_size=(140, 40), run_before=filtered)


def test_help_screen(snap_compare, config, store):
    async def help_open(pilot):
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(_app(config, store), terminal_size=(100, 34), run_before=help_open)


def test_small_terminal_80x24(snap_compare, config, store):
    async def ready(pilot):
        await settle(pilot)

    assert snap_compare(_app(config, store), terminal_size=(80, 24), run_before=ready)


def test_story_expanded(snap_compare, tmp_path, config):
    """One development from three sources: the xN row, expanded, and its detail."""
    from tui.store import Store

    from .conftest import fill
    from .test_stories_view import STORY_ROWS

    store = Store(tmp_path / "stories.db", clock=fixed_clock)
    fill(store, STORY_ROWS)

    async def expanded(pilot):
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    try:
        assert snap_compare(_app(config, store), terminal_size=(140, 40), run_before=expanded)
    finally:
        store.close()
