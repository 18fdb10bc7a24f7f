"""StoryBase: a query's stories cut from one grouping of the newest items."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from tui.dashboard.story_view import StoryBase, group_page
from tui.models import StoredItem, Verdict
from tui.stories import group_stories

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=timezone.utc)
DEAL = "Israel and Hamas agree truce and hostage release deal"


def item(item_id: int, feed: str, minutes: int, title: str, signal: str = "deal", relevant: bool = True) -> StoredItem:
    at = NOW - timedelta(minutes=minutes)
    return StoredItem(
        id=item_id, feed=feed, key=f"k{item_id}", title=title, summary="", link="", author="",
        published=at, first_seen=at, read=False, starred=False,
        verdict=Verdict(relevant=relevant, score=2.0 if relevant else 0.0, signal=signal if relevant else "none",
                        actors=("Israel", "Hamas"), places=("Doha",)),
    )  # fmt: skip


def newest_first(items):
    return sorted(items, key=lambda i: (i.published, i.id), reverse=True)


ITEMS = newest_first([
    item(1, "Doha Wire", 40, DEAL),
    item(2, "Cairo Bulletin", 28, "Israel, Hamas agree truce and hostage release deal - Cairo Bulletin"),
    item(3, "Levant Ledger", 12, "Israel and Hamas agree on truce and hostage release deal"),
    item(4, "Levant Ledger", 70, "Talks stall over withdrawal maps, officials say", "stalled"),
    item(5, "Harbour Times", 95, "Port strike ends after pay deal agreed", relevant=False),
])  # fmt: skip


def shape(stories):
    return sorted((s.id, tuple(m.id for m in s.members), s.confirmations, s.first_source) for s in stories)


def test_unfiltered_stories_are_the_grouping_of_the_items():
    base = StoryBase(ITEMS, size=100)
    assert shape(base.stories_for(ITEMS, group_cap=1000)) == shape(group_stories(ITEMS))
    assert shape(base.stories_for(ITEMS, group_cap=1000)) == [(1, (1, 2, 3), 3, "Doha Wire"), (4, (4,), 1, "Levant Ledger")]


def test_a_filter_shows_a_story_with_its_matching_members_under_the_same_id():
    base = StoryBase(ITEMS, size=100)
    cairo_only = [i for i in ITEMS if i.feed == "Cairo Bulletin"]
    (story,) = base.stories_for(cairo_only, group_cap=1000)
    assert (story.id, story.item_ids, story.confirmations, story.first_source) == (1, (2,), 1, "Cairo Bulletin")
    assert story.lead.id == 2


def test_the_answer_carries_the_items_as_queried_not_as_grouped():
    base = StoryBase(ITEMS, size=100)
    read = [replace(i, read=True) for i in ITEMS]
    stories = base.stories_for(read, group_cap=1000)
    assert all(m.read for s in stories for m in s.members)


def test_new_items_join_the_base_as_queries_meet_them():
    base = StoryBase(ITEMS, size=100)
    live = item(6, "Harbour Times", 3, "Israel and Hamas agree truce, hostage release deal")
    stories = base.stories_for(newest_first([*ITEMS, live]), group_cap=1000)
    assert (1, (1, 2, 3, 6), 4, "Doha Wire") in shape(stories)
    assert base.index.story_id_of(6) == 1
    # ...and stay in their story when a later query shows them alone.
    (alone,) = base.stories_for([live], group_cap=1000)
    assert alone.id == 1 and alone.item_ids == (6,)


def test_items_older_than_the_base_are_grouped_among_themselves_up_to_the_cap():
    base = StoryBase(ITEMS[:1], size=1)  # the newest relevant item only: 3
    assert base.floor == NOW - timedelta(minutes=12)
    stories = base.stories_for(ITEMS, group_cap=1000)
    # 2 and 1 are older than the base: grouped together (1 opened their story), 3 is the base's.
    assert shape(stories) == [(1, (1, 2), 2, "Doha Wire"), (3, (3,), 1, "Levant Ledger"), (4, (4,), 1, "Levant Ledger")]
    # Past the cap (the first two items of the answer), each older item is its own story.
    capped = base.stories_for(ITEMS, group_cap=2)
    assert shape(capped) == [(1, (1,), 1, "Doha Wire"), (2, (2,), 1, "Cairo Bulletin"), (3, (3,), 1, "Levant Ledger"),
                             (4, (4,), 1, "Levant Ledger")]
    assert base.stories_for(ITEMS, group_cap=1000, stale=lambda: True) is None


def test_an_updated_item_makes_the_base_out_of_date():
    base = StoryBase(ITEMS, size=100)
    assert base.is_current_for(ITEMS)
    retitled = [replace(i, title="Hostage talks collapse in Doha") if i.id == 3 else i for i in ITEMS]
    assert not base.is_current_for(retitled)
    assert base.is_current_for([replace(i, read=True, starred=True) for i in ITEMS])


def test_group_page_groups_the_first_items_and_leaves_the_rest_alone():
    stories = group_page(ITEMS, group_cap=2)
    assert shape(stories) == [(1, (1,), 1, "Doha Wire"), (2, (2, 3), 2, "Cairo Bulletin"), (4, (4,), 1, "Levant Ledger")]
