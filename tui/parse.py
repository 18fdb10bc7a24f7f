"""Turn a fetched feed body into normalised, plain-text ``Item``s.

Pure and I/O-free: feedparser only ever sees the bytes we hand it (never a URL
or a string it might treat as one), so it cannot fetch anything itself. Every
function here is top-level and its results are picklable, so the poller can
run ``parse_feed`` in a thread or a process pool.

Feed text is hostile input. Titles, summaries and authors come out as plain
text: no HTML, no terminal escape sequences, no control, zero-width or bidi
override characters, bounded in length. Links are absolute http/https or "".
"""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone
from urllib.parse import urljoin, urlsplit

from tui.models import Item

TITLE_MAX = 1000
SUMMARY_MAX = 4000
AUTHOR_MAX = 200
FEED_TITLE_MAX = 200
LINK_MAX = 2048
KEY_MAX = 512
ELLIPSIS = "\u2026"

# A hostile feed can put megabytes in one field; cleaning is linear but there
# is no point in scanning far past what we keep. Markup-heavy summaries need
# headroom, hence the generous factor.
_RAW_FACTOR = 16
_RAW_MIN = 64 * 1024

# Dates before feeds existed, or more than a day ahead of us, are bogus.
_EARLIEST = datetime(1995, 1, 1, tzinfo=timezone.utc)
_FUTURE_SLACK = timedelta(days=1)


class FeedParseError(Exception):
    """Nothing usable in the body; the message is for a person."""


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    items: tuple[Item, ...]
    title: str
    warning: str | None  # feedparser's "bozo" complaint, in words, when entries were still usable
    ttl_seconds: float | None  # RSS <ttl>, converted from minutes


# --- text cleaning ----------------------------------------------------------

_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)
# The everyday link, "https://host.example/path?query": lower-case scheme and
# host, no port, credentials, fragment, spaces or controls. For these
# urljoin(any base, link) and safe_link(link) are the link itself
# (tests/test_parse.py checks it on random links), and skipping urllib's
# splitting and joining halves the cost of a feed's links.
_PLAIN_URL = re.compile(
    r"https?://[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
    r"(?:/[A-Za-z0-9._~!$&'()*+,=:@%/-]*)?(?:\?[A-Za-z0-9._~!$&'()*+,=:@%/?-]+)?\Z"
)


def is_plain_url(value: str) -> bool:
    return len(value) <= LINK_MAX and _PLAIN_URL.match(value) is not None
# Tag bodies are [^<>]*, not [^>]*: a scan then stops at the next "<", so a
# hostile "<a<a<a..." costs linear, not quadratic, time.
_SCRIPT_STYLE = re.compile(r"<(script|style)\b[^<>]*>.*?(?:</\1\s*>|$)", re.S | re.I)
# Tags that separate words when rendered: replaced by a space, not by nothing.
_BLOCK_TAG = re.compile(
    r"</?(?:p|br|div|li|ul|ol|dl|dt|dd|h[1-6]|tr|td|th|table|blockquote|pre|section|article"
    r"|header|footer|figure|figcaption|hr|img)\b[^<>]*>",
    re.I,
)
# Only "<" followed by a letter, "/", "!" or "?" starts a tag, so "5 < 6" survives.
_ANY_TAG = re.compile(r"<[A-Za-z/!?][^<>]*>")

# Terminal escape sequences, removed whole so no payload (OSC 52 clipboard
# writes, hyperlinks, colour codes) is left behind as text. An unterminated
# string sequence runs to the end, as a terminal would swallow it. The 8-bit C1
# forms are only dropped as single characters (below): as introducers they
# would eat real text from mis-decoded windows-1252 feeds.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"  # CSI ... final byte (SGR colours, cursor moves)
    r"|\x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c|$)"  # OSC/DCS/SOS/PM/APC ... BEL/ST
    r"|\x1b[ -/]*[0-~]?"  # other ESC sequences (charset selection, keypad modes, ...)
)

_INVISIBLE = (
    [chr(c) for c in range(0x00, 0x20)]  # C0 (tab/newline too: whitespace is collapsed anyway)
    + ["\x7f"]
    + [chr(c) for c in range(0x80, 0xA0)]  # C1
    + ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]  # zero-width
    + ["\u200e", "\u200f", "\u061c"]  # directional marks
    + [chr(c) for c in range(0x202A, 0x202F)]  # LRE RLE PDF LRO RLO
    + [chr(c) for c in range(0x2066, 0x206A)]  # LRI RLI FSI PDI
    + ["\ufff9", "\ufffa", "\ufffb"]  # interlinear annotation controls
)
# Whitespace-like controls become a space so words they separated stay apart.
_AS_SPACE = {"\t", "\n", "\r", "\x0b", "\x0c", "\x85", "\u2028", "\u2029"}
_STRIP_TABLE = {ord(ch): (" " if ch in _AS_SPACE else None) for ch in _INVISIBLE}
for _ch in _AS_SPACE:
    _STRIP_TABLE[ord(_ch)] = " "


