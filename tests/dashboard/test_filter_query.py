from datetime import datetime, timedelta, timezone

from tui.dashboard.filter_query import (
    ViewState,
    build_query,
    match_signal,
    next_signal,
    parse_filter,
    parse_since,
)

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=timezone.utc)
NAMES = ["Doha Wire", "Cairo Bulletin", "Times of Israel", "Times Radio"]


def test_free_text_and_all_tokens():
    parsed = parse_filter("ceasefire source:doha signal:stalled since:6h is:unread is:starred talks", now=NOW, feed_names=NAMES)
    assert parsed.text == "ceasefire talks"
    assert parsed.feeds == ("Doha Wire",)
    assert parsed.signals == ("stalled",)
    assert parsed.since == NOW - timedelta(hours=6)
    assert parsed.unread_only and parsed.starred_only
    assert parsed.problems == ()


def test_source_quoted_substring_and_exact():
    assert parse_filter('source:"times of israel"', now=NOW, feed_names=NAMES).feeds == ("Times of Israel",)
    assert parse_filter("source:times", now=NOW, feed_names=NAMES).feeds == ("Times of Israel", "Times Radio")
    assert parse_filter("source:nowhere", now=NOW, feed_names=NAMES).feeds == ()


def test_half_typed_tokens_are_harmless():
    assert parse_filter("signal:", now=NOW).signals == ()
    assert parse_filter("signal:sta", now=NOW).signals == ("stalled",)
    assert parse_filter('source:"Times of', now=NOW, feed_names=NAMES).feeds  # unbalanced quote
    parsed = parse_filter("since:soon signal:bogus is:maybe", now=NOW)
    assert parsed.since is None and parsed.signals == ()
    assert len(parsed.problems) == 3


def test_unknown_prefix_is_free_text():
    assert parse_filter("http://x author:me", now=NOW).text == "http://x author:me"


def test_parse_since_and_signal_prefix():
    assert parse_since("90m") == timedelta(minutes=90)
    assert parse_since("2d") == timedelta(days=2)
    assert parse_since("1w") == timedelta(weeks=1)
    assert parse_since("x") is None
    assert match_signal("p") is None  # progress or proposal: ambiguous
    assert match_signal("pro") is None
    assert match_signal("prog") == "progress"


def test_build_query_combines_toggles_with_filter():
    view = ViewState(filter_text="signal:deal source:cairo", relevant_only=True, limit=50)
    q = build_query(view, now=NOW, feed_names=NAMES)
    assert (q.feeds, q.signals, q.relevant_only, q.limit) == (("Cairo Bulletin",), ("deal",), True, 50)
    # the `1`..`9` source and the typed source disagree: nothing can match
    q = build_query(view.with_(source="Doha Wire"), now=NOW, feed_names=NAMES)
    assert "Doha Wire" not in q.feeds and "Cairo Bulletin" not in q.feeds
    # an unknown source matches nothing instead of everything
    assert build_query(ViewState(filter_text="source:zzz"), now=NOW, feed_names=NAMES).feeds != ()


def test_signal_cycle_wraps():
    seen = [None]
    for _ in range(7):
        seen.append(next_signal(seen[-1]))
    assert seen[1:7] == ["deal", "release", "progress", "proposal", "stalled", "collapse"]
    assert seen[7] is None


def test_apostrophes_are_text():
    assert parse_filter("Israel's cabinet", now=NOW).text == "Israel's cabinet"
