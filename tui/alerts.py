"""Alerts: which stories and talks-state changes deserve a person's attention, and delivery.

Rules come from ``feeds.toml`` ``[[alert]]`` (parsed in ``tui.config``):

- ``signals``: a story alerts when its signal is one of these; ``states``: a
  change of the talks state into one of these alerts. A rule with ``terms``
  but no ``signals`` matches stories of any signal that mention a term.
- ``min_sources``: the story must be confirmed by at least this many distinct
  feeds. A story alerts at most once per rule: gaining sources does not
  re-alert, but a story that was below a rule's threshold alerts when it
  crosses it (so "min_sources = 3" is a "now confirmed" alert, and may come
  after an earlier rule already alerted about the same story at 1 source).
- ``terms``: any of them must appear (whole words, any case) in a member's
  headline or summary.
- ``channels``: "bell" and "notify" (the terminal bell, a Textual
  notification: the dashboard delivers those), "desktop" (``notify-send``),
  "webhook" (HTTP POST of a JSON payload to ``webhook``).
- ``quiet_hours``: local ``(start, end)``, spanning midnight when start > end.
  An alert that falls in quiet hours is recorded in ``AlertEngine.suppressed``
  and counts as fired, but is not returned for delivery.

A talks state change alerts by default: while no user rule names ``states``,
the built-in ``DEFAULT_STATE_RULE`` applies to every state change.

Only news younger than ``max_age`` (6 h by default; the story's newest member,
the change's time) alerts, so grouping a whole stored history at start-up
does not ring for last week's stories. Which (rule, story) and (rule, change)
pairs fired is plain data (``export_state``/``import_state``) for the app to
persist across restarts.
"""

from __future__ import annotations

import asyncio
import html
import re
import shutil
import subprocess
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from typing import Any, Protocol

from tui.models import Clock, utc_now
from tui.status import TalksState

CHANNELS: tuple[str, ...] = ("bell", "notify", "desktop", "webhook")
DEFAULT_CHANNELS: tuple[str, ...] = ("bell", "notify")
# The talks states, spelled as the status shows them.
STATES: tuple[str, ...] = tuple(state.value for state in TalksState)
DEFAULT_MAX_AGE = timedelta(hours=6)
SUPPRESSED_KEPT = 200
SIGNAL_LABELS = {
    "deal": "Deal",
    "release": "Release",
    "progress": "Progress",
    "proposal": "Proposal",
    "stalled": "Stalled",
    "collapse": "Collapse",
    "none": "News",
}

_QUIET_HOURS = re.compile(r"\s*([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)\s*")
QUIET_HOURS_FORM = 'a local time span like "22:00-07:00"'


def parse_quiet_hours(text: str) -> tuple[time, time]:
    """ "22:00-07:00" -> (22:00, 07:00). ValueError on anything else, or on an empty span."""
    match = _QUIET_HOURS.fullmatch(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"bad quiet hours {text!r}: use {QUIET_HOURS_FORM}")
    start = time(int(match.group(1)), int(match.group(2)))
    end = time(int(match.group(3)), int(match.group(4)))
    if start == end:
        raise ValueError(f"bad quiet hours {text!r}: the start and end are the same time")
    return start, end


def in_quiet_hours(moment: time, quiet: tuple[time, time] | None) -> bool:
    if quiet is None:
        return False
    start, end = quiet
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end  # over midnight


@dataclass(frozen=True)
class AlertRule:
    name: str
    signals: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    min_sources: int = 1
    terms: tuple[str, ...] = ()
    channels: tuple[str, ...] = DEFAULT_CHANNELS
    webhook: str | None = None
    quiet_hours: tuple[time, time] | None = None
    line: int = 0  # where the rule is declared in feeds.toml, for messages

    @property
    def for_stories(self) -> bool:
        return bool(self.signals or (self.terms and not self.states))


DEFAULT_STATE_RULE = AlertRule(name="talks state", states=STATES, channels=DEFAULT_CHANNELS)


