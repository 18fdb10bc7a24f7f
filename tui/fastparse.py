"""A fast path for ``tui.parse.parse_feed``: plain, well-formed RSS 2.0, RSS 1.0
(RDF) and Atom 1.0 read with the stdlib's C XML parser.

feedparser costs ~35 ms of CPU per 50-item feed here, expat + ElementTree well
under 1 ms; a cold poll of 200 feeds spent seconds in feedparser alone. This
module produces exactly the Items the feedparser path would, or declines
(returns None) and lets feedparser, with its leniency and hardening, decide.

How "exactly" is kept: every value is taken the way feedparser's strict (SAX)
parser would take it -- element names mapped through feedparser's own namespace
table and lowercased, its text post-processing (strip, the utf-8-read-as-latin-1
repair, the cp1252 remap), its link/guid/author rules -- and then handed to
``tui.parse.make_item``, the same normalisation the feedparser path uses. Where
feedparser's behaviour depends on element order, duplicates or state leaking
between elements (two titles, two summaries, xml:base below the root, content
nested in a title, an element of an unknown namespace, ...), we decline rather
than imitate. tests/test_fastparse.py compares both paths on a corpus and on
generated feeds.

Declined always: any DOCTYPE or ENTITY declaration (billion laughs and XXE go
through the hardened feedparser path), malformed XML, byte-order marks, an
encoding other than UTF-8/ASCII/Latin-1 or one where the HTTP charset and the
XML declaration disagree, a content type feedparser would call "not XML".
"""

from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from tui.parse import (
    FEED_TITLE_MAX, ParsedFeed, _ttl_seconds, clean_text, first_of_each_key, is_plain_url, make_item, struct_to_utc,
)

ATOM_NS = "http://www.w3.org/2005/Atom"
RSS1_NS = "http://purl.org/rss/1.0/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_ATOM_FEED = f"{{{ATOM_NS}}}feed"

_DECLARATIONS = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.I)
_XLINK = b"http://www.w3.org/1999/xlink"  # feedparser copies its xmlns declarations into attributes
_ACCEPTED_CODECS = {"utf-8", "ascii", "iso8859-1"}
_DECLARED_ENCODING = re.compile(rb"\sencoding\s*=\s*[\"']([^\"']*)[\"']")

# Element names (feedparser's, prefix_local) whose handlers feed the values we
# read. Each may appear at most once per entry, except links.
_TITLE = {"title", "dc_title"}
_SUMMARY = {"description", "dc_description", "summary", "abstract"}
_CONTENT = {"content", "content_encoded", "body", "xhtml_body", "fullitem"}
_ID = {"id", "guid"}
_PUBLISHED = {"pubdate", "published", "issued", "dcterms_issued"}
_UPDATED = {"updated", "modified", "lastbuilddate", "dc_date", "dcterms_modified"}
_CREATED = {"created", "dcterms_created"}
_AUTHOR = {"author", "managingeditor", "dc_creator", "dc_author"}
_AUTHOR_PARTS = {"name", "email", "uri", "url", "homepage"}

# Elements feedparser has a handler for, but whose handler touches none of the
# values we read (tags, enclosures, media thumbnails, ...): skipped, though
# their subtrees are still checked.
_HARMLESS = {
    "category", "keywords", "enclosure", "dc_subject", "rights", "copyright", "language", "dc_language",
    "media_group", "media_content", "media_thumbnail", "media_credit", "media_rating", "media_keywords",
    "media_category", "media_player", "media_restriction", "media_license",
}  # fmt: skip
# An unknown element is stored by feedparser under its own name; these names
# would collide with the entry keys parse.py reads.
_RESERVED = {"published_parsed", "updated_parsed", "created_parsed", "link", "links", "content", "summary", "id"}
# Element names that reshape the document (new entries, new feed context).
_STRUCTURAL = {"item", "entry", "channel", "feed", "rss", "rdf_rdf", "source", "image", "textinput"}

_TEXT_TYPES = {"text/plain", "text/html"}

