"""Stories: the same development reported by several sources, grouped into one row (pure).

A ``StoryIndex`` is fed relevant ``StoredItem``s one at a time (``add``) or in
bulk (``group``). Each item joins the best-matching open story or starts a new
one; history is never regrouped, so a story, once formed, only grows.

How an item matches a story
===========================
1. *Window*: the item is published within ``WINDOW`` (36 h) of the story's
   first report, either side (a slow feed may deliver an older item late).
2. *Vetoes*, against the story's lead and against the member compared:
   - different *sides* as the subject: the subject is the first party named
     in the headline ("Hamas rejects proposal" -> Hamas); a leading "<actor>
     says" is skipped ("Israel says Hamas rejected ..." is about Hamas); a
     passive "... by Hamas" makes Hamas the subject; "Israel and Hamas agree"
     names both (no subject); a party after a preposition ("cross into
     Israel") is not the subject, nor is an adjective ("Israeli hostages")
     unless it names an institution ("Israeli cabinet"). Only the two parties
     to the conflict are sides (Israel and its officials; Hamas, Islamic
     Jihad and theirs): a mediator as subject ("Qatar announces truce deal")
     does not veto "Israel and Hamas agree truce deal".
   - different talk *venues* (Doha vs Cairo), compared at country level
     (Doha = Qatar, Sharm el-Sheikh = Egypt): known venues among
     ``Verdict.places`` that the headline itself names, and venues the
     headline names (a city anywhere, a country after "in"/"to": "talks in
     Qatar" but not "Qatar announces"), so a summary's passing mention or a
     prison or West Bank town never vetoes.
   - *who*: a headline about hostages only and one about prisoners only
     (the two halves of an exchange are two stories: ``OBJECT_WORDS``).
   - *which round*: different ordinals ("first exchange" vs "second").
   - *what*: one about the talks and one about the truce when a collapse,
     stall or resumption is involved ("truce collapses" vs "talks break
     down"; "ceasefire talks" are talks).
   - *announced vs done*, for events that are announced before they happen
     ("Hamas to free three hostages" vs "Hamas frees three hostages":
     ``ANNOUNCED_EVENTS``), judged on the headline's first clause.
   - *a deal's stages*: both lead with a different one of agreed, approved,
     signed, in effect (``DEAL_STAGES``).
   - *a reaction*: one leads with a third party's reaction ("Qatar condemns
     attack") and the other with another event (the attack).
   - *opposed signals*: a positive talks signal (deal, progress, proposal)
     and a negative one (stalled, collapse) never match.
3. *Similarity* of the headlines must reach a threshold: ``THRESHOLD`` for
   the same signal, the stricter ``STRICT_THRESHOLD`` for two different
   (non-opposed) signals or two ``none`` items -- the classifier may read one
   report "proposal" and another "release" when a headline mentions a
   "hostage-release plan", but a background item should not pad a story on a
   loose resemblance. The threshold rises with the time between the two
   reports, by up to ``DRIFT`` after ``DRIFT_HOURS``: wires report one
   development within hours, so a look-alike headline half a day later is
   more likely the next development. Conversely, within ``PROXIMITY_HOURS``
   it falls (by up to ``PROXIMITY``, or ``STRICT_PROXIMITY`` for two
   signals): the first wave of paraphrases is where the same development
   is worded most differently and classified least consistently. The item is compared with the story's
   lead and its latest members (``COMPARED_MEMBERS``), and the best counts.

   Similarity: token sets after removing the " - Publisher" suffix,
   lowercasing, stop words, light stemming (plural s, -ed, -ing, final e),
   number words -> digits, ordinals -> "#n", wire phrases read as one word
   (``PHRASES``: "turned down" = rejects, "pushed back" = delayed, "late
   night" = "into the night", "reach a deal" = agree) and a synonym table of
   concept classes (captives = hostages, truce = ceasefire, freed = released,
   rebuffs = rejects, invitation = invites, revive = resume, round/session =
   talks, swap = exchange...). Score = the mean of the weighted overlap coefficient and
   weighted Jaccard, where words every talks headline shares (hostage, Gaza,
   Israel, Hamas, ceasefire, deal, talks, and the venues Qatar and Egypt,
   which the venue veto already compares) weigh half. Then it is lowered
   when the two disagree on: numbers of the same kind ("4 hostages" vs "20";
   "two days" and "48 hours" are not compared, and numbers within 5% agree:
   "nearly 2,000" vs 1,968); the event the headline's first clause leads with
   ("agree" vs "approve", "present" vs "respond": ``EVENT_GROUPS``; an event
   noun after "for"/"of" -- "deal for the release of" -- is not what it
   reports, and a third party's reaction -- "Qatar condemns attack" -- is
   not the attack); and a little for disjoint actors.

The best story is the highest score, then the earliest first report, then
the lowest id; items are matched in the order given, candidates in sorted
order, so the same input order always gives the same stories. ``group``
sorts its input by (published, first_seen, feed, id) first, so bulk grouping
does not depend on the order the items come in, and equals feeding the same
items one by one in that order.

A story
=======
``id`` is the id of the item that opened the story (stable for the story's
life). ``lead`` is the earliest-published member (the first reporter; ties go
to the lower item id), usually the same item. ``sources`` lists each distinct
feed once, at its first report, with whole minutes after the first report.
``confirmations`` is the number of distinct feeds: updates from the same feed
join the story but do not confirm it. ``signal`` is the majority of the
members' signals, ``none`` not voting (it says "no signal", not "a signal
of none"); ties go to the lead's signal, else to the earliest member's among
the tied; a story of ``none`` items only is ``none``.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta

from tui.classify import strip_publisher
from tui.models import SIGNALS, StoredItem

WINDOW = timedelta(hours=36)
THRESHOLD = 0.26
STRICT_THRESHOLD = 0.45
GENERIC_WEIGHT = 0.5
NUMBER_CONFLICT_FACTOR = 0.5
DISJOINT_ACTORS_FACTOR = 0.9

# The same development is reported by the wires within hours: the further apart
# two reports are, the closer their headlines must be (up to +DRIFT after DRIFT_HOURS).
DRIFT = 0.35
DRIFT_HOURS = 12.0
# ...and the other way round: reports within PROXIMITY_HOURS of each other are the
# wires' first wave, where paraphrases abound; the threshold falls by up to
# PROXIMITY (same signal) or STRICT_PROXIMITY (two signals: the classifier reads
# one paraphrase "deal" and the next "none") for reports at the same minute.
PROXIMITY = 0.06
STRICT_PROXIMITY = 0.12
PROXIMITY_HOURS = 3.0
EVENT_CONFLICT_FACTOR = 0.5
# Events that are announced first and happen later: "to free" and "frees" are two stories.
# (An announced postponement or rejection is the development itself.)
ANNOUNCED_EVENTS = frozenset({"release", "sign", "resume", "travel", "present", "rescue", "extend"})
# Signals from opposite camps never describe the same development; any other
# two different signals may (the classifier reads one report "proposal" and
# another "release" when a headline mentions a "hostage-release plan").
OPPOSED_SIGNALS: frozenset[frozenset[str]] = frozenset(
    frozenset({good, bad}) for good in ("deal", "progress", "proposal") for bad in ("stalled", "collapse")
)

# --- normalisation ----------------------------------------------------------------

STOP_WORDS: frozenset[str] = frozenset(
    """
    a an the and or but nor of to in on at by for from with without into onto over under about
    as is are was were be been being has have had do does did it its this that these those
    he she they them their his her we our us you your i me my not no yes so than then there
    here will would can could should may might must shall after before amid during while
    since until till up down out off again further once more most very just also still yet
    what which who whom whose why how when where all any both each few other some such only
    own same too say says said saying tell tells told report reports reported reportedly
    according source sources official officials claim claims claimed news live update
    updates breaking watch video exclusive latest new know ahead set via per if between
    announce announces announced announcing
    """.split()
)

# Words the press uses interchangeably for the same thing; the first word of a
# group is the one kept.
SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("hostage", "captive", "abductee"),
    ("ceasefire", "truce", "pause", "armistice"),
    ("release", "free", "handover", "freeing", "liberate", "return"),
    ("deal", "agreement", "accord", "pact"),
    ("talk", "negotiation", "negotiate", "negotiating", "round", "session", "meeting", "meet", "met"),
    ("recover", "find", "found", "retrieve", "locate"),
    ("list", "name"),
    ("proposal", "plan", "offer", "draft", "framework", "counterproposal", "counteroffer", "initiative",
     "roadmap", "blueprint", "text", "terms"),
    ("reject", "rebuff", "dismiss", "refuse", "spurn", "snub"),
    # "Hamas accepts the proposal" = "agrees to it"; "reach a deal" = "agree a deal" (_AGREE_DEAL).
    ("accept", "agree"),
    ("reach", "struck", "clinch", "seal"),
    ("approve", "ratify", "endorse", "greenlight", "greenlit", "okay", "back", "adopt", "support"),
    ("delay", "postpone", "defer"),
    ("resume", "restart", "reconvene", "relaunch", "revive"),
    ("renew", "restore", "renewal"),
    ("stall", "impasse", "deadlock", "stuck", "stalemate", "snag", "standstill"),
    ("collapse", "breakdown", "unravel", "crumble", "expire"),
    ("delegation", "team", "negotiator"),
    ("response", "reply", "respond", "answer"),
    ("body", "remains", "corpse"),
    ("extend", "extension", "prolong", "expand"),
    ("strike", "airstrike", "bombardment", "bomb", "attack"),
    ("suspend", "halt", "freeze", "onhold"),
    ("present", "submit", "unveil", "table", "propose", "outline"),
    ("begin", "start", "open", "kick", "underway"),
    ("invite", "invitation"),
    ("recall", "withdraw", "pull"),
    ("overnight", "night", "latenight"),
    ("kill", "assassinate", "assassination", "slay", "slain"),
    ("exchange", "swap"),
    ("israel", "israeli"),
    ("qatar", "qatari", "doha"),
    ("egypt", "egyptian", "cairo", "sharm"),
    ("iran", "iranian", "tehran"),
    ("us", "american", "washington"),
    ("palestinian", "palestinians"),
    ("prisoner", "detainee", "inmate"),
    ("soldier", "troop"),
    ("mediator", "mediation", "mediate"),
)

# Words nearly every talks headline carries: they weigh half in the similarity.
GENERIC_WORDS: tuple[str, ...] = (
    "hostage", "gaza", "israel", "hamas", "ceasefire", "deal", "talk", "war", "qatar", "egypt",
)  # fmt: skip

NUMBER_WORDS: dict[str, str] = {
    word: str(value)
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
NUMBER_WORDS.update({"thirty": "30", "forty": "40", "fifty": "50", "hundred": "100", "dozen": "12"})
# Ordinals tell rounds apart ("first exchange" vs "second exchange"), like numbers.
ORDINALS: dict[str, str] = {
    word: f"#{n}"
    for n, word in enumerate("first second third fourth fifth sixth seventh eighth ninth tenth".split(), start=1)
}
ORDINALS.update({f"{n}{suffix}": f"#{n}" for n, suffix in ((1, "st"), (2, "nd"), (3, "rd"))})
ORDINALS.update({f"{n}th": f"#{n}" for n in range(4, 21)})

# Multi-word wire phrases read as one word (the word they are replaced by).
PHRASES: dict[str, str] = {
    r"cease fire": "ceasefire", r"counter (?:proposal|offer)": "counterproposal",
    r"(?:break|breaks|broke|broken|breaking) down": "breakdown", r"air strikes?": "airstrike",
    r"(?:put|puts|putting)? ?on hold": "onhold", r"(?:hand|hands|handed|handing) (?:over|back)": "handover",
    r"(?:turn|turns|turned|turning) down": "reject", r"(?:push|pushes|pushed|pushing) back": "delay",
    r"(?:held|holds|hold|holding) up": "delay", r"(?:put|puts|putting) off": "delay",
    r"late night": "overnight", r"into the night": "overnight", r"white house": "us",
    r"(?:lay|lays|laid|laying) out": "unveil", r"(?:put|puts|putting) forward": "present",
    r"(?:pull|pulls|pulled|pulling) (?:out|back)": "recall", r"(?:get|gets|got|getting)? ?under way": "begin",
    r"back (?:at|to) the (?:negotiating )?table": "resume", r"go(?:es)? into effect": "effect",
    r"(?:call|calls|called|calling) off": "suspend", r"(?:take|takes|took|taking) effect": "effect",
    r"(?:come|comes|came|coming) into force": "effect",
}  # fmt: skip
_COMPOUNDS = re.compile("|".join(rf"\b(?P<p{i}>{pattern})\b" for i, pattern in enumerate(PHRASES)))
_PHRASE_WORDS = tuple(PHRASES.values())
# "reach/strike/seal a (truce) deal" is agreeing it; "convoys reach Gaza" is not.
_AGREE_DEAL = re.compile(
    r"\b(?:reach|reaches|reached|reaching|strike|strikes|struck|clinch|clinches|clinched|seal|seals|sealed)\b"
    r"(?=(?:\s+[a-z0-9]+){0,3}?\s+(?:deal|agreement|accord|truce|ceasefire|pact)\b)"
)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u2013": " ", "\u2014": " ", "-": " "})
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_WORD = re.compile(r"[a-z0-9]+")
_DOUBLE_END = re.compile(r"([bdfgkmnprt])\1$")


def stem(word: str) -> str:
    """Light suffix stripping: plural s, -ed, -ing, a final e; enough to meet "frees"/"freed"/"free"."""
    if word.isdigit() or len(word) <= 3 or word.startswith("#"):
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "shes", "ches", "xes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ing") and len(word) >= 6:
        return _DOUBLE_END.sub(r"\1", word[:-3])
    if word.endswith("ed") and len(word) >= 5:
        return _DOUBLE_END.sub(r"\1", word[:-2])
    # "release"/"released" and "agree"/"agreed" meet at "releas" and "agre".
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


_CANONICAL: dict[str, str] = {}
for _group in SYNONYM_GROUPS:
    for _word in _group:
        _CANONICAL[stem(_word)] = stem(_group[0])
_GENERIC: frozenset[str] = frozenset(_CANONICAL.get(stem(w), stem(w)) for w in GENERIC_WORDS)

# What happened, by the headline's verb: two reports naming different kinds of
# event ("agree" vs "approve", "present" vs "respond") are different developments.
EVENT_GROUPS: dict[str, tuple[str, ...]] = {
    "agree": ("agree", "accept", "reach", "struck", "clinch", "seal"),
    "approve": ("approve", "ratify", "endorse", "vote", "greenlight"),
    "sign": ("sign", "signed"),
    "effect": ("effect", "force"),
    "present": ("present", "submit", "unveil", "table", "propose", "deliver", "put"),
    "respond": ("response", "reply", "respond", "answer"),
    "reject": ("reject", "rebuff", "dismiss", "refuse", "spurn"),
    "release": ("release", "free", "handover"),
    "rescue": ("rescue",),
    "resume": ("resume", "restart", "reconvene", "reopen"),
    "travel": ("travel", "head", "fly", "arrive", "land", "depart"),
    "stall": ("stall", "impasse", "deadlock", "stuck", "stalemate", "snag", "standstill", "onhold", "delay",
              "postpone", "suspend", "halt", "freeze"),  # fmt: skip
    "collapse": ("collapse", "breakdown", "unravel", "crumble"),
    "extend": ("extend", "extension", "prolong"),
    "invite": ("invite", "invitation"),
    "recall": ("recall", "withdraw"),
    "strike": ("strike", "airstrike", "attack", "bomb", "kill", "assassinate"),
    # Another party's reaction to a development is a development of its own.
    "react": ("condemn", "welcome", "slam", "criticize", "criticise", "hail", "praise", "view", "celebrate", "mourn"),
}
# Who is released, handed over, exchanged: hostages and prisoners are different stories.
OBJECT_WORDS: dict[str, tuple[str, ...]] = {
    "hostages": ("hostage", "captive", "abductee"),
    "prisoners": ("prisoner", "detainee", "inmate"),
}
_OBJECTS: dict[str, str] = {
    _CANONICAL.get(stem(word), stem(word)): kind for kind, words in OBJECT_WORDS.items() for word in words
}
_EVENTS: dict[str, str] = {
    _CANONICAL.get(stem(word), stem(word)): kind for kind, words in EVENT_GROUPS.items() for word in words
}


def _words(title: str) -> list[str]:
    text = strip_publisher(title).translate(_APOSTROPHES).lower()
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = text.replace("'s ", " ").replace("'", "").replace("u.s.", "us")
    text = _THOUSANDS.sub("", text)
    text = _AGREE_DEAL.sub("agree", text)
    text = _COMPOUNDS.sub(lambda m: _PHRASE_WORDS[int(m.lastgroup[1:])], text)
    return _WORD.findall(text)


# An event word after these is a noun the headline mentions ("deal for the release of
# 50 hostages"), not what the headline reports.
_NOUN_MARKERS = frozenset({"for", "of"})


def _tokens_in_context(title: str) -> list[tuple[str, bool]]:
    """(token, whether it follows "for"/"of") in headline order."""
    out: list[tuple[str, bool]] = []
    previous = ""
    for word in _words(title):
        if word in STOP_WORDS:
            previous = word
            continue
        out.append((_canonical_token(word), previous in _NOUN_MARKERS))
        previous = word
    return out


@lru_cache(maxsize=1 << 16)
def _canonical_token(word: str) -> str:
    word = NUMBER_WORDS.get(word) or ORDINALS.get(word) or word
    stemmed = stem(word)
    return _CANONICAL.get(stemmed, stemmed)


def headline_token_list(title: str) -> list[str]:
    """The comparable content of a headline, in headline order: normalised, stemmed, canonical words."""
    return [token for token, _ in _tokens_in_context(title)]


def headline_tokens(title: str) -> frozenset[str]:
    return frozenset(headline_token_list(title))


# --- subject side and venues ------------------------------------------------------

ISRAEL, GAZA_SIDE = "israel", "hamas"

# Headline words naming a party to the conflict (lowercase, after normalisation).
SIDE_WORDS: dict[str, str] = {
    "israel": ISRAEL, "netanyahu": ISRAEL, "idf": ISRAEL, "mossad": ISRAEL, "dermer": ISRAEL,
    "barnea": ISRAEL, "katz": ISRAEL, "gallant": ISRAEL, "herzog": ISRAEL, "shin": ISRAEL,
    "hamas": GAZA_SIDE, "sinwar": GAZA_SIDE, "hayya": GAZA_SIDE, "haniyeh": GAZA_SIDE,
    "jihad": GAZA_SIDE, "pij": GAZA_SIDE, "qassam": GAZA_SIDE,
}  # fmt: skip
# "Israeli" is a subject only when it names an institution, not in "Israeli hostages".
ISRAELI_INSTITUTIONS: frozenset[str] = frozenset(
    "cabinet government army military negotiators negotiating delegation team pm prime premier "
    "forces officials official security troops minister ministers leader leaders source sources "
    "president air navy strike strikes airstrike airstrikes attack attacks raid raids bombardment".split()
)
PLACE_PREPOSITIONS: frozenset[str] = frozenset("into in to from with against on inside toward towards".split())
ATTRIBUTION_VERBS: frozenset[str] = frozenset(
    "says said say tells told claims claimed confirms confirmed announces announced reports warns warned".split()
)

# Talk venues at country level; Gaza and Israel are where the war is, never a venue.
VENUE_COUNTRY: dict[str, str] = {
    "doha": "qatar", "qatar": "qatar", "cairo": "egypt", "egypt": "egypt", "sharm el sheikh": "egypt",
    "sharm el-sheikh": "egypt", "sharm": "egypt", "paris": "france", "france": "france",
    "rome": "italy", "italy": "italy", "washington": "us", "united states": "us", "us": "us",
    "istanbul": "turkey", "ankara": "turkey", "turkey": "turkey", "abu dhabi": "uae", "uae": "uae",
    "oslo": "norway", "muscat": "oman", "riyadh": "saudi arabia", "amman": "jordan", "jordan": "jordan",
}  # fmt: skip
NOT_VENUES: frozenset[str] = frozenset(
    "gaza, gaza strip, gaza city, rafah, khan younis, khan yunis, jabalia, nuseirat, deir al-balah, "
    "deir el-balah, beit lahia, beit hanoun, netzarim, philadelphi, philadelphi corridor, "
    "netzarim corridor, morag corridor, israel, tel aviv, jerusalem, west bank, ofer, "
    "kerem shalom, re'im, reim, be'eri, kibbutz be'eri".split(", ")
)


# "Hamas to free three hostages on Saturday" announces what "Hamas frees three
# hostages" reports: two developments, a day apart.
_FUTURE = re.compile(
    r"\b(?:will|set to|expected to|due to|plans to|poised to|ready to|to be (?:freed|released|handed))\b"
    r"|^(?:\w+\W+){1,3}?to (?:free|release|hand|return|sign|resume|send|present|submit|hold|host|meet)\b"
)


def is_future(title: str) -> bool:
    """The headline's first clause announces something to come (a later clause may add what the
    deal "will" bring without changing what happened)."""
    first_clause = re.split(r"[;:,]", strip_publisher(title), maxsplit=1)[0]
    return bool(_FUTURE.search(" ".join(_words(first_clause))))


_TRAILING_ATTRIBUTION = re.compile(
    r",\s*(?:[\w'-]+\s+){1,5}(?:says|said|say|tells|told|claims|confirms|reports|announces)\s*$", re.IGNORECASE
)


def subject_side(title: str, actors: Sequence[str] = ()) -> str | None:
    """Which party to the conflict the headline is about: the first named, with the exceptions
    in the module docstring. None when no party, or both jointly ("Israel and Hamas agree"), lead."""
    # "..., Israel says": the speaker at the end is not the subject.
    text = _TRAILING_ATTRIBUTION.sub("", strip_publisher(title))
    head, colon, rest = text.partition(":")
    if colon and len(head.split()) <= 4:
        # "Netanyahu's office: Hamas plan falls short" -- the part before the colon is the speaker.
        side = _subject_in(_words(rest), actors)
        if side is not None:
            return side
    return _subject_in(_words(text), actors)


def _subject_in(words: list[str], actors: Sequence[str]) -> str | None:
    named = {a.casefold() for a in actors}
    found: list[tuple[int, str]] = []  # (position, side)
    for i, word in enumerate(words):
        side = SIDE_WORDS.get(word)
        if side is None and word == "israeli" and i + 1 < len(words) and words[i + 1] in ISRAELI_INSTITUTIONS:
            side = ISRAEL
        if side is None and word in named:
            side = SIDE_WORDS.get(word)
        if side is None:
            continue
        before = words[i - 1] if i >= 1 else ""
        if before == "by":
            return side  # passive voice: "... rejected by Hamas"
        if before in PLACE_PREPOSITIONS:
            continue  # "cross into Israel", "talks with Hamas": not the subject
        found.append((i, side))
    if not found:
        return None
    first_pos, first_side = found[0]
    following = found[1] if len(found) > 1 else None
    if following and following[1] != first_side:
        between = words[first_pos + 1 : following[0]]
        if between in ([], ["and"]):
            return None  # "Israel and Hamas agree", "Israel-Hamas truce": both sides
        if len(between) <= 2 and between and between[0] in ATTRIBUTION_VERBS:
            return following[1]  # "Israel says Hamas rejected ...": the speaker is not the subject
    return first_side


# Read from the headline itself as well: the classifier may file "Qatar" as an
# actor only. A city names a venue anywhere; a country only after "in"/"to"...
# ("talks in Qatar", not "Qatar announces"). Washington is left out: in a
# headline it usually means the US government.
VENUE_CITIES: dict[str, str] = {
    "doha": "qatar", "cairo": "egypt", "sharm": "egypt", "paris": "france", "rome": "italy",
    "istanbul": "turkey", "ankara": "turkey", "oslo": "norway", "muscat": "oman", "riyadh": "saudi arabia",
    "amman": "jordan",
}  # fmt: skip
VENUE_COUNTRIES: frozenset[str] = frozenset("qatar egypt france italy turkey norway oman jordan".split())
_VENUE_PREPOSITIONS = frozenset("in to into at from for".split())


def venues(places: Sequence[str], title: str = "") -> frozenset[str]:
    """The talk venues (country level) of a headline: known venues among ``places`` that the
    headline itself names, and venues named in the headline (see above).

    A summary's passing mention of Cairo, a prison or a West Bank town is not
    where a development happened.
    """
    words = _words(title) if title else []
    text = " ".join(words)
    out = set()
    for place in places:
        folded = place.casefold().strip()
        country = VENUE_COUNTRY.get(folded)
        if country is None:
            continue
        if title and not re.search(rf"\b{re.escape(' '.join(_WORD.findall(folded)))}\b", text):
            continue
        out.add(country)
    for i, word in enumerate(words):
        if word in VENUE_CITIES:
            out.add(VENUE_CITIES[word])
        elif word in VENUE_COUNTRIES and i > 0 and words[i - 1] in _VENUE_PREPOSITIONS:
            out.add(word)
    return frozenset(out)


# --- matching ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Features:
    """What the matcher compares, computed once per item."""

    tokens: frozenset[str]
    numbers: frozenset[tuple[str, int]]  # (unit or "" for a count, value)
    ordinals: frozenset[str]
    side: str | None
    venues: frozenset[str]
    actors: frozenset[str]
    signal: str
    weight: float  # of tokens
    at: float  # published, POSIX seconds
    events: frozenset[str]  # the kinds of event the headline's verbs name (EVENT_GROUPS)
    event: str | None  # the first of them in the headline: what the headline leads with
    objects: frozenset[str]  # who the development is about: hostages, prisoners (OBJECT_WORDS)
    future: bool  # announces something to come ("Hamas to free", "will release")
    topic: str | None = None  # what a collapse, suspension or resumption is of: the talks or the truce
    specific: frozenset[str] = frozenset()  # tokens minus the generic words (the similarity's hot path)
    generic: frozenset[str] = frozenset()  # tokens that are generic words


# A number followed by one of these measures time or a plan's size ("two days",
# "48 hours", "20-point plan"); any other number counts people ("50 hostages").
NUMBER_UNITS: frozenset[str] = frozenset(stem(w) for w in "day hour week month year phase point stage minute".split())


def _numbers(ordered: Sequence[str]) -> frozenset[tuple[str, int]]:
    out = set()
    for i, token in enumerate(ordered):
        if token.isdigit():
            following = ordered[i + 1] if i + 1 < len(ordered) else ""
            out.add((following if following in NUMBER_UNITS else "", int(token)))
    return frozenset(out)


def numbers_conflict(a: frozenset[tuple[str, int]], b: frozenset[tuple[str, int]]) -> bool:
    """Two headlines give different numbers of the same kind. Outlets round ("nearly 2,000"
    vs 1,968), so numbers within 5% agree; "two days" and "48 hours" are not compared."""
    for unit in {u for u, _ in a} & {u for u, _ in b}:
        mine = [n for u, n in a if u == unit]
        theirs = [n for u, n in b if u == unit]
        if not any(abs(x - y) <= 0.05 * max(x, y) for x in mine for y in theirs):
            return True
    return False


def leading_event(
    title: str, tokens: frozenset[str], in_context: Sequence[tuple[str, bool]] | None = None
) -> str | None:
    """The kind of event the headline's first clause leads with ("Qatar announces truce deal;
    hostages to be freed" leads with the deal), skipping event nouns after "for"/"of"."""
    text = strip_publisher(title)
    parts = _CLAUSE_BREAK.split(text, maxsplit=1)
    if len(parts) > 1 or in_context is None:
        in_context = _tokens_in_context(parts[0])
    event = next((_EVENTS[t] for t, noun in in_context if t in _EVENTS and not noun), None)
    if event == "release" and _PROPOSAL in tokens and not (tokens & _OBJECTS.keys()):
        return "present"  # "White House releases Trump's plan"
    return event


