"""Story grouping: the labelled pairs, incremental == bulk, determinism, window, leads, sources."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tui.models import StoredItem, Verdict
from tui.stories import (
    Story,
    StoryIndex,
    features,
    first_reporter_counts,
    group_stories,
    headline_tokens,
    majority_signal,
    similarity,
    story_order,
    subject_side,
)

PAIRS = Path(__file__).resolve().parent / "cases" / "story_pairs.jsonl"
T0 = datetime(2025, 1, 19, 12, 0, tzinfo=timezone.utc)

# Measured: precision 1.000, recall 0.938 on 214 pairs (0.903 with the real classifier); the floors leave a little room.
PRECISION_FLOOR = 0.95
RECALL_FLOOR = 0.91


def make(
    item_id: int,
    title: str,
    *,
    feed: str = "Reuters",
    at: datetime = T0,
    signal: str = "release",
    actors: tuple[str, ...] = (),
    places: tuple[str, ...] = (),
    relevant: bool = True,
) -> StoredItem:
    return StoredItem(
        id=item_id, feed=feed, key=f"k{item_id}", title=title, summary="", link=f"https://news.example/{item_id}",
        author="", published=at, first_seen=at, read=False, starred=False,
        verdict=Verdict(relevant=relevant, score=1.0 if relevant else 0.0, signal=signal if relevant else "none",
                        actors=actors, places=places),
    )  # fmt: skip


def from_case(data: dict, item_id: int) -> StoredItem:
    return make(
        item_id,
        data["title"],
        feed=data["feed"],
        at=datetime.fromisoformat(data["published"]).astimezone(timezone.utc),
        signal=data["signal"],
        actors=tuple(data["actors"]),
        places=tuple(data["places"]),
    )


def load_cases() -> list[tuple[StoredItem, StoredItem, bool]]:
    cases = []
    for number, line in enumerate(PAIRS.read_text(encoding="utf-8").splitlines(), start=1):
        row = json.loads(line)
        cases.append((from_case(row["a"], 2 * number), from_case(row["b"], 2 * number + 1), row["same"]))
    return cases


def same_story(a: StoredItem, b: StoredItem) -> bool:
    index = StoryIndex()
    index.group([a, b])
    return index.story_of(a.id) == index.story_of(b.id)


# ------------------------------------------------------------------ the labelled pairs


def test_the_labelled_set_is_big_and_balanced_enough():
    cases = load_cases()
    positives = sum(same for _, _, same in cases)
    assert len(cases) >= 120 and 0.35 <= positives / len(cases) <= 0.65


def test_pairwise_precision_and_recall_stay_above_the_floor():
    tp = fp = fn = 0
    for a, b, same in load_cases():
        got = same_story(a, b)
        tp += got and same
        fp += got and not same
        fn += same and not got
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert precision >= PRECISION_FLOOR, precision
    assert recall >= RECALL_FLOOR, recall


@pytest.mark.parametrize(
    "a, b",
    [
        (("Hamas rejects latest Israeli proposal for Gaza truce", ("Hamas", "Israel")),
         ("Israel rejects Hamas counterproposal for Gaza truce", ("Israel", "Hamas"))),
        (("Hamas rejects ceasefire proposal", ("Hamas",)), ("Israel rejects ceasefire proposal", ("Israel",))),
        (("Hamas frees three hostages in Gaza handover", ("Hamas",)),
         ("Israel frees 90 Palestinian prisoners in exchange", ("Israel",))),
    ],
)  # fmt: skip
def test_the_other_side_doing_the_same_thing_is_another_story(a, b):
    signal = "stalled" if "rejects" in a[0] else "release"
    first = make(1, a[0], actors=a[1], signal=signal)
    second = make(2, b[0], feed="AP", at=T0 + timedelta(minutes=30), actors=b[1], signal=signal)
    assert not same_story(first, second)


def test_rewording_by_another_outlet_joins_the_story():
    first = make(1, "Hamas frees three captives as Gaza truce takes effect - Reuters", actors=("Hamas",))
    second = make(2, "Three hostages released by Hamas on first day of ceasefire", feed="BBC", at=T0 + timedelta(minutes=20),
                  actors=("Hamas",))  # fmt: skip
    assert same_story(first, second)


# ------------------------------------------------------------------ normalisation


def test_tokens_drop_the_publisher_stop_words_inflections_and_spell_numbers():
    assert headline_tokens("Hamas frees three captives - Reuters") == headline_tokens("Hamas freed 3 hostages")
    assert headline_tokens("Cease-fire talks stall") == headline_tokens("ceasefire talk stalled")
    assert "reuter" not in headline_tokens("Israel agrees truce - Reuters")
    assert headline_tokens("Israel frees 1,968 prisoners") >= {"1968"}


@pytest.mark.parametrize(
    "title, side",
    [
        ("Hamas rejects Israeli proposal", "hamas"),
        ("Israeli proposal rejected by Hamas", "hamas"),
        ("Israel says Hamas rejected the proposal", "hamas"),
        ("Hamas says it will delay release, accusing Israel of violations", "hamas"),
        ("Netanyahu's office: Hamas plan falls short", "hamas"),
        ("Israel and Hamas agree ceasefire deal", None),
        ("Israel-Hamas truce extended by two days", None),
        ("Three Israeli hostages freed in Gaza", None),
        ("Israeli cabinet approves hostage deal", "israel"),
        ("Qatar announces truce deal", None),
    ],
)
def test_the_subject_side_is_the_first_party_named(title, side):
    assert subject_side(title) == side


# ------------------------------------------------------------------ the index


def sample_items() -> list[StoredItem]:
    return [item for a, b, _ in load_cases() for item in (a, b)]


def test_incremental_equals_bulk():
    items = sample_items()
    bulk = StoryIndex().group(items)
    index = StoryIndex()
    for item in story_order(items):
        index.add(item)
    assert index.stories() == bulk
    assert len(bulk) < len(items)  # something was grouped


def test_bulk_grouping_does_not_depend_on_the_input_order():
    items = sample_items()
    expected = group_stories(items)
    for seed in range(3):
        shuffled = items[:]
        random.Random(seed).shuffle(shuffled)
        assert group_stories(shuffled) == expected


def test_the_same_input_order_gives_the_same_stories():
    items = sample_items()
    random.Random(7).shuffle(items)

    def feed_one_by_one() -> list[Story]:
        index = StoryIndex()
        for item in items:
            index.add(item)
        return index.stories()

    assert feed_one_by_one() == feed_one_by_one()


@pytest.mark.parametrize("hours, stories", [(35, 1), (37, 2)])
def test_the_window_is_36_hours(hours, stories):
    title = "Hamas frees three hostages in Gaza handover"
    first = make(1, title, feed="Reuters", actors=("Hamas",))
    later = make(2, title, feed="AP", at=T0 + timedelta(hours=hours), actors=("Hamas",))
    assert len(group_stories([first, later])) == stories


def test_confirmations_count_distinct_feeds_and_updates_join():
    items = [
        make(1, "Hamas frees three hostages in Gaza handover", feed="Reuters"),
        make(2, "Hamas frees three hostages, Red Cross says", feed="Reuters", at=T0 + timedelta(minutes=40)),
        make(3, "Three hostages freed by Hamas in Gaza", feed="AP", at=T0 + timedelta(minutes=25)),
    ]
    [story] = group_stories(items)
    assert len(story.members) == 3
    assert story.confirmations == 2
    assert story.sources == (("Reuters", 0), ("AP", 25))


def test_the_lead_is_the_first_reporter_even_when_it_arrives_late():
    late_first = make(5, "Hamas frees three hostages in Gaza handover", feed="Al Jazeera", at=T0)
    index = StoryIndex()
    opened = index.add(make(9, "Three hostages freed by Hamas in Gaza", feed="AP", at=T0 + timedelta(minutes=95)))
    joined = index.add(make(7, "Hamas hands over three hostages in Gaza", feed="BBC", at=T0 + timedelta(minutes=12)))
    story = index.add(late_first)
    assert opened.id == joined.id == story.id == 9  # the id stays the story's first item's
    assert story.lead == late_first and story.first_source == "Al Jazeera" and story.first_at == T0
    assert story.sources == (("Al Jazeera", 0), ("BBC", 12), ("AP", 95))
    assert [m.id for m in story.members] == [5, 7, 9]


def test_irrelevant_items_make_no_story_and_re_adding_changes_nothing():
    index = StoryIndex()
    assert index.add(make(1, "Football: City win the derby", relevant=False)) is None
    item = make(2, "Hamas frees three hostages in Gaza handover")
    story = index.add(item)
    assert index.add(item) == story and len(index) == 1 and story.members == (item,)


def test_signal_is_the_majority_none_does_not_vote_and_ties_go_to_the_lead():
    at = [T0 + timedelta(minutes=m) for m in range(5)]
    release, deal, none_ = (
        make(1, "x", signal="release", at=at[0]),
        make(2, "x", signal="deal", at=at[1]),
        make(3, "x", signal="none", at=at[2]),
    )
    assert majority_signal([release, deal]) == "release"
    assert majority_signal([release, deal, make(4, "x", signal="deal", at=at[3])]) == "deal"
    assert majority_signal([none_, deal]) == "deal"
    assert majority_signal([none_]) == "none"


def test_different_venues_are_different_rounds():
    doha = make(1, "Israeli delegation heads to Doha for truce talks", signal="progress", places=("Doha",))
    cairo = make(2, "Israeli delegation heads to Cairo for truce talks", feed="AP", signal="progress",
                 at=T0 + timedelta(hours=2), places=("Cairo",))  # fmt: skip
    qatar = make(3, "Israeli negotiators travel to Qatar for truce talks", feed="BBC", signal="progress",
                 at=T0 + timedelta(hours=1), places=("Qatar",))  # fmt: skip
    assert not same_story(doha, cairo)
    assert same_story(doha, qatar)


def test_a_background_item_needs_a_close_headline_to_join():
    deal = make(1, "Israel and Hamas agree Gaza ceasefire deal", signal="deal")
    loose = make(2, "Analysis: what the Gaza ceasefire deal means", feed="AP", signal="none", at=T0 + timedelta(hours=1))
    close = make(3, "Israel and Hamas agree ceasefire deal in Gaza", feed="BBC", signal="none", at=T0 + timedelta(hours=1))
    collapse = make(4, "Israel and Hamas Gaza ceasefire deal collapses", feed="CNN", signal="collapse")
    assert not same_story(deal, loose)
    assert same_story(deal, close)
    assert not same_story(deal, collapse)


@pytest.mark.parametrize(
    "first, second",
    [
        ("Palestinian prisoners released in first exchange of the truce", "Hostages released in first exchange of the truce"),
        ("Three hostages freed in first exchange of truce", "Three hostages freed in second exchange of truce"),
        ("Israel and Hamas agree ceasefire and hostage deal", "Israeli cabinet approves ceasefire and hostage deal"),
    ],
)
def test_the_same_day_next_development_is_another_story(first, second):
    a = make(1, first, signal="release" if "freed" in first or "released" in first else "deal")
    b = make(2, second, feed="AP", at=T0 + timedelta(hours=1), signal=a.signal)
    assert not same_story(a, b)


def test_a_look_alike_headline_needs_more_similarity_the_later_it_comes():
    a = make(1, "Hostage talks resume in Cairo after week-long pause", signal="progress")
    title = "Negotiators back in Cairo as hostage talks resume"
    soon = make(2, title, feed="AP", at=T0 + timedelta(minutes=30), signal="progress")
    late = make(3, title, feed="AP", at=T0 + timedelta(hours=14), signal="progress")
    assert same_story(a, soon)
    assert not same_story(a, late)


def test_first_reporter_counts_only_confirmed_stories_since_the_cutoff():
    items = [
        make(1, "Hamas frees three hostages in Gaza handover", feed="AP"),
        make(2, "Three hostages freed by Hamas in Gaza", feed="Reuters", at=T0 + timedelta(minutes=5)),
        make(3, "Israeli cabinet approves ceasefire deal", feed="Reuters", at=T0 + timedelta(hours=3), signal="deal"),
        make(4, "Israel's cabinet ratifies the ceasefire deal", feed="AP", at=T0 + timedelta(hours=3, minutes=9),
             signal="deal"),  # fmt: skip
        make(5, "Talks stall over Philadelphi corridor", feed="BBC", at=T0 + timedelta(hours=5), signal="stalled"),
        make(6, "Hamas frees four hostages in Gaza handover", feed="BBC", at=T0 - timedelta(days=8)),
        make(7, "Four hostages freed by Hamas in Gaza", feed="AP", at=T0 - timedelta(days=8, minutes=-5)),
    ]
    stories = group_stories(items)
    assert first_reporter_counts(stories, since=T0 - timedelta(days=7)) == (("AP", 1), ("Reuters", 1))
    assert first_reporter_counts(stories, since=T0 - timedelta(days=9)) == (("AP", 1), ("BBC", 1), ("Reuters", 1))


def test_an_announcement_and_the_event_itself_are_two_stories():
    announced = make(1, "Hamas to free three hostages on Saturday", actors=("Hamas",))
    done = make(2, "Hamas frees three hostages", feed="AP", at=T0 + timedelta(hours=2), actors=("Hamas",))
    again = make(3, "Three hostages to be freed by Hamas on Saturday", feed="BBC", at=T0 + timedelta(hours=1))
    assert not same_story(announced, done)
    assert same_story(announced, again)


def test_a_venue_named_only_in_the_headline_still_counts():
    qatar = make(1, "Israeli negotiators travel to Qatar for ceasefire talks", signal="progress", actors=("Qatar",))
    cairo = make(2, "Israeli negotiators land in Cairo for ceasefire talks", feed="AP", signal="progress",
                 at=T0 + timedelta(hours=1))  # fmt: skip
    assert not same_story(qatar, cairo)


# ------------------------------------------------------------------ wire paraphrases and their limits


@pytest.mark.parametrize(
    "first, second, signals",
    [
        ("Hamas turns down Israeli truce offer", "Hamas rejects Israel's ceasefire proposal", ("stalled", "stalled")),
        ("Start of Gaza truce pushed back to Friday", "Gaza truce delayed until Friday", ("stalled", "stalled")),
        ("Qatar announces truce deal for release of 50 hostages", "Hamas and Israel reach deal on truce, hostage swap",
         ("deal", "deal")),
        ("Israel frees nearly 2,000 Palestinian prisoners", "Israel releases 1,968 Palestinian prisoners",
         ("release", "release")),
        # the classifier reads one paraphrase "deal" and the next "none": close in time, it still joins
        ("Qatar, France broker deal to deliver medicine to hostages in Gaza",
         "Medicines for hostages to enter Gaza under Qatari-French deal", ("deal", "none")),
    ],
)  # fmt: skip
def test_wire_paraphrases_join(first, second, signals):
    a = make(1, first, signal=signals[0])
    b = make(2, second, feed="AP", at=T0 + timedelta(minutes=40), signal=signals[1])
    assert same_story(a, b)


@pytest.mark.parametrize(
    "first, second, signal",
    [
        ("Gaza truce collapses as airstrikes resume", "Hostage negotiations break down", "collapse"),
        ("Israeli airstrike targets Hamas negotiators in Doha", "Qatar condemns Israeli attack on Hamas negotiators",
         "stalled"),
        ("Red Cross vehicles reach Gaza crossing for handover", "Israel and Hamas reach truce and hostage release deal",
         "release"),
    ],
)  # fmt: skip
def test_look_alikes_that_are_not_the_same_development_stay_apart(first, second, signal):
    a = make(1, first, signal=signal)
    b = make(2, second, feed="AP", at=T0 + timedelta(minutes=40), signal=signal)
    assert not same_story(a, b)


def test_durations_are_not_compared_with_counts_and_rounded_counts_agree():
    two_days = make(1, "Israel-Hamas truce extended by two days", signal="deal")
    hours = make(2, "Gaza truce extended 48 hours to allow more hostage releases", feed="AP",
                 at=T0 + timedelta(minutes=20), signal="deal")  # fmt: skip
    three, four, again = (
        features(make(3, "Hamas frees three hostages in Gaza handover")),
        features(make(4, "Hamas frees four hostages in Gaza handover")),
        features(make(5, "Hamas frees 3 hostages in Gaza handover")),
    )
    assert same_story(two_days, hours)
    assert similarity(three, four) < similarity(three, again) == 1.0
