"""feeds.toml: parsing, validation with positions, lookup order, db path, the shipped file."""

from __future__ import annotations

import re
import textwrap
import tomllib
from pathlib import Path

import platformdirs
import pytest

import tui
from tui.config import (
    Config,
    ConfigError,
    ConfigProblem,
    FeedSpec,
    Settings,
    TopicSpec,
    default_config_text,
    find_config,
    load_config,
    parse_config,
    parse_duration,
    parse_size,
    resolve_db_path,
)

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "feeds.toml"
PACKAGED = REPO / "tui" / "data" / "feeds.toml"
CFG = Path("feeds.toml")


def problems_of(text: str) -> tuple[ConfigProblem, ...]:
    with pytest.raises(ConfigError) as caught:
        parse_config(textwrap.dedent(text).lstrip("\n"), CFG)
    return caught.value.problems


def only_problem(text: str) -> ConfigProblem:
    problems = problems_of(text)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def feed_block(name: str = "A", url: str = "https://a.example/rss", extra: str = "") -> str:
    return f'[[feed]]\nname = "{name}"\nurl = "{url}"\n{extra}\n'


# ------------------------------------------------------------------ durations


@pytest.mark.parametrize(
    "text, seconds",
    [("90s", 90), ("5m", 300), ("2h", 7200), ("7d", 604800), ("1h30m", 5400),
     ("1d12h", 129600), ("1.5h", 5400), (" 5m ", 300), ("10M", 600), ("0s", 0)],
)  # fmt: skip
def test_parse_duration_accepts(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "m", "5x", "5 minutes", "-5m", "1h1h", "5m3", "five minutes", "5ms"])
def test_parse_duration_rejects_with_the_accepted_form(text):
    with pytest.raises(ValueError, match='"90s", "5m"'):
        parse_duration(text)


@pytest.mark.parametrize("value", [300, 1.5])
def test_a_number_for_a_duration_asks_for_a_string(value):
    problem = only_problem(f"[settings]\ninterval = {value}\n")
    assert problem.line == 2
    assert 'duration string like "5m"' in problem.message
    assert f'"{value}s"' in problem.message


def test_bad_duration_names_the_key_value_and_form():
    problem = only_problem('[settings]\n\nretention = "3 months"\n')
    assert (problem.line, problem.column) == (3, 13)
    assert "retention" in problem.message and "'3 months'" in problem.message
    assert '"7d"' in problem.message


@pytest.mark.parametrize(
    "text, size",
    [("10MiB", 10 * 2**20), ("512KB", 512_000), ("512kib", 524_288), ("2GB", 2 * 10**9), ("4096", 4096)],
)
def test_parse_size(text, size):
    assert parse_size(text) == size


# ------------------------------------------------------------------ defaults and good values


def test_empty_file_gives_every_default(monkeypatch, tmp_path):
    monkeypatch.setattr(platformdirs, "user_data_dir", lambda app: str(tmp_path / app))
    config = parse_config("", None)
    s = config.settings
    assert (s.interval, s.timeout, s.concurrency, s.per_host) == (300.0, 20.0, 16, 2)
    assert (s.max_bytes, s.retention) == (10 * 2**20, 90 * 86400.0)
    assert s.user_agent == f"talkwatch/{tui.__version__} (+{tui.PROJECT_URL})"
    assert s.db == tmp_path / "talkwatch" / "talkwatch.db"
    assert config.feeds == () and config.topic == TopicSpec() and config.path is None


def test_every_setting_feed_key_and_topic_key_is_read(tmp_path):
    text = """
        [settings]
        interval = "10m"
        timeout = "45s"
        concurrency = 4
        per_host = 1
        max_bytes = "512KB"
        retention = "30d"
        user_agent = "me/1.0"
        db = "/var/tmp/tw.db"

        [topic]
        include = ["Rafah"]
        exclude = ["football", "Eurovision"]
        min_score = 0.5

        [[feed]]
        name = "One"
        url = "http://one.example/rss"
        interval = "1h"
        tags = ["wire", "uk"]
        enabled = false

        [[feed]]
        name = "Two"
        url = "https://two.example/atom"
    """
    config = parse_config(textwrap.dedent(text), tmp_path / "feeds.toml")
    assert config.settings == Settings(600.0, 45.0, 4, 1, 512_000, 30 * 86400.0, "me/1.0", Path("/var/tmp/tw.db"))
    assert config.topic == TopicSpec(("Rafah",), ("football", "Eurovision"), 0.5)
    assert config.feeds == (
        FeedSpec("One", "http://one.example/rss", 3600.0, ("wire", "uk"), False, 17),
        FeedSpec("Two", "https://two.example/atom", None, (), True, 24),
    )
    assert [f.name for f in config.enabled_feeds] == ["Two"]