_CLAUSE_BREAK = re.compile(r"[;:]|,\s")
_PROPOSAL = _CANONICAL[stem("proposal")]


DEAL_STAGES = frozenset({"agree", "approve", "sign", "effect"})
_TALK, _TRUCE = _CANONICAL[stem("talk")], _CANONICAL[stem("ceasefire")]
# Events that happen to the talks or to the truce: "truce collapses" and "talks break
# down" are two developments (often the same day).
TOPICAL_EVENTS = frozenset({"collapse", "suspend", "stall", "resume"})


def _topic(ordered: Sequence[str]) -> str | None:
    for i, token in enumerate(ordered):
        if token == _TALK:
            return "talks"
        if token == _TRUCE:
            # "ceasefire talks stall" is about the talks
            return "talks" if i + 1 < len(ordered) and ordered[i + 1] == _TALK else "truce"
    return None


def features(item: StoredItem) -> Features:
    verdict = item.verdict
    # The headline's part is cached: the dashboard regroups the same items as
    # its views change, and the headline's regular expressions are most of the cost.
    headline = _headline_features(item.title, tuple(verdict.actors), tuple(verdict.places))
    return Features(
        tokens=headline.tokens,
        numbers=headline.numbers,
        ordinals=headline.ordinals,
        side=headline.side,
        venues=headline.venues,
        actors=headline.actors,
        signal=verdict.signal,
        weight=headline.weight,
        at=item.published.timestamp(),
        events=headline.events,
        event=headline.event,
        objects=headline.objects,
        future=headline.future,
        topic=headline.topic,
        specific=headline.specific,
        generic=headline.generic,
    )


