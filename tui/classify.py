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
   words so they cannot fire in the wrong sense.

The classifier is pure and deterministic, and never raises on a string.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, fields
from importlib import resources
from itertools import product
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
    cut = max(title.rfind(" - "), title.rfind(" | "), title.rfind(" \u2013 "), title.rfind(" \u2014 "))
    if cut <= 0:
        return title
    head, tail = title[:cut].rstrip(), title[cut + 3 :].strip()
    looks_like_name = bool(tail) and (not tail[0].islower() or "." in tail)
    # split(None, k) stops after k cuts: enough to count "at most 6" and "at least 3" words.
    if looks_like_name and len(tail) <= 60 and len(tail.split(None, 6)) <= 6 and len(head.split(None, 2)) >= 3:
        return head
    return title


# ASCII fast path on bytes: every byte that is not a letter or digit becomes a space
# (in C, via bytes.translate), apostrophes vanish ("don't" -> "dont").
# Two control characters survive as tokens of their own: the classifier joins kicker,
# headline and summary with them so one pass tokenises and scans all three.
KICKER_MARK, SUMMARY_MARK = "\x02", "\x01"
_ASCII_SEPARATORS = bytes(c for c in range(256) if not (c < 128 and chr(c).isalnum()) and c not in (1, 2))
_ASCII_TABLE = bytes.maketrans(_ASCII_SEPARATORS, b" " * len(_ASCII_SEPARATORS))
_POSSESSIVE_BYTES = re.compile(rb"'s\b")
_COMPOUND_HEADS = frozenset(("cease", "counter", "hand"))


def tokenise(text: str) -> list[str]:
    """Lowercase words: the form every rule phrase is matched in."""
    if text.isascii():  # the common case, on a fast path
        raw = text.encode("ascii").lower()
        if b"`" in raw:
            raw = raw.replace(b"`", b"'")
        if b"'s" in raw:  # the regex only where a possessive can be
            raw = _POSSESSIVE_BYTES.sub(b"", raw)
        tokens = raw.translate(_ASCII_TABLE, b"'").decode("ascii").split()
        # A substring test in C first: most texts have none of the split compounds.
        if b"cease" not in raw and b"counter" not in raw and b"hand" not in raw:
            return tokens
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
# Reported by a scan at the summary mark, so context hits need no positions.
_SUMMARY_STARTS: Any = ("summary starts",)


