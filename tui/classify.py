"""Per-item verdict: is a headline about the Gaza hostage talks, and what does it say about them?

Rule-based and explainable. All vocabulary lives in ``tui/data/rules.toml``;
this module is only the engine that applies it.

How a verdict is reached
------------------------
1. *Normalise*: strip a Google-News-style trailing " - Publisher" from the
   title, set a short "Kicker:" label apart, unify quotes and dashes,
   lowercase, drop possessive "'s", split on anything that is not a letter or
   digit ("Hamas's cease-fire" -> "hamas ceasefire"). A summary that repeats
   the headline is scanned once; only its first 700 characters (the lede) count.
2. *Scan* kicker, headline and summary (one pass, with marks between them so
   no phrase spans two) against one word-level index holding every rule phrase,
   built once from the TOML (about 200,000 phrases once variants expand, held in
   about 11,000 nodes because a pattern's tails are shared: see PhraseIndex). It has
   two layers, each matched leftmost-longest: *context* phrases (hostage and
   talks terms; anchors that tie a topic to this conflict: Gaza side, Israel
   side, October 7, mediators; negatives: other conflicts, other senses of
   "release"/"deal"; actors and places) and *signal* cues. A long context
   phrase also carries the effects of the phrases inside it ("gaza hostages"
   is an anchor and a hostage term), negatives excepted.
3. *Relevance*: ``score = topic + anchor - strongest negative (+ include terms)``,
   relevant when some hostage/talks term fired and the score reaches the
   threshold (or ``[topic] min_score``). A topic word alone ("hostages",
   "ceasefire") does not reach it: it needs the Gaza/Israel anchor, which is
   what rejects other hostage crises and other ceasefires. An event verb said
   of the Gaza side ("Hamas hands over four soldiers") counts as topic. An
   ``exclude`` term of the user's topic vetoes.
4. *Signal*: cues map the CAMEO/PLOVER event categories (046 negotiate ->
   progress, 057 sign agreement and 0871 declare ceasefire -> deal, 0841
   release persons -> release, 125/127 reject -> stalled, 164 halt
   negotiations -> stalled, 196 violate ceasefire -> collapse), plus proposals
   and "none" cues (protests, analysis, human stories). Each has a tier:
   3 = event phrase, 2 = event noun, 1 = mere mention of talks. The headline
   "leads with" its highest-tier cue, earliest first (a weak cue in a kicker
   counts as last); the summary decides only when the title has no cue of tier
   2 or more. Masks ("deal to free", "release date", "releases video") consume
   words so they cannot fire in the wrong sense. A verdict on a proposal ("Hamas
   proposal 'unacceptable'") has tier 3.5: it outranks the proposal it judges. A
   deal, release or collapse cue inside a question ("Will Netanyahu accept a
   deal?") is asked, not reported: none, or stalled for a feared collapse.

The classifier is pure and deterministic, and never raises on a string.
"""

from __future__ import annotations

import os
import pickle
import re
import sys
import unicodedata
from dataclasses import dataclass, fields
from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from tui.models import Verdict

if TYPE_CHECKING:  # tui.config is not needed at run time: a topic is duck-typed
    from tui.config import TopicSpec

__all__ = ["Classifier", "classify", "normalise", "strip_publisher", "tokenise"]

# Inputs beyond this are cut: no headline needs more, a summary's news is in its
# lede (the first two or three sentences; later paragraphs of a full article only
# add noise), and a hostile 10 MB "summary" costs no more than a normal item.
MAX_TITLE_CHARS = 1_000
MAX_SUMMARY_CHARS = 700

_PUNCT = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
        "\u00b4": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
        "\u2212": "-", "\u00a0": " ",
    }
)
_POSSESSIVE = re.compile(r"'s\b")
_WORD = re.compile(r"[^\W_]+")
# Spellings that the press writes both joined and apart; the rules use the joined form.
_COMPOUNDS = re.compile(r"\b(?:cease fire|counter proposal|counter offer|hand over)\b")
_COMPOUND_FORM = {
    "cease fire": "ceasefire",
    "counter proposal": "counterproposal",
    "counter offer": "counteroffer",
    "hand over": "handover",
}


def strip_publisher(title: str) -> str:
    """Drop a trailing " - Publisher" (also " | ", en or em dash) when what remains still
    looks like a headline and the tail like a name ("Reuters", "Al-Monitor", "ynet.com")."""
    cut = title.rfind(" - ")
    if " | " in title or " \u2013 " in title or " \u2014 " in title:  # rare: " - " is the norm
        cut = max(cut, title.rfind(" | "), title.rfind(" \u2013 "), title.rfind(" \u2014 "))
    if cut <= 0:
        return title
    # The cheap tests first; split(None, k) stops after k cuts: enough to count "at most 6"
    # and "at least 3" words.
    tail = title[cut + 3 :].strip()
    if not tail or len(tail) > 60 or (tail[0].islower() and "." not in tail) or len(tail.split(None, 6)) > 6:
        return title
    head = title[:cut].rstrip()
    return head if len(head.split(None, 2)) >= 3 else title


