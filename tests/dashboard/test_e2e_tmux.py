"""End to end in a real terminal: the installed `talkwatch demo` inside tmux.

Waits by polling the pane against a deadline (never a fixed sleep), types a
filter, checks that the list narrows, quits with `q`, and checks the exit
code and that the terminal was handed back clean (alternate screen left,
cursor visible, mouse reporting off)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

TMUX = shutil.which("tmux")
SHOWN = re.compile(r"(\d[\d,]*) shown of (\d[\d,]*) stored")
HEADLINE_ROW = re.compile(r"^│ [●★ ]\s+(?:now|\d+[smhdw])\s{2}")


def _talkwatch() -> str | None:
    beside_python = Path(sys.executable).with_name("talkwatch")
    return str(beside_python) if beside_python.exists() else shutil.which("talkwatch")


class Tmux:
    def __init__(self, tmp: Path) -> None:
        self.socket = f"talkwatch-e2e-{uuid.uuid4().hex[:8]}"
        self.target = "e2e"
        self.tmp = tmp

    def run(self, *args: str) -> str:
        return subprocess.run(
            [TMUX, "-L", self.socket, *args], check=True, capture_output=True, text=True, timeout=10
        ).stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.target)

    def wait_for(self, predicate, what: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if predicate(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the screen was:\n{screen}")
            time.sleep(0.1)  # polling interval, not a wait for something to happen

    def kill(self) -> None:
        subprocess.run([TMUX, "-L", self.socket, "kill-server"], capture_output=True, timeout=10)


def _shown(screen: str) -> int | None:
    match = SHOWN.search(screen)
    return int(match.group(1).replace(",", "")) if match else None


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
def test_demo_in_tmux_filters_and_quits_cleanly(tmp_path: Path):
    talkwatch = _talkwatch()
    assert talkwatch, "the talkwatch console script is not installed"
    rc_file = tmp_path / "rc"
    env_prefix = (
        # COLUMNS/LINES (pytest may set them) would override the terminal's real size.
        f"env -u COLUMNS -u LINES HOME={tmp_path} XDG_CONFIG_HOME={tmp_path}/config XDG_DATA_HOME={tmp_path}/data "
        f"TERM=xterm-256color COLORTERM=truecolor"
    )
    command = f"{env_prefix} {talkwatch} demo; echo $? > {rc_file}; echo AFTER-EXIT; sleep 60"
    tmux = Tmux(tmp_path)
    tmux.run("-f", "/dev/null", "new-session", "-d", "-s", tmux.target, "-x", "100", "-y", "30", command)
    try:
        screen = tmux.wait_for(
            lambda s: sum(1 for line in s.splitlines() if HEADLINE_ROW.match(line)) >= 3 and (_shown(s) or 0) >= 3,
            "headlines to render",
        )
        # A word from a shown headline, so the narrowed list cannot be empty.
        first_row = next(line for line in screen.splitlines() if HEADLINE_ROW.match(line))
        # The last column with words in it (the scrollbar may follow it).
        headline = [part for part in re.split(r"\s{2,}", first_row) if re.search(r"[A-Za-z]{3}", part)][-1]
        words = re.findall(r"\b[A-Za-z]{5,}\b(?!…)", headline)
        assert words, f"no word to filter on in {headline!r}"
        word = max(words, key=len).lower()

        tmux.run("send-keys", "-t", tmux.target, "/")
        opened = tmux.wait_for(lambda s: re.search(r"^ / filter: words", s, re.M) is not None, "the filter line to open")
        assert len(opened.splitlines()[0]) == 100
        before = _shown(screen)
        tmux.run("send-keys", "-t", tmux.target, "-l", word)
        narrowed = tmux.wait_for(
            lambda s: f"/{word}" in s and (_shown(s) or 0) >= 1 and _shown(s) < (before or 0),
            f"the list to narrow to {word!r} (from {before} rows)",
        )
        assert word in narrowed.lower()

        tmux.run("send-keys", "-t", tmux.target, "Escape")
        # Wait for Esc to be handled: an ESC followed at once by "q" reads as Alt+q.
        tmux.wait_for(lambda s: f"/{word}" not in s and (_shown(s) or 0) >= (before or 0), "Esc to clear the filter")
        tmux.run("send-keys", "-t", tmux.target, "q")
        after = tmux.wait_for(lambda s: "AFTER-EXIT" in s, "the app to exit")
        assert rc_file.read_text().strip() == "0"
        # The alternate screen was left: what remains is the shell's screen, not the dashboard.
        assert "Headlines" not in after and "╭" not in after
        flags = tmux.run("display-message", "-p", "-t", tmux.target, "#{alternate_on} #{cursor_flag} #{mouse_any_flag}")
        assert flags.split() == ["0", "1", "0"]
    finally:
        tmux.kill()
