"""The domain code must not import Textual: only tui/dashboard/ may."""

import subprocess
import sys

DOMAIN_MODULES = [
    "tui",
    "tui.models",
    "tui.config",
    "tui.fetch",
    "tui.parse",
    "tui.classify",
    "tui.classify_jsonl",
    "tui.status",
    "tui.store",
    "tui.poller",
    "tui.demo",
    "tui.polllock",
    "tui.reports",
    "tui.stories",
    "tui.digest",
    "tui.alerts",
    "tui.fastparse",
    "tui.cli",
    "tui.parse_worker",
    "tui.worker_warmup",
]


def _loaded_after_import(modules: list[str]) -> set[str]:
    code = (
        "import sys\n"
        f"for name in {modules!r}:\n"
        "    __import__(name)\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_domain_modules_do_not_import_textual():
    loaded = _loaded_after_import(DOMAIN_MODULES)
    leaked = sorted(name for name in loaded if name == "textual" or name.startswith("textual."))
    assert leaked == [], f"domain code imported Textual: {leaked[:5]}"


def test_the_check_detects_a_textual_import():
    # Guards the guard: the same probe must see Textual when the dashboard is imported.
    loaded = _loaded_after_import(["tui.dashboard.app"])
    assert "textual" in loaded


def test_cli_start_up_stays_light():
    # `talkwatch --help` and the poll command's start-up are benchmarked; heavy
    # libraries load only when a command needs them.
    loaded = _loaded_after_import(["tui.cli"])
    heavy = {"httpx", "feedparser", "sqlite_utils", "textual", "rich"}
    assert heavy.isdisjoint(loaded), sorted(heavy & loaded)


def test_parse_workers_start_light():
    # The parse pool's fork server imports these before any worker can start:
    # no event loop, HTTP client, store or config machinery (~0.1 s each).
    loaded = _loaded_after_import(["tui.parse_worker", "tui.worker_warmup"])
    needless = {"asyncio", "httpx", "sqlite3", "sqlite_utils", "tui.config", "tui.poller", "tui.fetch", "tui.store"}
    assert needless.isdisjoint(loaded), sorted(needless & loaded)
