"""Imported once by the parse pool's fork server, before it forks any worker.

Building the classifier's rules costs ~0.2 s of CPU. Built here, in the fork
server, every worker process starts with them already in memory (forked,
copy-on-write) instead of each building its own while the first feeds wait.
Only the default rules (no `[topic]`, or an empty one, in feeds.toml) are built ahead; a tuned
topic is built by each worker on its first job, as before.

The fork server also skips tearing down its heap when talkwatch exits (see
`_exit_at_once`).
"""

from __future__ import annotations

import atexit
import logging
import os
import sys


def _in_fork_server() -> bool:
    """True while multiprocessing's fork server imports its preload modules (us)."""
    suffix = os.path.join("multiprocessing", "forkserver.py")
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "main" and code.co_filename.endswith(suffix):
            return True
        frame = frame.f_back
    return False


def _exit_at_once() -> None:
    """The fork server leaves when talkwatch closes its end. An ordinary exit
    frees every object of the parser, feedparser and the classifier's rules one
    by one: 0.15-0.3 s, during which the server still holds talkwatch's stdout
    and stderr (inherited), so a caller reading them to the end (a shell pipe,
    subprocess.run) waited that long after talkwatch itself had exited. The
    server has nothing to flush or save: skip the teardown."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed stream: nothing to flush
            pass
    os._exit(0)


IN_FORK_SERVER = _in_fork_server()
if IN_FORK_SERVER:
    # Forked workers inherit this registration but never run it: they leave through os._exit.
    atexit.register(_exit_at_once)

try:
    from tui.parse_worker import classifier_for

    classifier_for(None)  # not via tui.config.TopicSpec: that import alone costs ~0.1 s here
except Exception:  # noqa: BLE001 - a fork server that dies here would take the pool with it
    logging.getLogger(__name__).debug("building the default classifier ahead failed", exc_info=True)
