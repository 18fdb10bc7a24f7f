"""Reading and validating ``feeds.toml``.

Validation never stops at the first mistake: every problem found is collected
and raised together in one ``ConfigError``, each with the file and line it
refers to, so a user fixes the whole file in one pass. ``tomllib`` gives no
positions for values, hence the small line locator at the bottom.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from . import PROJECT_URL, __version__
from .alerts import CHANNELS, DEFAULT_CHANNELS, STATES, AlertRule, parse_quiet_hours
from .models import SIGNALS

APP_NAME = "talkwatch"
CONFIG_FILENAME = "feeds.toml"
DB_FILENAME = "talkwatch.db"
ENV_CONFIG = "TALKWATCH_CONFIG"
ENV_DB = "TALKWATCH_DB"

MIN_INTERVAL = 60.0  # polling a feed more than once a minute is impolite
DEFAULT_USER_AGENT = f"{APP_NAME}/{__version__} (+{PROJECT_URL})"


# --------------------------------------------------------------------------
# durations and sizes

_DURATION_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])", re.IGNORECASE)
_DURATION_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?\s*[smhd]\s*)+", re.IGNORECASE)
DURATION_FORM = 'a number followed by s, m, h or d, like "90s", "5m", "2h", "7d" or "1h30m"'


def parse_duration(text: str) -> float:
    """ "90s", "5m", "2h", "7d", "1h30m" -> seconds. ValueError on anything else."""
    if not isinstance(text, str):
        raise ValueError(f"a duration must be a string like \"5m\", not {_describe_type(text)}")
    stripped = text.strip()
    if not stripped or not _DURATION_WHOLE.fullmatch(stripped):
        raise ValueError(f"bad duration {text!r}: use {DURATION_FORM}")
    units_seen: set[str] = set()
    total = 0.0
    for number, unit in _DURATION_PART.findall(stripped):
        unit = unit.lower()
        if unit in units_seen:
            raise ValueError(f"bad duration {text!r}: unit {unit!r} appears twice; use {DURATION_FORM}")
        units_seen.add(unit)
        total += float(number) * _DURATION_UNITS[unit]
    return total


_SIZE_UNITS = {
    "": 1, "b": 1,
    "kb": 1000, "mb": 1000**2, "gb": 1000**3,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3,
}  # fmt: skip
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)", re.IGNORECASE)
SIZE_FORM = 'an integer number of bytes, or a string like "10MiB", "512KB" or "2GB"'


def parse_size(text: str) -> int:
    """ "10MiB", "512KB", "2048" -> bytes. ValueError on anything else."""
    match = _SIZE.fullmatch(text.strip())
    if not match or match.group(2).lower() not in _SIZE_UNITS:
        raise ValueError(f"bad size {text!r}: use {SIZE_FORM}")
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])


def format_duration(seconds: float) -> str:
    """The inverse of parse_duration for whole units, for messages and tables."""
    for unit in ("d", "h", "m"):
        size = _DURATION_UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


# --------------------------------------------------------------------------
# the data


def default_db_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME)) / DB_FILENAME


def default_config_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME))


@dataclass(frozen=True)
class FeedSpec:
    name: str
    url: str
    interval: float | None  # seconds; None = settings.interval
    tags: tuple[str, ...]
    enabled: bool
    line: int  # where the feed is declared, for messages


@dataclass(frozen=True)
class TopicSpec:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    min_score: float | None = None


@dataclass(frozen=True)
class Settings:
    interval: float = 300.0
    timeout: float = 20.0
    concurrency: int = 16
    per_host: int = 2
    max_bytes: int = 10 * 2**20
    retention: float = 90 * 86400.0
    user_agent: str = DEFAULT_USER_AGENT
    db: Path = field(default_factory=default_db_path)


@dataclass(frozen=True)
class Config:
    settings: Settings
    feeds: tuple[FeedSpec, ...]
    topic: TopicSpec
    path: Path | None
    alerts: tuple[AlertRule, ...] = ()
    # Dashboard key remaps from [keys]: (binding id, keys), e.g. ("toggle_relevant", "x").
    # Which ids exist is the dashboard's business (the domain knows no Textual).
    keys: tuple[tuple[str, str], ...] = ()

    @property
    def enabled_feeds(self) -> tuple[FeedSpec, ...]:
        return tuple(f for f in self.feeds if f.enabled)


@dataclass(frozen=True)
class ConfigProblem:
    path: Path | None
    line: int | None
    column: int | None
    message: str

    def __str__(self) -> str:
        where = str(self.path) if self.path is not None else "<config>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


class ConfigError(Exception):
    """Every problem found in a config file, in file order."""

    def __init__(self, problems: list[ConfigProblem] | tuple[ConfigProblem, ...]):
        self.problems: tuple[ConfigProblem, ...] = tuple(
            sorted(problems, key=lambda p: (p.line or 0, p.column or 0))
        )
        super().__init__("\n".join(str(p) for p in self.problems))


# --------------------------------------------------------------------------
# loading


def default_config_text() -> str:
    """The packaged tui/data/feeds.toml."""
    from importlib.resources import files

    return files("tui").joinpath("data", CONFIG_FILENAME).read_text(encoding="utf-8")


def load_config(path: Path) -> Config:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError([ConfigProblem(path, None, None, f"cannot read the config file: {exc.strerror or exc}")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError([ConfigProblem(path, line, None, "the file is not valid UTF-8; save it as UTF-8")])
    return parse_config(text, path)


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END = re.compile(r"\s*\(at end of document\)\s*$")


def parse_config(text: str, path: Path | None = None) -> Config:
    text = text.removeprefix("\ufeff")  # editors on Windows like to add a BOM
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([_syntax_problem(str(exc), text, path)]) from None
    return _Validator(data, _Locator(text), path).run()


def _syntax_problem(message: str, text: str, path: Path | None) -> ConfigProblem:
    line = column = None
    if match := _TOML_POSITION.search(message):
        line, column = int(match.group(1)), int(match.group(2))
        message = message[: match.start()]
    elif match := _TOML_END.search(message):
        lines = text.splitlines() or [""]
        line, column = len(lines), len(lines[-1]) + 1
        message = message[: match.start()] + " at the end of the file"
    return ConfigProblem(path, line, column, f"TOML syntax error: {message}")


# --------------------------------------------------------------------------
# validation

_TOP_KEYS = ("settings", "feed", "topic", "alert", "keys")
_SETTINGS_KEYS = ("interval", "timeout", "concurrency", "per_host", "max_bytes", "retention", "user_agent", "db")
_FEED_KEYS = ("name", "url", "interval", "tags", "enabled")
_TOPIC_KEYS = ("include", "exclude", "min_score")
_ALERT_KEYS = ("name", "signals", "states", "min_sources", "terms", "channels", "webhook", "quiet_hours")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _describe_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return "a date/time"


def _show(value: Any) -> str:
    shown = repr(value) if not isinstance(value, (bool, dict)) else str(value).lower()
    if isinstance(value, dict):
        shown = "{...}"
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _did_you_mean(key: str, allowed: tuple[str, ...]) -> str:
    lowered = {a.lower(): a for a in allowed}
    close = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.6)
    return f" (did you mean '{lowered[close[0]]}'?)" if close else ""


class _Validator:
    def __init__(self, data: dict, locator: _Locator, path: Path | None):
        self.data = data
        self.locator = locator
        self.path = path
        self.problems: list[ConfigProblem] = []

    # -- reporting

    def problem(self, where: tuple, message: str, *, at_key: bool = False) -> None:
        line, column = self.locator.locate(where, at_key=at_key)
        self.problems.append(ConfigProblem(self.path, line, column, message))

    def unknown_keys(self, table: dict, where: tuple, allowed: tuple[str, ...], label: str) -> None:
        for key in table:
            if key not in allowed:
                hint = _did_you_mean(key, allowed) or f" (known: {', '.join(allowed)})"
                noun = "key" if where else "table or key"
                self.problem((*where, key), f"{label}unknown {noun} '{key}'{hint}", at_key=True)

    # -- typed getters: return None (after reporting) when the value is unusable

    def get_str(self, table: dict, key: str, where: tuple, label: str, *, required: bool = False) -> str | None:
        if key not in table:
            if required:
                self.problem(where, f"{label}missing required key '{key}'")
            return None
        value = table[key]
        if not isinstance(value, str):
            self.problem((*where, key), f"{label}{key} must be a string (got {_describe_type(value)}: {_show(value)})")
            return None
        if not value.strip():
            self.problem((*where, key), f"{label}{key} must not be empty")
            return None
        if _CONTROL.search(value):
            self.problem((*where, key), f"{label}{key} must not contain control characters (got {_show(value)})")
            return None
        return value.strip()

    def get_duration(self, table: dict, key: str, where: tuple, label: str, *, minimum: float) -> float | None:
        if key not in table:
            return None
        value = table[key]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self.problem(
                (*where, key),
                f'{label}{key} must be a duration string like "5m", not a bare number '
                f'(got {_show(value)}; write "{_show(value)}s" for seconds)',
            )
            return None
        if not isinstance(value, str):
            self.problem((*where, key), f'{label}{key} must be a duration string like "5m" (got {_describe_type(value)})')
            return None
        try:
            seconds = parse_duration(value)
        except ValueError:
            self.problem((*where, key), f"{label}{key} has a bad duration {value!r}: use {DURATION_FORM}")
            return None
        if seconds <= 0:
            self.problem((*where, key), f"{label}{key} must be longer than zero (got {value!r})")
            return None
        if seconds < minimum:
            self.problem(
                (*where, key),
                f"{label}{key} {value!r} is below the minimum of {format_duration(minimum)}",
            )
            return None
        return seconds

    def get_positive_int(self, table: dict, key: str, where: tuple, label: str) -> int | None:
        if key not in table:
            return None
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem((*where, key), f"{label}{key} must be an integer (got {_describe_type(value)}: {_show(value)})")
            return None
        if value <= 0:
            self.problem((*where, key), f"{label}{key} must be a positive integer (got {value})")
            return None
        return value

    def get_size(self, table: dict, key: str, where: tuple, label: str) -> int | None:
        if key not in table:
            return None
        value = table[key]
        if isinstance(value, str):
            try:
                size = parse_size(value)
            except ValueError:
                self.problem((*where, key), f"{label}{key} has a bad size {value!r}: use {SIZE_FORM}")
                return None
        elif isinstance(value, int) and not isinstance(value, bool):
            size = value
        else:
            self.problem((*where, key), f"{label}{key} must be {SIZE_FORM} (got {_describe_type(value)}: {_show(value)})")
            return None
        if size <= 0:
            self.problem((*where, key), f"{label}{key} must be positive (got {_show(value)})")
            return None
        return size

    def get_bool(self, table: dict, key: str, where: tuple, label: str) -> bool | None:
        if key not in table:
            return None
        value = table[key]
        if not isinstance(value, bool):
            self.problem((*where, key), f"{label}{key} must be true or false (got {_describe_type(value)}: {_show(value)})")
            return None
        return value

    def get_str_list(self, table: dict, key: str, where: tuple, label: str) -> tuple[str, ...] | None:
        if key not in table:
            return None
        value = table[key]
        if not isinstance(value, list):
            hint = f'; write {key} = ["{value}"]' if isinstance(value, str) and len(value) < 40 else ""
            self.problem((*where, key), f"{label}{key} must be an array of strings (got {_describe_type(value)}{hint})")
            return None
        good: list[str] = []
        for index, element in enumerate(value):
            if not isinstance(element, str) or not element.strip() or _CONTROL.search(element):
                got = _describe_type(element) if not isinstance(element, str) else repr(element)
                self.problem(
                    (*where, key, index), f"{label}{key}[{index}] must be a non-empty string of text (got {got})"
                )
                continue
            good.append(element.strip())
        return tuple(good)

    def get_number(self, table: dict, key: str, where: tuple, label: str) -> float | None:
        if key not in table:
            return None
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.problem((*where, key), f"{label}{key} must be a number (got {_describe_type(value)}: {_show(value)})")
            return None
        return float(value)

    def get_table(self, key: str, *, header: str) -> dict | None:
        if key not in self.data:
            return {}
        value = self.data[key]
        if not isinstance(value, dict):
            self.problem((key,), f"'{key}' must be a table: write {header} on a line of its own (got {_describe_type(value)})")
            return None
        return value

    # -- the file

    def run(self) -> Config:
        self.unknown_keys(self.data, (), _TOP_KEYS, "")
        settings = self.settings()
        feeds = self.feeds(settings.interval if settings else MIN_INTERVAL)
        topic = self.topic()
        alerts = self.alerts()
        keys = self.keys()
        if self.problems:
            raise ConfigError(self.problems)
        assert settings is not None and topic is not None
        return Config(settings=settings, feeds=feeds, topic=topic, path=self.path, alerts=alerts, keys=keys)

    def keys(self) -> tuple[tuple[str, str], ...]:
        table = self.get_table("keys", header="[keys]")
        if not table:
            return ()
        remaps = []
        for binding_id in table:
            keys = self.get_str(table, binding_id, ("keys",), "keys: ")
            if keys is not None and not keys.strip():
                self.problem(("keys", binding_id), f"keys: {binding_id}: give at least one key, e.g. \"x\" or \"f2,ctrl+r\"")
            elif keys is not None:
                remaps.append((binding_id, keys.strip()))
        return tuple(remaps)

    def settings(self) -> Settings | None:
        table = self.get_table("settings", header="[settings]")
        if table is None:
            return None
        where, label = ("settings",), "settings: "
        self.unknown_keys(table, where, _SETTINGS_KEYS, label)
        values: dict[str, Any] = {
            "interval": self.get_duration(table, "interval", where, label, minimum=MIN_INTERVAL),
            "timeout": self.get_duration(table, "timeout", where, label, minimum=0.0),
            "concurrency": self.get_positive_int(table, "concurrency", where, label),
            "per_host": self.get_positive_int(table, "per_host", where, label),
            "max_bytes": self.get_size(table, "max_bytes", where, label),
            "retention": self.get_duration(table, "retention", where, label, minimum=0.0),
            "user_agent": self.get_str(table, "user_agent", where, label),
        }
        db = self.get_str(table, "db", where, label)
        if db is not None:
            values["db"] = self.resolve_relative(Path(db).expanduser())
        return Settings(**{k: v for k, v in values.items() if v is not None})

    def resolve_relative(self, db: Path) -> Path:
        # A relative db path means "next to this feeds.toml", not "wherever the
        # program happens to be started from".
        if db.is_absolute() or self.path is None:
            return db
        return Path(self.path).parent.absolute() / db

    def feeds(self, default_interval: float) -> tuple[FeedSpec, ...]:
        if "feed" not in self.data:
            return ()
        entries = self.data["feed"]
        if not isinstance(entries, list):
            self.problem(("feed",), f"'feed' must be an array of tables: write [[feed]] (two brackets) before each source")
            return ()
        feeds: list[FeedSpec] = []
        names: dict[str, tuple[str, int | None]] = {}  # folded name -> (name, line)
        urls: dict[str, tuple[str, int | None]] = {}
        for index, entry in enumerate(entries):
            where = ("feed", index)
            line, _ = self.locator.locate(where)
            if not isinstance(entry, dict):
                self.problem(where, f"feed #{index + 1} must be a table with name and url (got {_describe_type(entry)})")
                continue
            raw_name = entry.get("name")
            if isinstance(raw_name, str) and raw_name.strip():
                shown = raw_name.strip()
                label = f"feed '{shown}': "
            else:
                shown = f"#{index + 1}"
                label = f"feed {shown}: "
            self.unknown_keys(entry, where, _FEED_KEYS, label)
            name = self.get_str(entry, "name", where, label, required=True)
            url = self.get_str(entry, "url", where, label, required=True)
            if url is not None:
                url = self.check_url(url, (*where, "url"), label)
            interval = self.get_duration(entry, "interval", where, label, minimum=MIN_INTERVAL)
            tags = self.get_str_list(entry, "tags", where, label)
            enabled = self.get_bool(entry, "enabled", where, label)

            if name is not None:
                folded = name.casefold()
                if folded in names:
                    first, first_line = names[folded]
                    self.problem(
                        (*where, "name"),
                        f"{label}duplicate name: '{first}' is already used by the feed on line {first_line}",
                    )
                    name = None
                else:
                    names[folded] = (name, line)
            if url is not None:
                folded = _url_identity(url)
                if folded in urls:
                    first, first_line = urls[folded]
                    self.problem(
                        (*where, "url"),
                        f"{label}duplicate url: {url} is already used by feed {first!r} on line {first_line}",
                    )
                    url = None
                else:
                    urls[folded] = (shown, line)
            if name is None or url is None:
                continue
            feeds.append(
                FeedSpec(
                    name=name,
                    url=url,
                    interval=interval,
                    tags=tags or (),
                    enabled=True if enabled is None else enabled,
                    line=line or 0,
                )
            )
        return tuple(feeds)

    def check_url(self, url: str, where: tuple, label: str) -> str | None:
        if any(ch.isspace() for ch in url):
            self.problem(where, f"{label}url must not contain spaces (got {_show(url)}); encode them as %20")
            return None
        try:
            parts = urlsplit(url)
            parts.port  # raises ValueError on a bad port
        except ValueError as exc:
            self.problem(where, f"{label}url is not a valid URL ({exc}): {_show(url)}")
            return None
        if parts.scheme.lower() not in ("http", "https"):
            self.problem(where, f"{label}url must start with http:// or https:// (got {_show(url)})")
            return None
        if not parts.hostname:
            self.problem(where, f"{label}url has no host name (got {_show(url)})")
            return None
        return url

    def topic(self) -> TopicSpec | None:
        table = self.get_table("topic", header="[topic]")
        if table is None:
            return None
        where, label = ("topic",), "topic: "
        self.unknown_keys(table, where, _TOPIC_KEYS, label)
        return TopicSpec(
            include=self.get_str_list(table, "include", where, label) or (),
            exclude=self.get_str_list(table, "exclude", where, label) or (),
            min_score=self.get_number(table, "min_score", where, label),
        )


    def get_choices(
        self, table: dict, key: str, where: tuple, label: str, allowed: tuple[str, ...], fold: Any = str.lower
    ) -> tuple[str, ...] | None:
        """An array of names from ``allowed``, compared after ``fold``; unknown names are reported."""
        values = self.get_str_list(table, key, where, label)
        if values is None:
            return None
        by_fold = {fold(a): a for a in allowed}
        good: list[str] = []
        for index, value in enumerate(values):
            name = by_fold.get(fold(value))
            if name is None:
                hint = _did_you_mean(fold(value), tuple(by_fold)) or f" (known: {', '.join(allowed)})"
                self.problem((*where, key, index), f"{label}{key}: unknown name {value!r}{_restore(hint, by_fold)}")
            elif name not in good:
                good.append(name)
        return tuple(good)

    def alerts(self) -> tuple[AlertRule, ...]:
        if "alert" not in self.data:
            return ()
        entries = self.data["alert"]
        if not isinstance(entries, list):
            self.problem(("alert",), "'alert' must be an array of tables: write [[alert]] (two brackets) before each rule")
            return ()
        rules: list[AlertRule] = []
        names: dict[str, int | None] = {}  # folded name -> line
        for index, entry in enumerate(entries):
            where = ("alert", index)
            line, _ = self.locator.locate(where)
            if not isinstance(entry, dict):
                self.problem(where, f"alert #{index + 1} must be a table (got {_describe_type(entry)})")
                continue
            raw_name = entry.get("name")
            shown = raw_name.strip() if isinstance(raw_name, str) and raw_name.strip() else f"#{index + 1}"
            label = f"alert '{shown}': " if not shown.startswith("#") else f"alert {shown}: "
            before = len(self.problems)
            self.unknown_keys(entry, where, _ALERT_KEYS, label)
            name = self.get_str(entry, "name", where, label) or f"alert {index + 1}"
            watched_problems = len(self.problems)
            signals = self.get_choices(entry, "signals", where, label, SIGNALS)
            states = self.get_choices(entry, "states", where, label, STATES, fold=_fold_state)
            terms = self.get_str_list(entry, "terms", where, label)
            if not (signals or states or terms) and len(self.problems) == watched_problems:
                self.problem(where, f"{label}says nothing to watch: give signals, states or terms")
            min_sources = self.get_positive_int(entry, "min_sources", where, label)
            channels = self.get_choices(entry, "channels", where, label, CHANNELS)
            webhook = self.get_str(entry, "webhook", where, label)
            if webhook is not None:
                webhook = self.check_url(webhook, (*where, "webhook"), f"{label}webhook: ")
            quiet_hours = None
            quiet_text = self.get_str(entry, "quiet_hours", where, label)
            if quiet_text is not None:
                try:
                    quiet_hours = parse_quiet_hours(quiet_text)
                except ValueError as exc:
                    self.problem((*where, "quiet_hours"), f"{label}quiet_hours: {exc}")
            if entry.get("channels") == []:
                self.problem((*where, "channels"), f"{label}channels must name at least one of {', '.join(CHANNELS)}")
            if channels is None:
                channels = DEFAULT_CHANNELS + (("webhook",) if "webhook" in entry else ())
            if "webhook" in channels and "webhook" not in entry:
                self.problem((*where, "channels"), f'{label}channels has "webhook" but no webhook = "https://..." URL')
            elif "webhook" in entry and "channels" in entry and "webhook" not in channels:
                self.problem((*where, "webhook"), f'{label}webhook is set but channels does not include "webhook"')
            folded = name.casefold()
            if folded in names:
                self.problem((*where, "name"), f"{label}duplicate name: already used by the alert on line {names[folded]}")
            names.setdefault(folded, line)
            if len(self.problems) > before:
                continue
            rules.append(
                AlertRule(
                    name=name,
                    signals=signals or (),
                    states=states or (),
                    min_sources=min_sources or 1,
                    terms=terms or (),
                    channels=channels,
                    webhook=webhook,
                    quiet_hours=quiet_hours,
                    line=line or 0,
                )
            )
        return tuple(rules)


def _fold_state(name: str) -> str:
    return " ".join(name.replace("_", " ").replace("-", " ").upper().split())


def _restore(hint: str, by_fold: dict[str, str]) -> str:
    """Show a did-you-mean suggestion in its canonical spelling ("ACTIVE TALKS", not "active talks")."""
    for folded, name in by_fold.items():
        hint = hint.replace(f"'{folded.lower()}'", f"'{name}'")
    return hint


def _url_identity(url: str) -> str:
    """Scheme and host are case-insensitive; the rest of a URL is not."""
    parts = urlsplit(url)
    return parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()).geturl()


# --------------------------------------------------------------------------
# finding files


def _existing_file(path: Path, how: str) -> Path:
    if not path.is_file():
        reason = "is a directory" if path.is_dir() else "does not exist"
        raise ConfigError([ConfigProblem(path, None, None, f"config file {how} {reason}")])
    return path


def find_config(
    cli_path: str | None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    config_dir: Path | None = None,
) -> tuple[Path, bool]:
    """(path, created_from_default): --config, $TALKWATCH_CONFIG, ./feeds.toml, the user config dir.

    The last step creates the file from the packaged default on first run.
    """
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else Path(cwd)
    if cli_path:
        return _existing_file(cwd / Path(cli_path).expanduser(), "given with --config"), False
    if env.get(ENV_CONFIG):
        return _existing_file(cwd / Path(env[ENV_CONFIG]).expanduser(), f"named by ${ENV_CONFIG}"), False
    local = cwd / CONFIG_FILENAME
    if local.is_file():
        return local, False
    user_file = (default_config_dir() if config_dir is None else Path(config_dir)) / CONFIG_FILENAME
    if user_file.is_file():
        return user_file, False
    try:
        user_file.parent.mkdir(parents=True, exist_ok=True)
        # "x": if another talkwatch creates it at the same moment, keep theirs.
        with open(user_file, "x", encoding="utf-8") as out:
            out.write(default_config_text())
    except FileExistsError:
        return user_file, False
    except OSError as exc:
        raise ConfigError(
            [ConfigProblem(user_file, None, None, f"cannot create the default config: {exc.strerror or exc}")]
        )
    return user_file, True


def resolve_db_path(config: Config, cli_db: str | None, env: Mapping[str, str] | None = None) -> Path:
    """--db beats $TALKWATCH_DB beats settings.db; the parent directory is created."""
    env = os.environ if env is None else env
    if cli_db:
        path, how = Path(cli_db).expanduser().absolute(), "given with --db"
    elif env.get(ENV_DB):
        path, how = Path(env[ENV_DB]).expanduser().absolute(), f"named by ${ENV_DB}"
    else:
        path, how = config.settings.db, "set in [settings] db"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            [ConfigProblem(path, None, None, f"cannot create the folder for the database {how}: {exc.strerror or exc}")]
        )
    return path


# --------------------------------------------------------------------------
# the line locator


_BARE_KEY = r"[A-Za-z0-9_-]+"
_KEY_SEGMENT = rf"(?:{_BARE_KEY}|\"(?:[^\"\\]|\\.)*\"|'[^']*')"
_DOTTED_KEY = rf"{_KEY_SEGMENT}(?:\s*\.\s*{_KEY_SEGMENT})*"
_KEY_LINE = re.compile(rf"\s*({_DOTTED_KEY})\s*=\s*")
_AOT_HEADER = re.compile(rf"\s*\[\[\s*({_DOTTED_KEY})\s*\]\]")
_TABLE_HEADER = re.compile(rf"\s*\[\s*({_DOTTED_KEY})\s*\]")
_SEGMENT = re.compile(_KEY_SEGMENT)


def _segments(dotted: str) -> tuple[str, ...]:
    out = []
    for seg in _SEGMENT.findall(dotted):
        if seg.startswith('"'):
            seg = seg[1:-1].encode("utf-8").decode("unicode_escape", errors="replace")
        elif seg.startswith("'"):
            seg = seg[1:-1]
        out.append(seg)
    return tuple(out)


@dataclass(frozen=True)
class _Spot:
    line: int  # 1-based
    key_column: int  # 1-based
    value_column: int


class _Locator:
    """Maps key paths like ("feed", 2, "url") to the line that defines them.

    A scan of the raw text: table headers, n-th [[array]] headers and `key =`
    lines, skipping strings, comments and multi-line arrays. Anything it cannot
    place (a key inside an inline table, an array element) falls back to the
    nearest enclosing thing it could place.
    """

    def __init__(self, text: str):
        self.lines = text.splitlines()
        self.spots: dict[tuple, _Spot] = {}
        self._scan()

    def locate(self, path: tuple, *, at_key: bool = False) -> tuple[int | None, int | None]:
        for size in range(len(path), 0, -1):
            spot = self.spots.get(path[:size])
            if spot is None:
                continue
            if size < len(path) and isinstance(path[size], str):
                # Probably inside an inline table on that line: find the key there.
                found = re.search(rf"(?<![\w-]){re.escape(path[size])}\s*=\s*", self.lines[spot.line - 1])
                if found:
                    return spot.line, (found.start() if at_key else found.end()) + 1
            return spot.line, spot.key_column if (at_key or size < len(path)) else spot.value_column
        return None, None

    def _scan(self) -> None:
        table: tuple = ()
        array_counts: dict[tuple, int] = {}
        open_string: str | None = None  # the delimiter of a multi-line string we are inside
        depth = 0  # brackets open across lines
        for number, line in enumerate(self.lines, start=1):
            start = 0
            if open_string is not None:
                end = line.find(open_string)
                if end < 0:
                    continue
                start, open_string = end + 3, None
            elif depth == 0:
                if header := _AOT_HEADER.match(line):
                    *parents, last = _segments(header.group(1))
                    base = (*self._resolve(tuple(parents), array_counts), last)
                    array_counts[base] = array_counts.get(base, 0) + 1
                    table = (*base, array_counts[base] - 1)
                    indent = len(line) - len(line.lstrip())
                    self._record(table, number, indent, indent)
                    self._record(base, number, indent, indent)
                    continue
                if header := _TABLE_HEADER.match(line):
                    table = self._resolve(_segments(header.group(1)), array_counts)
                    indent = len(line) - len(line.lstrip())
                    self._record(table, number, indent, indent)
                    continue
                if key := _KEY_LINE.match(line):
                    segments = _segments(key.group(1))
                    for size in range(1, len(segments) + 1):
                        self._record((*table, *segments[:size]), number, key.start(1), key.end())
                    start = key.end()
            open_string, depth = self._scan_value(line, start, depth)

    def _record(self, path: tuple, line: int, key_index: int, value_index: int) -> None:
        self.spots.setdefault(path, _Spot(line, key_index + 1, value_index + 1))

    @staticmethod
    def _resolve(segments: tuple[str, ...], array_counts: dict[tuple, int]) -> tuple:
        # [feed.extra] after the third [[feed]] belongs to ("feed", 2).
        path: tuple = ()
        for seg in segments:
            path = (*path, seg)
            if path in array_counts:
                path = (*path, array_counts[path] - 1)
        return path

    @staticmethod
    def _scan_value(line: str, index: int, depth: int) -> tuple[str | None, int]:
        """Track brackets and strings to the end of the line; returns (open multi-line delimiter, depth)."""
        while index < len(line):
            ch = line[index]
            if ch == "#":
                break
            if line.startswith(('"""', "'''"), index):
                delim = line[index : index + 3]
                end = line.find(delim, index + 3)
                if end < 0:
                    return delim, depth
                index = end + 3
                continue
            if ch == '"':
                index += 1
                while index < len(line) and line[index] != '"':
                    index += 2 if line[index] == "\\" else 1
            elif ch == "'":
                end = line.find("'", index + 1)
                index = len(line) if end < 0 else end
            elif ch in "[{":
                depth += 1
            elif ch in "]}":
                depth = max(0, depth - 1)
            index += 1
        return None, depth
