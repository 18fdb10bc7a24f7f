"""Property tests on the normaliser and the classifier, and a short feed-level fuzz run.

Any string at all, including terminal escapes, bidi overrides, lone surrogates
and markup, must come out of ``clean_text`` as plain text without control
characters, out of ``safe_link`` as "" or an http(s) URL, and out of the
classifier as a well-formed, deterministic verdict. Nothing may raise.

The feed-level part runs a few hundred cases of ``bench/fuzz_feeds.py`` (the
long run is that script: ``python bench/fuzz_feeds.py --cases 100000``).
"""

from __future__ import annotations

import importlib.util
import math
import random
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.classify import Classifier, classify
from tui.models import SIGNALS
from tui.parse import FeedParseError, clean_text, parse_feed, safe_link

CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b-\u200f\u2060\ufeff\ufff9-\ufffb]")
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)

# Pieces that hostile feeds actually carry; hypothesis glues them to random text.
NASTY = [
    "\x1b[31m", "\x1b[0m", "\x1b]52;c;ZXZpbA==\x07", "\x1b]8;;https://evil/\x1b\\", "\x1b]0;title\x1b\\", "\x1bP1$r\x1b\\",
    "\x9b2J", "\x9d0;x\x9c", "\x1b", "\x07", "\x00", "\x7f", "\u202e", "\u202d", "\u2066", "\u2069", "\u200f",
    "\ufeff", "\u200b", "\u2028", "\r\n", "\t", "&#27;", "&#x1b;[31m", "&#8238;", "&#x9b;", "&#0;", "&amp;#27;",
    "&lt;script&gt;", "<script>alert(1)</script>", "<style>x{}</style>", "<!-- c -->", "<![CDATA[x]]>",
    "[bold red]", "[/]", "[@click=app.quit]", "[link=https://evil]", "<b>", "</p>", "<a href='javascript:x'>",
    "&nbsp;", "&amp;", "&#xD800;", "&#1114112;", "&bogus;", "\ud800", "\udfff", "\U0001f600", "e\u0301",
    "javascript:", "https://", "http://[::1]/", "//]", "file:///etc/passwd", "data:,x", " ", "\u00a0",
]
hostile_text = st.lists(st.one_of(st.text(max_size=40), st.sampled_from(NASTY)), max_size=25).map("".join)
QUICK = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@QUICK
@given(hostile_text, st.integers(min_value=1, max_value=5000))
def test_clean_text_is_plain_bounded_and_deterministic(value, max_len):
    cleaned = clean_text(value, max_len=max_len)
    assert isinstance(cleaned, str)
    assert not CONTROL.search(cleaned), repr(cleaned)
    assert len(cleaned) <= max_len
    assert cleaned == cleaned.strip() and "  " not in cleaned
    assert clean_text(value, max_len=max_len) == cleaned


@QUICK
@given(hostile_text)
def test_clean_text_output_has_no_tags_or_escapes_left(value):
    cleaned = clean_text(value)
    assert "\x1b" not in cleaned
    assert not re.search(r"<\s*(script|style)\b", cleaned, re.I), repr(cleaned)


@QUICK
@given(st.one_of(hostile_text, st.builds(lambda a, b: a + b, st.sampled_from(["http://", "https://", "HTTPS://", "javascript:", "data:", "file:", "ftp://", "//"]), hostile_text)))
def test_safe_link_is_empty_or_a_clean_web_url(value):
    link = safe_link(value)
    assert link == "" or re.match(r"(?i)https?://[^\s]+$", link), repr(link)
    assert not CONTROL.search(link)
    assert safe_link(value) == link


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_text, hostile_text)
def test_classifier_never_raises_and_is_deterministic(title, summary):
    verdict = classify(title, summary)
    assert verdict == classify(title, summary)
    assert verdict == Classifier().classify(title, summary)
    assert verdict.signal in SIGNALS
    assert verdict.relevant or verdict.signal == "none"
    assert isinstance(verdict.score, float) and math.isfinite(verdict.score)
    for name in (*verdict.matched, *verdict.actors, *verdict.places):
        assert isinstance(name, str) and not CONTROL.search(name)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(hostile_text, hostile_text, hostile_text), min_size=1, max_size=5))