@lru_cache(maxsize=1 << 14)
def _headline_features(title: str, actors: tuple[str, ...], places: tuple[str, ...]) -> Features:
    """Everything of ``Features`` that the headline, actors and places decide (signal and time left blank)."""
    in_context = _tokens_in_context(title)
    ordered = [token for token, _ in in_context]
    tokens = frozenset(ordered)
    return Features(
        tokens=tokens,
        numbers=_numbers(ordered),
        ordinals=frozenset(t for t in tokens if t.startswith("#")),
        side=subject_side(title, actors),
        venues=venues(places, title),
        actors=frozenset(a.casefold() for a in actors),
        signal="none",
        weight=_weight(tokens),
        at=0.0,
        events=frozenset(_EVENTS[t] for t in tokens if t in _EVENTS),
        event=leading_event(title, tokens, in_context),
        objects=frozenset(_OBJECTS[t] for t in tokens if t in _OBJECTS),
        future=is_future(title),
        topic=_topic(ordered),
        specific=tokens - _GENERIC,
        generic=tokens & _GENERIC,
    )


def _weight(tokens: frozenset[str]) -> float:
    return len(tokens) - (1.0 - GENERIC_WEIGHT) * len(tokens & _GENERIC)


def _base_similarity(a: Features, b: Features) -> float:
    specific, generic = len(a.specific & b.specific), len(a.generic & b.generic)
    if not (specific or generic):
        return 0.0
    common = specific + GENERIC_WEIGHT * generic
    return (common / min(a.weight, b.weight) + common / (a.weight + b.weight - common)) / 2


