"""A loopback farm of RSS feeds for benchmarks: N feeds x M items over K hosts.

Each "host" is its own loopback address (127.0.0.10, 127.0.0.11, ...; all of
127/8 is loopback on Linux), so per-host politeness limits behave as they would
against real sites. Responses are precomputed; conditional requests get 304s.
A small asyncio HTTP/1.1 server with keep-alive: fast enough that the clients,
not the farm, are what a benchmark measures.

    python bench/feedfarm.py --feeds 200 --items 50 --hosts 20
prints one JSON line {"urls": [...]} once it is listening, then serves until
stdin closes or it is killed.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import sys
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

WORDS = (
    "talks negotiators hostages ceasefire Doha Cairo proposal mediators Qatar Egypt release round "
    "delegation framework phase prisoners aid border officials sources statement weekend agreement "
    "market weather football election budget storm festival museum railway harvest science court"
).split()


def make_feed(index: int, items: int, rng: random.Random) -> bytes:
    base = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    entries = []
    for j in range(items):
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 12))).capitalize()
        para = " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 70)))
        when = format_datetime(base - timedelta(minutes=17 * j + index), usegmt=True)
        entries.append(
            f"<item><title>{title}</title>"
            f"<link>https://news{index}.example.org/story/{index}-{j}</link>"
            f'<guid isPermaLink="false">feed{index}-item{j}</guid>'
            f"<pubDate>{when}</pubDate><author>desk@news{index}.example.org (Desk)</author>"
            f"<description>&lt;p&gt;{para} &amp;amp; more&lt;/p&gt;</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>Farm feed {index}</title><link>https://news{index}.example.org/</link>"
        f"<description>Synthetic feed {index}</description>{''.join(entries)}</channel></rss>"
    ).encode()


class Farm:
    def __init__(self, feeds: int, items: int, hosts: int, seed: int = 1):
        rng = random.Random(seed)
        self.bodies = [make_feed(i, items, rng) for i in range(feeds)]
        self.hosts = [f"127.0.0.{10 + h}" for h in range(hosts)]
        self.responses: dict[str, tuple[bytes, bytes, bytes]] = {}  # path -> (etag, 200, 304)
        self.last_modified = format_datetime(datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc), usegmt=True)
        self.requests = 0
        self.not_modified = 0
        for i, body in enumerate(self.bodies):
            etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
            head = (
                "HTTP/1.1 {status}\r\nContent-Type: application/rss+xml; charset=utf-8\r\n"
                f"ETag: {etag}\r\nLast-Modified: {self.last_modified}\r\n"
            )
            ok = (head.format(status="200 OK") + f"Content-Length: {len(body)}\r\n\r\n").encode() + body
            nm = (head.format(status="304 Not Modified") + "\r\n").encode()
            self.responses[f"/feed/{i}.xml"] = (etag.encode(), ok, nm)
        self.urls: list[str] = []

    async def start(self) -> None:
        servers = {}
        for host in self.hosts:
            servers[host] = await asyncio.get_running_loop().create_server(lambda: _Conn(self), host, 0)
        for i in range(len(self.bodies)):
            host = self.hosts[i % len(self.hosts)]
            port = servers[host].sockets[0].getsockname()[1]
            self.urls.append(f"http://{host}:{port}/feed/{i}.xml")
        self._servers = list(servers.values())


_NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


class _Conn(asyncio.Protocol):
    def __init__(self, farm: Farm):
        self.farm = farm
        self.buffer = b""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            lines = head.split(b"\r\n")
            parts = lines[0].split(b" ")
            path = parts[1].decode("latin-1") if len(parts) > 1 else "/"
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
            self.farm.requests += 1
            entry = self.farm.responses.get(path)
            if entry is None:
                self.transport.write(_NOT_FOUND)
                continue
            etag, ok, not_modified = entry
            inm = headers.get(b"if-none-match")
            ims = headers.get(b"if-modified-since")
            if (inm is not None and inm == etag) or (
                inm is None and ims is not None and ims.decode("latin-1") == self.farm.last_modified
            ):
                self.farm.not_modified += 1
                self.transport.write(not_modified)
            else:
                self.transport.write(ok)
            if headers.get(b"connection", b"").lower() == b"close":
                self.transport.close()
                return


async def _main(args) -> None:
    farm = Farm(args.feeds, args.items, args.hosts)
    await farm.start()
    total = sum(len(b) for b in farm.bodies)
    print(json.dumps({"urls": farm.urls, "bytes": total}), flush=True)
    # Serve until our parent closes stdin (no orphan servers if the bench dies).
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--hosts", type=int, default=20)
    asyncio.run(_main(parser.parse_args()))