def test_integer_max_bytes_and_the_minimum_interval_are_accepted():
    config = parse_config('[settings]\ninterval = "1m"\nmax_bytes = 1000\n' + feed_block(extra='interval = "60s"'))
    assert config.settings.interval == 60.0 and config.settings.max_bytes == 1000
    assert config.feeds[0].interval == 60.0


# ------------------------------------------------------------------ each kind of problem, with its line


def test_unknown_keys_suggest_the_closest_known_key():
    problems = problems_of(
        """
        [settings]
        intervall = "5m"

        [[feed]]
        name = "A"
        URL = "https://a.example/"
        url = "https://a.example/"

        [topic]
        includes = ["x"]
        """
    )
    assert [(p.line, p.column) for p in problems] == [(2, 1), (6, 1), (10, 1)]
    assert "unknown key 'intervall' (did you mean 'interval'?)" in problems[0].message
    assert "feed 'A'" in problems[1].message and "did you mean 'url'?" in problems[1].message
    assert problems[2].message.startswith("topic: ") and "did you mean 'include'?" in problems[2].message


def test_unknown_table_is_rejected_with_a_suggestion():
    problem = only_problem('[feeds]\nname = "x"\n')
    assert problem.line == 1 and "unknown table or key 'feeds' (did you mean 'feed'?)" in problem.message


# ------------------------------------------------------------------ [[alert]]


def test_alert_rules_are_read_with_defaults_and_canonical_names():
    from datetime import time

    from tui.alerts import AlertRule

    config = parse_config(
        textwrap.dedent(
            """
            [[alert]]
            name = "deal or releases"
            signals = ["Deal", "release"]
            min_sources = 2

            [[alert]]
            name = "talks"
            states = ["stalled", "collapsed", "active_talks"]
            terms = ["Witkoff"]
            channels = ["desktop", "webhook"]
            webhook = "https://ntfy.sh/talkwatch"
            quiet_hours = "22:30-07:00"

            [[alert]]
            signals = ["collapse"]
            webhook = "http://127.0.0.1:8080/hook"
            """
        )
    )
    assert config.alerts == (
        AlertRule("deal or releases", ("deal", "release"), (), 2, (), ("bell", "notify"), None, None, 2),
        AlertRule("talks", (), ("STALLED", "COLLAPSED", "ACTIVE TALKS"), 1, ("Witkoff",), ("desktop", "webhook"),
                  "https://ntfy.sh/talkwatch", (time(22, 30), time(7, 0)), 7),
        AlertRule("alert 3", ("collapse",), (), 1, (), ("bell", "notify", "webhook"), "http://127.0.0.1:8080/hook",
                  None, 15),
    )  # fmt: skip


def test_no_alert_table_means_no_rules():
    assert parse_config(feed_block()).alerts == ()


@pytest.mark.parametrize(
    "body, line, fragment",
    [
        ('signals = ["deal", "relese"]', 3, "unknown name 'relese' (did you mean 'release'?)"),
        ('states = ["stall"]', 3, "unknown name 'stall' (did you mean 'STALLED'?)"),
        ('signals = ["deal"]\nchannels = ["desk"]', 4, "unknown name 'desk' (did you mean 'desktop'?)"),
        ('signals = ["deal"]\nchannels = []', 4, "channels must name at least one"),
        ('signals = "deal"', 3, 'must be an array of strings (got a string; write signals = ["deal"])'),
        ('signals = ["deal"]\nmin_sources = 0', 4, "min_sources must be a positive integer"),
        ('signals = ["deal"]\nmin_sources = "2"', 4, "min_sources must be an integer"),
        ('signals = ["deal"]\nquiet_hours = "10pm-7am"', 4, 'use a local time span like "22:00-07:00"'),
        ('signals = ["deal"]\nquiet_hours = "07:00-07:00"', 4, "the start and end are the same time"),
        ('signals = ["deal"]\nwebhook = "ftp://hooks.example/x"', 4, "must start with http:// or https://"),
        ('signals = ["deal"]\nchannels = ["webhook"]', 4, 'has "webhook" but no webhook'),
        ('signals = ["deal"]\nchannels = ["bell"]\nwebhook = "https://h.example/x"', 5, 'channels does not include "webhook"'),
        ('signals = ["deal"]\nwhen = "now"', 4, "unknown key 'when'"),
        ('signals = ["deal"]\nsignal = ["deal"]', 4, "did you mean 'signals'?"),
        ('min_sources = 2', 1, "says nothing to watch"),
    ],
)  # fmt: skip
def test_bad_alert_rules_are_reported_with_their_line(body, line, fragment):
    problem = only_problem(f'[[alert]]\nname = "mine"\n{body}\n')
    assert problem.line == line, str(problem)
    assert fragment in problem.message and problem.message.startswith("alert 'mine': ")


