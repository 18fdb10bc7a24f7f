"""Poll the configured feeds politely, concurrently and on schedule.

One cycle: pick the due feeds, fetch them under a global and a per-host limit,
parse and classify changed bodies in a worker pool (both are pure Python and
would freeze the event loop), write items and feed state through one dedicated
writer thread, several feeds to a transaction, then schedule each feed's next
check.

Scheduling rules, all from the issue:
- success: the feed's interval (or the global one), floored by the feed's own
  `<ttl>` / `Cache-Control: max-age` (the floor capped at 1 h), +/-10 %;
- failure: exponential backoff from the interval with jitter, capped at 1 h;
- 410: gone, never polled again until its URL changes in feeds.toml;
- 429/503 with Retry-After: the whole host waits until then;
- permanent redirects only: poll the new URL from now on and flag the feed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import os
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from tui.fetch import FetchResult, fetch, make_client
from tui.parse_worker import Digest, DigestJob, init_worker, warm_worker
from tui.models import Clock, FeedOutcome, FeedPollResult, FeedState, PollSummary, utc_now

if TYPE_CHECKING:
    from tui.config import Config, FeedSpec, TopicSpec
    from tui.store import Store

log = logging.getLogger(__name__)

FLOOR_CAP = 3600.0  # a feed's <ttl>/max-age may slow us down, but not beyond an hour
BACKOFF_CAP = 3600.0
JITTER = 0.10  # +/- on the success interval
BACKOFF_JITTER = 0.20  # backoff delay is drawn from [1 - this, 1] x the exponential step
RETRY_AFTER_CAP = 86400.0
MIN_WAIT = 0.5  # run(): never spin faster than this between cycles


def moved_message(url: str) -> str:
    return f"moved permanently to {url}: update feeds.toml"


# --- schedule (pure) --------------------------------------------------------


def success_delay(interval: float, floor: float | None, rng: random.Random) -> float:
    """Seconds until the next check after a good poll."""
    base = max(interval, min(floor or 0.0, FLOOR_CAP))
    return base * rng.uniform(1 - JITTER, 1 + JITTER)


def backoff_delay(interval: float, failures: int, rng: random.Random) -> float:
    """Seconds until the retry after `failures` consecutive failures (>= 1).

    Doubles from the feed's interval; capped at an hour (or at the interval
    itself when that is longer: a failing feed is never polled *more* often).
    Jitter only shortens the delay, so the cap holds and failing feeds that
    failed together spread out instead of retrying in lockstep."""
    cap = max(BACKOFF_CAP, interval)
    step = min(interval * 2 ** min(max(failures, 1) - 1, 32), cap)
    return step * rng.uniform(1 - BACKOFF_JITTER, 1.0)


@functools.lru_cache(maxsize=4096)
def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _warm_network(urls=()) -> None:
    """What the first HTTP client needs, loaded in a thread: the lean client (h11),
    httpx only if a proxy makes the clients httpx ones, and the shared TLS context
    (the certificate store: ~0.15 s of CPU) only if some feed is https."""
    from tui import fetch, http1  # noqa: F401  (the import is the point)

    try:
        if fetch.proxies_in_environment():
            fetch.import_httpx()
        if any(url[:6].lower() == "https:" for url in urls):
            fetch.shared_ssl_context()
    except Exception:  # noqa: BLE001 - a bad CA bundle is each feed's error, reported when it is fetched
        log.debug("preparing the HTTP client failed", exc_info=True)


def _parse_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def make_parse_pool(kind: str) -> Executor:
    workers = _parse_workers()
    if kind == "process":
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # forkserver, not fork: we have live threads (store writer, httpx), and
        # forking those is how deadlocks happen. The server preloads the parser
        # and the classifier's code and builds the default rules once
        # (tui.worker_warmup), so each worker starts as a cheap fork of a warm process.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(
            ["tui.parse", "tui.fastparse", "feedparser", "tui.classify", "tui.parse_worker", "tui.worker_warmup"]
        )
        return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=init_worker)
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="talkwatch-parse")


def _start_parse_pool(kind: str, topic: TopicSpec | None) -> Executor:
    """Make the pool and start its workers now (they start lazily otherwise, on
    the loop), each building its classifier meanwhile."""
    try:
        pool = make_parse_pool(kind)
        if kind == "process":
            # One job per worker at once, so every worker process is started here.
            for job in [pool.submit(warm_worker, topic) for _ in range(_parse_workers())]:
                try:
                    job.result()
                except BrokenExecutor:
                    raise
                except Exception:  # noqa: BLE001 - the feeds' own jobs will report it, one by one
                    log.warning("building the classifier failed in a parse worker", exc_info=True)
        else:
            pool.submit(warm_worker, topic)  # threads share one classifier
        return pool
    except (OSError, ImportError, RuntimeError, BrokenExecutor) as exc:  # no /dev/shm, unguarded __main__...
        log.warning("cannot start parse processes (%s); parsing in threads", exc)
        pool = make_parse_pool("thread")
        pool.submit(warm_worker, topic)
        return pool


# A pool started before any Poller exists (prestart_parse_pool): (kind, topic, future pool).
_prestarted: tuple[str, object, Future] | None = None
_prestarted_lock = threading.Lock()


def prestart_parse_pool(topic: TopicSpec | None) -> None:
    """Start the parse workers now, in a thread, for the next Poller to adopt.

    For a caller that knows the coming cycle will parse everything (`talkwatch
    poll` on a database that does not exist yet): the fork server then boots
    while the store is created and the poller set up, on the core that start-up
    leaves idle, instead of after them. A Poller whose pool kind or topic does
    not match shuts it down and starts its own."""
    global _prestarted
    kind = Poller.parse_pool_kind
    future: Future = Future()

    def start() -> None:
        try:
            future.set_result(_start_parse_pool(kind, topic))
        except BaseException as exc:  # noqa: BLE001 - the adopting Poller re-raises it
            future.set_exception(exc)

    with _prestarted_lock:
        if _prestarted is not None:
            return
        _prestarted = (kind, topic, future)
    threading.Thread(target=start, name="talkwatch-parse-start", daemon=True).start()


def _adopt_prestarted(kind: str, topic: TopicSpec | None) -> Future | None:
    global _prestarted
    with _prestarted_lock:
        prestarted, _prestarted = _prestarted, None
    if prestarted is None:
        return None
    if prestarted[:2] == (kind, topic):
        return prestarted[2]
    prestarted[2].add_done_callback(_shut_down_unused)
    return None


def _shut_down_unused(started: Future) -> None:
    if started.exception() is None:
        started.result().shutdown(wait=False, cancel_futures=True)


# --- the poller -----------------------------------------------------------


class Poller:
    # "process" or "thread". Measured with bench/bench_poll.py --compare-pools on
    # 200 feeds x 50 items (2 cores), parsing and classifying in the pool: processes
    # 2.3-2.9 s a cold cycle with a worst event-loop stall of 30-55 ms, threads
    # 3.4-3.7 s and 160-190 ms (parse and classify hold the GIL the loop needs).
    # Where processes cannot start (no /dev/shm...), threads take over.
    parse_pool_kind = "process"

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        clock: Clock = utc_now,
        transport=None,
        on_result: Callable[[FeedPollResult, int, int], None] | None = None,
    ):
        self._config = config
        self._store = store
        self._clock = clock
        self._transport = transport
        self._on_result = on_result
        self.rng = random.Random()
        # One client per host: httpcore's pool scans every pooled connection for
        # every queued request, so one pool for 200 feeds costs more CPU than the
        # 304s themselves; per-host pools stay at `per_host` connections.
        self._clients: dict[str, object] = {}
        self._old_clients: list = []
        # ONE writer thread: every store call of the poller goes through it, so
        # SQLite never blocks the event loop and writes never interleave.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="talkwatch-store")
        self._network_ready = False
        self._parse_pool: Executor | None = None  # made on the first changed body
        self._parse_pool_starting: asyncio.Future | None = None
        self._cycle_lock: asyncio.Lock | None = None
        self._wake: asyncio.Event | None = None
        self._host_blocked: dict[str, datetime] = {}
        self._specs: dict[str, FeedSpec] = {spec.name: spec for spec in config.feeds}
        stored = self._writer.submit(store.feed_states).result()
        self._states: dict[str, FeedState] = {}
        for spec in config.feeds:
            self._states[spec.name] = _adopt(spec, stored.get(spec.name))
        self._restore_host_blocks()

    # --- public API -------------------------------------------------------

    @property
    def config(self) -> Config:
        return self._config

    def state(self, name: str) -> FeedState | None:
        return self._states.get(name)

    async def poll_once(self, *, force: bool = False) -> PollSummary:
        if self._cycle_lock is None:
            self._cycle_lock = asyncio.Lock()
        async with self._cycle_lock:  # a "refresh now" during a scheduled cycle waits its turn
            return await self._cycle(force)

    async def run(self, stop: asyncio.Event) -> None:
        self._wake = asyncio.Event()
        while not stop.is_set():
            await self.poll_once()
            due = self.next_due()
            delay = 3600.0 if due is None else (due - self._clock()).total_seconds()
            await self._wait(stop, max(MIN_WAIT, min(delay, 3600.0)))

    def reconfigure(self, config: Config) -> None:
        old_settings = self._config.settings
        new_specs = {spec.name: spec for spec in config.feeds}
        for name, spec in new_specs.items():
            previous = self._specs.get(name)
            state = self._states.get(name)
            if previous is not None and state is not None and previous.url != spec.url:
                state = _url_changed(spec, state)
            self._states[name] = _adopt(spec, state)
        for name in set(self._states) - set(new_specs):
            del self._states[name]
        self._specs = new_specs
        self._config = config  # the topic travels with each store job: a new topic, a new classifier
        settings = config.settings
        if (settings.user_agent, settings.timeout) != (old_settings.user_agent, old_settings.timeout):
            self._old_clients.extend(self._clients.values())
            self._clients = {}
        if self._wake is not None:
            self._wake.set()

    def next_due(self) -> datetime | None:
        now = self._clock()
        times = []
        for spec in self._specs.values():
            state = self._states[spec.name]
            if not spec.enabled or state.gone:
                continue
            when = state.next_check_at or now
            blocked = self._host_blocked.get(host_of(state.url))
            if blocked is not None and blocked > when:
                when = blocked
            times.append(when)
        return min(times, default=None)

    async def aclose(self) -> None:
        for client in (*self._old_clients, *self._clients.values()):
            await client.aclose()
        self._old_clients.clear()
        self._clients.clear()
        if self._parse_pool is None and self._parse_pool_starting is not None:
            self._parse_pool = await self._parse_pool_starting
        if self._parse_pool is not None:
            self._parse_pool.shutdown(wait=False, cancel_futures=True)
            self._parse_pool = None
        # Let queued writes land before the writer goes away.
        await asyncio.get_running_loop().run_in_executor(None, self._writer.shutdown)

    # --- one cycle --------------------------------------------------------

    async def _cycle(self, force: bool) -> PollSummary:
        started_at = self._clock()
        t0 = time.perf_counter()
        for client in self._old_clients:
            await client.aclose()
        self._old_clients.clear()
        # Snapshot (spec, state) now: a reconfigure during the cycle must not pull
        # a state out from under a fetch in flight.
        due = [(spec, self._states[spec.name]) for spec in self._specs.values() if self._is_due(spec, started_at, force)]
        if any(state.body_hash is None for _, state in due):
            # A feed never parsed will send a body: start the workers (and their
            # classifiers) now, while the first fetches are in flight. Cycles of
            # known feeds, mostly 304s, start them only when a body arrives.
            self._begin_parse_pool()
        if due and not self._network_ready:
            # The first clients' imports, and the CA bundle when a feed is https:
            # up to ~0.2 s of CPU that would otherwise stall the event loop (and a
            # dashboard on it).
            await asyncio.to_thread(_warm_network, [state.url for _, state in due])
            self._network_ready = True
        settings = self._config.settings
        limit = asyncio.Semaphore(max(1, settings.concurrency))
        per_host: dict[str, asyncio.Semaphore] = {}
        results: dict[str, FeedPollResult] = {}
        total = len(due)
        saver = _StateSaver(self._store, self._write)
        items_writer = _ItemsWriter(self._store, self._write, feeds=total)

        async def one(spec: FeedSpec, state: FeedState) -> None:
            host = host_of(state.url)
            host_limit = per_host.setdefault(host, asyncio.Semaphore(max(1, settings.per_host)))
            try:
                # Host first, then a global slot: a task queued behind a busy host
                # must not sit on a slot another host could use.
                async with host_limit, limit:
                    fetched = await self._fetch(spec, state, host)
                result, new_state = await self._settle(spec, state, fetched, items_writer)
            except Exception as exc:  # a bug or a store failure hits this feed only
                result, new_state = self._internal_error(spec, state, exc)
            finally:
                items_writer.feed_done()
            if new_state is not state and self._specs.get(spec.name) is spec:
                self._states[spec.name] = new_state
                saver.add(new_state)
            results[spec.name] = result
            if self._on_result is not None:
                try:
                    self._on_result(result, len(results), total)
                except Exception:  # the CLI/dashboard hook must not stop the cycle
                    log.exception("on_result hook failed")

        try:
            await asyncio.gather(*(one(spec, state) for spec, state in due))
        finally:
            await saver.drain()
        return PollSummary(
            results=tuple(results[spec.name] for spec, _ in due if spec.name in results),
            started_at=started_at,
            elapsed_ms=(time.perf_counter() - t0) * 1000.0,
        )

    def _is_due(self, spec: FeedSpec, now: datetime, force: bool) -> bool:
        state = self._states[spec.name]
        if not spec.enabled or state.gone:
            return False
        if force:
            return True  # host Retry-After windows are still honoured, in _fetch
        if state.next_check_at is not None and state.next_check_at > now:
            return False
        blocked = self._host_blocked.get(host_of(state.url))
        return blocked is None or blocked <= now

    async def _fetch(self, spec: FeedSpec, state: FeedState, host: str) -> FetchResult | datetime:
        now = self._clock()
        blocked = self._host_blocked.get(host)
        if blocked is not None and blocked > now:
            return blocked  # another feed on this host was told to wait, maybe seconds ago
        settings = self._config.settings
        return await fetch(
            self._client_for(host),
            state.url,
            etag=state.etag,
            last_modified=state.last_modified,
            deadline=settings.timeout,
            max_bytes=settings.max_bytes,
            now=now,
        )

    def _client_for(self, host: str):
        client = self._clients.get(host)
        if client is None:
            client = self._clients[host] = make_client(self._config.settings, transport=self._transport)
        return client

    async def _settle(
        self, spec: FeedSpec, state: FeedState, fetched: FetchResult | datetime, items_writer: _ItemsWriter
    ) -> tuple[FeedPollResult, FeedState]:
        if isinstance(fetched, datetime):
            error = f"waiting: the host asked us to retry after {_hhmm(fetched)}"
            return (
                FeedPollResult(feed=spec.name, outcome=FeedOutcome.BACKOFF, error=error),
                state,
            )
        now = self._clock()
        common = dict(last_status=fetched.status, last_fetch_at=now, latency_ms=round(fetched.elapsed_ms, 1))
        if fetched.error is not None:
            return self._failed(spec, state, fetched, now, common)

        if fetched.moved_to:
            state = dataclasses.replace(state, url=fetched.moved_to, moved_to=fetched.moved_to)
        floor = state.min_interval if fetched.max_age is None else _cap_floor(fetched.max_age)
        new = updated = 0
        warning = state.warning
        body_hash = state.body_hash
        if fetched.status == 304:
            outcome = FeedOutcome.NOT_MODIFIED
        else:
            digest = await self._digest(spec, state, fetched, now)
            if digest.error is not None:
                return self._failed(spec, state, fetched, now, common, error=f"not a usable feed: {digest.error}")
            body_hash = digest.body_hash
            if digest.unchanged:
                outcome = FeedOutcome.NOT_MODIFIED
            else:
                outcome = FeedOutcome.OK
                warning = digest.warning
                floor = _cap_floor(max(digest.ttl_seconds or 0.0, fetched.max_age or 0.0)) or None
                if digest.rows:
                    new, updated = await items_writer.store(spec.name, digest.rows)
        error = None
        if state.moved_to:  # sticky until feeds.toml names the new URL
            outcome, error = FeedOutcome.MOVED, moved_message(state.moved_to)
        interval = spec.interval or self._config.settings.interval
        new_state = dataclasses.replace(
            state,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            body_hash=body_hash,
            outcome=outcome,
            last_error=error,
            warning=warning,
            failures=0,
            min_interval=floor,
            next_check_at=now + timedelta(seconds=success_delay(interval, floor, self.rng)),
            **common,
        )
        result = FeedPollResult(
            feed=spec.name,
            outcome=outcome,
            status=fetched.status,
            new_items=new,
            updated_items=updated,
            error=error,
            elapsed_ms=fetched.elapsed_ms,
        )
        return result, new_state

    def _failed(self, spec, state, fetched: FetchResult, now, common, *, error=None):
        error = error or fetched.error
        interval = spec.interval or self._config.settings.interval
        failures = state.failures + 1
        if fetched.status == 410:
            new_state = dataclasses.replace(
                state, outcome=FeedOutcome.GONE, gone=True, last_error=f"{error}: polling stopped",
                failures=failures, next_check_at=None, **common,
            )
            return self._result(spec, new_state, fetched), new_state
        next_check = now + timedelta(seconds=backoff_delay(interval, failures, self.rng))
        if fetched.retry_after is not None and fetched.retry_after > now:
            # Honoured, within reason: a misconfigured server must not silence a feed for a year.
            until = min(fetched.retry_after, now + timedelta(seconds=RETRY_AFTER_CAP))
            host = host_of(state.url)
            self._host_blocked[host] = max(until, self._host_blocked.get(host, until))
            next_check = until
            error = f"{error}: the host asked us to retry after {_hhmm(until)}"
        new_state = dataclasses.replace(
            state, outcome=FeedOutcome.ERROR, last_error=error, failures=failures,
            next_check_at=next_check, **common,
        )
        return self._result(spec, new_state, fetched), new_state

    def _result(self, spec, state: FeedState, fetched: FetchResult) -> FeedPollResult:
        return FeedPollResult(
            feed=spec.name, outcome=state.outcome, status=fetched.status,
            error=state.last_error, elapsed_ms=fetched.elapsed_ms,
        )

    def _internal_error(self, spec, state: FeedState, exc: Exception):
        import sqlite3

        from tui.store import StoreError

        now = self._clock()
        if isinstance(exc, StoreError | sqlite3.Error):
            error = f"could not store the items: {exc}"[:300]  # disk full, database locked...
        else:
            log.error("polling %s failed", spec.name, exc_info=exc)  # a bug: keep the traceback
            error = f"internal error: {type(exc).__name__}: {exc}"[:300]
        interval = spec.interval or self._config.settings.interval
        failures = state.failures + 1
        new_state = dataclasses.replace(
            state, outcome=FeedOutcome.ERROR, last_error=error, failures=failures, last_fetch_at=now,
            next_check_at=now + timedelta(seconds=backoff_delay(interval, failures, self.rng)),
        )
        return FeedPollResult(feed=spec.name, outcome=FeedOutcome.ERROR, error=error), new_state

    async def _digest(self, spec: FeedSpec, state: FeedState, fetched: FetchResult, now: datetime) -> Digest:
        job = DigestJob(
            body=fetched.body or b"",
            old_hash=state.body_hash,
            feed=spec.name,
            url=fetched.final_url,
            content_type=fetched.content_type,
            now=now,
            topic=self._config.topic,
        )
        loop = asyncio.get_running_loop()
        pool = await self._get_parse_pool()
        try:
            return await loop.run_in_executor(pool, job)
        except BrokenExecutor:
            # A worker died (OOM killer, a crash in a C extension): carry on in threads.
            log.warning("parse worker pool broke; parsing in threads from now on")
            self._parse_pool = make_parse_pool("thread")
            return await loop.run_in_executor(self._parse_pool, job)

    def _begin_parse_pool(self) -> None:
        """Start the workers in the background, unless they are started or starting."""
        if self._parse_pool is None and self._parse_pool_starting is None:
            prestarted = _adopt_prestarted(self.parse_pool_kind, self._config.topic)
            if prestarted is not None:
                self._parse_pool_starting = asyncio.wrap_future(prestarted)
                return
            # Starting worker processes blocks for a while: do it off the loop,
            # once, however many feeds are waiting for it.
            self._parse_pool_starting = asyncio.ensure_future(
                asyncio.to_thread(_start_parse_pool, self.parse_pool_kind, self._config.topic)
            )

    async def _get_parse_pool(self) -> Executor:
        if self._parse_pool is None:
            self._begin_parse_pool()
            pool = await asyncio.shield(self._parse_pool_starting)
            if self._parse_pool is None:
                self._parse_pool = pool
        return self._parse_pool

    async def _write(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._writer, fn, *args)

    async def _wait(self, stop: asyncio.Event, seconds: float) -> None:
        """Sleep until the next feed is due, waking early on stop or reconfigure."""
        assert self._wake is not None
        self._wake.clear()
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _restore_host_blocks(self) -> None:
        """A 429/503 feed's next check is its Retry-After time: the host waits after a restart too."""
        for state in self._states.values():
            if state.last_status in (429, 503) and state.failures and state.next_check_at is not None:
                host = host_of(state.url)
                current = self._host_blocked.get(host)
                if current is None or state.next_check_at > current:
                    self._host_blocked[host] = state.next_check_at


