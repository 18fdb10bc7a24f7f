"""The compiled-rules cache: a warm start reads the built index instead of compiling the
TOML, and whatever is wrong with the cache only costs the compile, never a verdict."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest

import tui.classify as classify_module
from tui.classify import (
    CONTEXT,
    SIGNAL,
    Classifier,
    PhraseIndex,
    load_rules,
    pattern_slots,
    rules_cache_dir,
    rules_cache_key,
)

CASES_PATH = Path(__file__).parent / "cases" / "classify_cases.jsonl"


def cache_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("classify-rules-*.pickle"))


@pytest.fixture(scope="module")
def fresh_rules():
    """Built from the TOML, no cache involved (about 0.15 s, so once for the module)."""
    return load_rules(None)


@pytest.fixture(scope="module")
def cases():
    with CASES_PATH.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def no_build(*args, **kwargs):
    raise AssertionError("the rules were compiled, not read from the cache")


def test_second_load_reads_the_cache_and_classifies_identically(tmp_path, monkeypatch, fresh_rules, cases):
    load_rules(tmp_path)  # cold: compiles and writes
    [written] = cache_files(tmp_path)
    monkeypatch.setattr(classify_module, "build_rules", no_build)
    cached = load_rules(tmp_path)
    assert cache_files(tmp_path) == [written]
    fresh, warm = Classifier(rules=fresh_rules), Classifier(rules=cached)
    for case in cases:
        assert warm.classify(case["title"], case["summary"]) == fresh.classify(case["title"], case["summary"])
    # The summary mark is compared by identity: unpickling must give back the very object.
    assert cached.index.first_words["\x01"][CONTEXT] is classify_module._SUMMARY_STARTS


def test_a_corrupt_or_truncated_cache_is_rebuilt_silently(tmp_path, fresh_rules):
    load_rules(tmp_path)
    [path] = cache_files(tmp_path)
    good = path.read_bytes()
    for damage in (b"", b"not a pickle", good[: len(good) // 2]):
        path.write_bytes(damage)
        rules = load_rules(tmp_path)
        assert Classifier(rules=rules).classify("Hamas frees three hostages") == Classifier(
            rules=fresh_rules
        ).classify("Hamas frees three hostages")
        assert path.read_bytes() == good  # and written again, whole


class Booby:
    """Unpickling it would call record(): a cache file must not be able to run code."""

    ran = False

    def __reduce__(self):
        return (record, ())


def record():
    Booby.ran = True
    return "boom"


def test_a_cache_naming_anything_else_is_refused_not_run(tmp_path):
    load_rules(tmp_path)
    [path] = cache_files(tmp_path)
    path.write_bytes(pickle.dumps(Booby()))
    rules = load_rules(tmp_path)
    assert not Booby.ran
    assert isinstance(rules.index, PhraseIndex)
    path.write_bytes(pickle.dumps({"not": "rules"}))
    assert isinstance(load_rules(tmp_path).index, PhraseIndex)


def test_an_unwritable_cache_dir_costs_only_the_compile(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    rules = load_rules(blocker / "cache")  # its parent is a file: mkdir fails
    assert Classifier(rules=rules).classify("Hamas frees three hostages").relevant
    assert list(tmp_path.iterdir()) == [blocker]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_cache_dir_costs_only_the_compile(tmp_path):
    tmp_path.chmod(0o500)
    try:
        assert Classifier(rules=load_rules(tmp_path)).classify("Hamas frees three hostages").relevant
    finally:
        tmp_path.chmod(0o700)
    assert cache_files(tmp_path) == []


def test_no_temporary_file_is_left_behind(tmp_path):
    load_rules(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [p.name for p in cache_files(tmp_path)]


def test_the_key_follows_the_rules_text():
    assert rules_cache_key(b"[settings]\nthreshold = 1.5\n") == rules_cache_key(b"[settings]\nthreshold = 1.5\n")
    assert rules_cache_key(b"[settings]\nthreshold = 1.5\n") != rules_cache_key(b"[settings]\nthreshold = 1.6\n")


def test_old_cache_files_are_pruned(tmp_path):
    for n in range(6):
        old = tmp_path / f"classify-rules-old{n}.pickle"
        old.write_bytes(b"stale")
        os.utime(old, (1_000_000 + n, 1_000_000 + n))
    load_rules(tmp_path)
    kept = cache_files(tmp_path)
    assert len(kept) == 4
    assert tmp_path / "classify-rules-old5.pickle" in kept  # the newest old ones stay
    assert tmp_path / "classify-rules-old0.pickle" not in kept


def test_the_cache_dir_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TALKWATCH_CACHE_DIR", str(tmp_path))
    assert rules_cache_dir() == tmp_path
    monkeypatch.setenv("TALKWATCH_CACHE_DIR", "")
    assert rules_cache_dir() is None
    monkeypatch.delenv("TALKWATCH_CACHE_DIR")
    assert rules_cache_dir().name == "talkwatch"


def test_no_cache_dir_means_no_cache(monkeypatch):
    calls = []
    monkeypatch.setattr(classify_module, "_write_cached_rules", lambda *args: calls.append(args))
    load_rules(None)
    assert calls == []


def test_an_unpickled_index_stays_correct_when_extended():
    # Node ids do not survive pickling, so after a load every node counts as shared:
    # adding a phrase copies the nodes it changes instead of leaking into other paths.
    index = PhraseIndex()
    index.add(pattern_slots("(w1|w2) (x1|x2) y"), SIGNAL, "v")
    loaded = pickle.loads(pickle.dumps(index))
    loaded.add(pattern_slots("w1 x1 y z"), SIGNAL, "longer")
    loaded.add_phrase("w2 x2", CONTEXT, "c")
    assert loaded.scan("w1 x1 y z".split()) == ([], [(0, 4, "longer")])
    assert loaded.scan("w2 x1 y z".split()) == ([], [(0, 3, "v")])
    assert loaded.scan("w2 x2 y".split()) == (["c"], [(0, 3, "v")])
    assert index.scan("w2 x2 y".split()) == ([], [(0, 3, "v")])  # the original is untouched
