"""One loopback feed server with a route per fault, for the reliability tests.

Built on tests/feedserver.py (same handler, same request log) with two
additions:

- *streamed* routes that generate a large body chunk by chunk, so a 50 MB
  response costs the test process nothing to serve (and, with no
  Content-Length, the client cannot refuse it up front: it has to cap the
  stream);
- *extra loopback addresses*: every fault gets its own host (127.0.0.2,
  127.0.0.3, ...), all answered by this one server. A real poller meets these
  faults on different sites, and per-host politeness (2 connections a host by
  default, Retry-After blocking a whole host) must not turn one bad site into
  a queue for the others.

``install_faults(server, secret_path)`` defines every route listed in issue 5 and
returns a ``Fault`` per feed saying what a correct poller must end up with.
"""

from __future__ import annotations

import functools
import json
import threading
import zlib
from dataclasses import dataclass, field

import pytest

try:
    from tests.feedserver import FeedServer, Route, _Handler, _Server
except ImportError:  # tests/ is on sys.path itself when it is not a package
    from feedserver import FeedServer, Route, _Handler, _Server

MiB = 1 << 20


@functools.lru_cache(maxsize=4)
def gzip_bomb(inflated_size: int) -> bytes:
    """A single gzip member of ~60 KB that inflates to `inflated_size` spaces
    (run-length strategy: as small as level 9, twice as fast to build)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31, 9, zlib.Z_RLE)
    block = b" " * MiB
    parts = [compressor.compress(block[: min(MiB, inflated_size - done)]) for done in range(0, inflated_size, MiB)]
    return b"".join(parts) + compressor.flush()


@dataclass
class StreamRoute(Route):
    """A 200 whose body is `total` bytes: `head`, then `filler` repeated, streamed."""

    head: bytes = b""
    filler: bytes = b" "
    total: int = 0
    declare_length: bool = False  # send Content-Length (else close-delimited)


class _HostileHandler(_Handler):
    def _answer(self, fs, route, request):
        if isinstance(route, StreamRoute):
            self._stream(fs, route)
            return
        super()._answer(fs, route, request)

    def _stream(self, fs, route: StreamRoute) -> None:
        self.send_response(200)
        self.send_header("Content-Type", route.content_type)
        if route.declare_length:
            self.send_header("Content-Length", str(route.total))
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        chunk = route.filler * max(1, (64 * 1024) // max(1, len(route.filler)))
        sent = 0
        try:
            self.wfile.write(route.head)
            sent = len(route.head)
            while sent < route.total and not fs.stopping.is_set():
                piece = chunk[: route.total - sent]
                self.wfile.write(piece)
                sent += len(piece)
        except OSError:
            pass  # the client hung up once it had enough: the point of the test
        self.close_connection = True


class HostileServer(FeedServer):
    """A FeedServer that also answers on further loopback addresses (one per fault)."""

    def __init__(self):
        super().__init__("127.0.0.1")
        self._httpd.RequestHandlerClass = _HostileHandler
        self._extra: list[tuple[_Server, threading.Thread]] = []
        self._next_octet = 2

    def new_host_base(self) -> str:
        """Start listening on the next loopback address; returns its base URL."""
        host = f"127.0.0.{self._next_octet}"
        self._next_octet += 1
        httpd = _Server((host, 0), _HostileHandler)
        httpd.feed_server = self
        thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), name=f"hostile:{host}", daemon=True)
        thread.start()
        self._extra.append((httpd, thread))
        return f"http://{host}:{httpd.server_address[1]}"

    def fault(self, path: str, route: Route, *, own_host: bool = True) -> str:
        """Install `route` at `path`; returns its URL, on a host of its own unless told otherwise."""
        self.routes[path] = route
        base = self.new_host_base() if own_host else self.base_url
        return base + path

    def stop(self) -> None:
        super().stop()
        for httpd, thread in self._extra:
            httpd.shutdown()
            httpd.server_close()
            thread.join(timeout=5)


@pytest.fixture
def hostile_server():
    server = HostileServer().start()
    try:
        yield server
    finally:
        server.stop()


# --- the faults ----------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One feed of the hostile cycle and what a correct poller makes of it.

    `good`: keys that must be stored, exactly once each. `maybe`: keys that may
    be stored (safe entries of a document that is also an error). `error`:
    None when the feed must succeed, else words of which one must appear in
    the feed's last_error (the message a person reads)."""

    name: str
    url: str
    good: frozenset[str] = frozenset()
    maybe: frozenset[str] = frozenset()
    error: tuple[str, ...] | None = None
    note: str = ""

    @property
    def expects_error(self) -> bool:
        return self.error is not None