# The two shapes nearly every feed uses, parsed here in a few microseconds;
# anything else (or anything these reject) goes to feedparser's date parser.
_RFC822 = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4})"
    r" (\d{2}):(\d{2}):(\d{2}) (?:([+-])(\d{2})(\d{2})|GMT|UTC|UT|Z)\Z"
)
_MONTHS = {name: n for n, name in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})\Z")
_URI_FIXER = re.compile("^([A-Za-z][A-Za-z0-9+-.]*://)(/*)(.*?)")  # feedparser.urls._urifixer


class _Decline(Exception):
    """The document is outside what the fast path reproduces exactly."""


# --- feedparser's pieces, loaded once (feedparser is needed for the fallback anyway) ---


@lru_cache(maxsize=1)
def _fp():
    import feedparser.api
    import feedparser.datetimes
    import feedparser.encodings
    import feedparser.html
    import feedparser.mixin
    import feedparser.urls

    mixin = feedparser.mixin._FeedParserMixin
    handlers = frozenset(
        name[len(prefix) :] for name in dir(feedparser.api.StrictFeedParser) for prefix in ("_start_", "_end_") if name.startswith(prefix)
    )
    return {
        "namespaces": {uri.lower(): prefix for uri, prefix in mixin.namespaces.items()},
        "handlers": handlers,
        "cp1252": feedparser.html._cp1252,
        "urljoin": feedparser.urls._urljoin,
        "safe_absolute": feedparser.urls.make_safe_absolute_uri,
        "parse_date": feedparser.datetimes._parse_date,
        "content_type": feedparser.encodings.parse_content_type,
        "xml_encoding": feedparser.encodings.RE_XML_PI_ENCODING,
        "map_type": mixin.map_content_type,
        "enforce_href": mixin._enforce_href,
    }


@lru_cache(maxsize=512)
def _fp_name(tag: str) -> str | None:
    """feedparser's name for an element ("title", "dc_date", "content_encoded"),
    or None for a namespace it does not know (it would then use the document's
    own prefix, which ElementTree does not keep)."""
    if tag[:1] == "{":
        uri, _, local = tag[1:].partition("}")
    else:
        uri, local = "", tag
    uri = uri.lower()
    if "backend.userland.com/rss" in uri:
        uri = "http://backend.userland.com/rss"
    prefix = _fp()["namespaces"].get(uri)
    if prefix is None:
        return None
    return f"{prefix.lower()}_{local.lower()}" if prefix else local.lower()


@lru_cache(maxsize=256)
def _fp_attr_name(name: str) -> str | None:
    if name[:1] != "{":
        return name.lower()
    uri, _, local = name[1:].partition("}")
    prefix = _fp()["namespaces"].get(uri.lower())
    if prefix is None:
        return None  # feedparser would also file it under its bare name
    return f"{prefix}:{local}".lower() if prefix else local.lower()


def _attrs(el: ET.Element) -> dict[str, str]:
    if not el.attrib:
        return {}
    out = {}
    for name, value in el.attrib.items():
        key = _fp_attr_name(name)
        if key is None:
            raise _Decline
        out[key] = value.lower() if key in ("rel", "type") else value
    return out