def _conflict_factor(a: Features, b: Features) -> float:
    factor = 1.0
    if a.numbers and b.numbers and numbers_conflict(a.numbers, b.numbers):
        factor *= NUMBER_CONFLICT_FACTOR
    if a.actors and b.actors and not (a.actors & b.actors):
        factor *= DISJOINT_ACTORS_FACTOR
    if a.event and b.event and a.event not in b.events and b.event not in a.events:
        factor *= EVENT_CONFLICT_FACTOR
    elif (a.event == "react") != (b.event == "react"):
        factor *= EVENT_CONFLICT_FACTOR  # "Qatar condemns Israeli attack" is not the attack
    return factor


def similarity(a: Features, b: Features) -> float:
    """Headline similarity in [0, 1] (see the module docstring)."""
    base = _base_similarity(a, b)
    return base * _conflict_factor(a, b) if base else 0.0


def threshold_for(a: str, b: str) -> float | None:
    """The similarity two items' signals need, or None when they can never match."""
    if a == b:
        return THRESHOLD if a != "none" else STRICT_THRESHOLD
    if frozenset({a, b}) in OPPOSED_SIGNALS:
        return None
    return STRICT_THRESHOLD


def vetoed(a: Features, b: Features) -> bool:
    """Different developments whatever the wording (see the module docstring)."""
    if a.side and b.side and a.side != b.side:
        return True
    if a.venues and b.venues and not (a.venues & b.venues):
        return True
    if a.objects and b.objects and not (a.objects & b.objects):
        return True
    if a.future != b.future and (a.event in ANNOUNCED_EVENTS or b.event in ANNOUNCED_EVENTS):
        return True
    if a.topic and b.topic and a.topic != b.topic and (a.events | b.events) & TOPICAL_EVENTS:
        return True
    if a.event != b.event and a.event in DEAL_STAGES and b.event in DEAL_STAGES:
        return True  # agreed, then approved, signed, in effect: successive developments, often the same day
    if a.event and b.event and (a.event == "react") != (b.event == "react"):
        return True  # "Qatar condemns Israeli attack" vs "Israeli airstrike targets ...": news of its own
    return bool(a.ordinals and b.ordinals and not (a.ordinals & b.ordinals))