# ASCII fast path on bytes: one bytes.translate (in C) lowercases, turns every byte that
# is not a letter or digit into a space and drops apostrophes ("Don't" -> "dont").
# Two control characters survive as tokens of their own: the classifier joins kicker,
# headline and summary with them so one pass tokenises and scans all three.
KICKER_MARK, SUMMARY_MARK = "\x02", "\x01"
_ASCII_SEPARATORS = bytes(c for c in range(256) if not (c < 128 and chr(c).isalnum()) and c not in (1, 2))
_ASCII_UPPER = bytes(range(ord("A"), ord("Z") + 1))
_ASCII_TABLE = bytes.maketrans(_ASCII_SEPARATORS + _ASCII_UPPER, b" " * len(_ASCII_SEPARATORS) + _ASCII_UPPER.lower())
# Applied before lowercasing. Its literal first byte lets the regex engine skip ahead fast
# (a class such as ['`] instead makes it three times slower).
_POSSESSIVE_BYTES = re.compile(rb"'[sS]\b")
_COMPOUND_HEADS = frozenset(("cease", "counter", "hand"))


def tokenise(text: str) -> list[str]:
    """Lowercase words: the form every rule phrase is matched in."""
    if text.isascii():  # the common case, on a fast path
        raw = text.encode("ascii")
        # The regex only where a possessive can be. (The tests look at the str: "in" on
        # bytes costs ten times as much, its argument going through the buffer protocol.)
        if "'" in text or "`" in text:
            if "`" in text:
                raw = raw.replace(b"`", b"'")
            raw = _POSSESSIVE_BYTES.sub(b"", raw)
        tokens = raw.translate(_ASCII_TABLE, b"'").decode("ascii").split()
        # The set test below hashes every token once in C; the scan's lookups reuse the
        # hashes (a str keeps its hash), so it is cheaper than substring tests first.
    else:
        text = text.translate(_PUNCT).lower()
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
        text = _POSSESSIVE.sub("", text).replace("'", "")
        tokens = _WORD.findall(text)
    if not _COMPOUND_HEADS.isdisjoint(tokens):
        joined = _COMPOUNDS.sub(lambda m: _COMPOUND_FORM[m.group(0)], " ".join(tokens))
        tokens = joined.split(" ")
    return tokens


_KICKER = re.compile(r"^(?P<kicker>[^:]{1,40}):\s+(?P<rest>\S.*)$", re.S)


def split_kicker(title: str) -> tuple[str, str]:
    """("Hostage deal", "Hamas frees three") for "Hostage deal: Hamas frees three"; ("", title)
    when there is no short kicker. A kicker is usually a label, so only an event verb in
    it ("Deal reached: ...") may lead the headline."""
    match = _KICKER.match(title) if ":" in title else None
    if match and len(match.group("kicker").split()) <= 4 and len(match.group("rest").split()) >= 3:
        return match.group("kicker"), match.group("rest")
    return "", title


def normalise(text: str) -> str:
    """Lowercase words separated by single spaces ("Hamas's cease-fire" -> "hamas ceasefire")."""
    return " ".join(tokenise(text))


# ----------------------------------------------------------------------------- rules


_VAR = re.compile(r"\{([A-Z_]+)\}")


def pattern_slots(pattern: str, variables: dict[str, str] | None = None) -> list[list[list[str]]]:
    """A rule pattern as slots of alternatives, each alternative a list of words.

    Mini-syntax: "(a|b|)" alternation groups, the empty branch meaning optional;
    "{NAME}" variables (each itself one group); "~" any one word. A group glued to a
    word ("hostage(s|)") is expanded into whole phrases first, so it works too.
    """
    if variables:
        pattern = _VAR.sub(lambda m: variables[m.group(1)], pattern)
    pattern = pattern.replace("~", f" {WILDCARD} ")
    parts = re.split(r"(\([^()]*\))", pattern)
    choices = [p[1:-1].split("|") if p.startswith("(") and p.endswith(")") else [p] for p in parts]
    if re.search(r"[^\W_][(]|[)][^\W_]", pattern):
        phrases = {normalise("".join(combo)) for combo in product(*choices)}
        return [[phrase.split(" ") for phrase in sorted(phrases) if phrase]]
    # Groups between whole words ("(the |)fighting" too) normalise variant by variant.
    return [[tokenise(option) for option in options] for options in choices if options != [""]]


def expand(pattern: str, variables: dict[str, str] | None = None) -> list[str]:
    """Every phrase a pattern stands for: "hostage(s|) (freed|released)" -> 4 phrases."""
    slots = pattern_slots(pattern, variables)
    out = [" ".join(w for words in combo for w in words) for combo in product(*slots)]
    return [phrase for phrase in out if phrase]


# "~" in a rule phrase stands for any one word ("ending ~ truce": "ending two-month
# truce" is "ending two month truce", so use "(~ |~ ~ |)" for up to two). An exact word
# is tried first and there is no backtracking, so keep wildcards after specific words.
WILDCARD = "wildcard0"
CONTEXT, SIGNAL = 0, 1  # the two layers of a PhraseIndex


class _SummaryStarts:
    """The context value of the summary mark, reported by a scan there, so context hits
    need no positions. Compared by identity: a cached index unpickles to this very
    object (it is pickled by name)."""

    __slots__ = ()

    def __reduce__(self) -> str:
        return "_SUMMARY_STARTS"

    def __repr__(self) -> str:
        return "<summary starts>"


_SUMMARY_STARTS: Any = _SummaryStarts()


class _AllShared:
    """PhraseIndex._shared once unpickled, when node ids are new: every node counts as
    shared, so an add() copies each node it changes (wasteful but safe; rare)."""

    __slots__ = ()

    def __contains__(self, node_id: object) -> bool:
        return True

    def update(self, node_ids: Iterable[int]) -> None:
        pass