def _text(value: str | None) -> str:
    """feedparser's post-processing of element text (mixin.pop)."""
    out = (value or "").strip()
    if not out.isascii():
        try:  # feedparser's repair of UTF-8 that was read as Latin-1
            out = out.encode("iso-8859-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
        out = out.translate(_fp()["cp1252"])
    return out


def _resolved(value: str, base: str) -> str:
    if not value or is_plain_url(value):
        return value
    if not base:  # urljoin("", x) is x: only feedparser's "scheme:///" repair applies
        match = _URI_FIXER.match(value) if "://" in value else None
        return value[: match.end(1)] + value[match.end(2) :] if match else value
    return _fp()["urljoin"](base, value)


def _leaf_text(el: ET.Element) -> str | None:
    if len(el):
        raise _Decline  # markup inside a text element: feedparser rebuilds it as text
    return el.text


def _check_text_type(attrs: dict[str, str]) -> bool:
    """True for inline XHTML; declines what feedparser would base64-decode or fetch."""
    kind = attrs.get("type")
    if attrs.get("mode") == "base64" or "src" in attrs:
        raise _Decline
    if kind is None:
        return False
    kind = _fp()["map_type"](kind)
    if kind == "application/xhtml+xml":
        return True
    if kind not in _TEXT_TYPES:
        raise _Decline
    return False


def _content_text(el: ET.Element, attrs: dict[str, str], atom: bool) -> str:
    if attrs and _check_text_type(attrs):
        if not atom:
            raise _Decline
        return _text(_xhtml_markup(el))
    return _text(_leaf_text(el))


def _xhtml_markup(el: ET.Element) -> str:
    """Inline XHTML as feedparser rebuilds it: text escaped, tags and
    attributes re-serialised, a <div> wrapping everything removed."""
    from xml.sax.saxutils import escape

    pieces: list[str] = []
    _add_text(pieces, el.text, escape)
    for child in el:
        _xhtml_element(child, pieces, escape)
        _add_text(pieces, child.tail, escape)
    # feedparser's mixin.pop for Atom 1.0 XHTML, step by step: the strip() that
    # follows sees what this leaves at the ends (a leading "\x85" is whitespace).
    while len(pieces) > 1 and not pieces[-1].strip():
        del pieces[-1]
    while len(pieces) > 1 and not pieces[0].strip():
        del pieces[0]
    if pieces and (pieces[0] == "<div>" or pieces[0].startswith("<div ")) and pieces[-1] == "</div>":
        depth = 0
        for piece in pieces[:-1]:
            if piece.startswith("</"):
                depth -= 1
                if depth == 0:
                    break
            elif piece.startswith("<") and not piece.endswith("/>"):
                depth += 1
        else:
            pieces = pieces[1:-1]
    return "".join(pieces)


_QUOTE = {'"': "&quot;"}


def _add_text(pieces: list[str], text: str | None, escape) -> None:
    # One piece per run of text: feedparser gets it in chunks, which only
    # matters above for all-whitespace runs, and those are removed either way.
    if text:
        pieces.append(escape(text))


def _xhtml_element(el: ET.Element, pieces: list[str], escape) -> None:
    name = _fp_name(el.tag)
    if name is None or name in _fp()["handlers"]:
        raise _Decline  # feedparser runs handlers on end tags, even inside content (<xhtml:body>, <title>)
    attrs = _attrs(el)
    if "xml:base" in attrs or "base" in attrs or any(":" in key and not key.startswith("xml:") for key in attrs):
        raise _Decline  # feedparser would also list the document's own prefix, which ElementTree drops
    local = el.tag.rpartition("}")[2].lower()
    if local in ("svg", "math"):
        raise _Decline
    # Attributes as feedparser's strattrs writes them: they count towards the
    # length clean_text reads (a huge attribute can push text past its cap).
    pieces.append(f"<{local}" + "".join(f' {key}="{escape(value, _QUOTE)}"' for key, value in attrs.items()) + ">")
    _add_text(pieces, el.text, escape)
    for child in el:
        _xhtml_element(child, pieces, escape)
        _add_text(pieces, child.tail, escape)
    pieces.append(f"</{local}>")


def _check_subtree(el: ET.Element, forbidden: frozenset[str] | set[str]) -> None:
    """Elements we skip: nothing under them may reach the values we read."""
    for child in el.iter():
        name = _fp_name(child.tag)
        if name is None or name in forbidden:
            raise _Decline
        _attrs(child)


# --- dates --------------------------------------------------------------------------


def parse_date(text: str) -> datetime | None:
    """The instant feedparser's date parser would give, in UTC, whole seconds."""
    if not text:
        return None
    try:
        match = _RFC822.match(text)
        if match:
            day, month, year, hour, minute, second, sign, zone_h, zone_m = match.groups()
            offset = 0 if sign is None else (int(zone_h) * 60 + int(zone_m)) * (-1 if sign == "-" else 1)
            if (sign != "-" or offset) and (zone_m is None or int(zone_m) < 60):  # "-0000": zone unknown
                when = datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=timezone.utc)
                return when - timedelta(minutes=offset)
        elif _RFC3339.match(text):
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return when.astimezone(timezone.utc).replace(microsecond=0)
    except (ValueError, OverflowError):
        pass
    parsed = _fp()["parse_date"](text)
    return struct_to_utc(parsed) if parsed else None


# --- entries ------------------------------------------------------------------------