class PhraseIndex:
    """Finds rule phrases in a token list: leftmost, then longest, non-overlapping.

    A word-level trie (with shared tails, so in fact a DAG): a word that starts no
    phrase costs one dict lookup, each further word of a phrase one more. Far cheaper
    to build than one regex of tens of thousands of alternatives, and fast to scan. One
    index holds two independent layers (context and signal) so a text is walked once;
    each layer keeps its own leftmost-longest, non-overlapping matches. A node is [context value, signal value, children, the
    "~" child or None] (the last saves a second lookup when a word does not go on)."""

    __slots__ = ("_root", "_shared")

    def __init__(self) -> None:
        self._root: dict[str, list[Any]] = {}
        # The index is a DAG, not a tree: the nodes that spell a pattern's later slots are
        # built once and shared by every way of reaching them ("(hopes|prospects) (for|of)
        # ... (fade|dim)" is 1 set of tails, not one per prefix), which keeps the build
        # small and fast. Shared nodes are copied before a later phrase changes them
        # (copy on write), so a phrase never leaks into another one's paths. Holds ids;
        # a stale id only causes a harmless extra copy.
        self._shared: set[int] = set()

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
        for i, word in enumerate(tokens):
            node = get(word)
            if node is None:
                continue
            ctx, sig, kids, wild = node
            if not kids:  # a one-word phrase and nothing longer: the common case
                if ctx is not None and i >= ctx_next:
                    ctx_out.append(ctx)
                    ctx_next = i + 1
                if sig is not None and i >= sig_next:
                    sig_out.append((i, i + 1, sig))
                    sig_next = i + 1
                continue
            j = i + 1
            # Most words that start a longer phrase ("the", "on", "in") are not followed
            # by one: settle that with one lookup before setting up the walk.
            node = (kids.get(tokens[j]) or wild) if j < n else None
            if node is None:
                if ctx is not None and i >= ctx_next:
                    ctx_out.append(ctx)
                    ctx_next = j
                if sig is not None and i >= sig_next:
                    sig_out.append((i, j, sig))
                    sig_next = j
                continue
            if i < ctx_next and i < sig_next:
                continue
            ctx_end = j if ctx is not None else 0
            sig_end = j if sig is not None else 0
            while True:
                j += 1
                c, g, kids, wild = node
                if c is not None:
                    ctx, ctx_end = c, j
                if g is not None:
                    sig, sig_end = g, j
                if not kids or j >= n:
                    break
                node = kids.get(tokens[j])
                if node is None:
                    node = wild
                    if node is None:
                        break
            if ctx_end and i >= ctx_next:
                ctx_out.append(ctx)
                ctx_next = ctx_end
            if sig_end and i >= sig_next:
                sig_out.append((i, sig_end, sig))
                sig_next = sig_end
        return ctx_out, sig_out


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
    tier: int
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
    text = resources.files("tui").joinpath("data/rules.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _note(rule: ContextRule, sub: str) -> str:
    if rule.kind == "anchor":
        return f"anchor {rule.group}: '{sub}'"
    return f"{rule.label}: '{sub}'"


# What one context phrase contributes, folded at load time so the hot loop does a few
# comparisons per match: (hostage, talks, negative, (anchors, actors, places) or None, notes).
ContextSummary = tuple[
    float, float, float, tuple[tuple[tuple[str, float], ...], tuple[str, ...], tuple[str, ...]] | None, tuple[str, ...]
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
    extras = (tuple(anchors.items()), tuple(actors), tuple(places)) if anchors or actors or places else None
    return (hostage, talks, negative, extras, tuple(notes))


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
    for phrase, rules_here in own.items():
        words = phrase.split(" ")
        effects: list[Effect] = []
        if any(r.kind == "mask" for r in rules_here):
            # A mask over the whole phrase ("times of israel") silences everything inside it.
            effects.append((MASK, 0.0, "", "", 0.0, ""))
        else:
            for i in range(len(words)):
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
        rule = SignalRule(group.get("signal", ""), int(group.get("tier", 0)), float(group.get("topic", 0.0)))
        # Stored as a plain tuple, unpacked in one step on the hot path: (signal, tier,
        # topic weight, topic weight as an event said of the captors or 0).
        event = rule.topic if rule.tier == 3 and rule.signal in _EVENT_SIGNALS else 0.0
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
        _RULES = build_rules(_load_rules_data())
    return _RULES


# ----------------------------------------------------------------------------- classifier

INCLUDE_WEIGHT = 1.0
# Event phrases (tier 3) that, said of the captors, imply the talks even with no hostage
# or truce word ("Hamas hands over four soldiers", "Hamas says 'no deal'"); "none" cues
# and mere nouns ("clash") do not.
_EVENT_SIGNALS = frozenset(("deal", "release", "progress", "proposal", "stalled", "collapse"))


def _verdict_maker() -> Any:
    """A fast Verdict(relevant, score, signal, matched, actors, places).

    A frozen dataclass's __init__ sets each field through object.__setattr__, about 2 us
    a verdict here (a twentieth of the whole classification); writing the slots through
    their descriptors makes the same object in half that. Falls back to the class itself
    if Verdict ever changes shape."""
    names = ("relevant", "score", "signal", "matched", "actors", "places")
    slots = [Verdict.__dict__.get(name) for name in names]
    if tuple(f.name for f in fields(Verdict)) != names or not all(
        type(slot).__name__ == "member_descriptor" for slot in slots
    ):
        return Verdict
    new = object.__new__
    set_relevant, set_score, set_signal, set_matched, set_actors, set_places = (slot.__set__ for slot in slots)

    def make(relevant: bool, score: float, signal: str, matched: tuple, actors: tuple, places: tuple) -> Verdict:
        verdict = new(Verdict)
        set_relevant(verdict, relevant)
        set_score(verdict, score)
        set_signal(verdict, signal)
        set_matched(verdict, matched)
        set_actors(verdict, actors)
        set_places(verdict, places)
        return verdict

    return make


_make_verdict = _verdict_maker()
_KICKER_DEMOTION = 100_000  # a weak cue in a kicker ranks after every cue of the headline proper


# The best signal cue so far: (tier, rank (position, a kicker's weak cue demoted), signal, start, end).
Cue = tuple[int, int, str, int, int]


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

    def classify(self, title: str, summary: str = "") -> Verdict:
        try:
            return self._classify(title, summary)
        except Exception:  # pragma: no cover - a defect in the rules must not stop a poll
            return Verdict(relevant=False, score=0.0, signal="none", matched=("classifier error",))

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
        if kicker:
            text = f"{kicker} {KICKER_MARK} {headline} {SUMMARY_MARK} {summary}"
        else:
            text = f"{headline} {SUMMARY_MARK} {summary}"
        if text.isascii():
            tokens = tokenise(text)
        else:  # the slow path drops the marks: tokenise the parts one by one
            tokens = tokenise(kicker) + [KICKER_MARK] if kicker else []
            tokens += tokenise(headline) + [SUMMARY_MARK] + tokenise(summary)
        kicker_end = tokens.index(KICKER_MARK) if kicker else 0
        title_end = tokens.index(SUMMARY_MARK)
        # Google News repeats the headline as the summary: scan it once.
        head = title_end - kicker_end - (1 if kicker else 0)
        if (
            head
            and title_end + head < len(tokens)
            and tokens[title_end + 1] == tokens[title_end - head]  # a cheap first test
            and tokens[title_end + 1 : title_end + 1 + head] == tokens[title_end - head : title_end]
        ):
            del tokens[title_end + 1 : title_end + 1 + head]
        return tokens, kicker_end, title_end

    def _classify(self, title: str, summary: str) -> Verdict:
        rules = self.rules
        title = title if isinstance(title, str) else ("" if title is None else str(title))
        summary = summary if isinstance(summary, str) else ("" if summary is None else str(summary))
        tokens, kicker_end, title_end = self._tokens(title, summary)

        notes: list[str] = []
        hostage = talks = negative = 0.0
        anchors: dict[str, float] = {}
        actors: list[str] = []
        places: list[str] = []
        # The best signal cue of the title and of the summary.
        best_title: Cue | None = None
        best_summary: Cue | None = None
        signal_topic = event_topic = 0.0
        summary_negative_factor = rules.summary_negative_factor
        ctx_hits, sig_hits = rules.index.scan(tokens)
        in_title = True
        for hit in ctx_hits:
            if hit is _SUMMARY_STARTS:
                in_title = False
                continue
            h, tk, neg, extras, lines = hit
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
                anc, act, plc = extras
                for group, weight in anc:
                    if weight > anchors.get(group, 0.0):
                        anchors[group] = weight
                for name in act:
                    if name not in actors:
                        actors.append(name)
                for name in plc:
                    if name not in places:
                        places.append(name)
            if lines:
                notes.extend(lines)
        for pos, end, (signal, tier, topic_weight, event_weight) in sig_hits:
            if not signal:  # a mask
                continue
            if topic_weight > signal_topic:
                signal_topic = topic_weight
            if event_weight > event_topic:
                event_topic = event_weight
            if pos < title_end:
                # Higher tier wins; within a tier the earlier cue (what the headline leads with).
                rank = pos + _KICKER_DEMOTION if pos < kicker_end and tier < 3 else pos
                if best_title is None or tier > best_title[0] or (tier == best_title[0] and rank < best_title[1]):
                    best_title = (tier, rank, signal, pos, end)
            elif (best_summary is None or tier > best_summary[0]
                  or (tier == best_summary[0] and pos < best_summary[1])):
                best_summary = (tier, pos, signal, pos, end)

        include_score = 0.0
        vetoed = False
        if self._user_index is not None:
            for kind, phrase in self._user_index.scan(tokens)[0]:
                if kind == "exclude":
                    vetoed = True
                else:
                    include_score += INCLUDE_WEIGHT
                notes.append(f"{kind}: '{phrase}'")

        topic = strongest = hostage if hostage > talks else talks
        if hostage and talks:
            topic += rules.hostage_talks_bonus
        # An event verb ("frees", "hands over") said of the captors is itself topic evidence:
        # "Hamas releases Thai nationals" names no hostage; "Israel frees detained Gaza
        # doctor" is war news. Beside a generic "deal" alone a verb adds nothing
        # ("Israel approves arms deal").
        captors = "hamas" in anchors or "oct7" in anchors
        if topic >= rules.weak_topic or include_score:
            topic += min(signal_topic, rules.signal_topic_cap)
        elif captors and event_topic:
            topic += min(event_topic, rules.signal_topic_cap)
        anchor = 0.0
        if anchors:
            anchor = min(rules.anchor_cap, max(anchors.values()) + rules.anchor_extra * (len(anchors) - 1))
        if negative:
            notes.append(f"negative: -{negative:g}")
        score = round(topic + anchor + include_score - negative, 3)
        # A generic "deal" or "plan" alone is not the topic ("cabinet approves plan for Gaza City").
        has_topic = strongest >= rules.weak_topic or include_score > 0 or (captors and event_topic > 0)
        relevant = has_topic and not vetoed and score >= self.threshold

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
                phrase = " ".join(tokens[cue[3] : cue[4]])
                notes.append(f"signal {signal}: '{phrase}'{where}")
        return _make_verdict(relevant, score, signal, tuple(dict.fromkeys(notes)), tuple(actors), tuple(places))


_DEFAULT: Classifier | None = None


def classify(title: str, summary: str = "") -> Verdict:
    """Classify with the default rules and no topic tuning."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Classifier()
    return _DEFAULT.classify(title, summary)
