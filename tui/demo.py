"""Offline demo feeds: fictional outlets served over loopback HTTP.

The timeline lives in ``tui/data/demo/timeline.toml``. When the server starts,
items with a negative offset are already published (start time + offset), so
the status of the talks is current; the "live" tail is released one item at a
time, every ``release_every`` seconds, so a dashboard has news arriving.

Releases are computed lazily from the clock when a request comes in, not by a
timer thread: a feed only changes when somebody looks, which is all a client can
observe anyway, and a test that passes a fake clock (or ``release_every=None``
plus ``release_next``) controls time exactly.

No Textual here: the server runs in a daemon thread, so it works from the sync
CLI and from inside a running Textual app alike.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import signal
import threading
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import TextIO
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from tui.models import SIGNALS, Clock, utc_now

ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
}
# What an item may be written to show: a signal, or one of the two kinds of noise.
EXPECTATIONS = frozenset(SIGNALS) | {"decoy", "offtopic"}

_OFFSET_RE = re.compile(r"^-(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_OUTLET_KEYS = {"name", "slug", "format", "site", "description"}
_ITEM_KEYS = {"outlet", "at", "live", "title", "summary", "story", "link", "expect"}


class DemoDataError(ValueError):
    """The packaged timeline is malformed (a bug in the data, reported all at once)."""


@dataclass(frozen=True, slots=True)
class DemoOutlet:
    name: str
    slug: str  # URL path segment
    format: str  # "rss" or "atom"
    site: str  # https://... home page, for links and ids
    description: str

    @property
    def path(self) -> str:
        return f"/{self.slug}/{self.format}.xml"

    @property
    def host(self) -> str:
        return urlsplit(self.site).hostname or self.slug


@dataclass(frozen=True, slots=True)
class DemoItem:
    outlet: str
    title: str
    summary: str  # an HTML fragment, as publishers send it
    offset: timedelta | None  # already published at start + offset
    live: int | None  # released in this order while the server runs
    story: str = ""  # shared by reports of the same development
    link: str = ""  # override; normally generated from the outlet's site
    expect: str = ""

    @property
    def digest(self) -> str:
        return hashlib.sha1(f"{self.outlet}\n{self.title}".encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class DemoTimeline:
    outlets: tuple[DemoOutlet, ...]
    backlog: tuple[DemoItem, ...]  # oldest first
    live: tuple[DemoItem, ...]  # in release order

    @property
    def items(self) -> tuple[DemoItem, ...]:
        return self.backlog + self.live

    def outlet(self, name: str) -> DemoOutlet:
        return next(o for o in self.outlets if o.name == name)


def parse_offset(text: str) -> timedelta:
    """"-9d4h" / "-35m" -> a negative timedelta; ValueError otherwise."""
    match = _OFFSET_RE.match(text.strip()) if isinstance(text, str) else None
    if not match or not any(match.groups()):
        raise ValueError(f"bad offset {text!r}: expected e.g. '-9d4h' or '-35m'")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return -timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def timeline_text() -> str:
    return resources.files("tui").joinpath("data", "demo", "timeline.toml").read_text("utf-8")


def load_timeline(text: str | None = None) -> DemoTimeline:
    data = tomllib.loads(timeline_text() if text is None else text)
    problems: list[str] = []
    outlets: list[DemoOutlet] = []
    for n, raw in enumerate(data.get("outlet", []), 1):
        unknown = set(raw) - _OUTLET_KEYS
        missing = _OUTLET_KEYS - set(raw)
        if unknown or missing:
            problems.append(f"outlet {n}: unknown keys {sorted(unknown)}, missing {sorted(missing)}")
            continue
        if raw["format"] not in CONTENT_TYPES:
            problems.append(f"outlet {raw['name']!r}: format must be rss or atom")
        if not re.fullmatch(r"[a-z0-9-]+", raw["slug"]):
            problems.append(f"outlet {raw['name']!r}: slug must be [a-z0-9-]+")
        outlets.append(DemoOutlet(**raw))
    names = [o.name for o in outlets]
    if len(set(names)) != len(names) or len({o.slug for o in outlets}) != len(outlets):
        problems.append("outlet names and slugs must be unique")

    backlog: list[DemoItem] = []
    live: list[DemoItem] = []
    for n, raw in enumerate(data.get("item", []), 1):
        where = f"item {n} ({raw.get('title', '?')!r})"
        unknown = set(raw) - _ITEM_KEYS
        if unknown:
            problems.append(f"{where}: unknown keys {sorted(unknown)}")
        if raw.get("outlet") not in names:
            problems.append(f"{where}: unknown outlet {raw.get('outlet')!r}")
        if not raw.get("title") or not raw.get("summary"):
            problems.append(f"{where}: needs a title and a summary")
        if raw.get("expect", "") not in EXPECTATIONS | {""}:
            problems.append(f"{where}: expect must be one of {sorted(EXPECTATIONS)}")
        if ("at" in raw) == ("live" in raw):
            problems.append(f"{where}: needs exactly one of 'at' and 'live'")
            continue
        offset = None
        if "at" in raw:
            try:
                offset = parse_offset(raw["at"])
            except ValueError as exc:
                problems.append(f"{where}: {exc}")
                continue
        elif not isinstance(raw["live"], int) or isinstance(raw["live"], bool) or raw["live"] < 1:
            problems.append(f"{where}: live must be a positive integer")
            continue
        item = DemoItem(
            outlet=raw.get("outlet", ""),
            title=raw.get("title", ""),
            summary=raw.get("summary", ""),
            offset=offset,
            live=raw.get("live"),
            story=raw.get("story", ""),
            link=raw.get("link", ""),
            expect=raw.get("expect", ""),
        )
        (backlog if offset is not None else live).append(item)
    sequence = sorted(item.live for item in live)
    if sequence != list(range(1, len(live) + 1)):
        problems.append("live numbers must run 1, 2, 3 ... without gaps or repeats")
    keys = [(item.outlet, item.title) for item in backlog + live]
    if len(set(keys)) != len(keys):
        problems.append("two items of one outlet share a title (their guids would collide)")
    if problems:
        raise DemoDataError("demo timeline: " + "; ".join(problems))
    backlog.sort(key=lambda item: item.offset)
    live.sort(key=lambda item: item.live)
    return DemoTimeline(tuple(outlets), tuple(backlog), tuple(live))


# ---------------------------------------------------------------- rendering


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def item_link(outlet: DemoOutlet, item: DemoItem) -> str:
    return item.link or f"{outlet.site}/news/{_slugify(item.title)}-{item.digest[:6]}"


def item_guid(outlet: DemoOutlet, item: DemoItem) -> str:
    # A tag URI from the outlet and the title: stable across restarts of the server.
    return f"tag:{outlet.host},2026:{item.digest}"


def _rfc3339(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    element.text = text
    return element


def render_rss(
    outlet: DemoOutlet, entries: list[tuple[DemoItem, datetime]], self_url: str, updated: datetime
) -> bytes:
    rss = ET.Element("rss", {"version": "2.0", "xmlns:atom": ATOM_NS})
    channel = _sub(rss, "channel")
    _sub(channel, "title", outlet.name)
    _sub(channel, "link", outlet.site + "/")
    _sub(channel, "description", outlet.description)
    _sub(channel, "language", "en")
    _sub(channel, "lastBuildDate", format_datetime(updated, usegmt=True))
    _sub(channel, "atom:link", href=self_url, rel="self", type="application/rss+xml")
    for item, published in entries:
        node = _sub(channel, "item")
        _sub(node, "title", item.title)
        _sub(node, "link", item_link(outlet, item))
        _sub(node, "description", item.summary)
        _sub(node, "guid", item_guid(outlet, item), isPermaLink="false")
        _sub(node, "pubDate", format_datetime(published, usegmt=True))
    return ET.tostring(rss, encoding="utf-8", xml_declaration=True)


def render_atom(
    outlet: DemoOutlet, entries: list[tuple[DemoItem, datetime]], self_url: str, updated: datetime
) -> bytes:
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _sub(feed, "title", outlet.name)
    _sub(feed, "subtitle", outlet.description)
    _sub(feed, "id", f"tag:{outlet.host},2026:feed")
    _sub(feed, "updated", _rfc3339(updated))
    _sub(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    _sub(feed, "link", rel="alternate", href=outlet.site + "/")
    author = _sub(feed, "author")
    _sub(author, "name", f"{outlet.name} staff")
    for item, published in entries:
        entry = _sub(feed, "entry")
        _sub(entry, "title", item.title, type="text")
        _sub(entry, "id", item_guid(outlet, item))
        _sub(entry, "link", rel="alternate", href=item_link(outlet, item))
        _sub(entry, "published", _rfc3339(published))
        _sub(entry, "updated", _rfc3339(published))
        _sub(entry, "summary", item.summary, type="html")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


RENDERERS = {"rss": render_rss, "atom": render_atom}


@dataclass(frozen=True, slots=True)
class _Document:
    """One feed as served right now: both encodings share the validators."""

    body: bytes
    gzipped: bytes
    etag: str
    last_modified: datetime  # whole seconds, UTC
    content_type: str

    def matches(self, if_none_match: str) -> bool:
        if if_none_match.strip() == "*":
            return True
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return self.etag in tags or self.gzip_etag in tags

    @property
    def gzip_etag(self) -> str:
        return self.etag[:-1] + '-gz"'


def _accepts_gzip(header: str | None) -> bool:
    for part in (header or "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            q = params.strip().lower()
            return not re.fullmatch(r"q\s*=\s*0(\.0*)?", q)
    return False


# ---------------------------------------------------------------- the server


class DemoServer:
    """The demo outlets on ``http://127.0.0.1:PORT``; see the module docstring."""

    def __init__(
        self,
        *,
        port: int = 0,
        clock: Clock = utc_now,
        release_every: float | None = 6.0,
        host: str = "127.0.0.1",
        timeline: DemoTimeline | None = None,
    ) -> None:
        if release_every is not None and release_every <= 0:
            raise ValueError("release_every must be positive, or None for manual release")
        self.timeline = timeline or load_timeline()
        self._port = port
        self._host = host
        self._clock = clock
        self._release_every = release_every
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._clock_at_start: datetime | None = None  # for the schedule
        self._started_at: datetime | None = None  # whole seconds, for published times
        self._published: dict[str, list[tuple[DemoItem, datetime]]] = {}
        self._released = 0  # live items out so far
        self._scheduled_done = 0  # of those, released by the release_every schedule
        self._last_release: datetime | None = None
        self._docs: dict[str, _Document] = {}

    # -- lifecycle

    def start(self) -> None:
        if self._httpd is not None:
            raise RuntimeError("demo server already started")
        httpd = ThreadingHTTPServer((self._host, self._port), _Handler)
        httpd.daemon_threads = True
        httpd.demo = self  # type: ignore[attr-defined]
        with self._lock:
            self._httpd = httpd
            self._clock_at_start = self._clock()
            now = self._clock_at_start.astimezone(timezone.utc).replace(microsecond=0)
            self._started_at = now
            self._published = {o.name: [] for o in self.timeline.outlets}
            for item in self.timeline.backlog:
                self._published[item.outlet].append((item, now + item.offset))
            self._released = self._scheduled_done = 0
            self._last_release = None
            self._docs = {}
            for outlet in self.timeline.outlets:
                self._rebuild(outlet, now)
        # A short poll interval so stop() returns promptly (shutdown waits one poll).
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="talkwatch-demo", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> DemoServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("demo server not started")
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def feeds(self) -> list[tuple[str, str]]:
        return [(o.name, self.base_url + o.path) for o in self.timeline.outlets]

    def config_text(self) -> str:
        lines = [
            "# talkwatch demo: fictional outlets served on this machine by `talkwatch demo`.",
            "# Every outlet and story here is invented; nothing leaves 127.0.0.1.",
            "",
            "[settings]",
            'interval = "1m"',
        ]
        for name, url in self.feeds:
            lines += ["", "[[feed]]", f"name = {_toml_string(name)}", f"url = {_toml_string(url)}", 'tags = ["demo"]']
        return "\n".join(lines) + "\n"

    # -- releasing live items

    @property
    def released(self) -> int:
        return self._released

    @property
    def pending(self) -> int:
        return len(self.timeline.live) - self._released

    def release_next(self, n: int = 1) -> list[DemoItem]:
        """Publish the next ``n`` live items now (by the clock); returns them."""
        with self._lock:
            self._require_started()
            now = self._clock().astimezone(timezone.utc).replace(microsecond=0)
            return [self._release_one(now) for _ in range(min(n, self.pending))]

    def _catch_up(self) -> None:
        """Release what the release_every schedule says is due by now (lock held)."""
        if self._release_every is None or self._clock_at_start is None:
            return
        elapsed = (self._clock() - self._clock_at_start).total_seconds()
        due = int(elapsed // self._release_every)
        while self._scheduled_done < due and self.pending:
            self._scheduled_done += 1
            when = self._clock_at_start + timedelta(seconds=self._scheduled_done * self._release_every)
            self._release_one(when.astimezone(timezone.utc).replace(microsecond=0))

    def _release_one(self, when: datetime) -> DemoItem:
        # Never publish a live item before one already released (manual and
        # scheduled releases may interleave).
        if self._last_release is not None and when < self._last_release:
            when = self._last_release
        item = self.timeline.live[self._released]
        self._released += 1
        self._last_release = when
        self._published[item.outlet].append((item, when))
        self._rebuild(self.timeline.outlet(item.outlet), when)
        return item

    def _rebuild(self, outlet: DemoOutlet, changed_at: datetime) -> None:
        entries = sorted(self._published[outlet.name], key=lambda pair: pair[1], reverse=True)
        previous = self._docs.get(outlet.name)
        if previous is None:
            last_modified = entries[0][1] if entries else changed_at
        else:
            # Last-Modified has one-second resolution: keep it strictly increasing
            # so If-Modified-Since never hides a change made within the same second.
            last_modified = max(changed_at, previous.last_modified + timedelta(seconds=1))
        body = RENDERERS[outlet.format](outlet, entries, self.base_url + outlet.path, last_modified)
        self._docs[outlet.name] = _Document(
            body=body,
            gzipped=gzip.compress(body, mtime=0),
            etag='"' + hashlib.sha256(body).hexdigest()[:24] + '"',
            last_modified=last_modified,
            content_type=CONTENT_TYPES[outlet.format],
        )

    def _require_started(self) -> None:
        if self._httpd is None:
            raise RuntimeError("demo server not started")

    def _document(self, path: str) -> _Document | None:
        """The current document served at ``path``, or None (404)."""
        with self._lock:
            self._catch_up()
            for outlet in self.timeline.outlets:
                if outlet.path == path:
                    return self._docs.get(outlet.name)
        return None


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


class _Handler(BaseHTTPRequestHandler):
    server_version = "talkwatch-demo"
    sys_version = ""
    protocol_version = "HTTP/1.0"  # one request per connection: stop() leaves nothing behind
    timeout = 10

    def do_GET(self) -> None:
        self._respond(with_body=True)

    def do_HEAD(self) -> None:
        self._respond(with_body=False)

    def _respond(self, *, with_body: bool) -> None:
        demo: DemoServer = self.server.demo  # type: ignore[attr-defined]
        doc = demo._document(urlsplit(self.path).path)
        if doc is None:
            body = b"not found: the demo feeds are listed by `talkwatch demo --serve`\n"
            self.send_response(404)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if with_body:
                self.wfile.write(body)
            return
        use_gzip = _accepts_gzip(self.headers.get("Accept-Encoding"))
        etag = doc.gzip_etag if use_gzip else doc.etag
        validators = {
            "ETag": etag,
            "Last-Modified": format_datetime(doc.last_modified, usegmt=True),
            "Vary": "Accept-Encoding",
        }
        if self._not_modified(doc):
            self.send_response(304)
            for name, value in validators.items():
                self.send_header(name, value)
            self.end_headers()
            return
        body = doc.gzipped if use_gzip else doc.body
        self.send_response(200)
        self.send_header("Content-Type", doc.content_type)
        self.send_header("Content-Length", str(len(body)))
        if use_gzip:
            self.send_header("Content-Encoding", "gzip")
        for name, value in validators.items():
            self.send_header(name, value)
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def _not_modified(self, doc: _Document) -> bool:
        # RFC 9110 13.2.2: If-None-Match, when present, decides; else If-Modified-Since.
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            return doc.matches(if_none_match)
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                when = parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            return doc.last_modified <= when
        return False

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # the demo runs under a dashboard: never write to stderr


def serve_forever_cli(port: int, out: TextIO, *, stop: threading.Event | None = None) -> int:
    """``talkwatch demo --serve``: serve until Ctrl-C (or ``stop`` is set), then exit 0."""
    server = DemoServer(port=port)
    try:
        server.start()
    except OSError as exc:
        print(f"talkwatch demo: cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}", file=out)
        return 1
    stop = stop or threading.Event()
    previous_term = None
    if threading.current_thread() is threading.main_thread():
        # A service manager or tmux ends us with SIGTERM: stop as cleanly as on Ctrl-C.
        previous_term = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        out.write(server.config_text())
        print(f"\nserving demo feeds on {server.base_url} (Ctrl-C to stop)", file=out, flush=True)
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)
    return 0
