"""Alert rules, quiet hours, persistence, and delivery: notify-send faked on PATH, webhooks on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import threading
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tui.alerts import (
    DEFAULT_STATE_RULE,
    STATES,
    Alert,
    AlertEngine,
    AlertRule,
    WebhookSender,
    deliver_desktop,
    exponential_backoff,
    in_quiet_hours,
)
from tui.models import StoredItem, Verdict
from tui.stories import Story, build_story

NOW = datetime(2025, 1, 19, 15, 0, tzinfo=timezone.utc)
FEEDS = ("Reuters", "AP", "BBC", "Al Jazeera")


def item(item_id: int, title: str, *, feed: str = "Reuters", minutes: int = 0, signal: str = "release",
         summary: str = "") -> StoredItem:  # fmt: skip
    at = NOW - timedelta(hours=1) + timedelta(minutes=minutes)
    return StoredItem(
        id=item_id, feed=feed, key=f"k{item_id}", title=title, summary=summary,
        link=f"https://news.example/{item_id}", author="", published=at, first_seen=at, read=False,
        starred=False, verdict=Verdict(relevant=True, score=1.0, signal=signal),
    )  # fmt: skip


def story(sources: int, *, signal: str = "release", title: str = "Hamas frees three hostages", summary: str = "",
          story_id: int = 1) -> Story:  # fmt: skip
    members = [
        item(story_id + n, title, feed=FEEDS[n], minutes=10 * n, signal=signal, summary=summary) for n in range(sources)
    ]
    return build_story(story_id, members)


@dataclass(frozen=True)
class FakeChange:  # the shape of tui.status.StateChange
    at: datetime
    state: str
    previous_state: str
    item: StoredItem | None


def engine(*rules: AlertRule, now: datetime = NOW, local_tz: timezone = timezone.utc, **kwargs: Any) -> AlertEngine:
    return AlertEngine(rules, clock=lambda: now, local_tz=local_tz, **kwargs)


# ------------------------------------------------------------------ rule matching


def test_signal_rule_alerts_once_with_the_story_details():
    eng = engine(AlertRule("releases", signals=("release",), channels=("bell", "desktop")))
    [alert] = eng.on_story(story(2))
    assert alert.title == "Release: Hamas frees three hostages"
    assert alert.body == "2 sources: Reuters first, AP +10m"
    assert alert.link == "https://news.example/1" and alert.story_id == 1 and alert.at == NOW
    assert alert.channels == ("bell", "desktop") and alert.wants("desktop") and not alert.wants("webhook")
    assert eng.on_story(story(2)) == []
    assert engine(AlertRule("deals", signals=("deal",))).on_story(story(2)) == []


def test_a_story_gaining_sources_does_not_re_alert():
    eng = engine(AlertRule("releases", signals=("release",)))
    assert len(eng.on_story(story(1))) == 1
    assert eng.on_story(story(2)) == [] and eng.on_story(story(3)) == []


def test_crossing_a_rule_threshold_alerts_then():
    eng = engine(AlertRule("any", signals=("release",)), AlertRule("confirmed", signals=("release",), min_sources=3))
    assert [a.rule for a in eng.on_story(story(1))] == ["any"]
    assert eng.on_story(story(2)) == []
    assert [a.rule for a in eng.on_story(story(3))] == ["confirmed"]
    assert eng.on_story(story(4)) == []


def test_terms_match_whole_words_in_any_member():
    rule = AlertRule("witkoff", terms=("Witkoff",))
    assert rule.for_stories
    hit = story(1, signal="proposal", title="US envoy presents plan", summary="Steve Witkoff's bridging plan")
    miss = story(1, signal="proposal", title="Witkoffian ideas", story_id=50)
    eng = engine(rule)
    assert len(eng.on_story(hit)) == 1 and eng.on_story(miss) == []
    both = engine(AlertRule("r", signals=("proposal",), terms=("Doha",)))
    assert both.on_story(story(1, signal="proposal", title="Plan presented in Doha")) != []
    assert both.on_story(story(1, signal="proposal", title="Plan presented in Cairo", story_id=9)) == []


def test_old_news_does_not_alert():
    eng = engine(AlertRule("releases", signals=("release",)), now=NOW + timedelta(hours=12))
    assert eng.on_story(story(3)) == []


# ------------------------------------------------------------------ talks state


def test_a_state_change_alerts_by_default_without_rules():
    cause = item(7, "Talks stall over Philadelphi corridor", signal="stalled", feed="AP")
    change = FakeChange(NOW - timedelta(minutes=5), "STALLED", "ACTIVE TALKS", cause)
    eng = engine()
    [alert] = eng.on_state_change(change)
    assert alert.title == "Talks: ACTIVE TALKS -> STALLED" and alert.kind == "state"
    assert alert.body == "Talks stall over Philadelphi corridor (AP)" and alert.link == "https://news.example/7"
    assert alert.rule == DEFAULT_STATE_RULE.name and alert.story_id is None
    assert eng.on_state_change(change) == []  # the same change, seen again on the next poll


def test_state_rules_replace_the_default():
    eng = engine(AlertRule("collapse only", states=("COLLAPSED",), channels=("webhook",), webhook="https://h.example/"))
    stalled = FakeChange(NOW, "STALLED", "ACTIVE TALKS", None)
    collapsed = FakeChange(NOW, "COLLAPSED", "STALLED", None)
    assert eng.on_state_change(stalled) == []
    [alert] = eng.on_state_change(collapsed)
    assert alert.channels == ("webhook",) and alert.webhook == "https://h.example/"
    assert "timed out" in alert.body


def test_state_names_are_the_status_module_states():
    status = pytest.importorskip("tui.status")
    assert set(STATES) == {s.value for s in status.TalksState}


# ------------------------------------------------------------------ quiet hours


@pytest.mark.parametrize(
    "at, quiet, expected",
    [
        (time(23, 30), (time(22), time(7)), True),
        (time(0, 0), (time(22), time(7)), True),
        (time(6, 59), (time(22), time(7)), True),
        (time(7, 0), (time(22), time(7)), False),
        (time(21, 59), (time(22), time(7)), False),
        (time(12, 30), (time(12), time(13)), True),
        (time(13, 0), (time(12), time(13)), False),
        (time(3, 0), None, False),
    ],
)
def test_quiet_hours_including_over_midnight(at, quiet, expected):
    assert in_quiet_hours(at, quiet) is expected


def test_quiet_hours_suppress_but_record_and_count_as_fired():
    rule = AlertRule("night", signals=("release",), quiet_hours=(time(22), time(7)))
    # NOW is 15:00 UTC: 23:30 where the clock is UTC+8:30, 08:30 at UTC-6:30.
    night = engine(rule, local_tz=timezone(timedelta(hours=8, minutes=30)))
    assert night.on_story(story(1)) == []
    assert [a.story_id for a in night.suppressed] == [1]
    assert night.on_story(story(2)) == []  # not raised again when the night ends
    morning = engine(rule, local_tz=timezone(timedelta(hours=-6, minutes=-30)))
    assert len(morning.on_story(story(1))) == 1 and morning.suppressed == ()


# ------------------------------------------------------------------ persistence


def test_fired_state_round_trips_through_json():
    rules = (AlertRule("releases", signals=("release",)),)
    first = engine(*rules)
    first.on_story(story(1))
    first.on_state_change(FakeChange(NOW, "STALLED", "ACTIVE TALKS", None))
    saved = json.loads(json.dumps(first.export_state()))
    second = engine(*rules)
    second.import_state(saved)
    assert second.on_story(story(3)) == []
    assert second.on_state_change(FakeChange(NOW, "STALLED", "ACTIVE TALKS", None)) == []
    assert second.export_state() == saved
    third = engine(*rules)
    third.import_state({"version": 1, "stories": [["releases", "not an id"], 5], "changes": "x"})
    assert len(third.on_story(story(1))) == 1


# ------------------------------------------------------------------ desktop


def fake_notify_send(tmp_path, monkeypatch, exit_code: int = 0):
    record = tmp_path / "argv"
    script = tmp_path / "bin" / "notify-send"
    script.parent.mkdir()
    # Each argument NUL-terminated, so newlines inside an argument survive.
    script.write_text(f"#!/bin/sh\nprintf '%s\\0' \"$@\" > '{record}'\nexit {exit_code}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")
    return record


def args(record) -> list[str]:
    return record.read_text().split("\0")[:-1]


def test_desktop_alert_runs_notify_send_with_an_argv(tmp_path, monkeypatch):
    record = fake_notify_send(tmp_path, monkeypatch)
    alert = Alert("-Release: Hamas frees <b>3</b> hostages; rm -rf ~", "2 sources: Reuters first, AP +10m",
                  "https://news.example/1", "r", ("desktop",), 1, NOW)  # fmt: skip
    assert deliver_desktop(alert) is True
    assert args(record) == [
        "--app-name=talkwatch",
        "--",
        "-Release: Hamas frees <b>3</b> hostages; rm -rf ~",
        "2 sources: Reuters first, AP +10m\nhttps://news.example/1",
    ]
    markup = Alert("t", "a <b>bold</b> & claim", "", "r", ("desktop",), 1, NOW)
    assert deliver_desktop(markup) is True
    assert args(record)[-1] == "a &lt;b&gt;bold&lt;/b&gt; &amp; claim"


def test_desktop_alert_reports_a_failing_or_missing_notify_send(tmp_path, monkeypatch):
    fake_notify_send(tmp_path, monkeypatch, exit_code=1)
    alert = Alert("t", "b", "", "r", ("desktop",), 1, NOW)
    assert deliver_desktop(alert) is False
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert deliver_desktop(alert) is False


# ------------------------------------------------------------------ webhook on loopback


class Hook:
    """A loopback HTTP server answering POSTs with the given status codes in turn (the last repeats)."""

    def __init__(self, statuses: list[int], *, hold: threading.Event | None = None):
        self.statuses = statuses
        self.bodies: list[dict] = []
        self.received = threading.Event()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                hook.bodies.append(json.loads(self.rfile.read(length)))
                hook.received.set()
                if hold is not None:
                    hold.wait(10)
                status = hook.statuses[min(len(hook.bodies), len(hook.statuses)) - 1]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        # A short poll interval keeps shutdown() quick.
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def story_alert(url: str) -> Alert:
    [alert] = engine(AlertRule("r", signals=("release",), channels=("webhook",), webhook=url)).on_story(story(2))
    return alert


def recording_sleep(delays: list[float]):
    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    return sleep


async def test_webhook_retries_with_backoff_then_delivers():
    delays: list[float] = []
    with Hook([500, 500, 200]) as hook:
        sender = WebhookSender(sleep=recording_sleep(delays))
        alert = story_alert(hook.url)
        assert sender.send(alert) is True
        await sender.drain()
        await sender.aclose()
    assert len(hook.bodies) == 3 and delays == [exponential_backoff(1), exponential_backoff(2)] == [2.0, 4.0]
    assert sender.stats.delivered == 1 and sender.stats.failed == 0
    body = hook.bodies[-1]
    assert {k: body[k] for k in ("title", "body", "link", "signal", "sources", "at")} == {
        "title": "Release: Hamas frees three hostages",
        "body": "2 sources: Reuters first, AP +10m",
        "link": "https://news.example/1",
        "signal": "release",
        "sources": ["Reuters", "AP"],
        "at": NOW.isoformat(),
    }


async def test_webhook_gives_up_after_max_tries_and_records_the_error():
    delays: list[float] = []
    with Hook([500]) as hook:
        sender = WebhookSender(max_tries=3, sleep=recording_sleep(delays))
        sender.send(story_alert(hook.url))
        await sender.drain()
        await sender.aclose()
    assert len(hook.bodies) == 3 and len(delays) == 2
    assert sender.stats.failed == 1 and sender.stats.delivered == 0
    assert "HTTP 500" in sender.stats.last_error and "try 3 of 3" in sender.stats.last_error


async def test_webhook_client_errors_are_not_retried():
    with Hook([404]) as hook:
        sender = WebhookSender(sleep=recording_sleep([]))
        sender.send(story_alert(hook.url))
        await sender.drain()
        await sender.aclose()
    assert len(hook.bodies) == 1 and sender.stats.failed == 1 and "HTTP 404" in sender.stats.last_error


async def test_webhook_send_never_blocks_the_caller():
    hold = threading.Event()
    with Hook([200], hold=hold) as hook:
        sender = WebhookSender(sleep=recording_sleep([]))
        assert sender.send(story_alert(hook.url)) is True  # returns before any network I/O
        # The loop stays free while the server sits on the request: this coroutine runs meanwhile.
        assert await asyncio.to_thread(hook.received.wait, 10)
        assert sender.stats.delivered == 0
        hold.set()
        await sender.drain()
        await sender.aclose()
    assert sender.stats.delivered == 1


async def test_webhook_queue_is_bounded_and_refuses_alerts_without_a_url():
    sender = WebhookSender(max_queue=1, sleep=recording_sleep([]))
    alert = story_alert("http://127.0.0.1:9/never")
    assert sender.send(alert) is True
    assert sender.send(alert) is False and sender.stats.dropped == 1
    assert sender.send(Alert("t", "b", "", "r", ("webhook",), 1, NOW)) is False
    await sender.aclose()


async def test_webhook_unreachable_host_is_retried_then_given_up():
    with Hook([200]) as hook:
        dead_url = hook.url  # the port is free again once the server is closed
    sender = WebhookSender(max_tries=2, sleep=recording_sleep([]))
    sender.send(story_alert(dead_url))
    await sender.drain()
    await sender.aclose()
    assert sender.stats.failed == 1 and sender.stats.attempts == 2 and "ConnectError" in sender.stats.last_error
