"""One poller per database: the flock in tui/polllock.py."""

from __future__ import annotations

import subprocess
import sys

from tui.polllock import PollLock, lock_path


def test_one_holder_at_a_time(tmp_path):
    db = tmp_path / "tw.db"
    first, second = PollLock(db, role="talkwatch poll"), PollLock(db, role="talkwatch dashboard")
    assert first.acquire()
    assert not second.acquire()
    assert second.holder().endswith("(talkwatch poll)")
    first.release()
    assert second.acquire()
    second.release()


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    db = tmp_path / "tw.db"
    child = subprocess.Popen(
        [sys.executable, "-c", f"from tui.polllock import PollLock\nl = PollLock({str(db)!r}, role='child')\n"
         "assert l.acquire()\nprint('held', flush=True)\nimport sys\nsys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout.readline().strip() == "held"
        ours = PollLock(db)
        assert not ours.acquire()
        child.kill()
        child.wait()
        assert ours.acquire()  # the kernel dropped the dead holder's lock
        ours.release()
    finally:
        if child.poll() is None:
            child.kill()
    assert lock_path(db).exists()


def test_poll_once_skips_when_another_process_polls(tmp_path):
    (tmp_path / "feeds.toml").write_text('[[feed]]\nname = "A"\nurl = "http://127.0.0.1:9/rss"\n', encoding="utf-8")
    db = tmp_path / "tw.db"
    holder = PollLock(db, role="talkwatch poll")
    assert holder.acquire()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tui", "--db", str(db), "poll", "--once", "--all"],
            cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )
    finally:
        holder.release()
    assert done.returncode == 0, done.stderr
    assert "is polling" in done.stdout and "nothing polled" in done.stdout