class _StateSaver:
    """Feed states go to the writer thread in batches: what has accumulated is
    written a second after the first unsaved state, and `drain` writes the rest.

    Writing while the cycle runs costs more than the rows: the writer thread and
    the event loop hand the GIL back and forth at every SQLite step (a 16-row
    save took 25-60 ms of a 300 ms warm cycle). A cycle that ends within the
    second saves all its states in one transaction after the loop has gone
    quiet; a long one (a feed waiting for its timeout) still saves as it goes."""

    FLUSH_AFTER = 1.0  # seconds

    def __init__(self, store, write):
        self._store = store
        self._write = write
        self._pending: list[FeedState] = []
        self._task: asyncio.Task | None = None
        self._now = asyncio.Event()

    def add(self, state: FeedState) -> None:
        self._pending.append(state)
        if self._task is not None and self._task.done():
            if self._task.cancelled() or self._task.exception() is not None:
                return  # the store is failing: drain() raises it
            self._task = None
        if self._task is None:
            self._task = asyncio.ensure_future(self._flush_soon())

    async def _flush_soon(self) -> None:
        try:
            await asyncio.wait_for(self._now.wait(), self.FLUSH_AFTER)
        except TimeoutError:
            pass
        await self._flush()

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            await self._write(_save_states, self._store, batch)

    async def drain(self) -> None:
        self._now.set()
        try:
            if self._task is not None:
                await self._task  # re-raises a store failure
        finally:
            self._task = None
        if self._pending:
            await self._flush()