@dataclass(frozen=True)
class Alert:
    title: str
    body: str
    link: str
    rule: str  # the rule's name
    channels: tuple[str, ...]
    story_id: int | None  # None for a talks-state alert
    at: datetime  # when the alert was raised
    signal: str = "none"  # the story's signal; for a state alert, the signal of the item that caused it
    sources: tuple[str, ...] = ()  # feeds, first reporter first
    webhook: str | None = None
    kind: str = "story"  # "story" | "state"

    def wants(self, channel: str) -> bool:
        return channel in self.channels

    def payload(self) -> dict[str, Any]:
        """The webhook's JSON body. "text" makes Slack-compatible hooks show something useful."""
        return {
            "title": self.title,
            "body": self.body,
            "link": self.link,
            "signal": self.signal,
            "sources": list(self.sources),
            "at": self.at.isoformat(),
            "kind": self.kind,
            "rule": self.rule,
            "text": f"{self.title}\n{self.body}" + (f"\n{self.link}" if self.link else ""),
        }


class _StoryLike(Protocol):  # tui.stories.Story
    id: int
    signal: str
    confirmations: int
    members: tuple
    sources: tuple
    lead: Any
    last_at: datetime | None


class _ChangeLike(Protocol):  # tui.status.StateChange
    at: datetime
    state: Any
    previous_state: Any
    item: Any


def _state_name(state: Any) -> str:
    return str(getattr(state, "value", state))


