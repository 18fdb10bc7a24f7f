"""Store -> status / stories / digest in one call, shared by the CLI and the dashboard.

The pure modules (status, stories, digest) take items; this is the one place
that decides which stored items they see, so `talkwatch status`, `talkwatch
digest` and the dashboard agree.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tui.models import StoredItem

if TYPE_CHECKING:
    from tui.digest import Digest
    from tui.status import TalksStatus
    from tui.store import Store

STATUS_WINDOW = timedelta(days=30)  # the status' daily sparkline reaches back 30 days
STORY_WINDOW = timedelta(hours=36)  # a story spans at most this; group from before `since`


def relevant_items(store: Store, *, since: datetime) -> list[StoredItem]:
    from tui.store import ItemQuery

    return store.query(ItemQuery(relevant_only=True, since=since, limit=None))


CONFIDENCE_WINDOW = timedelta(days=7)  # stories grouped for the status' confidence
CONFIDENCE_CAP = 3000  # newest items grouped: grouping runs at ~1-2k items/s


def confidence_stories(items: list[StoredItem], now: datetime) -> list:
    """Stories of the newest relevant ``items`` of the last week, for ``compute_status(stories=)``."""
    from tui.stories import group_stories

    recent = [i for i in items if i.verdict.relevant and i.published >= now - CONFIDENCE_WINDOW]
    recent.sort(key=lambda i: i.published, reverse=True)
    return group_stories(recent[:CONFIDENCE_CAP])


def talks_status(store: Store, now: datetime) -> TalksStatus:
    from tui.status import compute_status

    items = relevant_items(store, since=now - STATUS_WINDOW)
    return compute_status(items, now, stories=lambda: confidence_stories(items, now))


def digest(store: Store, *, since: datetime, now: datetime) -> Digest:
    from tui.digest import build_digest
    from tui.status import compute_status
    from tui.store import ItemQuery
    from tui.stories import group_stories

    status_items = relevant_items(store, since=min(since, now - STATUS_WINDOW))
    story_items = [i for i in status_items if i.published >= since - STORY_WINDOW]
    stories = group_stories(story_items)
    status = compute_status(status_items, now, stories=lambda: confidence_stories(status_items, now))
    period_items = store.query(ItemQuery(since=since, limit=None))
    return build_digest(period_items, status, stories, since=since, now=now)