def test_duplicate_alert_names_point_at_the_first():
    problem = only_problem('[[alert]]\nname = "a"\nsignals = ["deal"]\n\n[[alert]]\nname = "A"\nsignals = ["release"]\n')
    assert problem.line == 6 and "already used by the alert on line 1" in problem.message


def test_alert_must_be_an_array_of_tables():
    problem = only_problem('[alert]\nsignals = ["deal"]\n')
    assert problem.line == 1 and "[[alert]]" in problem.message


def test_unknown_key_without_a_close_match_lists_the_known_keys():
    problem = only_problem('[settings]\ncolour = "red"\n')
    assert "did you mean" not in problem.message and "interval" in problem.message


@pytest.mark.parametrize(
    "line, expected",
    [
        ('concurrency = "16"', "concurrency must be an integer (got a string: '16')"),
        ("per_host = true", "per_host must be an integer (got a boolean: true)"),
        ("user_agent = 7", "user_agent must be a string (got an integer: 7)"),
        ("max_bytes = 1.5", "max_bytes must be an integer number of bytes"),
        ("timeout = [1]", 'timeout must be a duration string like "5m" (got an array)'),
    ],
)
def test_wrong_types_say_expected_and_got(line, expected):
    problem = only_problem(f"[settings]\n# comment\n{line}\n")
    assert problem.line == 3 and expected in problem.message


@pytest.mark.parametrize(
    "line, expected",
    [
        ("concurrency = 0", "concurrency must be a positive integer (got 0)"),
        ("per_host = -1", "per_host must be a positive integer (got -1)"),
        ("max_bytes = 0", "max_bytes must be positive"),
        ('timeout = "0s"', "timeout must be longer than zero"),
        ('interval = "30s"', "interval '30s' is below the minimum of 1m"),
    ],
)
def test_non_positive_numbers_and_too_short_intervals(line, expected):
    problem = only_problem(f"[settings]\n{line}\n")
    assert problem.line == 2 and expected in problem.message


def test_feed_interval_below_minimum_points_at_the_feed_line():
    problem = only_problem(feed_block() + feed_block("B", "https://b.example/", 'interval = "59s"'))
    assert problem.line == 8 and problem.message.startswith("feed 'B': interval '59s' is below the minimum")


@pytest.mark.parametrize(
    "url, expected",
    [
        ("ftp://x", "url must start with http:// or https:// (got 'ftp://x')"),
        ("example.com/rss", "url must start with http:// or https://"),
        ("javascript:alert(1)", "url must start with http:// or https://"),
        ("http://", "url has no host name"),
        ("https:///path", "url has no host name"),
        ("http://a.example:99999/", "not a valid URL"),
        ("http://a.example/my feed", "must not contain spaces"),
    ],
)
def test_bad_urls(url, expected):
    problem = only_problem(feed_block("BBC", url))
    assert (problem.line, problem.column) == (3, 7)
    assert problem.message.startswith("feed 'BBC': ") and expected in problem.message


def test_feed_type_errors_and_missing_keys():
    problems = problems_of(
        """
        [[feed]]
        name = 5
        url = "https://a.example/"
        tags = "uk"
        enabled = "yes"

        [[feed]]
        name = "No url"
        tags = ["ok", 3]
        """
    )
    found = [(p.line, p.message) for p in problems]
    assert (2, "feed #1: name must be a string (got an integer: 5)") in found
    assert (4, 'feed #1: tags must be an array of strings (got a string; write tags = ["uk"])') in found
    assert (5, "feed #1: enabled must be true or false (got a string: 'yes')") in found
    assert (7, "feed 'No url': missing required key 'url'") in found
    assert (9, "feed 'No url': tags[1] must be a non-empty string of text (got an integer)") in found
    assert len(problems) == 5