def _term_pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    if not terms:
        return None
    alternatives = "|".join(re.escape(t.casefold()) for t in sorted(terms, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


class AlertEngine:
    """Decides which alerts to raise; delivery is someone else's job (see the module docstring)."""

    def __init__(
        self,
        rules: Iterable[AlertRule] = (),
        clock: Clock = utc_now,
        *,
        local_tz: tzinfo | None = None,  # None: the machine's local time zone
        max_age: timedelta = DEFAULT_MAX_AGE,
    ):
        rules = tuple(rules)
        self.story_rules = tuple(r for r in rules if r.for_stories)
        state_rules = tuple(r for r in rules if r.states)
        self.state_rules = state_rules or (DEFAULT_STATE_RULE,)
        self.clock = clock
        self.local_tz = local_tz
        self.max_age = max_age
        self._terms = {r.name: _term_pattern(r.terms) for r in rules}
        self._fired_stories: set[tuple[str, int]] = set()
        self._fired_changes: set[tuple[str, str, str]] = set()
        self._suppressed: deque[Alert] = deque(maxlen=SUPPRESSED_KEPT)

    # -- stories

    def on_story(self, story: _StoryLike) -> list[Alert]:
        now = self.clock()
        newest = story.last_at or max(m.published for m in story.members)
        if now - newest > self.max_age:
            return []
        alerts = []
        for rule in self.story_rules:
            key = (rule.name, story.id)
            if key in self._fired_stories or not self._story_matches(rule, story):
                continue
            self._fired_stories.add(key)
            alerts.append((rule, self._story_alert(rule, story, now)))
        return self._deliverable(alerts)

    def _story_matches(self, rule: AlertRule, story: _StoryLike) -> bool:
        if rule.signals and story.signal not in rule.signals:
            return False
        if story.confirmations < rule.min_sources:
            return False
        pattern = self._terms.get(rule.name)
        if pattern is None:
            return True
        return any(pattern.search(f"{m.title}\n{m.summary}".casefold()) for m in story.members)

    def _story_alert(self, rule: AlertRule, story: _StoryLike, now: datetime) -> Alert:
        lead = story.lead
        label = SIGNAL_LABELS.get(story.signal, story.signal.title())
        feeds = tuple(feed for feed, _ in story.sources)
        count = len(feeds)
        parts = [f"{feeds[0]} first"] + [f"{feed} +{minutes}m" for feed, minutes in story.sources[1:]]
        body = f"{count} source{'s' if count != 1 else ''}: " + ", ".join(parts)
        link = lead.link or next((m.link for m in story.members if m.link), "")
        return Alert(
            title=f"{label}: {lead.title}",
            body=body,
            link=link,
            rule=rule.name,
            channels=rule.channels,
            story_id=story.id,
            at=now,
            signal=story.signal,
            sources=feeds,
            webhook=rule.webhook,
            kind="story",
        )

    # -- talks state changes

    def on_state_change(self, change: _ChangeLike) -> list[Alert]:
        now = self.clock()
        if now - change.at > self.max_age:
            return []
        state = _state_name(change.state)
        alerts = []
        for rule in self.state_rules:
            key = (rule.name, change.at.isoformat(), state)
            if state not in rule.states or key in self._fired_changes:
                continue
            self._fired_changes.add(key)
            alerts.append((rule, self._state_alert(rule, change, state, now)))
        return self._deliverable(alerts)

    def _state_alert(self, rule: AlertRule, change: _ChangeLike, state: str, now: datetime) -> Alert:
        item = change.item
        if item is not None:
            body = f"{item.title} ({item.feed})"
            link, signal, sources = item.link, item.verdict.signal, (item.feed,)
        else:
            body, link, signal, sources = "no new report changed it: the state timed out", "", "none", ()
        return Alert(
            title=f"Talks: {_state_name(change.previous_state)} -> {state}",
            body=body,
            link=link,
            rule=rule.name,
            channels=rule.channels,
            story_id=None,
            at=now,
            signal=signal,
            sources=sources,
            webhook=rule.webhook,
            kind="state",
        )

    # -- quiet hours

    def _deliverable(self, alerts: list[tuple[AlertRule, Alert]]) -> list[Alert]:
        if not alerts:
            return []
        local = self.clock().astimezone(self.local_tz).time()
        out = []
        for rule, alert in alerts:
            if in_quiet_hours(local, rule.quiet_hours):
                self._suppressed.append(alert)
            else:
                out.append(alert)
        return out

    @property
    def suppressed(self) -> tuple[Alert, ...]:
        """Alerts held back by quiet hours, oldest first (the latest ``SUPPRESSED_KEPT``)."""
        return tuple(self._suppressed)

    # -- persistence

    def export_state(self) -> dict[str, Any]:
        return {
            "version": 1,
            "stories": sorted([rule, story_id] for rule, story_id in self._fired_stories),
            "changes": sorted([rule, at, state] for rule, at, state in self._fired_changes),
        }

    def import_state(self, data: dict[str, Any]) -> None:
        """Merge what an earlier run fired; malformed entries are skipped (the file is ours, but old)."""
        if not isinstance(data, dict) or data.get("version") != 1:
            return
        for entry in data.get("stories", ()):
            if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str) and isinstance(entry[1], int):
                self._fired_stories.add((entry[0], entry[1]))
        for entry in data.get("changes", ()):
            if isinstance(entry, list) and len(entry) == 3 and all(isinstance(x, str) for x in entry):
                self._fired_changes.add((entry[0], entry[1], entry[2]))


# --------------------------------------------------------------------------- desktop

NOTIFY_SEND = "notify-send"
DESKTOP_TIMEOUT = 5.0


def deliver_desktop(
    alert: Alert,
    *,
    timeout: float = DESKTOP_TIMEOUT,
    which: Callable[[str], str | None] = shutil.which,
) -> bool:
    """Show the alert through ``notify-send`` when it is on PATH; False when absent or failing.

    Blocking for at most ``timeout`` seconds: call it from a worker thread.
    The argv never goes through a shell; "--" keeps a headline starting with
    "-" from being read as an option; the body is escaped because notification
    servers read it as markup.
    """
    program = which(NOTIFY_SEND)
    if program is None:
        return False
    body = html.escape(alert.body + (f"\n{alert.link}" if alert.link else ""), quote=False)
    argv = [program, "--app-name=talkwatch", "--", alert.title, body]
    try:
        done = subprocess.run(argv, timeout=timeout, capture_output=True, check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


# --------------------------------------------------------------------------- webhook


def exponential_backoff(attempt: int, *, base: float = 2.0, cap: float = 300.0) -> float:
    """Seconds to wait after the ``attempt``-th failure (1-based): 2, 4, 8, ... capped."""
    return min(cap, base * 2 ** (attempt - 1))


@dataclass
class WebhookStats:
    delivered: int = 0
    failed: int = 0  # gave up
    dropped: int = 0  # the queue was full
    last_error: str | None = None
    attempts: int = 0


@dataclass(frozen=True)
class _Job:
    url: str
    payload: dict[str, Any]
    title: str = field(default="")


class WebhookSender:
    """POSTs alert payloads in the background: ``send`` never waits for the network.

    A bounded queue feeds ``workers`` tasks; each delivery is retried on
    network errors, 5xx, 408 and 429 with ``backoff(attempt)`` seconds between
    tries, and given up after ``max_tries`` (other 4xx give up at once).
    ``stats.last_error`` says why the last failure happened.
    """

    def __init__(
        self,
        *,
        max_tries: int = 5,
        max_queue: int = 100,
        workers: int = 2,
        timeout: float = 10.0,
        backoff: Callable[[int], float] = exponential_backoff,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        transport: Any = None,  # an httpx transport, for tests
        user_agent: str = "talkwatch",
    ):
        self.max_tries = max_tries
        self.timeout = timeout
        self.backoff = backoff
        self.sleep = sleep
        self.transport = transport
        self.user_agent = user_agent
        self.stats = WebhookStats()
        self._queue: asyncio.Queue[_Job] = asyncio.Queue(maxsize=max_queue)
        self._worker_count = workers
        self._workers: list[asyncio.Task] = []
        self._client: Any = None

    def send(self, alert: Alert, url: str | None = None) -> bool:
        """Queue the alert for its webhook (or ``url``); False when there is none or the queue is full.

        Must be called from the event loop's thread; it returns at once.
        """
        target = url or alert.webhook
        if not target:
            return False
        asyncio.get_running_loop()  # RuntimeError before queueing anything when called off the loop
        try:
            self._queue.put_nowait(_Job(target, alert.payload(), alert.title))
        except asyncio.QueueFull:
            self.stats.dropped += 1
            self.stats.last_error = f"queue full: dropped {alert.title!r}"
            return False
        self._ensure_workers()
        return True

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    async def drain(self) -> None:
        """Wait until every queued payload is delivered or given up."""
        await self._queue.join()

    async def aclose(self) -> None:
        for task in self._workers:
            task.cancel()
        for task in self._workers:
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._workers.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _ensure_workers(self) -> None:
        self._workers = [t for t in self._workers if not t.done()]
        while len(self._workers) < self._worker_count:
            self._workers.append(asyncio.get_running_loop().create_task(self._work()))

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                await self._deliver(job)
            except Exception as exc:  # a bug here must not kill the worker
                self.stats.failed += 1
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
            finally:
                self._queue.task_done()

    async def _deliver(self, job: _Job) -> None:
        client = self._get_client()
        for attempt in range(1, self.max_tries + 1):
            self.stats.attempts += 1
            error, retry = await self._post(client, job)
            if error is None:
                self.stats.delivered += 1
                return
            self.stats.last_error = f"{job.url}: {error} (try {attempt} of {self.max_tries})"
            if not retry or attempt == self.max_tries:
                break
            await self.sleep(self.backoff(attempt))
        self.stats.failed += 1

    async def _post(self, client: Any, job: _Job) -> tuple[str | None, bool]:
        import httpx

        try:
            response = await client.post(job.url, json=job.payload)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc or 'network error'}", True
        if 200 <= response.status_code < 300:
            return None, False
        retry = response.status_code >= 500 or response.status_code in (408, 429)
        return f"HTTP {response.status_code}", retry

    def _get_client(self) -> Any:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(
                timeout=self.timeout,
                transport=self.transport,
                headers={"User-Agent": self.user_agent},
                follow_redirects=False,
            )
        return self._client