def rss(items: list[dict], *, encoding_decl: str | None = "utf-8", extra_head: str = "") -> str:
    """An RSS 2.0 document (as text) from dicts with guid/title/summary/link keys."""
    decl = f'<?xml version="1.0" encoding="{encoding_decl}"?>' if encoding_decl else '<?xml version="1.0"?>'
    entries = "".join(
        "<item>"
        f"<guid isPermaLink=\"false\">{i['guid']}</guid>"
        f"<title>{i.get('title', '')}</title>"
        f"<description>{i.get('summary', '')}</description>"
        f"<link>{i.get('link', 'https://hostile.example.org/' + i['guid'])}</link>"
        "<pubDate>Sun, 01 Mar 2026 09:00:00 GMT</pubDate>"
        "</item>"
        for i in items
    )
    return f"{decl}{extra_head}<rss version=\"2.0\"><channel><title>Hostile</title><link>https://hostile.example.org/</link>{entries}</channel></rss>"


def _good(prefix: str, n: int = 2) -> list[dict]:
    return [{"guid": f"{prefix}-{i}", "title": f"{prefix} headline {i}", "summary": f"Story {i} from {prefix}."} for i in range(n)]


def _keys(items: list[dict]) -> frozenset[str]:
    return frozenset(i["guid"] for i in items)


# Titles a terminal or Textual must never interpret; every one must come out as plain text.
MARKUP_TITLES = {
    "mk-rich": "[bold red]BREAKING[/bold red] [link=https://evil.example]talks[/link]",
    "mk-click": "[@click=app.quit]Click here[/] for the deal text",
    "mk-ansi": "\x1b[31mRed\x1b[0m \x1b[2J\x1b[H cleared screen",
    "mk-osc52": "Copy me \x1b]52;c;cm0gLXJmIH4vKg==\x07 now",
    "mk-osc8": "\x1b]8;;https://evil.example/\x1b\\hidden link\x1b]8;;\x1b\\ text",
    "mk-bidi": "Deal \u202eenilno\u202c signed \u2066isolate\u2069",
    "mk-c1": "C1 \u009b2J csi and \u0085 nel",
}
# The literal text each must keep (markup is text, not commands).
MARKUP_LITERALS = {
    "mk-rich": "[bold red]BREAKING[/bold red]",
    "mk-click": "[@click=app.quit]Click here[/]",
}
UNSAFE_LINKS = {
    "lk-js": "javascript:alert(document.cookie)",
    "lk-file": "file:///etc/passwd",
    "lk-data": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "lk-userinfo": "https://bbc.co.uk@evil.example/",
}


def _xml_text(text: str) -> str:
    """Escape for XML and turn characters XML 1.0 forbids into numeric references
    (which feedparser still decodes), so the document stays well-formed."""
    out = []
    for ch in text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"):
        code = ord(ch)
        if (code < 0x20 and ch not in "\t\n\r") or 0x7F <= code <= 0x9F:
            out.append(f"&#{code};")
        else:
            out.append(ch)
    return "".join(out)