def test_items_parsed_from_hostile_text_are_plain(entries):
    """Hostile strings placed in a well-formed feed (XML-escaped, as a publisher's CMS would)."""

    def xml(text: str) -> str:
        text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates cannot be sent
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        # Characters XML 1.0 forbids travel as numeric references, which feedparser decodes.
        return "".join(f"&#{ord(c)};" if (ord(c) < 32 and c not in "\t\n\r") or 0xFFFE <= ord(c) <= 0xFFFF else c for c in text)

    body = "".join(
        f"<item><guid>g{i}</guid><title>{xml(t)}</title><description>{xml(s)}</description><link>{xml(l)}</link></item>"
        for i, (t, s, l) in enumerate(entries)
    )
    doc = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>{body}</channel></rss>'
    try:
        parsed = parse_feed(doc.encode("utf-8"), feed="f", url="https://f.example/rss", content_type="application/rss+xml", now=NOW)
    except FeedParseError:
        return
    for item in parsed.items:
        for text in (item.title, item.summary, item.author):
            assert not CONTROL.search(text), repr(text)
        assert item.link == "" or re.match(r"(?i)https?://\S+$", item.link)
    assert parsed.warning is None or not CONTROL.search(parsed.warning)


def test_bozo_warning_carries_no_escape_sequences():
    """Found by bench/fuzz_feeds.py: the declared encoding is echoed into the feed's
    warning, which is stored and shown: an OSC 52 clipboard write must not survive."""
    doc = (
        '<?xml version="1.0" encoding="\x1b]52;c;ZXZpbA==\x07utf-8"?><rss version="2.0"><channel><title>t</title>'
        "<item><guid>a</guid><title>Hello</title></item></channel></rss>"
    ).encode("utf-16")
    parsed = parse_feed(doc, feed="f", url="https://f.example/rss", content_type="application/rss+xml", now=NOW)
    assert [i.title for i in parsed.items] == ["Hello"]
    assert parsed.warning is None or not CONTROL.search(parsed.warning), repr(parsed.warning)


def test_link_that_breaks_urlsplit_does_not_lose_the_feed():
    """Found by bench/fuzz_feeds.py: "//]" made urljoin raise ValueError and the whole feed was lost."""
    doc = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<item><guid>a</guid><title>Kept</title><link>//]</link></item>"
        b"<item><guid>b</guid><title>Also kept</title><link>http://[::1/x</link></item></channel></rss>"
    )
    parsed = parse_feed(doc, feed="f", url="https://f.example/rss", content_type="application/rss+xml", now=NOW)
    assert [(i.title, i.link) for i in parsed.items] == [("Kept", ""), ("Also kept", "")]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le"])
def test_feed_in_a_multibyte_encoding_without_bom_parses(codec):
    """Found by bench/fuzz_feeds.py in tui/fastparse.py: expat's ValueError/LookupError escaped parse_feed."""
    doc = (
        f'<?xml version="1.0" encoding="{codec}"?><rss version="2.0"><channel><title>t</title>'
        "<item><guid>a</guid><title>Talks in Doha</title></item></channel></rss>"
    ).encode(codec)
    parsed = parse_feed(doc, feed="f", url="https://f.example/rss", content_type="application/rss+xml", now=NOW)
    assert [i.title for i in parsed.items] == ["Talks in Doha"]


def test_unknown_declared_encoding_is_a_feed_parse_error_or_items():
    doc = (
        '<?xml version="1.0" encoding="bogus-enc"?><rss version="2.0"><channel><title>t</title>'
        "<item><guid>a</guid><title>Talks in Doha</title></item></channel></rss>"
    ).encode("utf-16-le")
    try:
        parse_feed(doc, feed="f", url="https://f.example/rss", content_type=None, now=NOW)
    except FeedParseError:
        pass


# --- feed-level fuzz, short -----------------------------------------------------------------


def _load_fuzzer():
    path = Path(__file__).resolve().parent.parent / "bench" / "fuzz_feeds.py"
    spec = importlib.util.spec_from_file_location("fuzz_feeds", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fuzz_feeds", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_feed_level_fuzz_short_run(tmp_path, seed):
    """100 mutated documents per seed through parse -> classify -> store: no crash, no violation."""
    fuzz = _load_fuzzer()
    secret = tmp_path / "secret.txt"
    secret.write_text(fuzz.SECRET + "\n")
    seeds = fuzz.seeds(str(secret))
    runner = fuzz.Runner(tmp_path, rotate_every=1000)
    rng = random.Random(seed)
    failures = []
    outcomes = {"ok": 0, "rejected": 0}
    try:
        for case in range(100):
            body, content_type, mutations = fuzz.make_case(rng, seeds)
            outcome, failure = runner.run(body, content_type, f"fuzz-{case % 7}")
            outcomes[outcome] += 1
            if failure is not None:
                failures.append((case, mutations, failure.signature, failure.detail[-600:]))
    finally:
        runner.close()
    assert not failures, failures[:3]
    # The mutations must leave most documents parseable, or the run tests only the error path.
    assert outcomes["ok"] > 30, outcomes