class _ItemsWriter:
    """Feeds' items go to the writer thread together, several feeds to a
    transaction (one commit, one FTS5 flush), and each feed still gets its own
    counts or its own error.

    A write starts once BATCH feeds are waiting, or once no more feeds are
    still to come (fetched, parsed) than are waiting, or FLUSH_AFTER seconds
    after the first one queued (a feed waiting for its timeout must not hold
    the others back). The second rule shrinks the writes as the cycle ends:
    the last one is all wait, nothing runs beside it, and a writer that sat
    idle holding 24 feeds for the 25th made it 0.1 s long. Why not write whatever has queued at once: a cold
    cycle then wrote 200 feeds in 40-70 small transactions, and FTS5 merges its
    small segments as they pile up: 0.65 s of CPU for bench/feedfarm.py's
    10,000 items against 0.5 s in transactions of 20 feeds or more."""

    BATCH = 25  # feeds
    FLUSH_AFTER = 0.5  # seconds

    def __init__(self, store, write, *, feeds: int):
        self._store = store
        self._write = write
        self._running = feeds  # feed tasks of the cycle not finished yet
        self._in_flight = 0  # feeds in the write under way
        self._pending: list[tuple[str, tuple, asyncio.Future]] = []
        self._task: asyncio.Task | None = None
        self._ready = asyncio.Event()

    async def store(self, feed: str, rows: tuple) -> tuple[int, int]:
        done = asyncio.get_running_loop().create_future()
        self._pending.append((feed, rows, done))
        self._check_ready()
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._flush())
        return await done

    def feed_done(self) -> None:
        """A feed task of the cycle has finished (its items written, or none to write)."""
        self._running -= 1
        self._check_ready()

    def _check_ready(self) -> None:
        waiting = len(self._pending)
        still_to_come = self._running - waiting - self._in_flight
        if waiting and (waiting >= self.BATCH or still_to_come <= waiting):
            self._ready.set()

    async def _flush(self) -> None:
        while self._pending:
            try:
                await asyncio.wait_for(self._ready.wait(), self.FLUSH_AFTER)
            except TimeoutError:
                pass
            self._ready.clear()
            batch, self._pending = self._pending, []
            self._in_flight = len(batch)
            try:
                outcomes = await self._write(_store_batches, self._store, [(feed, rows) for feed, rows, _ in batch])
            except BaseException as exc:  # cancelled, or the writer is gone
                for _, _, done in (*batch, *self._pending):
                    if done.done():
                        continue
                    if isinstance(exc, Exception):
                        done.set_exception(exc)
                    else:
                        done.cancel()
                self._pending = []
                raise
            finally:
                self._in_flight = 0
            for (_, _, done), outcome in zip(batch, outcomes):
                if done.done():  # its feed's task was cancelled meanwhile
                    continue
                if isinstance(outcome, BaseException):
                    done.set_exception(outcome)
                else:
                    done.set_result(outcome)
            self._check_ready()