def match_score(a: Features, b: Features) -> float:
    """How well two items match as the same development; 0 when they cannot."""
    needed = _THRESHOLDS.get((a.signal, b.signal), STRICT_THRESHOLD if a.signal == b.signal else None)
    if needed is None:
        return 0.0
    hours = abs(a.at - b.at) / 3600.0
    if hours < PROXIMITY_HOURS:
        proximity = PROXIMITY if needed < STRICT_THRESHOLD else STRICT_PROXIMITY
        needed += DRIFT * hours / DRIFT_HOURS - proximity * (1.0 - hours / PROXIMITY_HOURS)
    else:
        needed += DRIFT if hours >= DRIFT_HOURS else DRIFT * hours / DRIFT_HOURS
    base = _base_similarity(a, b)
    if base < needed or vetoed(a, b):  # the conflicts only ever lower the score
        return 0.0
    score = base * _conflict_factor(a, b)
    return score if score >= needed else 0.0


_THRESHOLDS = {(a, b): threshold_for(a, b) for a in SIGNALS for b in SIGNALS}
_LOWEST_THRESHOLD = min(THRESHOLD - PROXIMITY, STRICT_THRESHOLD - STRICT_PROXIMITY)
_COMPATIBLE = frozenset(pair for pair, needed in _THRESHOLDS.items() if needed is not None)


