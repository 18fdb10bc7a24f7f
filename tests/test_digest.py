"""The digest: state changes in the period, stories by signal with sources and links, numbers; md and json."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest

from tui.digest import build_digest, escape_markdown, render_json, render_markdown, safe_url
from tui.models import StoredItem, Verdict
from tui.stories import group_stories

NOW = datetime(2025, 1, 19, 18, 0, tzinfo=timezone.utc)
SINCE = NOW - timedelta(hours=24)


def item(item_id, title, feed, hours_ago, signal="release", *, relevant=True, link=None):
    at = NOW - timedelta(hours=hours_ago)
    return StoredItem(
        id=item_id, feed=feed, key=f"k{item_id}", title=title, summary="",
        link=f"https://{feed.lower().replace(' ', '')}.example/{item_id}" if link is None else link,
        author="", published=at, first_seen=at, read=False, starred=False,
        verdict=Verdict(relevant=relevant, score=1.0 if relevant else 0.0, signal=signal if relevant else "none"),
    )  # fmt: skip


@dataclass(frozen=True)
class Change:  # the shape of tui.status.StateChange
    at: datetime
    state: str
    previous_state: str
    item: StoredItem | None


@dataclass(frozen=True)
class Status:  # the shape of tui.status.TalksStatus
    state: str = "QUIET"
    since: datetime | None = None
    confidence: int = 0
    momentum: float = 0.0
    timeline: tuple = ()
    mediators: tuple = ()
    venues: tuple = ()
    confirmed: bool = field(default=False)


def fixture():
    items = [
        item(1, "Hamas frees first three hostages as Gaza ceasefire takes effect", "Reuters", 3.25),
        item(2, "Three hostages released by Hamas and handed to the Red Cross", "BBC", 3.0),
        item(3, "Hamas frees three hostages as truce begins", "Al Jazeera", 2.5),
        item(4, "Israel releases 90 Palestinian prisoners in first swap of truce", "Reuters", 1.0),
        item(5, "Israeli cabinet approves *Gaza* ceasefire [deal] _now_ `live`", "Times of Israel", 30.0, "deal",
             link="https://toi.example/a(b) c"),  # fmt: skip
        item(6, "Israel's full cabinet ratifies ceasefire deal", "Times of Israel", 20.0, "deal"),
        item(7, "Israel's government votes to approve the ceasefire deal", "Ynet", 19.5, "deal", link="javascript:alert(1)"),
        item(8, "Hostage families rally in Tel Aviv", "Haaretz", 10.0, "none"),
        item(9, "Football: derby ends in a draw", "BBC", 5.0, relevant=False),
        item(10, "Qatar PM says talks in final stages", "Al Jazeera", 40.0, "progress"),  # before the period
    ]
    timeline = (
        Change(NOW - timedelta(hours=40), "ACTIVE TALKS", "QUIET", items[9]),
        Change(NOW - timedelta(hours=20), "DEAL IN EFFECT", "ACTIVE TALKS", items[5]),
        Change(NOW - timedelta(hours=3.25), "RELEASES UNDER WAY", "DEAL IN EFFECT", items[0]),
    )
    status = Status(
        state="RELEASES UNDER WAY", since=NOW - timedelta(hours=3.25), confidence=3, momentum=0.8123,
        timeline=timeline, mediators=(("Qatar", 2),), venues=(("Doha", 1),), confirmed=True,
    )  # fmt: skip
    return items, status, group_stories(items)


def test_digest_collects_the_period():
    items, status, stories = fixture()
    digest = build_digest(items, status, stories, since=SINCE, now=NOW)
    assert digest.state == "RELEASES UNDER WAY" and digest.confirmed
    assert [(c.previous_state, c.state) for c in digest.changes] == [
        ("ACTIVE TALKS", "DEAL IN EFFECT"),
        ("DEAL IN EFFECT", "RELEASES UNDER WAY"),
    ]
    assert [signal for signal, _ in digest.stories] == ["deal", "release", "none"]
    releases = dict(digest.stories)["release"]
    assert [s.headline for s in releases] == [
        "Israel releases 90 Palestinian prisoners in first swap of truce",
        "Hamas frees first three hostages as Gaza ceasefire takes effect",
    ]
    hostages = releases[1]
    assert hostages.sources == (("Reuters", 0), ("BBC", 15), ("Al Jazeera", 45)) and hostages.confirmations == 3
    assert hostages.links[1] == ("BBC", "https://bbc.example/2")
    assert digest.count("release") == 2 and digest.count("deal") == 1 and digest.count("progress") == 0
    assert (digest.relevant_items, digest.sources, digest.all_items) == (7, 6, 8)


def test_markdown_reads_as_a_message_and_escapes_feed_text():
    items, status, stories = fixture()
    text = render_markdown(build_digest(items, status, stories, since=SINCE, now=NOW))
    lines = text.splitlines()
    assert lines[0] == "# Hostage talks: what changed, 18 Jan 18:00 UTC to 19 Jan 18:00 UTC"
    assert "**Now: RELEASES UNDER WAY** since 19 Jan 14:45 UTC, confirmed by 3 sources, momentum +0.81" in lines
    assert (
        "- 19 Jan 14:45 UTC: DEAL IN EFFECT -> **RELEASES UNDER WAY**: [Hamas frees first three hostages as Gaza"
        " ceasefire takes effect](https://reuters.example/1) (Reuters)" in lines
    )
    assert "### Releases (2)" in lines and "### Deal (1)" in lines and "### Other news (1)" in lines
    assert (
        "- [Hamas frees first three hostages as Gaza ceasefire takes effect](https://reuters.example/1)"
        " (x3: Reuters first at 19 Jan 14:45 UTC, BBC +15m, Al Jazeera +45m)" in lines
    )
    deal_line = next(line for line in lines if "cabinet approves" in line)
    assert r"\*Gaza\* ceasefire \[deal\] \_now\_ \`live\`" in deal_line
    assert "(https://toi.example/a%28b%29%20c)" in deal_line and "+10h30m" in deal_line
    assert "javascript" not in text
    assert "- Releases reported: 2 stories" in lines
    assert "- Relevant items: 7 from 6 sources (8 items in all)" in lines
    assert "- Mediators named: Qatar 2" in lines and "Football" not in text and "final stages" not in text


def test_json_has_the_same_content_in_plain_types():
    items, status, stories = fixture()
    data = render_json(build_digest(items, status, stories, since=SINCE, now=NOW))
    assert json.loads(json.dumps(data)) == data
    assert data["state"] == {
        "state": "RELEASES UNDER WAY", "since": "2025-01-19T14:45:00+00:00", "confidence": 3,
        "confirmed": True, "momentum": 0.812,
    }  # fmt: skip
    assert [c["state"] for c in data["changes"]] == ["DEAL IN EFFECT", "RELEASES UNDER WAY"]
    assert list(data["stories"]) == ["deal", "release", "none"]
    first = data["stories"]["release"][1]
    assert first["first_source"] == "Reuters" and first["link"] == "https://reuters.example/1"
    assert first["sources"][2] == {"feed": "Al Jazeera", "minutes_after_first": 45, "link": "https://aljazeera.example/3"}
    assert data["numbers"]["releases_reported"] == 2 and data["numbers"]["stories"]["deal"] == 1
    assert data["numbers"]["relevant_items"] == 7 and data["numbers"]["sources"] == 6


def test_a_quiet_period_still_renders():
    text = render_markdown(build_digest([], Status(), [], since=SINCE, now=NOW))
    assert "- none; QUIET throughout" in text and "- no relevant reports in this period" in text
    assert "- Releases reported: 0 stories" in text and "no corroborating reports" in text


@pytest.mark.parametrize(
    "url, safe",
    [("https://a.example/x", "https://a.example/x"), ("javascript:alert(1)", ""), ("ftp://a.example/", ""),
     ("https://a.example/a b)", "https://a.example/a%20b%29"), ("", "")],
)  # fmt: skip
def test_only_http_links_survive(url, safe):
    assert safe_url(url) == safe


def test_escape_markdown_keeps_text_literal_on_one_line():
    assert escape_markdown("a *b*\n[c](javascript:x) <img> #1") == r"a \*b\* \[c\](javascript:x) \<img\> \#1"


def test_with_the_real_status_module_when_present():
    status_module = pytest.importorskip("tui.status")
    items, _, stories = fixture()
    status = status_module.compute_status(items, NOW)
    digest = build_digest(items, status, stories, since=SINCE, now=NOW)
    text = render_markdown(digest)
    assert f"**Now: {status.state.value}**" in text
    assert len(digest.changes) == sum(1 for c in status.timeline if SINCE <= c.at <= NOW)