class PhraseIndex:
    """Finds rule phrases in a token list: leftmost, then longest, non-overlapping.

    A word-level trie (with shared tails, so in fact a DAG): a word that starts no
    phrase costs one dict lookup, each further word of a phrase one more. Far cheaper
    to build than one regex of tens of thousands of alternatives, and fast to scan. One
    index holds two independent layers (context and signal) so a text is walked once;
    each layer keeps its own leftmost-longest, non-overlapping matches. A node is [context
    value, signal value, children, the "~" child or None] (the last saves a second lookup
    when a word does not go on). It pickles (see the rules cache)."""

    __slots__ = ("_root", "_shared")

    def __init__(self) -> None:
        self._root: dict[str, list[Any]] = {}
        # The index is a DAG, not a tree: the nodes that spell a pattern's later slots are
        # built once and shared by every way of reaching them ("(hopes|prospects) (for|of)
        # ... (fade|dim)" is 1 set of tails, not one per prefix), which keeps the build
        # small and fast. Shared nodes are copied before a later phrase changes them
        # (copy on write), so a phrase never leaks into another one's paths. Holds ids;
        # a stale id only causes a harmless extra copy.
        self._shared: set[int] | _AllShared = set()

    def __getstate__(self) -> dict[str, Any]:
        return {"root": self._root}  # pickle keeps the DAG's sharing; ids do not survive

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._root = state["root"]
        self._shared = _AllShared()

    @property
    def first_words(self) -> dict[str, list[Any]]:
        """The top of the index: first word -> node (for a scan written out elsewhere)."""
        return self._root

    def add(self, slots: list[list[list[str]]], layer: int, value: Any) -> None:
        """Put value on every phrase the slots spell (see pattern_slots); where a phrase
        already has a value in this layer, the first one stays."""
        n = len(slots)
        # ends[k]: a phrase may end before slot k (every slot from k on is optional).
        ends = [False] * n + [True]
        for k in range(n - 1, -1, -1):
            ends[k] = ends[k + 1] and any(not words for words in slots[k])
        shared = self._shared
        built: list[list[Any]] = []
        tails: dict[int, dict[str, list[Any]]] = {}

        def tail(k: int) -> dict[str, list[Any]]:
            """The children that spell slots k.. (built once per k)."""
            if k in tails:
                return tails[k]
            out: dict[str, list[Any]] = {}
            if k < n:
                after = tail(k + 1)
                for words in slots[k]:
                    if not words:  # an empty alternative: the slot is optional
                        self._merge(out, after, layer, built)
                        continue
                    node = [None, None, after, after.get(WILDCARD)]
                    if ends[k + 1]:
                        node[layer] = value
                    built.append(node)
                    for word in reversed(words[1:]):
                        kids = {word: node}
                        node = [None, None, kids, kids.get(WILDCARD)]
                        built.append(node)
                    self._merge(out, {words[0]: node}, layer, built)
            tails[k] = out
            return out

        first = tail(0)
        shared.update(map(id, built))  # every node built here may be reached more than once
        self._merge(self._root, first, layer, None)

    def _merge(self, kids: dict[str, list[Any]], more: dict[str, list[Any]], layer: int,
               built: list[list[Any]] | None) -> None:
        """Add the phrases spelt by `more` to `kids` (a dict this path owns); an existing
        value in the layer stays. `built` collects the copies made while building a pattern."""
        shared = self._shared
        for word, node in more.items():
            here = kids.get(word)
            if here is None:
                kids[word] = node  # by reference: the node is marked shared
                continue
            if here is node:
                continue
            if id(here) in shared or built is not None:
                here = [here[0], here[1], dict(here[2]), here[3]]  # this path's own copy
                kids[word] = here
                if built is not None:
                    built.append(here)
            if here[layer] is None and node[layer] is not None:
                here[layer] = node[layer]
            if node[2]:
                self._merge(here[2], node[2], layer, built)
                here[3] = here[2].get(WILDCARD)

    def add_phrase(self, phrase: str, layer: int, value: Any) -> None:
        """One literal phrase: a plain walk down this path's own nodes (copying shared ones)."""
        shared = self._shared
        kids, node = self._root, None
        for word in phrase.split(" "):
            here = kids.get(word)
            if here is None:
                here = kids[word] = [None, None, {}, None]
                if word == WILDCARD and node is not None:
                    node[3] = here
            elif id(here) in shared:
                here = kids[word] = [here[0], here[1], dict(here[2]), here[3]]
                if word == WILDCARD and node is not None:
                    node[3] = here
            node, kids = here, here[2]
        if node is not None and node[layer] is None:
            node[layer] = value

    def scan(self, tokens: list[str]) -> tuple[list[Any], list[tuple[int, int, Any]]]:
        """([context value], [(start, end, signal value)]), in text order, token indices."""
        ctx_out: list[Any] = []
        sig_out: list[tuple[int, int, Any]] = []
        ctx_next = sig_next = 0
        n = len(tokens)
        get = self._root.get
        # Classifier.classify walks the same way (see there), folding matches in as it goes.
        for i, word in enumerate(tokens):
            node = get(word)
            if node is None:
                continue
            ctx, sig, kids, wild = node
            ctx_end = sig_end = end = i + 1
            if kids and end < n:
                # Most words that start a longer phrase ("the", "on", "in") are not followed
                # by one: settle that with one lookup before setting up the walk.
                node = kids.get(tokens[end]) or wild
                if node is not None:
                    if i < ctx_next and i < sig_next:
                        continue
                    ctx, ctx_end, sig, sig_end = longest_match(node, tokens, end, ctx, sig)
            if ctx is not None and i >= ctx_next:
                ctx_out.append(ctx)
                ctx_next = ctx_end
            if sig is not None and i >= sig_next:
                sig_out.append((i, sig_end, sig))
                sig_next = sig_end
        return ctx_out, sig_out


