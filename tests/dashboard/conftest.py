"""Fixtures for the dashboard tests: a real Store on tmp_path, filled with
fixed items and verdicts, a fixed clock and a config file on disk."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tui.config import load_config
from tui.models import FeedOutcome, FeedState, Item, Verdict
from tui.store import Store

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=timezone.utc)


def fixed_clock() -> datetime:
    return NOW


FEEDS = ("Doha Wire", "Cairo Bulletin", "Levant Ledger", "Harbour Times")

CONFIG_TEXT = """\
[settings]
interval = "5m"

[[feed]]
name = "Doha Wire"
url = "http://127.0.0.1:9/doha.xml"

[[feed]]
name = "Cairo Bulletin"
url = "http://127.0.0.1:9/cairo.xml"

[[feed]]
name = "Levant Ledger"
url = "http://127.0.0.1:9/levant.xml"

[[feed]]
name = "Harbour Times"
url = "http://127.0.0.1:9/harbour.xml"
"""

# (feed, minutes ago, title, summary, relevant, signal, matched)
ROWS = [
    ("Doha Wire", 4, "Negotiators in Doha report progress on hostage deal framework",
     "Qatari and Egyptian mediators said gaps had narrowed.", True, "progress", ("hostage", "talks", "progress")),
    ("Cairo Bulletin", 25, "Hamas reviewing new ceasefire proposal delivered by Egypt",
     "The proposal envisages a phased release of hostages.", True, "proposal", ("hostages", "proposal")),
    ("Levant Ledger", 70, "Talks stall over withdrawal maps, officials say",
     "Israeli officials said negotiations in Cairo had stalled.", True, "stalled", ("negotiations", "stalled")),
    ("Harbour Times", 95, "Port strike ends after pay deal agreed",
     "Dockworkers accepted the new deal.", False, "none", ()),
    ("Doha Wire", 130, "Red Cross prepares for possible hostage handover",
     "Vehicles were seen near the crossing.", True, "none", ("hostage", "Red Cross")),
    ("Cairo Bulletin", 200, "Mediators meet in Cairo as pressure mounts for a truce",
     "Delegations from Qatar and the US attended.", True, "progress", ("truce", "mediators")),
    ("Harbour Times", 260, "Local football club signs new striker",
     "A two-year contract.", False, "none", ()),
    ("Levant Ledger", 400, "Families of hostages rally in Tel Aviv urging a deal",
     "Thousands marched on Saturday night.", True, "none", ("hostages", "deal")),
]


def make_pairs(rows=ROWS, now: datetime = NOW):
    by_feed: dict[str, list] = {}
    for feed, minutes, title, summary, relevant, signal, matched in rows:
        item = Item(
            feed=feed,
            key=f"{feed}-{minutes}-{title[:10]}",
            title=title,
            summary=summary,
            link=f"https://example.org/{feed.split()[0].lower()}/{minutes}",
            published=now - timedelta(minutes=minutes),
        )
        verdict = Verdict(
            relevant=relevant,
            score=2.5 if relevant else 0.1,
            signal=signal,
            matched=matched,
            actors=("Qatar", "Egypt") if relevant else (),
            places=("Doha",) if relevant else (),
        )
        by_feed.setdefault(feed, []).append((item, verdict))
    return by_feed


def fill(store: Store, rows=ROWS, now: datetime = NOW) -> None:
    for feed, pairs in make_pairs(rows, now).items():
        store.upsert_items(feed, pairs)


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "feeds.toml"
    path.write_text(CONFIG_TEXT + f'\n', encoding="utf-8")
    return path


@pytest.fixture
def config(config_path: Path):
    return load_config(config_path)


@pytest.fixture
def store(tmp_path: Path):
    store = Store(tmp_path / "test.db", clock=fixed_clock)
    fill(store)
    store.save_feed_state(
        FeedState(name="Doha Wire", url="http://127.0.0.1:9/doha.xml", outcome=FeedOutcome.OK, last_status=200,
                  last_fetch_at=NOW - timedelta(minutes=2), latency_ms=118.0, next_check_at=NOW + timedelta(minutes=3))
    )
    store.save_feed_state(
        FeedState(name="Cairo Bulletin", url="http://127.0.0.1:9/cairo.xml", outcome=FeedOutcome.NOT_MODIFIED,
                  last_status=304, last_fetch_at=NOW - timedelta(minutes=1), latency_ms=41.0,
                  next_check_at=NOW + timedelta(minutes=4))
    )
    store.save_feed_state(
        FeedState(name="Levant Ledger", url="http://127.0.0.1:9/levant.xml", outcome=FeedOutcome.ERROR,
                  last_error="timed out after 20 s", failures=3, last_fetch_at=NOW - timedelta(minutes=6),
                  next_check_at=NOW + timedelta(minutes=12))
    )
    yield store
    store.close()
