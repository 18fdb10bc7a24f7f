"""Feed-level fuzzing: mutated real-shaped RSS/Atom bytes through parse + classify + store.

Each case takes one or two seed documents (RSS 2.0, Atom, RSS 1.0/RDF, in a
few encodings, with CDATA, escaped HTML, namespaces, entities), applies one to
four random mutations (byte flips, truncation, tag and attribute duplication,
entity insertion, swapped encoding declarations, huge attributes, control and
bidi characters, splices between documents) and runs the result through
``parse_feed`` -> ``Classifier.classify`` -> ``Store.upsert_items`` into a
temporary database.

A *crash* is any exception other than ``FeedParseError`` (the documented way to
say "nothing usable here"). A *violation* is output that breaks the promises
made about hostile input: a control/bidi character in stored text, a link that
is not http(s), the content of a local file reached through an external
entity, or a classification that differs on a second run. Both are minimised
(bytes removed while the same failure reproduces) and saved to ``--out``.

    python bench/fuzz_feeds.py --cases 100000 --seed 1 --out /tmp/fuzz-crashes

Prints progress every ``--report`` seconds and a final JSON line with the
counts. Exit status 1 when anything was found.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
SECRET = "TALKWATCH-FUZZ-SECRET-7f3a9c"  # written to a local file an XXE seed points at
CASE_TIME_LIMIT = 10  # seconds; a case slower than this is a hang and counts as a crash
SLOW_CASE = 1.0  # seconds; reported, not a failure

# What must never survive into stored text: C0, DEL, C1, bidi embeddings/overrides/isolates.
UNSAFE_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


# --- seeds -----------------------------------------------------------------


def _rss(secret_path: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:media="http://search.yahoo.com/mrss/">\n'
        "<channel><title>Middle East | Example News</title><link>https://news.example.org/world/middle_east</link>\n"
        "<description>Latest stories &amp; analysis</description><language>en-gb</language><ttl>15</ttl>\n"
        "<item><title><![CDATA[Hostage talks resume in Doha as mediators push for a ceasefire deal]]></title>\n"
        "<description><![CDATA[<p>Negotiators from <b>Israel</b> and Hamas met in Doha on Sunday, "
        'with Qatar and Egypt mediating. <a href="https://news.example.org/x">More</a></p>]]></description>\n'
        "<link>https://news.example.org/world/middle-east-1</link>"
        '<guid isPermaLink="true">https://news.example.org/world/middle-east-1</guid>\n'
        "<pubDate>Sun, 01 Mar 2026 09:00:00 GMT</pubDate><dc:creator>Jane Doe</dc:creator>"
        '<media:thumbnail width="240" height="135" url="https://img.example.org/1.jpg"/></item>\n'
        "<item><title>Talks stall over prisoner list &#8211; officials</title>"
        "<description>&lt;p&gt;Officials say the second phase &amp;amp; the hostage release are on hold.&lt;/p&gt;"
        "</description><link>https://news.example.org/world/middle-east-2</link>"
        "<guid isPermaLink=\"false\">me-2</guid><pubDate>Sat, 28 Feb 2026 18:30:00 +0200</pubDate>"
        "<content:encoded><![CDATA[<div><script>alert(1)</script><p>Full text</p></div>]]></content:encoded></item>\n"
        "<item><title>Weather: storms in the north</title><link>/relative/weather</link>"
        "<pubDate>not a date</pubDate><author>desk@news.example.org (Desk)</author></item>\n"
        "</channel></rss>\n"
    ).encode()


def _atom() -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en" xml:base="https://atom.example.net/">\n'
        "<title type=\"text\">Atom Example</title><id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>"
        "<updated>2026-03-01T10:00:00Z</updated>"
        '<link rel="self" href="https://atom.example.net/feed.atom"/>\n'
        "<entry><title type=\"html\">Cairo round: &lt;em&gt;framework&lt;/em&gt; agreed for first phase</title>"
        '<link rel="alternate" href="/2026/03/01/cairo-round"/><id>tag:atom.example.net,2026:1</id>'
        "<published>2026-03-01T08:00:00+02:00</published><updated>2026-03-01T09:00:00Z</updated>"
        "<author><name>Reporter One</name><email>one@atom.example.net</email></author>"
        '<summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Mediators in <b>Cairo</b> said'
        " a proposal for the release of hostages was on the table.</p></div></summary></entry>\n"
        "<entry><title>Markets close higher</title><id>tag:atom.example.net,2026:2</id>"
        '<link href="https://atom.example.net/markets"/><updated>2026-02-28T17:00:00Z</updated>'
        '<content type="text">Shares rose on Friday.</content></entry>\n'
        "</feed>\n"
    ).encode()


def _rdf() -> bytes:
    return (
        '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        ' xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        '<channel rdf:about="https://rdf.example.com/"><title>RDF News</title>'
        "<link>https://rdf.example.com/</link><description>d</description></channel>\n"
        '<item rdf:about="https://rdf.example.com/a"><title>Ceasefire collapses after strikes</title>'
        "<link>https://rdf.example.com/a</link><dc:date>2026-02-27T12:00:00Z</dc:date>"
        "<description>Talks broke down, sources said.</description></item>\n"
        "</rdf:RDF>\n"
    ).encode()


def _latin1() -> bytes:
    text = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<rss version="2.0"><channel><title>Café du Monde</title>'
        "<item><title>Négociations à Doha : libération d'otages</title><guid>fr-1</guid>"
        "<description>Les médiateurs égyptiens et qataris…</description>"
        "<link>https://fr.example.fr/a</link></item></channel></rss>\n"
    )
    return text.encode("latin-1", "replace")


def _cp1252_undeclared() -> bytes:
    # Smart quotes in windows-1252 bytes, declared as UTF-8: a classic real-world mess.
    return (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Quotes</title>'
        b"<item><title>\x93Deal is close\x94 \x96 Qatar</title><guid>q1</guid>"
        b"<link>https://q.example.org/1</link></item></channel></rss>"
    )


def _utf16() -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-16"?><rss version="2.0"><channel><title>UTF-16</title>'
        "<item><title>שיחות בדוחה – חטופים</title><guid>he-1</guid><link>https://he.example.co.il/1</link>"
        "</item><item><title>محادثات القاهرة</title><guid>ar-1</guid></item></channel></rss>"
    ).encode("utf-16")


def _hostile(secret_path: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret_path}"><!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n'
        '<rss version="2.0"><channel><title>Hostile &xxe;</title>\n'
        "<item><title>[bold red]Rich[/] [@click=app.quit]click[/] \x1b]52;c;ZXZpbA==\x07 \x1b[31mred\u202eevil</title>"
        "<description>&xxe; &c; &#x1b;[2J &#8238;txt &#0; <img src=x onerror=alert(1)></description>"
        "<link>javascript:alert(document.cookie)</link><guid>h1</guid></item>\n"
        "<item><title>file link</title><link>file:///etc/passwd</link><guid>h2</guid></item>\n"
        "<item><title>data link</title><link>data:text/html;base64,PHNjcmlwdD4=</link><guid>h3</guid></item>\n"
        "<item><title>userinfo link</title><link>https://bbc.co.uk@evil.example/</link><guid>h4</guid></item>\n"
        "</channel></rss>\n"
    ).encode()


def seeds(secret_path: str) -> list[bytes]:
    return [_rss(secret_path), _atom(), _rdf(), _latin1(), _cp1252_undeclared(), _utf16(), _hostile(secret_path)]


# --- mutations ---------------------------------------------------------------

ENTITIES = [
    b"&amp;", b"&lt;", b"&#0;", b"&#x1b;", b"&#x9b;", b"&#xD800;", b"&#x110000;", b"&#99999999999;",
    b"&nbsp;", b"&undefined;", b"&#8238;", b"&#x2067;", b"&", b"&#", b"&#x;", b"&xxe;", b"&c;",
    b"&lt;script&gt;", b"&amp;#x1b;", b"&#27;]52;c;ZXZpbA==&#7;",
]
ENCODINGS = [
    b"UTF-8", b"utf-16", b"UTF-16LE", b"UTF-32", b"ISO-8859-1", b"windows-1252", b"shift_jis", b"koi8-r",
    b"ascii", b"gb2312", b"bogus-enc", b"", b"utf-7", b"EBCDIC-US", b"cp037",
]
NASTY_TEXT = [
    "\x00", "\x1b[31m", "\x1b]52;c;ZXZpbA==\x07", "\x1b]8;;https://evil/\x1b\\", "\x9b2J", "\u202e",
    "\u2066", "\ufeff", "\u200b", "\x7f", "\r\n", "\t", "[bold]", "[@click=app.quit]", "<![CDATA[", "]]>",
    "<!--", "-->", "<script>", "</title>", "<?xml", "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/hostname\">]>",
    "\ud800", "\U0001f600", "javascript:", "file:///", "data:,x", "%00", "\\u0000",
]
_TAG = re.compile(rb"<([A-Za-z][\w:.-]*)[^<>]*>(?:[^<]|<(?!/?\1))*?</\1\s*>", re.S)
_OPEN_TAG = re.compile(rb"<([A-Za-z][\w:.-]*)(\s[^<>]*)?/?>")
_DECL_ENC = re.compile(rb'encoding\s*=\s*["\'][^"\']*["\']')


def _pos(rng: random.Random, data: bytes) -> int:
    return rng.randint(0, len(data))


def m_flip(rng, data, _seeds):
    if not data:
        return data
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(buf))
        buf[i] = rng.choice([buf[i] ^ (1 << rng.randrange(8)), rng.randrange(256)])
    return bytes(buf)


def m_truncate(rng, data, _seeds):
    return data[: _pos(rng, data)]


def m_delete(rng, data, _seeds):
    i = _pos(rng, data)
    return data[:i] + data[i + rng.randint(1, 200) :]


def m_dup_tag(rng, data, _seeds):
    tags = list(_TAG.finditer(data))
    if not tags:
        return data
    m = rng.choice(tags)
    times = rng.choice([1, 2, 10, 100]) if len(m.group(0)) < 300 else rng.choice([1, 2, 5])
    return data[: m.end()] + m.group(0) * times + data[m.end() :]


def m_dup_attr(rng, data, _seeds):
    tags = list(_OPEN_TAG.finditer(data))
    if not tags:
        return data
    m = rng.choice(tags)
    attrs = m.group(2) or b' x="1"'
    insert = m.start() + 1 + len(m.group(1))
    return data[:insert] + attrs * rng.randint(1, 5) + data[insert:]


def m_entity(rng, data, _seeds):
    i = _pos(rng, data)
    return data[:i] + rng.choice(ENTITIES) + data[i:]


def m_encoding(rng, data, _seeds):
    enc = rng.choice(ENCODINGS)
    if _DECL_ENC.search(data):
        return _DECL_ENC.sub(b'encoding="' + enc + b'"', data, count=1)
    return b'<?xml version="1.0" encoding="' + enc + b'"?>' + data


def m_reencode(rng, data, _seeds):
    # The bytes change encoding, the declaration does not (or the other way round).
    text = data.decode("utf-8", "replace")
    codec = rng.choice(["utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252", "shift_jis", "cp037"])
    return text.encode(codec, "replace")


def m_transcode(rng, data, _seeds):
    # Bytes and declaration agree, in an encoding other than UTF-8 (with or without a BOM):
    # legitimate documents, which every parser path must read or refuse cleanly.
    text = data.decode("utf-8", "replace")
    codec = rng.choice(["utf-16-le", "utf-16-be", "utf-16", "utf-32-le", "utf-32", "cp1252", "koi8-r",
                        "shift_jis", "gb18030", "iso-8859-8", "cp037"])
    declared = _DECL_ENC.sub(b'encoding="' + codec.encode() + b'"', text.encode("utf-8"), count=1).decode("utf-8")
    if declared == text:
        declared = f'<?xml version="1.0" encoding="{codec}"?>' + text
    return declared.encode(codec, "replace")


def m_huge_attr(rng, data, _seeds):
    tags = list(_OPEN_TAG.finditer(data))
    if not tags:
        return data
    m = rng.choice(tags)
    insert = m.start() + 1 + len(m.group(1))
    size = rng.choice([1_000, 10_000, 100_000, 1_000_000])
    return data[:insert] + b' huge="' + b"A" * size + b'"' + data[insert:]


def m_huge_text(rng, data, _seeds):
    i = data.find(b"<title>")
    i = i + 7 if i >= 0 else _pos(rng, data)
    chunk = rng.choice([b"x", b"word ", b"<b>", b"&amp;", b"\xe2\x80\xae"])
    # Markup-like chunks cost feedparser's pure-Python HTML parser per tag: keep those counts modest.
    times = rng.choice([100, 2_000]) if chunk in (b"<b>", b"&amp;") else rng.choice([1_000, 20_000, 200_000])
    return data[:i] + chunk * times + data[i:]


def m_nasty(rng, data, _seeds):
    i = _pos(rng, data)
    piece = rng.choice(NASTY_TEXT).encode("utf-8", "surrogatepass")
    return data[:i] + piece + data[i:]


def m_random_bytes(rng, data, _seeds):
    i = _pos(rng, data)
    return data[:i] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 32))) + data[i:]


def m_splice(rng, data, all_seeds):
    other = rng.choice(all_seeds)
    return data[: _pos(rng, data)] + other[_pos(rng, other) :]


def m_repeat(rng, data, _seeds):
    if not data:
        return data
    i = rng.randrange(len(data))
    j = min(len(data), i + rng.randint(1, 400))
    return data[:j] + data[i:j] * rng.randint(2, 50) + data[j:]


def m_bom(rng, data, _seeds):
    return rng.choice([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b" \n\t"]) + data


def m_deep(rng, data, _seeds):
    i = data.find(b"<title>")
    i = i if i >= 0 else _pos(rng, data)
    depth = rng.choice([20, 200, 1000])
    return data[:i] + b"<x>" * depth + b"deep" + b"</x>" * depth + data[i:]


# (mutation, weight): the size-blowing ones are rarer, so a run covers many
# small cases a second and still meets every huge shape hundreds of times.
MUTATIONS = [
    (m_flip, 10), (m_truncate, 8), (m_delete, 6), (m_dup_tag, 6), (m_dup_attr, 6), (m_entity, 10),
    (m_encoding, 6), (m_reencode, 3), (m_huge_attr, 1), (m_huge_text, 1), (m_nasty, 10),
    (m_random_bytes, 6), (m_splice, 4), (m_repeat, 3), (m_bom, 2), (m_deep, 1), (m_transcode, 4),
]
MAX_CASE_BYTES = 4 << 20  # stop mutating a document once it is this big
CONTENT_TYPES = [
    "application/rss+xml; charset=utf-8", "application/atom+xml", "text/xml", "text/xml; charset=iso-8859-1",
    "application/xml; charset=utf-16", "text/html; charset=utf-8", "application/json", None, "text/plain",
    "application/octet-stream", "text/xml; charset=bogus",
]


def make_case(rng: random.Random, all_seeds: list[bytes]) -> tuple[bytes, str | None, list[str]]:
    data = rng.choice(all_seeds)
    applied = []
    functions = [m for m, _ in MUTATIONS]
    weights = [w for _, w in MUTATIONS]
    for _ in range(rng.randint(1, 4)):
        if len(data) > MAX_CASE_BYTES:
            break
        mutation = rng.choices(functions, weights)[0]
        data = mutation(rng, data, all_seeds)
        applied.append(mutation.__name__)
    return data, rng.choice(CONTENT_TYPES), applied


# --- running one case --------------------------------------------------------


class CaseTimeout(Exception):
    pass


@dataclass
class Failure:
    kind: str  # "crash" or "violation"
    signature: str  # what makes two failures "the same"
    detail: str


class Runner:
    def __init__(self, workdir: Path, rotate_every: int):
        from tui.classify import Classifier
        from tui.parse import FeedParseError, parse_feed
        from tui.store import Store

        self.parse_feed = parse_feed
        self.FeedParseError = FeedParseError
        self.classifier = Classifier()
        self.Store = Store
        self.workdir = workdir
        self.rotate_every = rotate_every
        self.store = None
        self.db_index = 0
        self.cases_in_db = 0
        self.feed_names = [f"fuzz-{i}" for i in range(20)]

    def _store(self):
        if self.store is None or self.cases_in_db >= self.rotate_every:
            self.close()
            self.db_index += 1
            self.store = self.Store(self.workdir / f"fuzz-{self.db_index}.db", clock=lambda: NOW)
            self.cases_in_db = 0
        self.cases_in_db += 1
        return self.store

    def close(self):
        if self.store is not None:
            path = self.store.path
            self.store.close()
            self.store = None
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)

    def run(self, body: bytes, content_type: str | None, feed: str, *, store: bool = True) -> tuple[str, Failure | None]:
        """-> ("ok" | "rejected", failure or None). Never raises."""
        try:
            parsed = self.parse_feed(body, feed=feed, url="https://fuzz.example.org/feed.xml", content_type=content_type, now=NOW)
        except self.FeedParseError as exc:
            message = str(exc)
            if not message or UNSAFE_TEXT.search(message):
                return "rejected", Failure("violation", "unsafe FeedParseError message", repr(message[:300]))
            return "rejected", None
        except CaseTimeout:
            return "rejected", Failure("crash", "hang in parse_feed", f"over {CASE_TIME_LIMIT} s")
        except Exception as exc:  # noqa: BLE001 - that is what we are looking for
            return "rejected", Failure("crash", _signature(exc, "parse_feed"), traceback.format_exc())
        try:
            pairs = []
            for item in parsed.items:
                problem = _item_problem(item)
                if problem:
                    return "ok", Failure("violation", problem, repr(item)[:2000])
                verdict = self.classifier.classify(item.title, item.summary)
                if self.classifier.classify(item.title, item.summary) != verdict:
                    return "ok", Failure("violation", "classification not deterministic", repr(item)[:2000])
                pairs.append((item, verdict))
            for text in (parsed.title, parsed.warning or ""):
                if UNSAFE_TEXT.search(text) or SECRET in text:
                    return "ok", Failure("violation", "unsafe feed title/warning", repr(text[:300]))
            if store and pairs:
                self._store().upsert_items(feed, pairs)
        except CaseTimeout:
            return "ok", Failure("crash", "hang in classify/store", f"over {CASE_TIME_LIMIT} s")
        except Exception as exc:  # noqa: BLE001
            return "ok", Failure("crash", _signature(exc, "classify/store"), traceback.format_exc())
        return "ok", None


def _item_problem(item) -> str | None:
    for name in ("title", "summary", "author", "key"):
        value = getattr(item, name)
        if not isinstance(value, str):
            return f"{name} is not a str"
        if name != "key" and UNSAFE_TEXT.search(value):
            return f"control character in {name}"
        if SECRET in value:
            return f"local file content (XXE) in {name}"
    if item.link and not re.match(r"https?://", item.link, re.I):
        return "unsafe link"
    if item.link and UNSAFE_TEXT.search(item.link):
        return "control character in link"
    if item.published.tzinfo is None:
        return "naive published time"
    return None


def _signature(exc: BaseException, stage: str) -> str:
    """Exception type + the innermost frame in our code or the library: one bug, one signature."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f"{os.sep}tui{os.sep}" in f.filename]
    where = (ours or frames or [None])[-1]
    place = f"tui/{Path(where.filename).name}:{where.lineno}" if ours else (
        f"{Path(where.filename).name}:{where.lineno}" if where else "?")
    return f"{stage}: {type(exc).__name__} at {place}"