def longest_match(node: list[Any], tokens: list[str], j: int, ctx: Any, sig: Any) -> tuple[Any, int, Any, int]:
    """Walk on from node (reached by tokens[j]) as far as the phrases go; returns the longest
    match of each layer as (ctx, ctx end, sig, sig end), given those ending before j (a
    value None: none). There is no backtracking: an exact word is tried before "~"."""
    n = len(tokens)
    ctx_end = sig_end = j
    while True:
        j += 1
        c, g, kids, wild = node
        if c is not None:
            ctx, ctx_end = c, j
        if g is not None:
            sig, sig_end = g, j
        if not kids or j >= n:
            return ctx, ctx_end, sig, sig_end
        node = kids.get(tokens[j])
        if node is None:
            node = wild
            if node is None:
                return ctx, ctx_end, sig, sig_end


# Context effect kinds, as small ints for a fast dispatch in the hot loop.
HOSTAGE, TALKS, ANCHOR, NEGATIVE, ACTOR, PLACE, MASK = range(7)
_KINDS = {"hostage": HOSTAGE, "talks": TALKS, "anchor": ANCHOR, "negative": NEGATIVE,
          "actor": ACTOR, "place": PLACE, "mask": MASK}


@dataclass(frozen=True, slots=True)
class ContextRule:
    kind: str  # hostage | talks | anchor | negative | actor | place | mask
    label: str
    weight: float
    group: str  # anchor group (gaza/israel/oct7/mediator) or canonical actor/place name
    anchor_group: str = ""  # actors/places may also anchor
    anchor_weight: float = 0.0


# (kind code, weight, group, anchor group, anchor weight, note for "matched")
Effect = tuple[int, float, str, str, float, str]


@dataclass(frozen=True, slots=True)
class SignalRule:
    signal: str  # one of SIGNALS, or "" for a mask
    tier: float  # 3 = event phrase, 2 = event noun, 1 = mention; 3.5 = a verdict on a proposal
    topic: float  # counts towards relevance (an event verb implies the topic a little)


@dataclass(frozen=True)
class Rules:
    threshold: float
    hostage_talks_bonus: float
    signal_topic_cap: float
    anchor_extra: float
    anchor_cap: float
    summary_negative_factor: float
    weak_topic: float
    index: PhraseIndex  # context layer: ContextSummary; signal layer: (signal, tier, topic, event topic)


def _load_rules_data() -> dict[str, Any]:
    import tomllib

    return tomllib.loads(_rules_text().decode("utf-8"))


def _rules_text() -> bytes:
    """rules.toml as packaged. (Read through importlib.resources only where the package is
    no plain directory, a zip: importing it costs more than reading the file.)"""
    path = Path(__file__).with_name("data") / "rules.toml"
    try:
        return path.read_bytes()
    except OSError:
        from importlib import resources

        return resources.files("tui").joinpath("data/rules.toml").read_bytes()


def _note(rule: ContextRule, sub: str) -> str:
    if rule.kind == "anchor":
        return f"anchor {rule.group}: '{sub}'"
    return f"{rule.label}: '{sub}'"


# What one context phrase contributes, folded at load time so the hot loop does a few
# comparisons per match: (hostage, talks, negative, (anchor groups, top anchor weight,
# actors, places) or None, notes). Groups, names and notes are dicts (keys only) so the hot
# loop merges them with one |=, which keeps first-seen order and drops repeats.
ContextSummary = tuple[
    float, float, float, tuple[dict[str, None], float, dict[str, None], dict[str, None]] | None, dict[str, None]
]


def _summarise(effects: list[Effect]) -> ContextSummary:
    hostage = talks = negative = 0.0
    anchors: dict[str, float] = {}
    actors: list[str] = []
    places: list[str] = []
    notes: list[str] = []
    for kind, weight, group, anchor_group, anchor_weight, line in effects:
        if kind == HOSTAGE:
            hostage = max(hostage, weight)
        elif kind == TALKS:
            talks = max(talks, weight)
        elif kind == ANCHOR:
            anchors[group] = max(anchors.get(group, 0.0), weight)
        elif kind == NEGATIVE:
            negative = max(negative, weight)
        elif kind in (ACTOR, PLACE):
            names = actors if kind == ACTOR else places
            if group not in names:
                names.append(group)
            if anchor_group:
                anchors[anchor_group] = max(anchors.get(anchor_group, 0.0), anchor_weight)
            continue
        else:
            continue
        if line not in notes:
            notes.append(line)
    # What a verdict takes from anchors is which groups fired and the strongest weight, so
    # that is all a phrase carries: (groups, their top weight, actors, places).
    anchor_groups = {group: None for group, weight in anchors.items() if weight > 0}
    top_anchor = max((anchors[group] for group in anchor_groups), default=0.0)
    extras = None
    if anchor_groups or actors or places:
        extras = (anchor_groups, top_anchor, dict.fromkeys(actors), dict.fromkeys(places))
    return (hostage, talks, negative, extras, dict.fromkeys(notes))


