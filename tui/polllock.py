"""Who polls when several talkwatch processes share one database.

Exactly one process polls a database at a time: the one holding an exclusive
``flock`` on ``<db>.poll.lock``. A `talkwatch poll` daemon takes it and keeps
it; a dashboard started while the daemon runs finds it taken and only reads
(it shows the daemon's new items as they are committed), and takes over
polling if the daemon stops. The kernel drops the lock when its holder dies,
SIGKILL included, so a crash never leaves a stale lock behind.

The lock file holds the holder's pid and command for the message the other
process shows; the flock, not the file's content, is what counts.
"""

from __future__ import annotations

import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock, every process polls
    fcntl = None  # type: ignore[assignment]


def lock_path(db_path: Path | str) -> Path:
    return Path(f"{db_path}.poll.lock")


class PollLock:
    """A non-blocking, process-wide claim on polling one database."""

    def __init__(self, db_path: Path | str, *, role: str = "talkwatch") -> None:
        self.path = lock_path(db_path)
        self.role = role
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        """Take the lock if nobody holds it; True when this process now polls."""
        if self._fd is not None:
            return True
        if fcntl is None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {self.role}\n".encode())
        self._fd = fd
        return True

    def holder(self) -> str:
        """Who holds it, in words ("pid 1234 (talkwatch poll)"), or "" when unknown."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return ""
        pid, _, role = text.partition(" ")
        return f"pid {pid} ({role})" if pid.isdigit() else ""

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self) -> PollLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
