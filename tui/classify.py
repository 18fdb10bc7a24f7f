"""Per-item verdict: is a headline about the Gaza hostage talks, and what does it say about them?

Rule-based and explainable. All vocabulary lives in ``tui/data/rules.toml``;
this module is only the engine that applies it.

How a verdict is reached
------------------------
1. *Normalise*: unify quotes and dashes, strip a Google-News-style trailing
   " - Publisher" from the title, lowercase, drop possessive "'s", split on
   anything that is not a letter or digit ("cease-fire" -> "cease fire" ->
   "ceasefire"). Title and summary are joined with a line break that no
   phrase can span, so every match knows whether it is in the title.
2. *Context pass* (one precompiled regex, a character trie of every context
   phrase): topic terms (hostage context, talks context), anchors that tie a
   topic to this conflict (Gaza side, Israel side, mediators), negatives
   (other conflicts, other senses of "release"/"deal"), actors and places.
   A long phrase also carries the effects of every shorter phrase inside it,
   so "gaza hostages" counts as both an anchor and a hostage term.
3. *Relevance*: ``score = topic + anchor - negatives (+ include terms)``;
   relevant when there is some topic evidence and the score reaches the
   threshold. Topic words alone ("hostages", "ceasefire") are not enough:
   they need the Gaza/Israel anchor, which is what rejects other hostage
   crises and other ceasefires. An ``exclude`` term of the user's topic vetoes.
4. *Signal pass* (a second trie regex) finds event cues mapped on the
   CAMEO/PLOVER categories; each cue has a tier (3 = event verb phrase,
   2 = event noun, 1 = mere talk of talks). The headline "leads with" the
   highest-tier cue in the title, earliest first; the summary is used only
   when the title has no cue of tier 2 or more. Masks ("deal to free",
   "release date") consume text so a word in another sense cannot fire.

The classifier is pure and deterministic, and never raises on a string.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from importlib import resources
from itertools import product
from typing import TYPE_CHECKING, Any, Iterable

from tui.models import Verdict

if TYPE_CHECKING:  # tui.config is not needed at run time: a topic is duck-typed
    from tui.config import TopicSpec

__all__ = ["Classifier", "classify", "normalise", "strip_publisher"]

# Inputs beyond this are cut: no headline or summary needs more, and it keeps
# a hostile 10 MB "summary" from costing more than a normal item.
MAX_TITLE_CHARS = 1_000
MAX_SUMMARY_CHARS = 4_000

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
_COMPOUNDS = re.compile(r"\b(?:cease fire|counter proposal|counter offer|hand over|hostage taking)\b")
_COMPOUND_FORM = {
    "cease fire": "ceasefire",
    "counter proposal": "counterproposal",
    "counter offer": "counteroffer",
    "hand over": "handover",
    "hostage taking": "hostagetaking",
}
# "Title words - Publisher Name" (Google News), also with "|" or an en/em dash.
_SUFFIX = re.compile(r"^(?P<head>.*\S)\s+[-|]\s+(?P<tail>[^-|]{1,60})$", re.S)


def strip_publisher(title: str) -> str:
    """Drop a trailing " - Publisher" when what remains still looks like a headline."""
    match = _SUFFIX.match(title)
    if not match:
        return title
    tail = match.group("tail").strip()
    head = match.group("head")
    looks_like_name = bool(tail) and (not tail[0].islower() or "." in tail)
    if looks_like_name and len(tail.split()) <= 6 and len(head.split()) >= 3:
        return head
    return title


def normalise(text: str) -> str:
    """Lowercase words separated by single spaces: the form every rule phrase is written in."""
    text = text.translate(_PUNCT).lower()
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = _POSSESSIVE.sub("", text).replace("'", "")
    text = " ".join(_WORD.findall(text))
    if "cease fire" in text or "counter " in text or "hand over" in text or "hostage taking" in text:
        text = _COMPOUNDS.sub(lambda m: _COMPOUND_FORM[m.group(0)], text)
    return text


# ----------------------------------------------------------------------------- rules


def expand(pattern: str) -> list[str]:
    """Expand the rule mini-syntax: "(a|b|)" alternation groups, the empty branch meaning optional.

    "hostage(s|) (freed|released)" -> 4 phrases. The result is normalised like text.
    """
    parts = re.split(r"(\([^()]*\))", pattern)
    choices = [p[1:-1].split("|") if p.startswith("(") and p.endswith(")") else [p] for p in parts]
    out = []
    for combo in product(*choices):
        phrase = normalise("".join(combo))
        if phrase:
            out.append(phrase)
    return out


def _trie_regex(phrases: Iterable[str]) -> re.Pattern[str]:
    """One alternation of all phrases, factored as a character trie so the regex engine
    tests a handful of branches per position instead of every phrase; the greedy optional
    tail makes the longest phrase win at a given start."""
    trie: dict[str, Any] = {}
    for phrase in phrases:
        node = trie
        for ch in phrase:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:
            return body + "?" if len(branches) == 1 and len(body) == 1 else "(?:" + body + ")?"
        return body

    if not trie:
        return re.compile(r"(?!x)x")
    return re.compile(r"\b" + emit(trie) + r"\b")


@dataclass(frozen=True, slots=True)
class ContextRule:
    kind: str  # hostage | talks | anchor | negative | actor | place | mask
    label: str
    weight: float
    group: str  # anchor group (gaza/israel/mediator) or canonical actor/place name
    anchor_group: str = ""  # actors/places may also anchor
    anchor_weight: float = 0.0


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
    context_re: re.Pattern[str]
    context: dict[str, tuple[tuple[ContextRule, str], ...]]  # phrase -> (rule, sub-phrase that fired)
    signal_re: re.Pattern[str]
    signals: dict[str, SignalRule]


def _load_rules_data() -> dict[str, Any]:
    text = resources.files("tui").joinpath("data/rules.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def build_rules(data: dict[str, Any]) -> Rules:
    own: dict[str, list[ContextRule]] = {}

    def add(phrases: Iterable[str], rule: ContextRule) -> None:
        for pattern in phrases:
            for phrase in expand(pattern):
                own.setdefault(phrase, []).append(rule)

    for group in data.get("context", []):
        kind = group["kind"]
        label = group.get("label", kind)
        add(group["terms"], ContextRule(kind, label, float(group.get("weight", 0.0)), group.get("group", "")))
    for kind in ("actor", "place"):
        for entry in data.get(kind, []):
            rule = ContextRule(
                kind,
                kind,
                0.0,
                entry["name"],
                entry.get("anchor", ""),
                float(entry.get("anchor_weight", 0.0)),
            )
            add(entry["terms"], rule)

    # A phrase carries the effects of every rule phrase inside it ("gaza hostages" ->
    # anchor "gaza" + hostage "hostages"), because the regex reports only the longest match.
    context: dict[str, tuple[tuple[ContextRule, str], ...]] = {}
    for phrase in own:
        words = phrase.split(" ")
        effects: list[tuple[ContextRule, str]] = []
        for i in range(len(words)):
            for j in range(i + 1, len(words) + 1):
                sub = " ".join(words[i:j])
                for rule in own.get(sub, ()):
                    if (rule, sub) not in effects:
                        effects.append((rule, sub))
        # A mask over the whole phrase ("times of israel") silences everything inside it.
        if any(r.kind == "mask" for r in own[phrase]):
            effects = [(r, phrase) for r in own[phrase] if r.kind == "mask"]
        context[phrase] = tuple(effects)

    signals: dict[str, SignalRule] = {}
    for group in data.get("signal", []):
        rule = SignalRule(group.get("signal", ""), int(group.get("tier", 0)), float(group.get("topic", 0.0)))
        for pattern in group["terms"]:
            for phrase in expand(pattern):
                # First definition wins so the file order settles accidental duplicates.
                signals.setdefault(phrase, rule)

    s = data.get("settings", {})
    return Rules(
        threshold=float(s.get("threshold", 1.5)),
        hostage_talks_bonus=float(s.get("hostage_talks_bonus", 0.5)),
        signal_topic_cap=float(s.get("signal_topic_cap", 0.75)),
        anchor_extra=float(s.get("anchor_extra", 0.25)),
        anchor_cap=float(s.get("anchor_cap", 1.5)),
        summary_negative_factor=float(s.get("summary_negative_factor", 0.5)),
        context_re=_trie_regex(context),
        context=context,
        signal_re=_trie_regex(signals),
        signals=signals,
    )


_RULES: Rules | None = None


def default_rules() -> Rules:
    global _RULES
    if _RULES is None:
        _RULES = build_rules(_load_rules_data())
    return _RULES


# ----------------------------------------------------------------------------- classifier

_SEP = "\n"  # no phrase spans it: phrases contain single spaces only
INCLUDE_WEIGHT = 1.0


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
        self._user_re = _trie_regex(self._user) if self._user else None

    def classify(self, title: str, summary: str = "") -> Verdict:
        try:
            return self._classify(title, summary)
        except Exception:  # pragma: no cover - a defect in the rules must not stop a poll
            return Verdict(relevant=False, score=0.0, signal="none", matched=("classifier error",))

    def _classify(self, title: str, summary: str) -> Verdict:
        rules = self.rules
        title = title if isinstance(title, str) else ("" if title is None else str(title))
        summary = summary if isinstance(summary, str) else ("" if summary is None else str(summary))
        norm_title = normalise(strip_publisher(title[:MAX_TITLE_CHARS].strip()))
        norm_summary = normalise(summary[:MAX_SUMMARY_CHARS])
        text = norm_title + _SEP + norm_summary
        title_end = len(norm_title)

        matched: list[str] = []
        seen: set[str] = set()

        def note(line: str) -> None:
            if line not in seen:
                seen.add(line)
                matched.append(line)

        hostage = talks = negative = 0.0
        anchors: dict[str, float] = {}
        actors: list[str] = []
        places: list[str] = []
        context = rules.context
        for m in rules.context_re.finditer(text):
            in_title = m.start() < title_end
            for rule, sub in context[m.group()]:
                kind = rule.kind
                if kind == "hostage":
                    hostage = max(hostage, rule.weight)
                elif kind == "talks":
                    talks = max(talks, rule.weight)
                elif kind == "anchor":
                    anchors[rule.group] = max(anchors.get(rule.group, 0.0), rule.weight)
                elif kind == "negative":
                    negative += rule.weight if in_title else rule.weight * rules.summary_negative_factor
                elif kind == "actor" or kind == "place":
                    names = actors if kind == "actor" else places
                    if rule.group not in names:
                        names.append(rule.group)
                    if rule.anchor_group:
                        anchors[rule.anchor_group] = max(anchors.get(rule.anchor_group, 0.0), rule.anchor_weight)
                    continue
                else:  # mask
                    continue
                note(f"{rule.label}: '{sub}'")

        # Signal cues: (tier, position, signal, phrase); position counts from the title start.
        best_title: tuple[int, int, str, str] | None = None
        best_summary: tuple[int, int, str, str] | None = None
        signal_topic = 0.0
        signal_rules = rules.signals
        for m in rules.signal_re.finditer(text):
            rule = signal_rules[m.group()]
            if not rule.signal:
                continue
            signal_topic = max(signal_topic, rule.topic)
            pos = m.start()
            cue = (rule.tier, pos, rule.signal, m.group())
            if pos < title_end:
                if best_title is None or (cue[0], -cue[1]) > (best_title[0], -best_title[1]):
                    best_title = cue
            elif best_summary is None or (cue[0], -cue[1]) > (best_summary[0], -best_summary[1]):
                best_summary = cue

        include_score = 0.0
        vetoed = False
        if self._user_re is not None:
            for m in self._user_re.finditer(text):
                kind = self._user[m.group()]
                if kind == "exclude":
                    vetoed = True
                else:
                    include_score += INCLUDE_WEIGHT
                note(f"{kind}: '{m.group()}'")

        topic = max(hostage, talks)
        if hostage and talks:
            topic += rules.hostage_talks_bonus
        if topic or include_score:
            topic += min(signal_topic, rules.signal_topic_cap)
        anchor = 0.0
        if anchors:
            values = sorted(anchors.values(), reverse=True)
            anchor = min(rules.anchor_cap, values[0] + rules.anchor_extra * (len(values) - 1))
            for group in sorted(anchors):
                note(f"anchor {group}")
        if negative:
            note(f"negatives: -{negative:g}")
        score = round(topic + anchor + include_score - negative, 3)
        has_topic = hostage > 0 or talks > 0 or include_score > 0
        relevant = has_topic and not vetoed and score >= self.threshold

        signal = "none"
        if relevant:
            cue = None
            for candidate, floor in ((best_title, 2), (best_summary, 2), (best_title, 1), (best_summary, 1)):
                if candidate is not None and candidate[0] >= floor:
                    cue = candidate
                    break
            if cue is not None:
                signal = cue[2]
                note(f"signal {signal}: '{cue[3]}'" + ("" if cue[1] < title_end else " (summary)"))
        return Verdict(
            relevant=relevant,
            score=score,
            signal=signal,
            matched=tuple(matched),
            actors=tuple(actors),
            places=tuple(places),
        )


_DEFAULT: Classifier | None = None


def classify(title: str, summary: str = "") -> Verdict:
    """Classify with the default rules and no topic tuning."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Classifier()
    return _DEFAULT.classify(title, summary)