def _store_batches(store, batches: list[tuple[str, tuple]]) -> list[tuple[int, int] | Exception]:
    """Runs in the writer thread: every feed's item rows (made by the parse
    workers) in one transaction; if that fails (disk full, say), feed by feed,
    so only the feeds that do not fit get the error."""
    if len(batches) > 1:
        try:
            return store.upsert_rows(batches)
        except Exception:  # noqa: BLE001 - retried below, where each feed gets its own error
            log.debug("storing %d feeds at once failed; storing them one by one", len(batches), exc_info=True)
    outcomes: list[tuple[int, int] | Exception] = []
    for feed, rows in batches:
        try:
            outcomes.append(store.upsert_rows([(feed, rows)])[0])
        except Exception as exc:  # noqa: BLE001 - this feed's error, reported on its row
            outcomes.append(exc)
    return outcomes


def _save_states(store, states: list[FeedState]) -> None:
    save_many = getattr(store, "save_feed_states", None)
    if save_many is not None:
        save_many(states)
        return
    for state in states:
        store.save_feed_state(state)


def _adopt(spec: FeedSpec, state: FeedState | None) -> FeedState:
    """The state to poll `spec` with, given what the store remembers."""
    if state is None:
        return FeedState(name=spec.name, url=spec.url)
    if state.moved_to:
        if spec.url == state.moved_to:  # feeds.toml was updated: the flag has done its job
            return dataclasses.replace(state, url=spec.url, moved_to=None, last_error=None)
        return state  # keep polling the new home; feeds.toml still names the old one
    if state.url != spec.url:
        return _url_changed(spec, state)
    return state


def _url_changed(spec: FeedSpec, state: FeedState) -> FeedState:
    """feeds.toml names a different URL: nothing learnt about the old one applies."""
    if state.moved_to and spec.url == state.moved_to:
        return dataclasses.replace(state, url=spec.url, moved_to=None, last_error=None)
    return FeedState(name=spec.name, url=spec.url)


def _cap_floor(seconds: float | None) -> float | None:
    if not seconds or seconds <= 0:
        return None
    return min(float(seconds), FLOOR_CAP)


def _hhmm(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")