# --- minimising and saving -----------------------------------------------------


def minimise(runner: Runner, body: bytes, content_type: str | None, signature: str, budget: int = 400) -> bytes:
    """Delta-debugging lite: drop chunks while the same failure signature reproduces."""

    def same(candidate: bytes) -> bool:
        _, failure = _timed(runner, candidate, content_type, "fuzz-min", store=False)
        return failure is not None and failure.signature == signature

    tries = 0
    chunk = max(1, len(body) // 2)
    while chunk >= 1 and tries < budget:
        i = 0
        shrunk = False
        while i < len(body) and tries < budget:
            candidate = body[:i] + body[i + chunk :]
            tries += 1
            if candidate != body and same(candidate):
                body = candidate
                shrunk = True
            else:
                i += chunk
        if not shrunk:
            chunk //= 2
    return body


def _timed(runner: Runner, body: bytes, content_type, feed, *, store=True):
    signal.alarm(CASE_TIME_LIMIT)
    try:
        return runner.run(body, content_type, feed, store=store)
    finally:
        signal.alarm(0)


def _on_alarm(signum, frame):
    raise CaseTimeout()


def save(out: Path, failure: Failure, body: bytes, minimal: bytes, content_type, mutations, case: int) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    tag = hashlib.sha1(failure.signature.encode()).hexdigest()[:10]
    (out / f"{tag}.min.xml").write_bytes(minimal)
    (out / f"{tag}.orig.xml").write_bytes(body)
    (out / f"{tag}.json").write_text(
        json.dumps(
            {"case": case, "kind": failure.kind, "signature": failure.signature, "content_type": content_type,
             "mutations": mutations, "detail": failure.detail[-4000:], "min_bytes": len(minimal), "orig_bytes": len(body)},
            indent=2,
        )
    )
    return out / f"{tag}.json"


# --- main ----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("fuzz-failures"))
    parser.add_argument("--report", type=float, default=30.0, help="seconds between progress lines")
    parser.add_argument("--rotate", type=int, default=5000, help="start a new database every N cases")
    args = parser.parse_args(argv)

    signal.signal(signal.SIGALRM, _on_alarm)
    rng = random.Random(args.seed)
    failures: dict[str, dict] = {}
    counts = {"ok": 0, "rejected": 0, "items": 0, "slow": 0}
    started = last_report = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="talkwatch-fuzz-") as tmp:
        secret_path = Path(tmp) / "secret.txt"
        secret_path.write_text(SECRET + "\n")
        all_seeds = seeds(str(secret_path))
        runner = Runner(Path(tmp), args.rotate)
        try:
            for case in range(1, args.cases + 1):
                body, content_type, mutations = make_case(rng, all_seeds)
                t0 = time.perf_counter()
                outcome, failure = _timed(runner, body, content_type, runner.feed_names[case % len(runner.feed_names)])
                if time.perf_counter() - t0 > SLOW_CASE:
                    counts["slow"] += 1
                counts[outcome] += 1
                if failure is not None:
                    entry = failures.get(failure.signature)
                    if entry is None:
                        minimal = minimise(runner, body, content_type, failure.signature)
                        path = save(args.out, failure, body, minimal, content_type, mutations, case)
                        failures[failure.signature] = {"kind": failure.kind, "count": 1, "first_case": case, "saved": str(path)}
                        print(f"case {case}: NEW {failure.kind}: {failure.signature} -> {path}", flush=True)
                    else:
                        entry["count"] += 1
                now = time.perf_counter()
                if now - last_report >= args.report:
                    last_report = now
                    rate = case / (now - started)
                    print(f"{case} cases, {rate:.0f}/s, {counts['ok']} parsed, {counts['rejected']} rejected, "
                          f"{len(failures)} distinct failures", flush=True)
        finally:
            runner.close()
    elapsed = time.perf_counter() - started
    summary = {
        "cases": args.cases,
        "seconds": round(elapsed, 1),
        "cases_per_s": round(args.cases / elapsed, 1),
        "parsed": counts["ok"],
        "rejected_with_FeedParseError": counts["rejected"],
        "slow_cases_over_1s": counts["slow"],
        "crashes": sum(f["count"] for f in failures.values() if f["kind"] == "crash"),
        "violations": sum(f["count"] for f in failures.values() if f["kind"] == "violation"),
        "distinct_failures": failures,
        "seed": args.seed,
    }
    print(json.dumps(summary), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