_KIND = {
    **dict.fromkeys(_TITLE, "title"),
    **dict.fromkeys(_SUMMARY, "summary"),
    **dict.fromkeys(_CONTENT, "content"),
    **dict.fromkeys(_ID, "id"),
    **dict.fromkeys(_AUTHOR, "author"),
    **dict.fromkeys(_PUBLISHED, "date0"),
    **dict.fromkeys(_UPDATED, "date1"),
    **dict.fromkeys(_CREATED, "date2"),
    "link": "link",
}
_QUERY_ENTITY = re.compile("&([A-Za-z0-9_]+);")
_TEXT_KINDS = frozenset({"title", "summary", "content"})
_DATE_KINDS = frozenset({"date0", "date1", "date2"})


@lru_cache(maxsize=512)
def _tag_kind(tag: str) -> tuple[str | None, str | None]:
    """(feedparser's name, the value it fills) of an element tag; one lookup per child."""
    name = _fp_name(tag)
    return name, _KIND.get(name)


def _entry_values(el: ET.Element, base: str, about: str | None, atom: bool) -> dict:
    """The raw values feedparser would store for one item/entry."""
    fp = _fp()
    values: dict = {}
    if about is not None:
        values["id"] = about
    for child in el:
        name, kind = _tag_kind(child.tag)
        if name is None:
            raise _Decline
        if child.attrib:
            attrs = _attrs(child)
            if "xml:base" in attrs or "base" in attrs:
                raise _Decline
        else:
            attrs = {}
        if kind is not None and kind != "link":
            if kind in values and (kind != "id" or about is None or "_guid" in values):
                raise _Decline  # feedparser's result would depend on order and depth
            if kind == "id":
                values["_guid"] = True
        if kind in _TEXT_KINDS:
            values[kind] = _content_text(child, attrs, atom)
        elif kind in _DATE_KINDS:
            values[kind] = _text(_leaf_text(child))
        elif kind == "id":
            is_link = attrs.get("ispermalink", "true") == "true"
            value = _text(_leaf_text(child))
            if is_link:
                value = _resolved(value, base)
            values["id"] = value
            if is_link and "link" not in values:
                values["link"] = value
        elif kind == "link":
            attrs = fp["enforce_href"](attrs)
            if "href" in attrs:
                if len(child):
                    raise _Decline
                rel = attrs.get("rel", "alternate")
                media = attrs.get("type", "application/atom+xml" if rel == "self" else "text/html")
                if rel == "alternate" and fp["map_type"](media) in ("text/html", "application/xhtml+xml"):
                    href = attrs["href"]
                    values["link"] = href if is_plain_url(href) else fp["urljoin"](base, href)  # even href="": it becomes the base
            else:
                link = _resolved(_text(_leaf_text(child)), base)
                if "&" in link:
                    link = _QUERY_ENTITY.sub(r"&\g<1>", link.replace("&amp;", "&"))
                values["link"] = link
        elif kind == "author":
            values["author"] = _author(child, base)
        elif name == "source" and not len(child):
            pass  # RSS <source url="...">Wire</source> (Google News): fills entry["source"] only
        elif name in _HARMLESS or (name not in fp["handlers"] and name not in _RESERVED):
            if name in _STRUCTURAL:
                raise _Decline
            for sub in child:
                _check_subtree(sub, _SKIPPED_FORBIDDEN)
        else:
            raise _Decline  # a handler we do not imitate (itunes:author, media:title, ...)
    when = None
    for kind in ("date0", "date1", "date2"):
        text = values.get(kind)
        if text:
            when = parse_date(text)
            if when is not None:
                break
    values["when"] = when
    return values


def _author(el: ET.Element, base: str) -> str:
    """feedparser's "author": the text, or for an Atom person "name (email)"."""
    if not len(el):
        return _text(el.text)
    detail: dict[str, str] = {}
    for part in el:
        name = _fp_name(part.tag)
        if name not in _AUTHOR_PARTS or len(part):
            raise _Decline
        _attrs(part)
        if name in ("name", "email"):
            detail[name] = (part.text or "").strip()  # pushed without text processing
        else:
            detail["href"] = part.text or ""
    name, email = detail.get("name"), detail.get("email")
    if name and email:
        return f"{name} ({email})"
    if name or email:
        return name or email
    # Only a uri: feedparser keeps the author element's own (stray) text.
    return _text("".join([el.text or ""] + [part.tail or "" for part in el]))


