"""The stories a headlines query shows, derived from one grouping of the newest items.

Grouping is the expensive part of the story view (it compares every item with
the stories open around its time), and a filter keystroke asks again for a
subset of the same items. So the newest relevant items are grouped once, into
a ``StoryBase``, and each query's answer is cut from it: a story shows when
one of its members matches, with the matching members only (its count, first
reporter and signal are those of the members shown). A story keeps its id
whatever the filter, so the cursor stays on it as the user types.

New items (a poll, another process) join the base as queries meet them.
Matching items older than the base are grouped among themselves, as before
the base existed; past ``group_cap`` matches, each item is its own story.

Not thread-safe: the dashboard touches a base from one worker at a time.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any, Callable, Sequence

from tui.models import StoredItem
from tui.stories import Story, StoryIndex, build_story, group_stories, story_order

STALE_CHECK_EVERY = 50  # items grouped between two looks for a newer question
SLICE_CPU = 0.002  # seconds of grouping between two chances for the event loop (see Breather)


class Breather:
    """Called between items by grouping in a worker thread: while ``busy()``,
    after each ``SLICE_CPU`` of work, sleep as long as that work took.

    Grouping holds the GIL: 0.5-1 s of it (a story base, a page of 2,000
    items joining it) while a poll streams in takes every other GIL turn from
    the event loop, doubling each screen refresh. Sleeping half the time
    leaves the loop its frames; the list fills a little later meanwhile."""

    def __init__(self, busy: Callable[[], bool]):
        self.busy = busy
        self._since = time.thread_time()

    def __call__(self) -> None:
        ran = time.thread_time() - self._since
        if ran < SLICE_CPU:
            return
        if self.busy():
            time.sleep(min(ran, 0.01))
        self._since = time.thread_time()


class StoryBase:
    """The stories of the newest ``size`` relevant items, grown with the items queries return."""

    def __init__(self, items: Sequence[StoredItem], size: int, *, pause: Callable[[], None] | None = None):
        relevant = [item for item in items if item.relevant]
        self.index = StoryIndex()
        self._grouped_as: dict[int, tuple] = {}
        self._extend(relevant, pause)
        # Older items than the oldest grouped were never seen: the base says
        # nothing about them. None: the base holds every relevant item there was.
        full = bool(relevant) and len(relevant) >= size
        self.floor: datetime | None = min(item.published for item in relevant) if full else None

    @classmethod
    def load(cls, store: Any, size: int, *, pause: Callable[[], None] | None = None) -> "StoryBase":
        from tui.store import ItemQuery

        return cls(store.query(ItemQuery(relevant_only=True, limit=size)), size, pause=pause)

    def covers(self, item: StoredItem) -> bool:
        return self.floor is None or item.published >= self.floor

    def _extend(self, items: Sequence[StoredItem], pause: Callable[[], None] | None = None) -> None:
        if pause is None:
            self.index.extend(items)
        else:  # the same order as extend's, with a pause between items
            for item in story_order(items):
                self.index.extend((item,))
                pause()
        self._grouped_as.update((item.id, _grouping_fields(item)) for item in items)

    def is_current_for(self, items: Sequence[StoredItem]) -> bool:
        """False when an item was grouped as it was before an update (a new
        title, signal, time): the base must be built again to group it as it is."""
        grouped_as = self._grouped_as
        for item in items:
            seen = grouped_as.get(item.id)
            if seen is not None and seen != _grouping_fields(item):
                return False
        return True

    def stories_for(
        self,
        items: Sequence[StoredItem],
        *,
        group_cap: int,
        stale: Callable[[], bool] = lambda: False,
        pause: Callable[[], None] | None = None,
    ) -> list[Story] | None:
        """The stories of a query's ``items`` (newest first), None when ``stale()`` says nobody wants them.

        ``pause`` (a Breather) is called between items grouped."""
        arrivals = [i for i in items if i.relevant and self.covers(i) and self.index.story_id_of(i.id) is None]
        self._extend(arrivals, pause)
        members: dict[int, list[StoredItem]] = {}
        older: list[StoredItem] = []
        alone: list[StoredItem] = []
        for position, item in enumerate(items):
            if not item.relevant:
                continue
            story_id = self.index.story_id_of(item.id) if self.covers(item) else None
            if story_id is not None:
                members.setdefault(story_id, []).append(item)
            elif position < group_cap:
                older.append(item)
            else:
                alone.append(item)  # past the cap: one story per item
        stories = [build_story(story_id, found) for story_id, found in members.items()]
        if older:
            # Grouped a slice at a time (in story order, the same stories as
            # group_stories), giving up as soon as a newer question is waiting.
            index = StoryIndex()
            ordered = story_order(older)
            for start in range(0, len(ordered), STALE_CHECK_EVERY):
                if stale():
                    return None
                if pause is None:
                    index.extend(ordered[start : start + STALE_CHECK_EVERY])
                    continue
                for item in ordered[start : start + STALE_CHECK_EVERY]:
                    index.extend((item,))
                    pause()
            stories += index.stories()
        stories += [build_story(item.id, (item,)) for item in alone]
        stories.sort(key=lambda story: (story.first_at, story.id), reverse=True)
        return stories


def _grouping_fields(item: StoredItem) -> tuple:
    """What grouping reads of an item (``tui.stories.features``)."""
    verdict = item.verdict
    return (item.title, item.published, verdict.relevant, verdict.signal, verdict.actors, verdict.places)


def group_page(items: Sequence[StoredItem], *, group_cap: int) -> list[Story]:
    """The stories of ``items`` without a base: the first ``group_cap`` grouped, one story per item after."""
    stories = group_stories(items[:group_cap])
    stories += [build_story(item.id, (item,)) for item in items[group_cap:] if item.relevant]
    return stories
