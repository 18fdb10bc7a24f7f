"""Shared fixtures: a fresh store on tmp_path and factories for items and verdicts.

    def test_x(fresh_store, make_item, make_verdict):
        fresh_store.upsert_items("BBC", [(make_item(title="Talks resume"), make_verdict(signal="progress"))])

``make_item``/``make_verdict`` are also importable as plain functions
(``from conftest import make_item``: tests/ is on sys.path, it is not a package) for use outside fixtures.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from datetime import datetime, timedelta, timezone

import pytest

from tui.models import Item, Verdict

# A fixed "now" for tests that need one; items default to minutes before it.
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)

_counter = itertools.count(1)


def pytest_configure(config):
    # The classifier caches its compiled rules (tui.classify.rules_cache_dir): the
    # tests, and the talkwatch processes they start, share a private cache instead
    # of writing into the user's ~/.cache.
    if "TALKWATCH_CACHE_DIR" not in os.environ:
        path = tempfile.mkdtemp(prefix="talkwatch-test-cache-")
        os.environ["TALKWATCH_CACHE_DIR"] = path
        config.add_cleanup(lambda: shutil.rmtree(path, ignore_errors=True))


def make_item(**overrides) -> Item:
    """An Item with unique key/title/link unless overridden; published defaults to NOW minus n minutes."""
    n = next(_counter)
    fields = dict(
        feed="Test Feed",
        key=f"item-{n}",
        title=f"Headline number {n}",
        summary=f"Summary of story {n}.",
        link=f"https://news.example/story/{n}",
        published=NOW - timedelta(minutes=n),
        author="",
    )
    fields.update(overrides)
    return Item(**fields)


def make_verdict(signal: str = "none", *, relevant: bool | None = None, score: float | None = None, **overrides) -> Verdict:
    """A Verdict; relevant defaults to True unless the signal is "none" and relevant isn't given."""
    if relevant is None:
        relevant = signal != "none"
    if score is None:
        score = 2.0 if relevant else 0.0
    return Verdict(relevant=relevant, score=score, signal=signal if relevant else "none", **overrides)


@pytest.fixture(name="make_item")
def make_item_fixture():
    return make_item


@pytest.fixture(name="make_verdict")
def make_verdict_fixture():
    return make_verdict


@pytest.fixture
def fresh_store(tmp_path):
    """A writer Store on tmp_path whose clock reads NOW; closed after the test."""
    from tui.store import Store

    store = Store(tmp_path / "talkwatch.db", clock=lambda: NOW)
    yield store
    store.close()