# Names that may not appear anywhere under a skipped element.
_SKIPPED_FORBIDDEN = (
    _TITLE | _SUMMARY | _CONTENT | _ID | _PUBLISHED | _UPDATED | _CREATED | _AUTHOR | _AUTHOR_PARTS | _STRUCTURAL | _RESERVED
    | {"media_title", "media_description", "itunes_author", "itunes_summary", "ttl"}
)  # fmt: skip


# --- documents ----------------------------------------------------------------------


def _document_encoding(body: bytes, content_type: str | None) -> bool:
    """True when feedparser would decode the body exactly as expat will, without complaint."""
    fp = _fp()
    if body[:1] != b"<" or b"\x00" in body:
        return False  # BOMs, UTF-16/32 (with or without a BOM), junk: feedparser's sniffing decides
    xml_encoding = ""
    if body.startswith(b"<?"):
        end = body.find(b"?>", 0, 512)
        if not body.startswith(b"<?xml ") or end < 0 or b"\n" in body[:end] or b"\r" in body[:end]:
            return False  # feedparser only reads a one-line declaration; expat reads any
        declaration = body[: end + 2]
        match = fp["xml_encoding"].match(declaration)
        if match:
            xml_encoding = match.group(1).decode("ascii", "replace").lower()
        # What expat will read; feedparser's regex misses e.g. 'encoding = "utf-16"'.
        for_expat = _DECLARED_ENCODING.search(declaration)
        if (for_expat.group(1).decode("ascii", "replace").lower() if for_expat else "") != xml_encoding:
            return False
    media, charset = fp["content_type"](content_type or "application/xml")
    if media in ("application/xml", "application/xml-dtd", "application/xml-external-parsed-entity") or (
        media.startswith("application/") and media.endswith("+xml")
    ):
        declared = charset or xml_encoding or "utf-8"
    elif media in ("text/xml", "text/xml-external-parsed-entity") or (media.startswith("text/") and media.endswith("+xml")):
        declared = charset or "us-ascii"
    else:
        return False  # feedparser: "not an XML media type"
    try:
        used = codecs.lookup(declared).name
        parsed_as = codecs.lookup(xml_encoding or "utf-8").name  # what expat follows
    except LookupError:
        return False
    if used != parsed_as or used not in _ACCEPTED_CODECS:
        return False
    return used != "ascii" or body.isascii()


def _root_base(root: ET.Element) -> str:
    attrs = _attrs(root)
    raw = attrs.get("xml:base", attrs.get("base"))
    return _fp()["urljoin"]("", raw) if raw else ""


def _inner_base(base: str, depth: int) -> str:
    # feedparser re-joins the base with itself at every element it enters.
    for _ in range(depth):
        if not base:
            break
        base = _fp()["safe_absolute"](base, base) or base
    return base


def _feed_title(parent: ET.Element) -> str | None:
    title = None
    for child in parent:
        if _fp_name(child.tag) in _TITLE:
            if title is not None:
                raise _Decline
            if _check_text_type(_attrs(child)):
                raise _Decline  # an XHTML feed title: rare, left to feedparser
            title = _text(_leaf_text(child))
    return title


def _feed_ttl(parent: ET.Element) -> str | None:
    ttl = None
    for child in parent:
        if _fp_name(child.tag) == "ttl":
            ttl = _text(_leaf_text(child))  # feedparser keeps the last one
    return ttl


def _check_feed_level(parent: ET.Element, entry_name: str) -> None:
    """Feed-level elements only fill the feed's own fields; make sure none of
    them hides an entry, a second title or a context switch."""
    for child in parent:
        name = _fp_name(child.tag)
        if name is None:
            raise _Decline
        attrs = _attrs(child)
        if "xml:base" in attrs or "base" in attrs:
            raise _Decline
        if name == entry_name or name in _TITLE or name == "ttl":
            continue
        if name in ("image", "textinput"):
            for sub in child:
                _check_subtree(sub, _STRUCTURAL | {"ttl"})
            continue
        if name in _STRUCTURAL:
            raise _Decline
        for sub in child:
            _check_subtree(sub, _STRUCTURAL | _TITLE | {"ttl", "media_title"})