# Any character _strip_controls would touch (ESC is among them): most text has
# none, and one search is far cheaper than a sub plus a translate.
_NEEDS_STRIP = re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(_STRIP_TABLE)) + "]")


def _strip_controls(text: str) -> str:
    # Every character in _STRIP_TABLE is non-printable (Cc, Cf, Zl, Zp), so
    # printable text has none of them: one C loop instead of a 75-character
    # class tested at every position (4 us on a 600-character summary).
    if text.isprintable() or not _NEEDS_STRIP.search(text):
        return text
    return _ESCAPES.sub("", text).translate(_STRIP_TABLE)


def _collapse_spaces(text: str) -> str:
    """Whitespace runs as one space, none at the ends: " ".join(text.split())."""
    if text.isascii() and text.isprintable() and "  " not in text:
        # Printable ASCII has no whitespace but " ", and no run of it: only
        # the ends can change (split + join cost 7 us on a 600-character summary).
        return text.strip(" ")
    return " ".join(text.split())


def _cap(text: str, max_len: int) -> str:
    if len(text) <= max_len:
        return text
    return text[: max_len - 1].rstrip() + ELLIPSIS


def clean_text(value: str | None, *, max_len: int = SUMMARY_MAX) -> str:
    """Plain text from feed text: HTML stripped, entities unescaped, escapes and
    control/bidi characters dropped, whitespace collapsed, at most ``max_len``."""
    if not value:
        return ""
    text = value[: max(_RAW_MIN, max_len * _RAW_FACTOR)]
    # Controls first, so an ESC sequence cannot hide a tag boundary, and again
    # after unescaping, since "&#27;" or "&#x202e;" decode to the very
    # characters we are removing.
    text = _strip_controls(text)
    if "<" in text:
        if "<!" in text:
            text = _COMMENT.sub(" ", text)
        if "<s" in text or "<S" in text:
            text = _SCRIPT_STYLE.sub(" ", text)
        text = _BLOCK_TAG.sub(" ", text)
        text = _ANY_TAG.sub("", text)
    if "&" in text:
        text = _strip_controls(html.unescape(text))
        if "<" in text:  # double-escaped HTML, common in RSS descriptions
            text = _ANY_TAG.sub("", _BLOCK_TAG.sub(" ", text))
    return _cap(_collapse_spaces(text), max_len)


def safe_link(value: str | None) -> str:
    """The link if it is an absolute http(s) URL a browser can open safely, else ""."""
    if not value:
        return ""
    link = value.strip()
    if is_plain_url(link):
        return link
    if not link or len(link) > LINK_MAX:
        return ""
    if _NEEDS_STRIP.search(link) or len(link.split()) != 1:
        # Browsers silently drop tabs/newlines inside URLs; a link carrying
        # controls or bidi characters is an attempt to disguise where it goes.
        return ""
    try:
        parts = urlsplit(link)
        host = parts.hostname
        parts.port  # noqa: B018 -- raises ValueError on a malformed port
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not host:
        return ""
    if parts.username is not None or parts.password is not None:
        # "https://bbc.co.uk@evil.example/" reads as one site and opens another.
        return ""
    return link


# --- dates and keys ---------------------------------------------------------


def struct_to_utc(parsed) -> datetime | None:
    """A feedparser date tuple (UTC) as an aware datetime, or None if it is out of range."""
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), timezone.utc)
    except (OverflowError, ValueError, OSError, TypeError):
        return None


def _entry_when(entry) -> datetime | None:
    for field in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = dict.get(entry, field)  # plain dict lookup: skips feedparser's deprecated key aliasing
        if parsed:
            when = struct_to_utc(parsed)
            if when is not None:
                return when
    return None


def _plausible_time(when: datetime | None, now: datetime) -> datetime:
    if when is not None and _EARLIEST <= when <= now + _FUTURE_SLACK:
        return when
    return now  # missing, or present but absurd: "first seen" is the honest answer