def test_duplicate_names_are_case_insensitive_and_point_at_the_second():
    problem = only_problem(feed_block("BBC", "https://a.example/") + "\n" + feed_block("bbc", "https://b.example/"))
    assert (problem.line, problem.column) == (7, 8)
    assert problem.message == "feed 'bbc': duplicate name: 'BBC' is already used by the feed on line 1"


def test_duplicate_urls_ignore_the_case_of_scheme_and_host_only():
    problem = only_problem(
        feed_block("A", "https://News.example/Rss")
        + feed_block("B", "HTTPS://news.EXAMPLE/Rss")
        + feed_block("C", "https://news.example/rss")  # path case matters: a different feed
    )
    assert problem.line == 7
    assert "feed 'B': duplicate url" in problem.message and "feed 'A' on line 1" in problem.message


def test_wrong_table_shapes():
    problems = problems_of('settings = 5\nfeed = "x"\ntopic = [1]\n')
    assert [p.line for p in problems] == [1, 2, 3]
    assert "write [settings]" in problems[0].message
    assert "write [[feed]] (two brackets)" in problems[1].message
    assert "write [topic]" in problems[2].message


def test_a_single_bracket_feed_table_is_explained():
    problem = only_problem('[feed]\nname = "A"\nurl = "https://a.example/"\n')
    assert problem.line == 1 and "[[feed]]" in problem.message


def test_topic_problems():
    problems = problems_of('[topic]\ninclude = "Rafah"\nexclude = [""]\nmin_score = "high"\n')
    assert [p.line for p in problems] == [2, 3, 4]
    assert "min_score must be a number (got a string: 'high')" in problems[2].message


def test_control_characters_in_names_are_rejected():
    problem = only_problem(feed_block("Evil\\u001b[31m"))
    assert problem.line == 2 and "control characters" in problem.message


# ------------------------------------------------------------------ reporting together, positions


def test_many_problems_are_reported_together_in_file_order():
    text = """
        [settings]
        intervall = "5m"
        interval = 30
        concurrency = 0

        [[feed]]
        name = "BBC"
        url = "ftp://x"

        [[feed]]
        name = "bbc"
        url = "https://a.example/"
        interval = "2 hours"

        [topic]
        min_score = true
    """
    with pytest.raises(ConfigError) as caught:
        parse_config(textwrap.dedent(text).lstrip("\n"), CFG)
    problems = caught.value.problems
    assert [p.line for p in problems] == [2, 3, 4, 8, 11, 13, 16]
    lines = str(caught.value).splitlines()
    assert len(lines) == 7
    assert lines[3] == "feeds.toml:8:7: feed 'BBC': url must start with http:// or https:// (got 'ftp://x')"


def test_problem_str_forms():
    assert str(ConfigProblem(Path("feeds.toml"), 12, 5, "bad")) == "feeds.toml:12:5: bad"
    assert str(ConfigProblem(Path("feeds.toml"), 12, None, "bad")) == "feeds.toml:12: bad"
    assert str(ConfigProblem(Path("/x/feeds.toml"), None, None, "bad")) == "/x/feeds.toml: bad"
    assert str(ConfigProblem(None, 3, None, "bad")) == "<config>:3: bad"


@pytest.mark.parametrize(
    "text, line, column",
    [
        ('[settings]\ninterval = 5m\n', 2, 13),
        ('[[feed]]\nname = "A"\nname = "B"\n', 3, None),
        ('[settings\n', 1, None),
        ('[[feed]]\nurl = "https://a\n', 2, None),
    ],
)
def test_toml_syntax_error_has_line_and_column(text, line, column):
    problem = only_problem(text)
    assert problem.message.startswith("TOML syntax error: ")
    assert "(at line" not in problem.message
    assert problem.line == line and problem.column is not None
    if column is not None:
        assert problem.column == column


def test_inline_tables_and_dotted_keys_are_located():
    problems = problems_of('settings = { timeout = "5s", intervl = "5m" }\ntopic.min_score = "x"\n')
    assert [(p.line, p.column) for p in problems] == [(1, 30), (2, 19)]
    assert "did you mean 'interval'?" in problems[0].message