def build_rules(data: dict[str, Any]) -> Rules:
    own: dict[str, list[ContextRule]] = {}
    variables = data.get("vars", {})

    def add(phrases: Iterable[str], rule: ContextRule) -> None:
        for pattern in phrases:
            for phrase in expand(pattern, variables):
                own.setdefault(phrase, []).append(rule)

    for group in data.get("context", []):
        kind = group["kind"]
        label = group.get("label", kind)
        add(group["terms"], ContextRule(kind, label, float(group.get("weight", 0.0)), group.get("group", "")))
    for kind in ("actor", "place"):
        for entry in data.get(kind, []):
            rule = ContextRule(
                kind, kind, 0.0, entry["name"], entry.get("anchor", ""), float(entry.get("anchor_weight", 0.0))
            )
            add(entry["terms"], rule)

    # A phrase carries the effects of every rule phrase inside it ("gaza hostages" ->
    # anchor "gaza" + hostage "hostages"), because a scan reports only the longest match;
    # negatives excepted, which only fire on their own words.
    entries: dict[str, tuple[ContextSummary, None]] = {}
    # Only words that start some rule phrase can start a phrase inside another one:
    # skipping the rest keeps this loop cheap for long, many-variant patterns.
    first_words = {phrase.split(" ", 1)[0] for phrase in own}
    for phrase, rules_here in own.items():
        words = phrase.split(" ")
        effects: list[Effect] = []
        if any(r.kind == "mask" for r in rules_here):
            # A mask over the whole phrase ("times of israel") silences everything inside it.
            effects.append((MASK, 0.0, "", "", 0.0, ""))
        else:
            for i in range(len(words)):
                if words[i] not in first_words:
                    continue
                for j in range(i + 1, len(words) + 1):
                    sub = " ".join(words[i:j])
                    for rule in own.get(sub, ()):
                        if rule.kind == "negative" and sub != phrase:
                            continue  # "Russian-Israeli hostage" is not a Russia story
                        effect = (_KINDS[rule.kind], rule.weight, rule.group, rule.anchor_group,
                                  rule.anchor_weight, _note(rule, sub))
                        if effect not in effects:
                            effects.append(effect)
        entries[phrase] = (_summarise(effects), None)

    index = PhraseIndex()
    index.add([[[SUMMARY_MARK]]], CONTEXT, _SUMMARY_STARTS)
    for phrase, (effects, _) in entries.items():
        index.add_phrase(phrase, CONTEXT, effects)
    for group in data.get("signal", []):
        rule = SignalRule(group.get("signal", ""), float(group.get("tier", 0)), float(group.get("topic", 0.0)))
        # Stored as a plain tuple, unpacked in one step on the hot path: (signal, tier,
        # topic weight, topic weight as an event said of the captors or 0).
        event = rule.topic if rule.tier >= 3 and rule.signal in _EVENT_SIGNALS else 0.0
        cue = (rule.signal, rule.tier, rule.topic, event)
        for pattern in group["terms"]:
            # First definition wins, so the file order settles accidental duplicates.
            index.add(pattern_slots(pattern, variables), SIGNAL, cue)

    s = data.get("settings", {})
    return Rules(
        threshold=float(s.get("threshold", 1.5)),
        hostage_talks_bonus=float(s.get("hostage_talks_bonus", 0.5)),
        signal_topic_cap=float(s.get("signal_topic_cap", 0.75)),
        anchor_extra=float(s.get("anchor_extra", 0.25)),
        anchor_cap=float(s.get("anchor_cap", 1.5)),
        summary_negative_factor=float(s.get("summary_negative_factor", 0.5)),
        weak_topic=float(s.get("weak_topic", 0.5)),
        index=index,
    )


_RULES: Rules | None = None


def default_rules() -> Rules:
    global _RULES
    if _RULES is None:
        _RULES = load_rules(rules_cache_dir())
    return _RULES


# ----------------------------------------------------------------------------- rules cache
#
# Building the index from the TOML takes about 0.15 s of CPU here, paid by every process
# that classifies (each poll worker, `talkwatch classify`); unpickling the built one
# takes a fifth of that. The cache file's name is a hash of everything the build depends
# on, so a changed rules.toml, classify.py, package or Python never meets a stale file.
# Whatever goes wrong with the cache (missing, corrupt, unwritable dir), the rules are
# built from the TOML as if there were none.

ENV_CACHE_DIR = "TALKWATCH_CACHE_DIR"  # a directory; set but empty: no cache
_CACHE_PREFIX = "classify-rules-"
_CACHE_KEEP = 4  # cache files kept, newest first (another version may be in use too)


def rules_cache_dir() -> Path | None:
    """$TALKWATCH_CACHE_DIR if set (empty: None, no cache), else the user cache dir."""
    env = os.environ.get(ENV_CACHE_DIR)
    if env is not None:
        return Path(env) if env.strip() else None
    try:
        import platformdirs
    except ImportError:  # pragma: no cover - a dependency, but the cache is optional
        return None
    return Path(platformdirs.user_cache_dir("talkwatch"))


def rules_cache_key(rules_text: bytes) -> str | None:
    """A hash of the rules, this module's code, the package and Python versions."""
    import hashlib

    from tui import __version__

    try:
        code = Path(__file__).read_bytes()
    except OSError:  # no source to hash (a frozen app): a stale cache could not be told apart
        return None
    digest = hashlib.sha256()
    for part in (rules_text, code, __version__.encode(), sys.version.encode()):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()[:32]


