"""The `talkwatch` command end to end: a real subprocess against the demo feeds on loopback."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui.demo import DemoServer


def talkwatch(*args: str, cwd: Path, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "TALKWATCH_CONFIG": "", "TALKWATCH_DB": "", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    # No live release timer: what the feeds carry changes only when a test says so.
    server = DemoServer(release_every=None)
    server.start()
    workdir = tmp_path_factory.mktemp("cli")
    (workdir / "feeds.toml").write_text(server.config_text(), encoding="utf-8")
    yield server, workdir
    server.stop()


def published(server: DemoServer) -> int:
    return len(server.timeline.items) - server.pending


@pytest.fixture(scope="module")
def polled(demo):
    server, workdir = demo
    first = talkwatch("--db", "tw.db", "poll", "--once", cwd=workdir)
    second = talkwatch("--db", "tw.db", "poll", "--once", "--all", cwd=workdir)
    return server, workdir, first, second


def test_check_lists_the_feeds(demo):
    server, workdir = demo
    done = talkwatch("check", cwd=workdir)
    assert done.returncode == 0, done.stderr
    for name, _url in server.feeds:
        assert name in done.stdout


def test_check_reports_every_problem_and_exits_1(tmp_path):
    (tmp_path / "feeds.toml").write_text(
        '[settings]\nintervl = "5m"\n\n[[feed]]\nname = "A"\nurl = "ftp://example.com/rss"\n', encoding="utf-8"
    )
    done = talkwatch("check", cwd=tmp_path)
    assert done.returncode == 1
    assert "feeds.toml:2" in done.stderr and "did you mean 'interval'" in done.stderr
    assert "feeds.toml:6" in done.stderr and "http" in done.stderr


def test_an_invalid_config_runs_nothing(tmp_path):
    (tmp_path / "feeds.toml").write_text("[settings\n", encoding="utf-8")
    done = talkwatch("--db", "x.db", "poll", "--once", cwd=tmp_path)
    assert done.returncode == 1
    assert "line 1" in done.stderr or "feeds.toml:1" in done.stderr
    assert not (tmp_path / "x.db").exists()


def test_first_poll_stores_the_demo_items(polled):
    server, _workdir, first, _second = polled
    assert first.returncode == 0, first.stderr
    total = first.stdout.strip().splitlines()[-1]
    assert f"{len(server.feeds)} feeds polled" in total
    assert "0 failed" in total
    new = int(total.split(" new items")[0].rsplit(" ", 1)[-1])
    assert new == published(server)  # every published demo item, once


def test_second_poll_is_conditional_and_inserts_nothing(polled):
    _server, _workdir, _first, second = polled
    assert second.returncode == 0, second.stderr
    rows = [line for line in second.stdout.splitlines() if "304" in line]
    assert len(rows) == 5, second.stdout
    assert ", 0 new items," in second.stdout


def test_export_jsonl_and_csv(polled):
    server, workdir, _first, _second = polled
    jsonl = talkwatch("--db", "tw.db", "export", "--format", "jsonl", cwd=workdir)
    assert jsonl.returncode == 0, jsonl.stderr
    records = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert len(records) == published(server)
    assert {r["feed"] for r in records} == {name for name, _ in server.feeds}
    assert all(r["link"].startswith(("http://", "https://")) or r["link"] == "" for r in records)

    recent = talkwatch("--db", "tw.db", "export", "--format", "csv", "--since", "6h", cwd=workdir)
    rows = list(csv.DictReader(io.StringIO(recent.stdout)))
    assert 0 < len(rows) < len(records)


def test_export_rejects_a_bad_duration(polled):
    _server, workdir, _first, _second = polled
    done = talkwatch("--db", "tw.db", "export", "--since", "soon", cwd=workdir)
    assert done.returncode == 1
    assert "--since" in done.stderr


def test_status_json_and_text(polled):
    _server, workdir, _first, _second = polled
    done = talkwatch("--db", "tw.db", "status", "--json", cwd=workdir)
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert status["state"] in {
        "DEAL IN EFFECT", "RELEASES UNDER WAY", "ACTIVE TALKS", "PROPOSAL PENDING", "STALLED", "COLLAPSED", "QUIET",
    }
    assert status["state"] != "QUIET"  # the demo's recent past carries signals
    text = talkwatch("--db", "tw.db", "status", cwd=workdir)
    assert status["state"] in text.stdout


def test_digest_markdown_and_json(polled):
    _server, workdir, _first, _second = polled
    md = talkwatch("--db", "tw.db", "digest", "--since", "7d", cwd=workdir)
    assert md.returncode == 0, md.stderr
    assert md.stdout.startswith("# ")
    assert "## Stories" in md.stdout and "## Numbers" in md.stdout
    js = talkwatch("--db", "tw.db", "digest", "--since", "7d", "--format", "json", cwd=workdir)
    assert json.loads(js.stdout)["state"]


def test_reclassify_reports_changes(polled, tmp_path):
    server, workdir, _first, _second = polled
    done = talkwatch("--db", "tw.db", "reclassify", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert f"{published(server)} items reclassified, 0 verdicts changed" in done.stdout
    # A topic that vetoes "Cairo" turns some verdicts irrelevant.
    edited = tmp_path / "feeds.toml"
    edited.write_text(server.config_text() + '\n[topic]\nexclude = ["Cairo"]\n', encoding="utf-8")
    db = str(workdir / "tw.db")
    changed = talkwatch("--config", str(edited), "--db", db, "reclassify", cwd=tmp_path)
    count = int(changed.stdout.split(", ")[1].split()[0])
    assert count > 0


def test_classify_keeps_order_and_names_bad_lines():
    lines = [
        json.dumps({"id": "a", "title": "Hamas frees three hostages as ceasefire takes effect"}),
        "{not json",
        json.dumps({"id": "b", "title": "Taylor Swift announces release date for new album"}),
    ]
    done = talkwatch("classify", cwd=Path.cwd(), stdin="\n".join(lines) + "\n")
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", "b"]
    assert out[0]["relevant"] and out[0]["signal"] == "release"
    assert not out[1]["relevant"] and out[1]["signal"] == "none"
    assert "line 2" in done.stderr


def test_bare_talkwatch_help_lists_the_commands():
    done = talkwatch("--help", cwd=Path.cwd())
    for command in ("check", "poll", "export", "demo", "classify", "reclassify", "status", "digest"):
        assert command in done.stdout


def test_a_new_item_is_stored_once(polled):
    server, workdir, _first, _second = polled
    server.release_next()
    done = talkwatch("--db", "tw.db", "poll", "--once", "--all", cwd=workdir)
    assert ", 1 new items," in done.stdout, done.stdout
    again = talkwatch("--db", "tw.db", "poll", "--once", "--all", cwd=workdir)
    assert ", 0 new items," in again.stdout, again.stdout