def test_locator_is_not_fooled_by_brackets_in_strings_and_arrays():
    text = '''
        [settings]
        user_agent = """
        [[feed]]
        """

        [[feed]]
        name = "A"
        url = "https://a.example/"
        tags = [
          "x",
          ["nested"]
        ]
        # [[feed]] in a comment
        enabled = 1
    '''
    problems = problems_of(text)
    assert [p.line for p in problems] == [2, 9, 14]  # 9: tags[1] is an array
    assert "user_agent must not contain control characters" in problems[0].message
    assert problems[2].message.startswith("feed 'A': enabled must be true or false")


def test_array_of_tables_sub_tables_belong_to_the_last_entry():
    problems = problems_of(feed_block("A") + feed_block("B", "https://b.example/") + "[feed.extra]\nx = 1\n")
    assert len(problems) == 1 and problems[0].line == 9 and problems[0].message.startswith("feed 'B': unknown key")


# ------------------------------------------------------------------ files


def test_load_config_reads_a_file_and_reports_its_path(tmp_path):
    path = tmp_path / "feeds.toml"
    path.write_text(feed_block() + "[settings]\nbogus = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}:6:1: settings: unknown key 'bogus'")


def test_load_config_missing_file_and_bad_encoding(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.toml")
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'# ok\n[[feed]]\nname = "Caf\xe9"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems[0].line == 3 and "UTF-8" in caught.value.problems[0].message


def test_load_config_accepts_a_byte_order_mark(tmp_path):
    path = tmp_path / "feeds.toml"
    path.write_bytes("\ufeff".encode() + feed_block().encode())
    assert load_config(path).feeds[0].name == "A"


def test_relative_db_is_relative_to_the_config_file_and_tilde_expands(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "conf").mkdir()
    path = tmp_path / "conf" / "feeds.toml"
    path.write_text('[settings]\ndb = "data/tw.db"\n', encoding="utf-8")
    assert load_config(path).settings.db == tmp_path / "conf" / "data" / "tw.db"
    path.write_text('[settings]\ndb = "~/tw.db"\n', encoding="utf-8")
    assert load_config(path).settings.db == tmp_path / "home" / "tw.db"


# ------------------------------------------------------------------ lookup order


@pytest.fixture
def places(tmp_path):
    cwd, config_dir = tmp_path / "cwd", tmp_path / "config" / "talkwatch"
    cwd.mkdir()
    explicit = tmp_path / "explicit.toml"
    from_env = tmp_path / "env.toml"
    for path in (explicit, from_env, cwd / "feeds.toml"):
        path.write_text("# " + path.name, encoding="utf-8")
    return cwd, config_dir, explicit, from_env


def test_lookup_order_cli_then_env_then_cwd_then_user_dir(places):
    cwd, config_dir, explicit, from_env = places
    env = {"TALKWATCH_CONFIG": str(from_env)}
    find = lambda cli, env: find_config(cli, env=env, cwd=cwd, config_dir=config_dir)  # noqa: E731
    assert find(str(explicit), env) == (explicit, False)
    assert find(None, env) == (from_env, False)
    assert find(None, {}) == (cwd / "feeds.toml", False)
    (cwd / "feeds.toml").unlink()
    assert find(None, {"TALKWATCH_CONFIG": ""}) == (config_dir / "feeds.toml", True)
    assert find(None, {}) == (config_dir / "feeds.toml", False)  # created only once
    assert not (cwd / "feeds.toml").exists()


def test_relative_cli_path_is_relative_to_cwd(places):
    cwd, config_dir, _, _ = places
    (cwd / "sub").mkdir()
    (cwd / "sub" / "mine.toml").write_text("", encoding="utf-8")
    assert find_config("sub/mine.toml", env={}, cwd=cwd, config_dir=config_dir) == (cwd / "sub" / "mine.toml", False)


@pytest.mark.parametrize("via", ["cli", "env"])
def test_a_named_config_must_exist(places, via):
    cwd, config_dir, _, _ = places
    missing = cwd.parent / "missing.toml"
    cli, env = (str(missing), {}) if via == "cli" else (None, {"TALKWATCH_CONFIG": str(missing)})
    with pytest.raises(ConfigError) as caught:
        find_config(cli, env=env, cwd=cwd, config_dir=config_dir)
    assert str(missing) in str(caught.value) and "does not exist" in str(caught.value)
    assert ("--config" if via == "cli" else "$TALKWATCH_CONFIG") in str(caught.value)
    assert not config_dir.exists()  # no fallback to the default when a file was named


def test_first_run_creates_the_user_config_from_the_packaged_default(tmp_path, monkeypatch):
    monkeypatch.setattr(platformdirs, "user_config_dir", lambda app: str(tmp_path / "cfg" / app))
    path, created = find_config(None, env={}, cwd=tmp_path)
    assert created and path == tmp_path / "cfg" / "talkwatch" / "feeds.toml"
    assert path.read_bytes() == PACKAGED.read_bytes()
    path.write_text("# edited by the user\n", encoding="utf-8")
    assert find_config(None, env={}, cwd=tmp_path) == (path, False)
    assert path.read_text(encoding="utf-8") == "# edited by the user\n"


# ------------------------------------------------------------------ database path


def test_db_path_precedence_and_parent_creation(tmp_path):
    config = parse_config(f'[settings]\ndb = "{tmp_path}/settings/tw.db"\n')
    env = {"TALKWATCH_DB": str(tmp_path / "env" / "tw.db")}
    assert resolve_db_path(config, str(tmp_path / "cli" / "tw.db"), env) == tmp_path / "cli" / "tw.db"
    assert (tmp_path / "cli").is_dir()
    assert resolve_db_path(config, None, env) == tmp_path / "env" / "tw.db"
    assert (tmp_path / "env").is_dir()
    assert resolve_db_path(config, None, {}) == tmp_path / "settings" / "tw.db"
    assert (tmp_path / "settings").is_dir()


def test_db_parent_that_cannot_be_created_is_a_config_error(tmp_path):
    (tmp_path / "file").write_text("", encoding="utf-8")
    config = parse_config("")
    with pytest.raises(ConfigError, match="--db"):
        resolve_db_path(config, str(tmp_path / "file" / "sub" / "tw.db"), {})


# ------------------------------------------------------------------ the shipped file


def test_shipped_feeds_toml_is_the_packaged_default_byte_for_byte():
    assert SHIPPED.read_bytes() == PACKAGED.read_bytes()
    assert default_config_text() == PACKAGED.read_text(encoding="utf-8")


def test_shipped_feeds_toml_parses_with_8_to_12_https_feeds():
    config = load_config(SHIPPED)
    enabled = config.enabled_feeds
    assert 8 <= len(enabled) <= 12
    assert all(f.url.startswith("https://") for f in enabled)
    assert len({f.name.casefold() for f in enabled}) == len(enabled)
    assert any("aggregator" in f.tags for f in enabled)


def test_shipped_comments_document_every_setting_with_its_default():
    text = PACKAGED.read_text(encoding="utf-8")
    documented = dict(re.findall(r"^# (\w+)\s*= (\S.*?)\s{2,}#", text, flags=re.MULTILINE))
    documented.update(re.findall(r"^# (user_agent|db)\s*= (\".*\")\s*$", text, flags=re.MULTILINE))
    assert set(Settings.__dataclass_fields__) <= set(documented)
    # Uncommenting the documented values must change nothing.
    plain = {k: v for k, v in documented.items() if k in Settings.__dataclass_fields__ and k not in ("user_agent", "db")}
    uncommented = "[settings]\n" + "".join(f"{k} = {v}\n" for k, v in plain.items())
    assert parse_config(uncommented).settings == Settings()


def test_shipped_topic_example_is_valid_once_uncommented():
    text = PACKAGED.read_text(encoding="utf-8")
    block = re.search(r"^# \[topic\]\n((?:#.*\n)+)", text, flags=re.MULTILINE).group(1)
    lines = [line[2:] for line in block.splitlines() if re.match(r"# \w+\s*=", line)]
    topic = parse_config("[topic]\n" + "\n".join(lines) + "\n").topic
    assert topic.include and topic.exclude and topic.min_score is not None


def test_config_is_frozen():
    config = parse_config(feed_block())
    assert isinstance(config, Config)
    with pytest.raises(AttributeError):
        config.feeds = ()  # type: ignore[misc]
    assert tomllib.loads(default_config_text())["feed"]


def test_keys_table_remaps_binding_ids():
    config = parse_config('[keys]\ntoggle_relevant = "x"\nhelp = "f1,question_mark"\n')
    assert config.keys == (("toggle_relevant", "x"), ("help", "f1,question_mark"))


def test_keys_must_be_non_empty_strings_with_lines():
    with pytest.raises(ConfigError) as caught:
        parse_config('[keys]\nhelp = 3\nquit = " "\n', Path("feeds.toml"))
    lines = sorted(p.line for p in caught.value.problems)
    assert lines == [2, 3]