def load_rules(cache_dir: Path | None) -> Rules:
    """The packaged rules: from the cache in cache_dir when it holds them, else built from
    the TOML (and then written there for the next process). cache_dir None: no cache."""
    rules_text = _rules_text()
    key = rules_cache_key(rules_text) if cache_dir is not None else None
    path = cache_dir / f"{_CACHE_PREFIX}{key}.pickle" if cache_dir is not None and key else None
    if path is not None:
        rules = _read_cached_rules(path)
        if rules is not None:
            return rules
    import tomllib  # only here: a warm start never parses TOML

    rules = build_rules(tomllib.loads(rules_text.decode("utf-8")))
    if path is not None:
        _write_cached_rules(path, rules)
    return rules


class _RulesUnpickler(pickle.Unpickler):
    """Loads nothing but rules: a cache file naming any other class or function is refused
    (unpickling can call whatever a file names)."""

    _ALLOWED = frozenset({"Rules", "PhraseIndex", "_SUMMARY_STARTS"})

    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not part of the rules")


def _read_cached_rules(path: Path) -> Rules | None:
    try:
        with open(path, "rb") as f:
            rules = _RulesUnpickler(f).load()
    except Exception:  # noqa: BLE001 - missing, truncated, corrupt or foreign: rebuild
        return None
    if not isinstance(rules, Rules) or not isinstance(rules.index, PhraseIndex):
        return None
    return rules


def _write_cached_rules(path: Path, rules: Rules) -> None:
    """Atomically (a temporary file renamed into place: a reader never sees half a file,
    and concurrent writers each put a whole one); silently gives up on any error."""
    import tempfile

    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{_CACHE_PREFIX}", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(rules, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        tmp = None
        caches = sorted(path.parent.glob(f"{_CACHE_PREFIX}*.pickle"), key=_mtime, reverse=True)
        for old in caches[_CACHE_KEEP:]:
            if old != path:
                old.unlink(missing_ok=True)
    except Exception:  # noqa: BLE001 - read-only home, full disk, odd permissions: no cache
        pass
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


# ----------------------------------------------------------------------------- classifier

INCLUDE_WEIGHT = 1.0
# Event phrases (tier 3) that, said of the captors, imply the talks even with no hostage
# or truce word ("Hamas hands over four soldiers", "Hamas says 'no deal'"); "none" cues
# and mere nouns ("clash") do not.
_EVENT_SIGNALS = frozenset(("deal", "release", "progress", "proposal", "stalled", "collapse"))


def _verdict_maker() -> Any:
    """A fast Verdict(relevant, score, signal, matched, actors, places).

    A frozen dataclass's __init__ sets each field through object.__setattr__, about 2 us
    a verdict here (a twentieth of the whole classification). Instead a draft object with
    the very same slots is filled by plain attribute stores, then becomes a Verdict in
    place (__class__ assignment, allowed between identical layouts): a third of the time.
    Falls back to the class itself if Verdict ever changes shape."""
    names = ("relevant", "score", "signal", "matched", "actors", "places")
    if tuple(f.name for f in fields(Verdict)) != names or tuple(getattr(Verdict, "__slots__", ())) != names:
        return Verdict

    class VerdictDraft:
        __slots__ = names

    new = object.__new__

    def make(relevant: bool, score: float, signal: str, matched: tuple, actors: tuple, places: tuple) -> Verdict:
        verdict = new(VerdictDraft)
        verdict.relevant = relevant
        verdict.score = score
        verdict.signal = signal
        verdict.matched = matched
        verdict.actors = actors
        verdict.places = places
        verdict.__class__ = Verdict
        return verdict

    try:
        probe = make(True, 1.0, "deal", ("a",), ("b",), ("c",))
    except TypeError:  # the layouts differ after all
        return Verdict
    if type(probe) is not Verdict or probe != Verdict(True, 1.0, "deal", ("a",), ("b",), ("c",)):
        return Verdict
    return make


_make_verdict = _verdict_maker()
_KICKER_DEMOTION = 100_000  # a weak cue in a kicker ranks after every cue of the headline proper


# The best signal cue so far: (tier, rank (position, a kicker's weak cue demoted), signal, start, end).
Cue = tuple[int, int, str, int, int]


def _joined_tokens(kicker: str, headline: str, summary: str) -> list[str]:
    """tokenise() of kicker, headline and summary with KICKER_MARK and SUMMARY_MARK between."""
    if kicker:
        text = f"{kicker} {KICKER_MARK} {headline} {SUMMARY_MARK} {summary}"
    else:
        text = f"{headline} {SUMMARY_MARK} {summary}"
    if text.isascii():
        return tokenise(text)
    # The slow path drops the marks: tokenise the parts one by one.
    tokens = tokenise(kicker) + [KICKER_MARK] if kicker else []
    return tokens + tokenise(headline) + [SUMMARY_MARK] + tokenise(summary)


