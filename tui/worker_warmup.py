"""Imported once by the parse pool's fork server, before it forks any worker.

Building the classifier's rules costs ~0.2 s of CPU. Built here, in the fork
server, every worker process starts with them already in memory (forked,
copy-on-write) instead of each building its own while the first feeds wait.
Only the default rules (no `[topic]`, or an empty one, in feeds.toml) are built ahead; a tuned
topic is built by each worker on its first job, as before.
"""

from __future__ import annotations

import logging

try:
    from tui.parse_worker import classifier_for

    classifier_for(None)  # not via tui.config.TopicSpec: that import alone costs ~0.1 s here
except Exception:  # noqa: BLE001 - a fork server that dies here would take the pool with it
    logging.getLogger(__name__).debug("building the default classifier ahead failed", exc_info=True)