# --- stories ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Story:
    id: int  # the id of the item that opened the story
    lead: StoredItem  # the first report
    first_source: str
    first_at: datetime
    members: tuple[StoredItem, ...]  # oldest first
    sources: tuple[tuple[str, int], ...]  # (feed, whole minutes after the first report), first reporter first
    signal: str
    confirmations: int  # distinct feeds
    last_at: datetime | None = None  # the newest member's time

    @property
    def title(self) -> str:
        return self.lead.title

    @property
    def link(self) -> str:
        return self.lead.link or next((m.link for m in self.members if m.link), "")

    @property
    def item_ids(self) -> tuple[int, ...]:
        return tuple(m.id for m in self.members)

    @property
    def read(self) -> bool:
        return all(m.read for m in self.members)

    @property
    def starred(self) -> bool:
        return any(m.starred for m in self.members)


def _member_order(item: StoredItem) -> tuple:
    return (item.published, item.id)


def build_story(story_id: int, members: Iterable[StoredItem]) -> Story:
    ordered = tuple(sorted(members, key=_member_order))
    lead = ordered[0]
    first_seen_feed: dict[str, StoredItem] = {}
    for member in ordered:
        first_seen_feed.setdefault(member.feed, member)
    sources = tuple(
        (feed, int((item.published - lead.published).total_seconds() // 60))
        for feed, item in sorted(first_seen_feed.items(), key=lambda kv: (_member_order(kv[1]), kv[0]))
    )
    return Story(
        id=story_id,
        lead=lead,
        first_source=lead.feed,
        first_at=lead.published,
        members=ordered,
        sources=sources,
        signal=majority_signal(ordered),
        confirmations=len(sources),
        last_at=ordered[-1].published,
    )


def majority_signal(members: Sequence[StoredItem]) -> str:
    """Members in time order, the lead first (see the module docstring for the rule)."""
    counts: dict[str, int] = {}
    for member in members:
        if member.signal != "none":
            counts[member.signal] = counts.get(member.signal, 0) + 1
    if not counts:
        return "none"
    best = max(counts.values())
    tied = {signal for signal, count in counts.items() if count == best}
    for member in members:  # the lead first, then by time
        if member.signal in tied:
            return member.signal
    raise AssertionError("unreachable")


# A big story is compared through its lead and its latest members only: enough
# to catch the wording of the day, and it keeps a 50-member story as cheap as
# a small one.
COMPARED_MEMBERS = 8


class _OpenStory:
    __slots__ = ("id", "members", "features", "lead", "lead_features", "first_at", "_snapshot", "tokens", "signals",
                 "specific", "generic", "min_weight")  # fmt: skip

    def __init__(self, item: StoredItem, feats: Features):
        self.id = item.id
        self.tokens: set[str] = set(feats.tokens)  # every member's: a cheap "cannot match" test
        self.signals: set[str] = {feats.signal}
        # every member's, split like Features: an upper bound of any member's similarity
        self.specific: set[str] = set(feats.specific)
        self.generic: set[str] = set(feats.generic)
        self.min_weight = feats.weight
        self.members: list[StoredItem] = [item]
        self.features: list[Features] = [feats]
        self.lead = item
        self.lead_features = feats
        self.first_at = item.published
        self._snapshot: Story | None = None

    @property
    def snapshot(self) -> Story:
        # Built when asked for: bulk grouping adds many members to a story
        # between two looks at it, and a snapshot sorts all of them.
        if self._snapshot is None:
            self._snapshot = build_story(self.id, self.members)
        return self._snapshot

    def add(self, item: StoredItem, feats: Features) -> None:
        self.members.append(item)
        self.features.append(feats)
        self.tokens |= feats.tokens
        self.specific |= feats.specific
        self.generic |= feats.generic
        self.min_weight = min(self.min_weight, feats.weight)
        self.signals.add(feats.signal)
        if _member_order(item) < _member_order(self.lead):
            self.lead = item
            self.lead_features = feats
            self.first_at = item.published
        self._snapshot = None

    def compared(self) -> list[Features]:
        if len(self.features) <= COMPARED_MEMBERS:
            return self.features
        return [self.lead_features, *self.features[-(COMPARED_MEMBERS - 1) :]]


def story_order(items: Iterable[StoredItem]) -> list[StoredItem]:
    """The order ``group`` feeds items in: published, then first seen, feed, id."""
    return sorted(items, key=lambda i: (i.published, i.first_seen, i.feed, i.id))


class StoryIndex:
    """Incremental story grouping; see the module docstring for the rules."""

    def __init__(self, *, window: timedelta = WINDOW):
        self.window = window
        self._stories: dict[int, _OpenStory] = {}
        self._story_of_item: dict[int, int] = {}
        self._starts: list[tuple[datetime, int]] = []  # (first_at, story id), sorted: the window lookup

    def __len__(self) -> int:
        return len(self._stories)

    def add(self, item: StoredItem) -> Story | None:
        """Put one item in its story and return that story; None for an irrelevant item.

        Adding an item that is already in a story returns that story unchanged.
        """
        if not item.relevant:
            return None
        story = self._place(item)
        return None if story is None else story.snapshot

    def _place(self, item: StoredItem) -> _OpenStory | None:
        """``add`` without building the story's snapshot."""
        if not item.relevant:
            return None
        known = self._story_of_item.get(item.id)
        if known is not None:
            return self._stories[known]
        feats = features(item)
        story = self._best_story(item, feats)
        if story is None:
            story = _OpenStory(item, feats)
            self._stories[story.id] = story
            insort(self._starts, (story.first_at, story.id))
        else:
            before = story.first_at
            story.add(item, feats)
            if story.first_at != before:  # a late, older report became the lead
                self._starts.remove((before, story.id))
                insort(self._starts, (story.first_at, story.id))
        self._story_of_item[item.id] = story.id
        return story

    def group(self, items: Iterable[StoredItem]) -> list[Story]:
        """Add many items (in ``story_order``) and return every story, newest first."""
        self.extend(items)
        return self.stories()

    def extend(self, items: Iterable[StoredItem]) -> None:
        """Add many items (in ``story_order``), like ``group`` but returning nothing."""
        for item in story_order(items):
            self._place(item)

    def story_id_of(self, item_id: int) -> int | None:
        """The id of the story holding an item (no snapshot built), None when it holds none."""
        return self._story_of_item.get(item_id)

    def stories(self) -> list[Story]:
        """Every story, newest first report first."""
        snapshots = [s.snapshot for s in self._stories.values()]
        snapshots.sort(key=lambda s: (s.first_at, s.id), reverse=True)
        return snapshots

    def story_of(self, item_id: int) -> Story | None:
        story_id = self._story_of_item.get(item_id)
        return None if story_id is None else self._stories[story_id].snapshot

    def get(self, story_id: int) -> Story | None:
        story = self._stories.get(story_id)
        return None if story is None else story.snapshot

    def _best_story(self, item: StoredItem, feats: Features) -> _OpenStory | None:
        low = bisect_left(self._starts, (item.published - self.window, -1))
        high = bisect_right(self._starts, (item.published + self.window, float("inf")))
        best: tuple | None = None
        best_story: _OpenStory | None = None
        for first_at, story_id in self._starts[low:high]:  # sorted: deterministic
            story = self._stories[story_id]
            if story.tokens.isdisjoint(feats.tokens) or vetoed(feats, story.lead_features):
                continue
            if not any((feats.signal, signal) in _COMPATIBLE for signal in story.signals):
                continue
            # No member can share more than the story's words: skip a story that cannot reach the
            # lowest threshold there is (exact: it never changes the result, only saves time).
            common = len(feats.specific & story.specific) + GENERIC_WEIGHT * len(feats.generic & story.generic)
            if common / (min(feats.weight, story.min_weight) or 1.0) + common / feats.weight < 2 * _LOWEST_THRESHOLD:
                continue
            score = max(match_score(feats, other) for other in story.compared())
            if score <= 0.0:
                continue
            rank = (-score, first_at, story_id)
            if best is None or rank < best:
                best, best_story = rank, story
        return best_story


def group_stories(items: Iterable[StoredItem], *, window: timedelta = WINDOW) -> list[Story]:
    """Stories of ``items`` (relevant ones), newest first; independent of the input order."""
    return StoryIndex(window=window).group(items)


def first_reporter_counts(stories: Iterable[Story], *, since: datetime) -> tuple[tuple[str, int], ...]:
    """How often each feed was first to report a story that began at or after ``since``
    (the sources panel's "first to report", 7 days), most first, then by name.

    Only stories confirmed by another feed count: being "first" to a story
    nobody else ran says nothing.
    """
    counts: dict[str, int] = {}
    for story in stories:
        if story.first_at >= since and story.confirmations >= 2:
            counts[story.first_source] = counts.get(story.first_source, 0) + 1
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