class Classifier:
    """Applies the packaged rules, tuned by the user's ``[topic]`` (include, exclude, min_score)."""

    def __init__(self, topic: "TopicSpec | None" = None, *, rules: Rules | None = None):
        self.rules = rules if rules is not None else default_rules()
        include = tuple(getattr(topic, "include", ()) or ())
        exclude = tuple(getattr(topic, "exclude", ()) or ())
        min_score = getattr(topic, "min_score", None)
        self.threshold = float(min_score) if min_score is not None else self.rules.threshold
        self._user: dict[str, str] = {}
        for kind, terms in (("exclude", exclude), ("include", include)):
            for term in terms:
                phrase = normalise(str(term))
                if phrase:
                    self._user.setdefault(phrase, kind)
        self._user_index: PhraseIndex | None = None
        if self._user:
            self._user_index = PhraseIndex()
            for phrase, kind in self._user.items():
                self._user_index.add_phrase(phrase, CONTEXT, (kind, phrase))
        rules = self.rules
        # Read in one step per item (attribute lookups add up at tens of thousands a second);
        # fixed here, like the rules and the topic.
        self._settings = (
            rules.index.first_words.get, self._user_index, self.threshold, rules.summary_negative_factor,
            rules.hostage_talks_bonus, rules.weak_topic, rules.signal_topic_cap, rules.anchor_extra, rules.anchor_cap,
        )

    def _tokens(self, title: str, summary: str) -> tuple[list[str], int, int]:
        """Kicker, headline and summary as one token list with marks between them, so a
        phrase never spans two; returns (tokens, kicker end, title end)."""
        headline = title[:MAX_TITLE_CHARS].strip()
        # The calls only where their separators occur (about half the items skip both).
        if " - " in headline or " | " in headline or " \u2013 " in headline or " \u2014 " in headline:
            headline = strip_publisher(headline)
        kicker = ""
        if ":" in headline:
            kicker, headline = split_kicker(headline)
        summary = summary[:MAX_SUMMARY_CHARS]
        if (KICKER_MARK in title or SUMMARY_MARK in title or KICKER_MARK in summary
                or SUMMARY_MARK in summary):  # the marks are ours: a text's own become spaces
            kicker, headline, summary = (
                p.replace(KICKER_MARK, " ").replace(SUMMARY_MARK, " ") for p in (kicker, headline, summary)
            )
        # Google News repeats the headline as the summary ("Headline  Publisher"): it is scanned
        # once. When the summary starts with the headline's very text and then a space, its
        # first tokens are the headline's (no token spans a space), so the rest alone is
        # tokenised, unless the headline ends in the first word of a split compound, which
        # could join the rest's first ("... cease" + "fire ..."); else the tokens are compared.
        cut = len(headline)
        repeated = cut and summary.startswith(headline) and (len(summary) == cut or summary[cut] == " ")
        tokens = _joined_tokens(kicker, headline, summary[cut:] if repeated else summary)
        kicker_end = tokens.index(KICKER_MARK) if kicker else 0
        title_end = tokens.index(SUMMARY_MARK)
        if repeated:
            if tokens[title_end - 1] not in _COMPOUND_HEADS:
                return tokens, kicker_end, title_end
            tokens = _joined_tokens(kicker, headline, summary)  # the same title tokens
        head = title_end - kicker_end - (1 if kicker else 0)
        if (
            head
            and title_end + head < len(tokens)
            and tokens[title_end + 1] == tokens[title_end - head]  # a cheap first test
            and tokens[title_end + 1 : title_end + 1 + head] == tokens[title_end - head : title_end]
        ):
            del tokens[title_end + 1 : title_end + 1 + head]
        return tokens, kicker_end, title_end

    def classify(self, title: str, summary: str = "") -> Verdict:
        # One frame for the whole verdict: at tens of thousands of items a second, a call
        # costs as much as a dozen lines of it.
        try:
            if not (isinstance(title, str) and isinstance(summary, str)):
                title = title if isinstance(title, str) else ("" if title is None else str(title))
                summary = summary if isinstance(summary, str) else ("" if summary is None else str(summary))
            tokens, kicker_end, title_end = self._tokens(title, summary)
            (get, user_index, threshold, summary_negative_factor, hostage_talks_bonus, weak_topic,
             signal_topic_cap, anchor_extra, anchor_cap) = self._settings

            notes: dict[str, None] = {}  # ordered, without repeats
            hostage = talks = negative = top_anchor = 0.0
            anchors: dict[str, None] = {}  # the anchor groups that fired; top_anchor: their top weight
            actors: dict[str, None] = {}
            places: dict[str, None] = {}
            # The best signal cue of the title and of the summary.
            best_title: Cue | None = None
            best_summary: Cue | None = None
            signal_topic = event_topic = 0.0
            # PhraseIndex.scan's walk, with each match folded in where it is found (no lists
            # of matches to build and go through again).
            ctx_next = sig_next = 0
            n = len(tokens)
            in_title = True
            for i, word in enumerate(tokens):
                node = get(word)
                if node is None:
                    continue
                ctx, sig, kids, wild = node
                ctx_end = sig_end = end = i + 1
                if kids and end < n:
                    node = kids.get(tokens[end]) or wild
                    if node is not None:
                        if i < ctx_next and i < sig_next:
                            continue
                        ctx, ctx_end, sig, sig_end = longest_match(node, tokens, end, ctx, sig)
                if ctx is not None and i >= ctx_next:
                    ctx_next = ctx_end
                    if ctx is _SUMMARY_STARTS:
                        in_title = False
                    else:
                        h, tk, neg, extras, lines = ctx
                        if h > hostage:
                            hostage = h
                        if tk > talks:
                            talks = tk
                        if neg:
                            # The strongest negative counts, not their sum: a Ukraine story says
                            # "Russia", "Kyiv" and "Putin", and is no more off-topic for it.
                            if not in_title:
                                neg *= summary_negative_factor
                            if neg > negative:
                                negative = neg
                        if extras is not None:
                            groups, top, act, plc = extras
                            if groups:  # |= rather than update(): an operator skips the keyword-argument parsing
                                anchors |= groups
                                if top > top_anchor:
                                    top_anchor = top
                            if act:
                                actors |= act
                            if plc:
                                places |= plc
                        if lines:
                            notes |= lines
                if sig is not None and i >= sig_next:
                    sig_next = sig_end
                    signal, tier, topic_weight, event_weight = sig
                    if not signal:  # a mask
                        continue
                    if topic_weight > signal_topic:
                        signal_topic = topic_weight
                    if event_weight > event_topic:
                        event_topic = event_weight
                    if i < title_end:
                        # Higher tier wins; within a tier the earlier cue (what the headline leads with).
                        rank = i + _KICKER_DEMOTION if i < kicker_end and tier < 3 else i
                        if (best_title is None or tier > best_title[0]
                                or (tier == best_title[0] and rank < best_title[1])):
                            best_title = (tier, rank, signal, i, sig_end)
                    elif (best_summary is None or tier > best_summary[0]
                          or (tier == best_summary[0] and i < best_summary[1])):
                        best_summary = (tier, i, signal, i, sig_end)

            include_score = 0.0
            vetoed = False
            if user_index is not None:
                for kind, phrase in user_index.scan(tokens)[0]:
                    if kind == "exclude":
                        vetoed = True
                    else:
                        include_score += INCLUDE_WEIGHT
                    notes[f"{kind}: '{phrase}'"] = None

            # (Comparisons instead of min() and max(): a builtin call costs more than the sum.)
            topic = strongest = hostage if hostage > talks else talks
            if hostage and talks:
                topic += hostage_talks_bonus
            # An event verb ("frees", "hands over") said of the captors is itself topic evidence:
            # "Hamas releases Thai nationals" names no hostage; "Israel frees detained Gaza
            # doctor" is war news. Beside a generic "deal" alone a verb adds nothing
            # ("Israel approves arms deal").
            captors = "hamas" in anchors or "oct7" in anchors
            if topic >= weak_topic or include_score:
                topic += signal_topic if signal_topic < signal_topic_cap else signal_topic_cap
            elif captors and event_topic:
                topic += event_topic if event_topic < signal_topic_cap else signal_topic_cap
            anchor = 0.0
            if anchors:
                anchor = top_anchor + anchor_extra * (len(anchors) - 1)
                if not anchor < anchor_cap:
                    anchor = anchor_cap
            if negative:
                notes[f"negative: -{negative:g}"] = None
            raw_score = topic + anchor + include_score - negative
            score = _ROUNDED.get(raw_score) if raw_score else raw_score  # round(0.0, 3) is 0.0, -0.0 is -0.0
            if score is None:
                score = _round_score(raw_score)
            # A generic "deal" or "plan" alone is not the topic ("cabinet approves plan for Gaza City").
            has_topic = strongest >= weak_topic or include_score > 0 or (captors and event_topic > 0)
            relevant = has_topic and not vetoed and score >= threshold

            signal = "none"
            if relevant:
                # The title's cue leads unless it is a mere mention and the summary has an event.
                title_tier = best_title[0] if best_title is not None else 0
                summary_tier = best_summary[0] if best_summary is not None else 0
                if title_tier >= 2 or (title_tier == 1 and summary_tier < 2):
                    cue, where = best_title, ""
                elif summary_tier >= 1:
                    cue, where = best_summary, " (summary)"
                else:
                    cue = None
                if cue is not None:
                    signal = cue[2]
                    start, end = cue[3], cue[4]
                    if where == "" and signal in _QUESTIONED and "?" in title:
                        signal = _questioned(title, start - (0 < kicker_end < start), signal)
                    phrase = tokens[start] if end - start == 1 else " ".join(tokens[start:end])
                    notes[f"signal {signal}: '{phrase}'{where}"] = None
            return _make_verdict(relevant, score, signal, tuple(notes),
                                 tuple(actors) if actors else (), tuple(places) if places else ())

        except Exception:  # pragma: no cover - a defect in the rules must not stop a poll
            return Verdict(relevant=False, score=0.0, signal="none", matched=("classifier error",))