def _text_hash(*parts: str) -> str:
    digest = hashlib.sha1("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return f"sha1:{digest}"


def _entry_key(raw_id, link: str, title: str, summary: str) -> str:
    key = raw_id.strip() if isinstance(raw_id, str) else ""
    if not key:
        key = link
    if not key:
        return _text_hash(title, summary)
    if len(key) > KEY_MAX or key != key.translate(_STRIP_TABLE):
        return _text_hash(key)
    return key


# --- the feed ---------------------------------------------------------------

_HTML_SNIFF = re.compile(rb"<\s*(?:!doctype\s+html|html|head|body)\b", re.I)
_FEED_SNIFF = re.compile(rb"<\s*(?:rss|feed|rdf:RDF|channel)\b", re.I)


def _not_a_feed(body: bytes, content_type: str | None, parsed) -> str:
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    media = (content_type or "").split(";")[0].strip().lower()
    if not head:
        return "empty response"
    if head[:1] in (b"{", b"[") or media.endswith("json"):
        return "not a feed: the server sent JSON, not RSS or Atom"
    if (_HTML_SNIFF.search(head) or media in ("text/html", "application/xhtml+xml")) and not _FEED_SNIFF.search(head):
        return "not a feed: the server sent an HTML page (a login wall, an error page or a moved site?)"
    if parsed.get("bozo"):
        return f"not a feed: {_describe_bozo(parsed.get('bozo_exception'))}"
    return "not a feed: no RSS or Atom content found"


def _describe_bozo(exc) -> str:
    # Stored as the feed's warning/error and shown in the terminal; the declared
    # encoding echoed in it is document text (an OSC 52 write was found by bench/fuzz_feeds.py).
    return clean_text(_describe_bozo_raw(exc), max_len=300)


def _describe_bozo_raw(exc) -> str:
    if exc is None:
        return "malformed feed"
    name = type(exc).__name__
    if name == "CharacterEncodingOverride":
        return f"wrong character encoding declared ({exc})"
    if name == "CharacterEncodingUnknown":
        return f"unknown character encoding ({exc})"
    if name == "NonXMLContentType":
        return f"served with a non-feed content type ({exc})"
    if hasattr(exc, "getLineNumber") and hasattr(exc, "getMessage"):
        return f"malformed XML at line {exc.getLineNumber()}: {exc.getMessage()}"
    return clean_text(f"{name}: {exc}", max_len=300)


def _ttl_seconds(feed_meta) -> float | None:
    raw = feed_meta.get("ttl")
    try:
        minutes = float(str(raw).strip())
    except (TypeError, ValueError):
        return None
    if not (0 < minutes < 10 * 24 * 60):  # also rejects NaN and inf
        return None
    return minutes * 60.0


# feedparser drops <!ENTITY> declarations only where one starts a line, so a DTD
# written on one line reaches expat, which expands a billion-laughs until its
# amplification limit: ~4 s of CPU for a 1 KB document, on every poll (found by
# tests/test_hostile_feeds.py). Feeds have no use for an internal subset.
_INTERNAL_SUBSET = re.compile(rb"(<!DOCTYPE[^\[>]*)\[.*?\]\s*>", re.S)
_PROLOG_SCAN = 64 * 1024


def _without_internal_subset(body: bytes) -> bytes:
    start = body.find(b"<!DOCTYPE", 0, _PROLOG_SCAN)
    if start < 0:
        return body
    match = _INTERNAL_SUBSET.match(body, start)
    if match is None:
        return body
    return body[:start] + match.group(1).rstrip() + b">" + body[match.end() :]


def parse_feed(body: bytes, *, feed: str, url: str, content_type: str | None, now: datetime) -> ParsedFeed:
    """Parse a fetched body. Raises FeedParseError only when nothing usable is in it."""
    from tui.fastparse import parse_fast  # plain well-formed feeds, ~6x cheaper than feedparser; None = not sure

    if body and body.strip():
        fast = parse_fast(body, feed=feed, url=url, content_type=content_type, now=now)
        if fast is not None:
            return fast
    return parse_with_feedparser(body, feed=feed, url=url, content_type=content_type, now=now)


def parse_with_feedparser(body: bytes, *, feed: str, url: str, content_type: str | None, now: datetime) -> ParsedFeed:
    """parse_feed without the fast path: feedparser, lenient and hardened."""
    import feedparser  # lazy: ~75 ms to import, and only the poller needs it

    if not body or not body.strip():
        raise FeedParseError("empty response")
    body = _without_internal_subset(body)
    headers = {"content-type": content_type or "application/xml"}
    # No "content-location": feedparser would then resolve bare guids such as
    # "abc-123" against the feed URL, and a feed that moves would change every
    # key and duplicate its items. Links are resolved below instead.
    try:
        parsed = feedparser.parse(
            io.BytesIO(body),
            response_headers=headers,
            resolve_relative_uris=False,  # we strip the HTML they would live in
            sanitize_html=False,  # we strip every tag (and script/style bodies) ourselves; 20 % faster
        )
    except Exception as exc:  # feedparser is not supposed to raise; be safe if it does
        raise FeedParseError(f"could not parse the feed: {type(exc).__name__}: {exc}") from exc

    entries = parsed.get("entries") or []
    if not entries and (parsed.get("bozo") or not parsed.get("version")):
        raise FeedParseError(_not_a_feed(body, content_type, parsed))

    warning = _describe_bozo(parsed.get("bozo_exception")) if parsed.get("bozo") else None
    items = first_of_each_key(
        make_item(
            feed=feed,
            feed_url=url,
            now=now,
            title=entry.get("title"),
            summary=_entry_summary(entry),
            link=entry.get("link"),
            raw_id=entry.get("id") or entry.get("guid"),
            when=_entry_when(entry),
            author=entry.get("author"),
        )
        for entry in entries
    )
    meta = parsed.get("feed") or {}
    return ParsedFeed(
        items=items,
        title=clean_text(meta.get("title"), max_len=FEED_TITLE_MAX),
        warning=warning,
        ttl_seconds=_ttl_seconds(meta),
    )


def first_of_each_key(items: Iterable[Item]) -> tuple[Item, ...]:
    """The items without repeated keys: of duplicate guids in one document, the
    first (usually the newest) wins."""
    unique: dict[str, Item] = {}
    for item in items:
        unique.setdefault(item.key, item)
    return tuple(unique.values())


def make_item(*, feed: str, feed_url: str, now: datetime, title, summary, link, raw_id, when, author) -> Item:
    """One normalised Item from an entry's raw values as feedparser would leave
    them (title/summary/author text, link, id), ``when`` its first usable date.
    Shared by the feedparser path and tui.fastparse, so both give equal Items."""
    title_text = clean_text(title, max_len=TITLE_MAX)
    summary_text = clean_text(summary, max_len=SUMMARY_MAX)
    if not title_text:
        title_text = _cap(summary_text, 200)
    link_text = _entry_link(link, raw_id, feed_url)
    return _new_item(
        feed,
        _entry_key(raw_id, link_text, title_text, summary_text),
        title_text,
        summary_text,
        link_text,
        _plausible_time(when, now),
        clean_text(author, max_len=AUTHOR_MAX),
    )


def _item_maker():
    """Item(feed, key, title, summary, link, published, author), at 40 % of the
    cost of the frozen dataclass's __init__ (a cold poll makes 10,000 of them):
    the slots are set directly. The plain constructor if Item's fields change."""
    names = ("feed", "key", "title", "summary", "link", "published", "author")
    slots = [Item.__dict__.get(name) for name in names]
    if tuple(f.name for f in fields(Item)) != names or not all(type(slot).__name__ == "member_descriptor" for slot in slots):
        return Item
    set_feed, set_key, set_title, set_summary, set_link, set_published, set_author = (slot.__set__ for slot in slots)
    new = object.__new__

    def make(feed, key, title, summary, link, published, author):
        item = new(Item)
        set_feed(item, feed)
        set_key(item, key)
        set_title(item, title)
        set_summary(item, summary)
        set_link(item, link)
        set_published(item, published)
        set_author(item, author)
        return item

    return make


_new_item = _item_maker()


def _entry_link(raw, raw_id, feed_url: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        return ""
    raw = raw.strip()
    if is_plain_url(raw):
        return raw
    try:
        if raw == raw_id and not urlsplit(raw).scheme:
            # feedparser copied a bare guid such as "story-123" into the link;
            # resolving it against the feed URL would invent a page.
            return ""
        return safe_link(urljoin(feed_url, raw))
    except ValueError:  # "//]" and other junk: urlsplit raises "Invalid IPv6 URL" (found by bench/fuzz_feeds.py)
        return ""


def _entry_summary(entry) -> str:
    summary = entry.get("summary")
    if summary:
        return summary
    for content in entry.get("content") or ():
        value = content.get("value") if hasattr(content, "get") else None
        if value:
            return value
    return ""