def _parse_tree(root: ET.Element) -> tuple[list[ET.Element], str, str | None, str | None, bool]:
    """(entries, base, feed title, ttl, is_rdf) for an accepted document."""
    base = _root_base(root)
    if root.tag == "rss":
        channels = [child for child in root if _fp_name(child.tag) == "channel"]
        if len(channels) != 1 or root.text and root.text.strip():
            raise _Decline
        for child in root:
            if child is not channels[0]:
                _check_subtree(child, _STRUCTURAL | _SKIPPED_FORBIDDEN)
        channel = channels[0]
        if _attrs(channel):
            raise _Decline
        _check_feed_level(channel, "item")
        entries = [child for child in channel if _fp_name(child.tag) == "item"]
        return entries, _inner_base(base, 2), _feed_title(channel), _feed_ttl(channel), False
    if root.tag == f"{{{RDF_NS}}}RDF":
        channels = [child for child in root if child.tag == f"{{{RSS1_NS}}}channel"]
        if len(channels) != 1:
            raise _Decline
        channel = channels[0]
        for child in root:
            name = _fp_name(child.tag)
            if child is channel or name == "item" and child.tag == f"{{{RSS1_NS}}}item":
                continue
            if name in ("image", "textinput"):
                _check_subtree(child, _STRUCTURAL - {"image", "textinput"} | {"ttl"})
            else:
                _check_subtree(child, _STRUCTURAL | _SKIPPED_FORBIDDEN)
        if set(_attrs(channel)) - {"rdf:about", "xml:lang"}:
            raise _Decline
        _check_feed_level(channel, "")
        entries = [child for child in root if child.tag == f"{{{RSS1_NS}}}item"]
        return entries, _inner_base(base, 1), _feed_title(channel), _feed_ttl(channel), True
    if root.tag == f"{{{ATOM_NS}}}feed":
        _check_feed_level(root, "entry")
        entries = [child for child in root if child.tag == f"{{{ATOM_NS}}}entry"]
        if len(entries) != sum(1 for child in root if _fp_name(child.tag) == "entry"):
            raise _Decline
        return entries, _inner_base(base, 1), _feed_title(root), _feed_ttl(root), False
    raise _Decline


def parse_fast(body: bytes, *, feed: str, url: str, content_type: str | None, now: datetime) -> ParsedFeed | None:
    """The feed as ``parse_feed`` would give it, or None to let feedparser decide."""
    if _DECLARATIONS.search(body) or _XLINK in body or not _document_encoding(body, content_type):
        return None
    parser = ET.XMLParser()
    try:
        parser.feed(body)
        root = parser.close()
    except (ET.ParseError, ValueError):  # ValueError: an encoding expat cannot do
        return None
    try:
        entries, base, title, ttl, is_rdf = _parse_tree(root)
        rows = []
        for el in entries:
            attrs = _attrs(el)
            allowed = {"xml:lang", "lang", "rdf:about"} if is_rdf else {"xml:lang", "lang"}
            if set(attrs) - allowed:
                raise _Decline  # CDF "href"/"lastmod" attributes, xml:base on an entry, ...
            rows.append(_entry_values(el, _inner_base(base, 1), attrs.get("rdf:about"), root.tag == _ATOM_FEED))
    except _Decline:
        return None
    except Exception:  # noqa: BLE001 -- a surprise here (deep nesting, ...) is feedparser's to judge, not a failed feed
        return None
    items = first_of_each_key(
        make_item(
            feed=feed,
            feed_url=url,
            now=now,
            title=values.get("title"),
            summary=values.get("summary") or values.get("content") or "",
            link=values.get("link"),
            raw_id=values.get("id"),
            when=values["when"],
            author=values.get("author"),
        )
        for values in rows
    )
    return ParsedFeed(
        items=items,
        title=clean_text(title, max_len=FEED_TITLE_MAX),
        warning=None,
        ttl_seconds=_ttl_seconds({"ttl": ttl} if ttl is not None else {}),
    )