def install_faults(server: HostileServer, secret_path: str, *, big_items: int = 5000) -> dict[str, Fault]:
    faults: list[Fault] = []

    def add(name, path, route, *, good=(), maybe=(), error=None, own_host=True, note=""):
        url = server.fault(path, route, own_host=own_host)
        faults.append(Fault(name, url, frozenset(good), frozenset(maybe), error, note))
        return url

    # --- documents that are broken but carry entries ---------------------------
    items = _good("malformed", 3)
    body = rss(items).replace("<channel>", "<channel><bogus attr=unquoted>&nbsp; & stray", 1)
    add("malformed-xml", "/malformed.xml", Route(body=body.encode()), good=_keys(items))

    items = _good("truncated", 4)
    body = rss(items).encode()
    cut = body.index(b"truncated headline 3") + 5  # mid-title of the last item
    add("truncated-xml", "/truncated.xml", Route(body=body[:cut]), maybe=_keys(items),
        error=("malformed", "not a feed", "no RSS"), note="earlier entries may survive")

    items = _good("latin1", 2)
    items[0]["title"] = "Négociations à Doha"
    body = rss(items, encoding_decl="utf-8").encode("latin-1")  # declares utf-8, sends latin-1
    add("wrong-charset", "/wrong-charset.xml", Route(body=body, content_type="application/rss+xml; charset=utf-8"),
        good=_keys(items))

    items = _good("nocharset", 2)
    items[0]["title"] = "Переговоры в Каире"
    add("missing-charset", "/no-charset.xml",
        Route(body=rss(items, encoding_decl=None).encode("utf-8"), content_type="text/xml"), good=_keys(items))

    items = _good("badutf8", 2)
    body = rss(items).encode().replace(b"badutf8 headline 0", b"badutf8 \xff\xfe\xc3( headline 0 \xed\xa0\x80")
    add("invalid-utf8", "/invalid-utf8.xml", Route(body=body), good=_keys(items))

    # --- not feeds at all -----------------------------------------------------------
    add("html-page", "/page.html", Route(body=b"<!DOCTYPE html><html><head><title>Log in</title></head>"
                                         b"<body><form>Sign in to continue</form></body></html>",
                                         content_type="text/html; charset=utf-8"), error=("HTML",))
    add("empty-200", "/empty.xml", Route(body=b""), error=("empty",))
    add("json-body", "/feed.json", Route(body=json.dumps({"items": [{"title": "x"}]}).encode(),
                                        content_type="application/json"), error=("JSON",))

    # --- entity attacks ------------------------------------------------------------
    lol = "lol" * 4
    laughs = '<!ENTITY lol0 "' + lol + '">' + "".join(
        f'<!ENTITY lol{i} "' + f"&lol{i - 1};" * 10 + '">' for i in range(1, 10)
    )
    items = [{"guid": "laughs-0", "title": "&lol9;", "summary": "boom"}, {"guid": "laughs-1", "title": "Safe entry"}]
    body = rss(items, extra_head=f"<!DOCTYPE rss [{laughs}]>")
    add("billion-laughs", "/laughs.xml", Route(body=body.encode()), maybe=_keys(items),
        error=("malformed", "not a feed", "entit", "no RSS"), note="no expansion: error or safe entries")

    items = [{"guid": "xxe-0", "title": "&xxe;", "summary": "&xxe;"}, {"guid": "xxe-1", "title": "Safe xxe entry"}]
    body = rss(items, extra_head=f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret_path}">]>')
    add("xxe", "/xxe.xml", Route(body=body.encode()), maybe=_keys(items),
        error=("malformed", "not a feed", "entit", "no RSS"), note="no file read: error or safe entries")

    # --- size attacks --------------------------------------------------------------------
    head = rss(_good("huge", 1)).split("</channel>")[0].encode()
    add("50mb-undeclared", "/huge.xml", StreamRoute(head=head, filler=b"<!-- padding -->", total=50 * MiB),
        error=("larger than",))
    add("50mb-declared", "/huge-declared.xml",
        StreamRoute(head=head, filler=b" ", total=50 * MiB, declare_length=True), error=("larger than",))
    add("gzip-bomb", "/bomb.xml", Route(raw_gzip=gzip_bomb(32 * MiB)), error=("larger than",))

    # --- servers that stall or break -------------------------------------------------------
    add("slow-drip", "/drip.xml", Route(body=rss(_good("drip", 1)).encode(), drip=1.0), error=("timed out",))
    add("never-answers", "/hang.xml", Route(hang=True), error=("timed out",))
    add("connection-reset", "/reset.xml", Route(reset=True), error=("reset", "closed the connection", "connection lost"))

    # --- redirects and HTTP errors ---------------------------------------------------------
    items = _good("perm", 2)
    base = server.new_host_base()
    server.routes["/p1"] = Route(status=301, location=base + "/p2")
    server.routes["/p2"] = Route(status=301, location=base + "/p3")
    server.routes["/p3"] = Route(body=rss(items).encode())
    faults.append(Fault("301-chain", base + "/p1", _keys(items), error=None,
                        note="stored, flagged moved permanently"))

    items = _good("temp", 2)
    base = server.new_host_base()
    server.routes["/t1"] = Route(status=302, location=base + "/t2")
    server.routes["/t2"] = Route(status=302, location=base + "/t3")
    server.routes["/t3"] = Route(body=rss(items).encode())
    faults.append(Fault("302-chain", base + "/t1", _keys(items)))

    base = server.new_host_base()
    server.routes["/loop-a"] = Route(status=301, location=base + "/loop-b")
    server.routes["/loop-b"] = Route(status=302, location=base + "/loop-a")
    faults.append(Fault("redirect-loop", base + "/loop-a", error=("redirect loop", "too many redirects")))

    add("http-404", "/missing.xml", Route(status=404, body=b"nope"), error=("404 Not Found",))
    add("http-410", "/gone.xml", Route(status=410, body=b"gone"), error=("410 Gone",))
    add("http-429", "/busy.xml", Route(status=429, headers={"Retry-After": "120"}), error=("429",))
    add("http-500", "/broken.xml", Route(status=500, body=b"oops"), error=("500 Internal Server Error",))
    add("http-503", "/down.xml", Route(status=503, headers={"Retry-After": "60"}), error=("503 Service Unavailable",))

    # --- hostile text ---------------------------------------------------------------------
    markup = [
        {"guid": key, "title": _xml_text(title), "summary": _xml_text(f"Summary of {title}")}
        for key, title in MARKUP_TITLES.items()
    ]
    markup.append({"guid": "mk-long", "title": "Long " + "x" * 10_000, "summary": "y" * 50_000})
    markup.append({"guid": "mk-nul-ref", "title": "NUL&#0;byte and &#x1b;[31mescaped esc", "summary": "&#8238;rtl"})
    markup.append({"guid": "mk-html", "title": "&lt;script&gt;alert(1)&lt;/script&gt;Headline",
                   "summary": "<![CDATA[<img src=x onerror=alert(1)><b>bold</b> text]]>"})
    markup += [{"guid": key, "title": f"Unsafe link {key}", "link": _xml_text(link)} for key, link in UNSAFE_LINKS.items()]
    add("markup-and-escapes", "/markup.xml", Route(body=rss(markup).encode()), good=_keys(markup))

    nul = [{"guid": "nul-0", "title": "Raw NUL here"}, {"guid": "nul-1", "title": "Second raw NUL"}]
    body = rss(nul).encode().replace(b"NUL here", b"NUL \x00 here\x00").replace(b"raw NUL", b"raw \x00\x01\x1b NUL")
    add("raw-nul-bytes", "/nul.xml", Route(body=body), good=_keys(nul))

    # --- volume and identity ----------------------------------------------------------------
    big = [{"guid": f"big-{i}", "title": f"Item {i} of the big feed", "summary": f"Body {i}"} for i in range(big_items)]
    add("5000-items", "/big.xml", Route(body=rss(big).encode(), gzip=True), good=_keys(big))

    dup = _good("dup", 3)
    dup_body = rss(dup + [dict(dup[0], title="dup copy A"), dict(dup[1], title="dup copy B"), dup[2]])
    add("duplicate-guids", "/dup.xml", Route(body=dup_body.encode()), good=_keys(dup))

    changing = [{"guid": "chg-0", "title": "Talks: first version of the headline"}] + _good("chg-other", 1)
    add("guid-stays-title-changes", "/changing.xml", Route(body=rss(changing).encode(), etag='"v1"'),
        good=_keys(changing))

    return {f.name: f for f in faults}


def changed_title_body() -> bytes:
    """The second version of /changing.xml: same guid, new title."""
    return rss([{"guid": "chg-0", "title": "Talks: second version of the headline"}] + _good("chg-other", 1)).encode()