# round(x, 3) converts through decimal digits (about 1 us); scores are sums of a few rule
# weights, so a small table of the ones seen answers nearly every item.
_ROUNDED: dict[float, float] = {}
_ROUNDED_MAX = 4096


def _round_score(raw: float) -> float:
    score = round(raw, 3)
    if len(_ROUNDED) < _ROUNDED_MAX and raw == raw:  # NaN never equals a key
        _ROUNDED[raw] = score
    return score


_DEFAULT: Classifier | None = None


# A question asks about an event, it does not report it: "Will Netanyahu accept a deal?"
# is analysis; "Is the ceasefire over?" voices a fear (stalled).
_QUESTIONED = {"deal": "none", "release": "none", "collapse": "stalled"}
_CLAUSE_ENDS = (": ", ". ", "? ", "! ", "; ")


def _questioned(title: str, word: int, signal: str) -> str:
    """The signal of a title cue starting at the title's word number `word`, read as asked
    when it lies in a sentence that ends in a question mark."""
    head = title[:MAX_TITLE_CHARS]
    mark = head.find("?")
    while mark >= 0:
        opening = max(head.rfind(end, 0, mark) for end in _CLAUSE_ENDS)
        opening = opening + 2 if opening >= 0 else 0
        if len(tokenise(head[:opening])) <= word < len(tokenise(head[:mark])):
            return _QUESTIONED[signal]
        mark = head.find("?", mark + 1)
    return signal


def classify(title: str, summary: str = "") -> Verdict:
    """Classify with the default rules and no topic tuning."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Classifier()
    return _DEFAULT.classify(title, summary)
