"""Short-answer spans inside a sentence, by what the question asks for. Pure functions on text."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

from qa.lexical import STOPWORDS, normalise, stem

DATE, PERSON, AMOUNT, QUOTE, LOCATION, SENTENCE = "date", "person", "amount", "quote", "location", "sentence"
NAMES = "names"  # "what are the names of ...": a list of names

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
    r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_DATE_PATTERNS = [
    rf"(?:{_WEEKDAY},?\s+)?{_MONTH}\s+{_DAY},?\s+\d{{4}}",
    rf"(?:{_WEEKDAY},?\s+)?{_DAY}\s+{_MONTH},?\s+\d{{4}}",
    rf"(?:{_WEEKDAY},?\s+)?{_MONTH}\s+{_DAY}\b",
    rf"(?:(?:early|mid|late)[- ])?{_MONTH}\s+\d{{4}}",
    rf"(?:(?:on|last|this)\s+)?{_WEEKDAY}(?:\s+(?:night|morning|afternoon|evening))?",
    r"\b(?:1[5-9]|20)\d{2}s?\b",
    r"\b(?:last|next|this) (?:year|month|week)\b",
    r"\b\d{1,2}(?::\d{2})?\s?[ap]\.m\.",
]
_DATE_RE = re.compile("|".join(f"(?:{p})" for p in _DATE_PATTERNS))

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|twenty|thirty|"
    "forty|fifty|hundred|thousand|dozen|dozens|hundreds|thousands|millions|several|a few|a couple of"
)
_SCALE = r"(?:\s?(?:million|billion|trillion|thousand|hundred|[mbk]n?\b))?"
_AMOUNT_RE = re.compile(
    rf"(?:[$€£¥]\s?\d[\d,]*(?:\.\d+)?{_SCALE})"
    rf"|(?:\b\d[\d,]*(?:\.\d+)?\s?(?:%|percent\b|per cent\b)?{_SCALE}(?:\s(?:dollars|euros|pounds))?)"
    rf"|(?:\b(?:{_NUMBER_WORDS})\b{_SCALE})",
    re.IGNORECASE,
)
# Statements, not scare quotes: at least three words inside the marks.
_QUOTE_RE = re.compile(r"“([^”]*?\s[^”]*?\s[^”]*?)”|\"([^\"]*?\s[^\"]*?\s[^\"]*?)\"|‘([^’]{12,})’")
_NAME_LIST_RE = re.compile(r"\b[A-Z][a-z]+(?:, (?:\d+, )?(?:and )?[A-Z][a-z]+){2,}(?:, \d+\b)?")
_NAME_WORD = r"(?:[A-Z][\w’'.&-]*[\w.]|[A-Z])"
_NUM_WORD = r"\d+(?:st|nd|rd|th)?"
_NAME_RE = re.compile(
    r"@[A-Za-z0-9_.]*[A-Za-z0-9_]"  # a social-media handle names an account ("@theshaderoom")
    rf"|(?:{_NUM_WORD}\s+)?{_NAME_WORD}(?:\s+(?:(?:de|da|van|von|del|of|the)\s+)?(?:{_NAME_WORD}|{_NUM_WORD}\b))*"
)
# Prepositions a question can end on ("dressed in?"); all of them, for telling modifiers and names apart.
_PREPOSITIONS = {"in", "with", "on", "of", "for", "by", "to", "at", "from", "about", "into", "as"}
_ALL_PREPOSITIONS = _PREPOSITIONS | {
    "alongside", "beside", "besides", "near", "next", "among", "between", "within", "without", "onto", "over",
    "under", "across", "through", "toward", "towards", "upon", "via", "against", "behind", "beyond", "during",
    "despite", "unlike", "like", "amid",
}  # fmt: skip
_NOT_NAMES = _ALL_PREPOSITIONS | {
    "the", "a", "an", "in", "on", "at", "but", "and", "so", "however", "though", "although", "after", "before",
    "when", "while", "if", "as", "it", "its", "she", "he", "they", "we", "i", "you", "this", "that", "these",
    "those", "there", "then", "also", "even", "many", "some", "one", "another", "other", "following", "since",
    "moreover", "furthermore", "meanwhile", "later", "earlier", "today", "yesterday", "for", "with", "not",
    "what", "why", "who", "how", "where", "apart", "amid", "days", "now", "again", "last", "during", "ok",
    "according", "once", "until", "because", "here", "yet", "still",
    "perhaps", "most", "much", "more", "several", "such", "each", "every", "all", "both", "few", "his", "her",
    "their", "our", "my", "your", "instead", "thus", "therefore", "indeed", "only", "whether", "unless", "upon",
    "whereas", "whilst", "hence", "besides", "nevertheless", "nonetheless", "currently", "initially",
}  # fmt: skip
_MONTHS_WEEKDAYS = re.compile(rf"^(?:{_MONTH}|{_WEEKDAY})$")


@dataclass(frozen=True)
class Span:
    start: int  # relative to the sentence
    end: int
    score: float
    # Tied to the question by syntax: the doer of its verb ("Kering-owned" for "who owns it?"), the age right
    # after the name it asks about ("North, 10," for "how old is North?"), the name after the preposition
    # it opens with ("under @theshaderoom’s post" for "Under which account ...?").
    bound: bool = False


_LEAD_IN = re.compile(
    r"^\s*(?:according to [^,?]{1,60}|(?:in|during|back in|by) (?:early |late |mid-?)?(?:19|20)\d{2}|"
    r"(?:last|this) (?:year|month|week)|at the time|back then|in (?:his|her|their|its) (?:statement|post|words)),\s*",
    re.I,
)


@lru_cache(maxsize=1024)
def core_question(question: str) -> str:
    """The question without a lead-in ("According to one critic, ...", "In 2022, ..."): its shape, the
    wh-word and verb that say what kind of answer it wants, starts after it."""
    return _LEAD_IN.sub("", question, count=1)


@lru_cache(maxsize=1024)
def question_type(question: str) -> str:
    question = core_question(question)
    q = normalise(question).strip()
    if re.match(r"^(what|which) (are|were) (the )?names\b", q) or re.match(
        r"^who (are|were) (all )?(the|her|his|their)\b", q
    ):
        return NAMES
    if re.match(
        r"^(when|what (date|day|year|month|time)|which (date|day|year|month)|on what (date|day))\b", q
    ) or re.search(r"\b(what|which) (date|day|year|month)\b", q):
        return DATE
    if re.match(r"^((for )?how (much|many|old|long)|what (amount|number|sum|percentage)|at what (price|cost))\b", q):
        return AMOUNT
    if re.match(
        r"^(what|which) (is|was|were|are) (the|her|his|their|its|\w+'s) (price|cost|value|salary|fee|budget|revenue|"
        r"sales|profit|income|net worth)\b",
        q,
    ):
        return AMOUNT
    if (
        re.search(
            # the verb, not the noun: "in his follow-up post" is no "what did he post"
            r"\bwhat (did|does|do|has|had|was|were|is) .*\b(?<!\bhis )(?<!\bher )(?<!\btheir )(?<!\bits )(?<!\bthe )"
            r"(?<!\ba )(?<!-up )(say|said|write|wrote|tweet|tweeted|post|posted|state|"
            r"stated|claim|claimed|comment|commented|add|added|tell|told|quip|quipped|read|reads)\b",
            q,
        )
        or re.search(r"\b(quote|statement|exact words|words)\b", q)
        and q.startswith("what")
    ):
        return QUOTE
    if re.match(r"^(what|which) (is|was|are|were) (the|her|his|their|its) (name|title)( of)?\b", q):
        return PERSON  # "what was the name of the count of Apulia": a name
    if re.match(r"^(who|whom|whose)\b", q) or re.match(
        r"^(which|what) (person|people|man|woman|company|brand|designer|photographer|director|rapper|model|"
        r"publication|magazine|outlet|user|celebrity|star|podcast|fashion house|creative director|organi[sz]ation)\b",
        q,
    ):
        return PERSON
    if re.match(r"^(where|in what (city|country|place)|in which (city|country|place))\b", q):
        return LOCATION
    if entity_head(question):
        return PERSON  # "which supermodel", "on which platform": a named thing, extracted like a name
    return SENTENCE


_AUX = r"(?:is|are|was|were|did|does|do|has|have|had|can|could|will|would|should)"


_LOCATIVE = re.compile(
    r"\b(?:in|at|from|to|on|near|outside|inside|across|throughout|around|into|onto|via|under|between)\s+(?:the\s+)?$"
)
_LEADING_PREPOSITION = r"on|in|at|for|from|with|by|under|through|to|into|during|over|among|against|within|of"


@lru_cache(maxsize=1024)
def entity_head(question: str) -> str | None:
    """The stem of the noun a "(on) which/what <noun> <verb>..." question asks to name, if it asks that."""
    m = re.match(
        rf"^\s*(?:{_LEADING_PREPOSITION})?\s*(?:which|what)\s+(?!{_AUX}\b)((?:[a-z’'-]+\s+){{0,3}}?)"
        rf"([a-z’'-]+)(?:'s)?\s+(?:also\s+|[a-z]+ly\s+)?(?:{_AUX}\b|[a-z]+(?:ed|s)\b)",
        normalise(question),
    )
    if not m or m.group(2) in STOPWORDS or re.fullmatch(_AUX, m.group(2)):
        return None
    return stem(m.group(2).rstrip("'s").rstrip("’"))


@lru_cache(maxsize=1024)
def counted_noun(question: str) -> str | None:
    """The stem of what a "how many X" question counts ("how many Instagram followers" -> follower)."""
    question = core_question(question)
    m = re.match(rf"^\s*how many\s+((?:[a-z]+\s+){{0,3}}?)([a-z]+)\s+{_AUX}\b", normalise(question))
    if not m:
        m = re.match(r"^\s*how many\s+()([a-z]+)", normalise(question))
    return stem(m.group(2)) if m else None


@lru_cache(maxsize=1024)
def wants_duration(question: str) -> bool:
    return bool(
        re.match(r"^\s*(?:for )?how (?:long|much time|many (?:years|months|weeks|days|hours))\b", normalise(question))
    )


_DURATION_RE = re.compile(
    rf"\b(?:(?:the|these|those) (?:past|last|next) )?(?:{_NUMBER_WORDS}|a|an|\d+(?:\.\d+)?|a few|few|many)\s+"
    r"(?:more\s+|full\s+)?(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|decades?|seasons?)\b",
    re.I,
)


@lru_cache(maxsize=1024)
def wants_age(question: str) -> bool:
    return bool(re.match(r"^\s*how old\b", normalise(question)))


AGE_OF_ASKED = 0.6


def _age_bonus(sentence: str, start: int, end: int, terms: frozenset[str]) -> float | None:
    """How a number reads as someone's age: "10 years old", "aged 10", or the newspaper apposition "North, 10,"
    (best when the name before it is the question's); None when it is no age at all."""
    if re.match(r"\s*(?:-|\s)?years?(?:-|\s)old\b", sentence[end:]) or re.search(r"\bage[d]?\s+$", sentence[:start]):
        return 0.5
    name = re.search(r"\b([A-Z][\w’'-]*),\s*$", sentence[:start])
    if name and re.match(r"\s*(?:,|\)|;|—|and\b|$)", sentence[end:]):
        return AGE_OF_ASKED if word_stem(name.group(1)) in terms else 0.2
    return None


@lru_cache(maxsize=1024)
def wants_money(question: str) -> bool:
    """Questions about sums of money or amounts of stuff, not counts of things."""
    q = normalise(question)
    if re.match(r"^\s*how much time\b", q):
        return False
    return bool(re.match(r"^\s*how much\b", q) or re.search(r"\b(price|cost|paid|pay|worth|salary|fee|budget)\b", q))


@lru_cache(maxsize=1024)
def head_noun(question: str) -> str | None:
    """The stem of the thing a "what/which X" question asks for ("what podcast" -> podcast)."""
    m = re.match(r"^\s*(?:what|which)\s+([a-z]+)", normalise(question))
    if not m or m.group(1) in STOPWORDS:
        return None
    return stem(m.group(1))


@lru_cache(maxsize=1024)
def _nq(question: str) -> str:
    """The question normalised, once: span finders ask for it for every candidate sentence."""
    return normalise(question)


@lru_cache(maxsize=1024)
def question_terms(question: str) -> frozenset[str]:
    """Stems of the question's content words (cached: every candidate sentence asks again)."""
    words = re.findall(r"[a-z0-9]+", normalise(question))
    return frozenset(stem(w) for w in words if w not in STOPWORDS)


@lru_cache(maxsize=65536)
def word_stem(token: str) -> str:
    """The stem of one token as written (cached: the same words recur in every sentence)."""
    return stem(normalise(token))


def _word_positions(sentence: str, terms: frozenset[str]) -> list[int]:
    return [m.start() for m in re.finditer(r"[A-Za-z0-9]+", sentence) if word_stem(m.group()) in terms]


def _proximity(span: tuple[int, int], anchors: list[int]) -> float:
    """1 near the question's words in the sentence, falling towards 0 with distance (in characters)."""
    if not anchors:
        return 0.5
    d = min(min(abs(a - span[0]), abs(a - span[1])) for a in anchors)
    return 1.0 / (1.0 + d / 40.0)


def _overlaps_question(text: str, terms: frozenset[str]) -> bool:
    words = [stem(w) for w in re.findall(r"[a-z0-9]+", normalise(text)) if w not in STOPWORDS]
    return bool(words) and all(w in terms for w in words)


_MODIFIER = re.compile(r"[\w’'-]+")


def _modified_heads(sentence: str, head: str, terms: frozenset[str]) -> list[tuple[int, int, float]]:
    """The asked-for noun with the words that tell which one it is: "what kind of photographer" ->
    "documentary photographer", "which earlier campaign" -> "winter 2022 campaign" (lower-case things that
    name-finding misses). Only when a modifier says something the question does not."""
    found = []
    tokens = list(_MODIFIER.finditer(sentence))
    for n, t in enumerate(tokens):
        if word_stem(t.group()) != head:
            continue
        first = n
        while (
            first > 0
            and n - first < 3
            and sentence[tokens[first - 1].end() : tokens[first].start()] == " "
            and normalise(tokens[first - 1].group()) not in STOPWORDS
            and normalise(tokens[first - 1].group()) not in _ALL_PREPOSITIONS
            and not tokens[first - 1].group().endswith(("’s", "'s"))
        ):
            first -= 1
        mods = [normalise(x.group()) for x in tokens[first:n]]
        if mods and any(stem(w) not in terms for w in mods):
            found.append((tokens[first].start(), t.end(), 0.45 + 0.1 * len(mods)))
    return found


def candidate_spans(sentence: str, qtype: str, question: str) -> list[Span]:
    """Possible short answers in `sentence` for a question of type `qtype`, best first."""
    terms = question_terms(question)
    anchors = _word_positions(sentence, terms)
    question = core_question(question)  # the words above count in full; the shape below starts after a lead-in
    found: list[tuple[int, int, float]] = []
    bound: set[tuple[int, int]] = set()
    if qtype == DATE:
        wants_day = bool(re.search(r"\b(?:what|which) (?:date|day)\b", _nq(question)))
        wants_month = bool(re.search(r"\b(?:what|which) month\b", _nq(question)))
        for m in _DATE_RE.finditer(sentence):
            if wants_day and not re.search(rf"{_MONTH}\s+{_DAY}\b|\b{_DAY}\s+{_MONTH}|{_WEEKDAY}", m.group()):
                continue  # "on what date": "November 2022" is a month, not a date
            if wants_month and not re.search(_MONTH, m.group()):
                continue  # "in what month": a year is no month
            specific = 0.3 if re.search(r"\d{4}", m.group()) else 0.0
            specific += 0.2 if re.search(r"\d", m.group()) else 0.0
            found.append((m.start(), m.end(), specific))
    elif qtype == AMOUNT and wants_duration(question):
        for m in _DURATION_RE.finditer(sentence):  # "several years", "the past few days", "a minute"
            found.append((m.start(), m.end(), 0.0))
    elif qtype == AMOUNT:
        dates = [(d.start(), d.end()) for d in _DATE_RE.finditer(sentence)]
        for m in _AMOUNT_RE.finditer(sentence):
            text = m.group().strip().rstrip(",.")
            if re.fullmatch(r"(?:19|20)\d{2}", text) or _DATE_RE.fullmatch(text):
                continue  # a year is not an amount
            if any(ds <= m.start() and m.end() <= de for ds, de in dates):
                continue  # nor is the day of a date ("November 6, 2023")
            s = m.start() + (len(m.group()) - len(m.group().lstrip()))
            if wants_age(question):
                age = _age_bonus(sentence, s, s + len(text), terms)
                if age is not None:  # "how old": four children are no age
                    found.append((s, s + len(text), age))
                    if age == AGE_OF_ASKED:
                        bound.add((s, s + len(text)))
                continue
            money = 0.3 if re.search(r"[$€£¥]|million|billion|percent|%", text, re.I) else 0.0
            if wants_money(question) and not money:
                continue  # "how much was she paid": a bare count is no answer
            found.append((s, s + len(text), money))
    elif qtype in (PERSON, LOCATION):
        head = entity_head(question) or head_noun(question)
        asks_who = bool(re.match(r"^\s*(who|whom|whose)\b", _nq(question)))
        led = re.match(rf"^\s*({_LEADING_PREPOSITION})\s+(?:which|what)\b", _nq(question))
        lead = led.group(1) if led else None
        for m in _NAME_RE.finditer(sentence):
            s, e = m.start(), m.end()
            # "Kering-owned" names Kering: a hyphen followed by lower case ends the name.
            if cut := re.search(r"-[a-z]", m.group()):
                e = s + cut.start()
            words = sentence[s:e].split()
            # Drop leading sentence-function words that happen to be capitalised ("However", "The").
            while words and (words[0].lower().strip(".’'") in _NOT_NAMES or _MONTHS_WEEKDAYS.match(words[0])):
                s += len(words[0])
                s += len(sentence[s:]) - len(sentence[s:].lstrip())
                words = words[1:]
            # Words the question already says ("CEO Cedric Charbit" for "who is the CEO") are not the answer.
            stripped = 0
            while len(words) > 1 and (
                stem(normalise(words[0]).strip(".’'")) in terms or words[0] in {"CEO", "CFO", "COO", "President"}
            ):
                s += len(words[0])
                s += len(sentence[s:]) - len(sentence[s:].lstrip())
                words = words[1:]
                stripped += 1
            # "Court of Justice" less the question's "Court" is "Justice", not "of Justice"
            while stripped and words and words[0] in {"of", "the"}:
                s += len(words[0])
                s += len(sentence[s:]) - len(sentence[s:].lstrip())
                words = words[1:]
            while words and (words[-1].lower() in {"of", "the", "de", "da", "van", "von", "del"}):
                e -= len(words[-1])
                e = len(sentence[:e].rstrip())
                words = words[:-1]
            if not words or (e - s < 2 and sentence[s:e] in {"I", "A"}):
                continue
            if len(words) == 1 and s == 0 and re.fullmatch(r"[A-Z][a-z]+(?:ing|ly)", words[0]):
                continue  # "Having said that", "Initially": a capitalised first word, not a name
            text = sentence[s:e].rstrip(".")
            e = s + len(text)
            if _overlaps_question(text, terms) or _MONTHS_WEEKDAYS.match(text):
                continue
            if asks_who and re.search(r"\d", text):
                continue  # people have no numbers in their names ("51st Couture Show" is not a who)
            if re.fullmatch(r"[\d\s,.]+(?:st|nd|rd|th)?", text):
                continue  # nor are things: a bare "2022" names nothing
            text_clean = re.sub(r"[’']s$", "", text)
            e = s + len(text_clean)
            bonus = 0.1 * min(len(words), 3)
            word_stems = {stem(normalise(w).strip("’'.,")) for w in words}
            if head and head in word_stems:
                bonus += 0.5  # "what podcast" -> "Angie Martinez IRL Podcast"
            elif word_stems & terms or (stripped and len(words) == 1 and not head):
                # Holds, or was glued to, the question's own words ("Kim Kardashian Balenciaga Ambassador"):
                # more likely its subject than its answer.
                bonus -= 0.3
            if text.isupper() and len(text) <= 5:
                bonus -= 0.2  # acronyms (BDSM, CEO) are rarely who/what is asked for
            if qtype == LOCATION:
                if not re.search(_LOCATIVE, sentence[:s]):
                    continue  # places are where things happen "in", "at", "from": a bare name is a who or a what
                bonus += 0.4
            if qtype == PERSON and lead and re.search(rf"\b{lead}\s+(?:the\s+)?$", sentence[:s], re.I):
                bonus += 0.4  # "Under which account ...?" -> "under @theshaderoom’s post"
                bound.add((s, e))
            before = re.search(r"([a-z]+)[,]?\s+$", sentence[:s])  # a lower-case role word, not a name
            if qtype == PERSON and not stripped and before and stem(before.group(1)) in terms:
                bonus += 0.4  # right after a word of the question: "set designer Nicholas Des Jardi"
            # The doer of the question's verb: "Kering-owned" or "owned by Kering" for "who owns it?"
            after = re.match(r"-([a-z]+)", sentence[e:])
            by = re.search(r"\b([a-z]+) by\s+$", sentence[:s])
            if (after and stem(after.group(1)) in terms) or (by and stem(by.group(1)) in terms):
                bonus += 0.5
                bound.add((s, e))
            found.append((s, e, bonus))
        if head and not asks_who:
            # "what kind of photographer": the kind is the answer; "which photographer": a name, if any
            kind = bool(re.match(r"^\s*(?:\w+\s+)?(?:what|which)\s+(?:kind|type|sort|form)s?\s+of\b", _nq(question)))
            found.extend(
                (a, b, score if kind else score - 1.0) for a, b, score in _modified_heads(sentence, head, terms)
            )
    elif qtype == NAMES:
        for m in _NAME_LIST_RE.finditer(sentence):
            found.append((m.start(), m.end(), 0.5))
    elif qtype == QUOTE:
        topic = quote_topic(question)
        for m in _QUOTE_RE.finditer(sentence):
            g = next(i for i in (1, 2, 3) if m.group(i) is not None)
            s, e = m.start(g), m.end(g)
            if topic:
                s, e = focus_clause(sentence, s, e, topic)
            # The quote a speech verb introduces ("told Martinez that “...”") is the statement; a later one
            # in the same sentence is usually a qualification of it.
            governed = 0.3 if _INTRODUCED.search(sentence[: m.start()]) else 0.0
            found.append((s, e, governed + 0.1 * min(len(m.group(g)) / 80, 1.0)))
        if not found:
            # The sentence splitter cuts long quotes: an opening mark with no close, or a close with no opening.
            opening, closing = sentence.find("“"), sentence.rfind("”")
            if opening >= 0 and closing < opening:
                found.append((opening + 1, len(sentence), 0.05))
            elif closing > 0 and opening < 0:
                found.append((0, closing, 0.05))
        if not found and (said := reported_speech(sentence)):
            found.append((said.start, said.end, 0.0))
    spans = [Span(s, e, score + _proximity((s, e), anchors), (s, e) in bound) for s, e, score in found if e > s]
    spans.sort(key=lambda sp: -sp.score)
    return spans


@lru_cache(maxsize=1024)
def quote_topic(question: str) -> Mapping[str, float]:
    """Stems of what a "what did X say about <topic>" question asks about, weighted: the head of the phrase
    ("relationship" in "her relationship with Balenciaga") counts double."""
    m = re.search(r"\babout\s+(?:(?:his|her|their|its|the|a|an)\s+)?([^?]+)", normalise(core_question(question)))
    if not m:
        return MappingProxyType({})
    stems = [stem(w) for w in re.findall(r"[a-z0-9]+", m.group(1)) if w not in STOPWORDS]
    weights = dict.fromkeys(stems, 1.0)
    if stems:
        weights[stems[0]] = 2.0
    return MappingProxyType(weights)  # cached: read-only


_CLAUSE_BREAK = re.compile(r",\s+|\s+[—–-]\s+|;\s+")


def focus_clause(sentence: str, start: int, end: int, topic: Mapping[str, float]) -> tuple[int, int]:
    """A long quote narrowed to the clause about `topic` ("..., I am re-evaluating my relationship with the
    brand, basing it off ..." about her relationship); short quotes, or no such clause, stay whole."""
    if len(sentence[start:end].split()) <= 15:
        return start, end
    bounds = [start] + [m.end() for m in _CLAUSE_BREAK.finditer(sentence, start, end)] + [end]
    clauses = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        clause_end = a + len(sentence[a:b].rstrip(" ,;—–-"))
        clauses.append((a, clause_end, re.findall(r"[a-z0-9]+", normalise(sentence[a:clause_end]))))
    best, best_hits = (start, end), 0.0
    for n, (a, clause_end, words) in enumerate(clauses):
        hits = sum(topic.get(w, 0.0) for w in {stem(w) for w in words})
        if hits > best_hits and len(words) >= 4:
            if _TOPIC_FRAME.match(sentence[a:clause_end]) and n + 1 < len(clauses):
                a, clause_end = clauses[n + 1][:2]  # "As for my future, I am ...": the statement follows its frame
            best, best_hits = (a, clause_end), hits
    return best


_TOPIC_FRAME = re.compile(r"(?:as for|as to|regarding|concerning|when it comes to|speaking of|about)\b", re.I)


_STOP_PHRASE = re.compile(
    r"[,.;:!?”\"]|\s(?:and|but|while|which|who|because|after|before|when|until|once|as soon as|so that)\s"
)


_ABOUT_TOPIC = re.compile(
    r"\b(?:say|said|says|write|wrote|writes|tell|told|think|thought|post|posted|tweet|tweeted|feel|felt)\s+about\b"
)


@lru_cache(maxsize=1024)
def tail_key(question: str) -> tuple[str, ...] | None:
    """Stems of the verb/preposition a question ends on ("dressed in?", "holding?", "built on?"), whose
    object is the answer; a trailing "about X" is dropped first when nothing else ends it. A question that
    asks in place ("Turing machines are used to define what?") ends, in effect, just before its "what"."""
    if _ABOUT_TOPIC.search(_nq(question)):
        return None  # "what did he write about ending trafficking": a topic, not a verb whose object is asked
    key = _in_place_key(question) or _tail_key(question)
    if key is None and (m := re.match(r"^(.*\b[a-z]+(?:ed|ing))\s+(?:about|of|with|for|from)\s+[^?]*\??$", question)):
        key = _tail_key(m.group(1) + "?")
    return tuple(key) if key else None


def _in_place_key(question: str) -> list[str] | None:
    q = normalise(question)
    if re.match(r"^\s*(?:what|which|who|whom|whose|when|where|why|how)\b", q):
        return None
    m = re.search(r"([a-z’'-]+)\s+([a-z’'-]+)\s+(?:what|which|whom)\b", q)
    if not m:
        return None
    before, last = m.groups()
    if last in _PREPOSITIONS:
        return None if before in STOPWORDS else [stem(before), stem(last)]
    if last in STOPWORDS or re.fullmatch(_AUX, last):
        return None
    return [stem(last)]


def _tail_key(question: str) -> list[str] | None:
    words = re.findall(r"[a-z0-9’'-]+", normalise(question))  # "... in 2024?" does not end on "in"
    while words and words[-1] in {"there", "then", "it", "them", "him", "her", "this", "that"}:
        words = words[:-1]  # "what did she wear there?": the verb is what matters
    if len(words) < 3:
        return None
    last = words[-1]
    # "what did she wear": the last word is a verb when it directly follows the subject (a pronoun or name).
    original = re.findall(r"[A-Za-z’'-]+", question)[: len(words)]
    subject_before = len(original) >= 2 and (
        original[-2].lower() in {"she", "he", "they", "it", "i", "we", "you"} or original[-2][:1].isupper()
    )
    # "What does the fashion house embrace?": after do-support the last word is the main verb, unless a
    # determiner, or a preposition (or "do" itself) before it, says it is a noun ("do with the pictures?").
    noun_before = words[-2] in STOPWORDS or any(w in _PREPOSITIONS or w == "do" for w in words[2:-1])
    asks_object = (subject_before or not noun_before) and bool(
        re.match(r"^\s*what\s+(did|does|do|will|would)\b", normalise(question))
    )
    if last in _PREPOSITIONS:
        return [stem(w) for w in words[-2:]]
    if last in {"do", "be", "have", "get", "make"} and words[-2] == "to":
        return [stem(w) for w in words[-2:]]  # "what does she want to do?": what follows "to do"
    if last not in STOPWORDS and (
        last.endswith(("ing", "ed"))
        or asks_object
        # "-s" makes a verb only after an adverb or pronoun ("strongly condemns"), else a plural ("images")
        or (last.endswith("s") and (words[-2].endswith("ly") or words[-2] in {"she", "he", "it", "who"}))
    ):
        return [stem(last)]
    return None


# Verbs that are prepositions too: after a linking verb ("looked like bondage gear") they are not the verb.
_ALSO_PREPOSITIONS = {"like"}
_LINKING = {"look", "looks", "looked", "looking", "seem", "seems", "seemed", "sound", "sounds", "sounded", "feel",
            "feels", "felt", "is", "was", "are", "were", "be", "just", "more", "much"}  # fmt: skip


def tail_phrase(sentence: str, question: str) -> Span | None:
    """The words that follow the question's final verb/preposition (`tail_key`) in the sentence, up to the
    end of the phrase."""
    want = tail_key(question)
    if want is None:
        return None
    tokens = list(re.finditer(r"[A-Za-z’'-]+", sentence))
    stems = [word_stem(t.group()) for t in tokens]
    for i in range(len(tokens) - len(want), -1, -1):
        if tuple(stems[i : i + len(want)]) != want:
            continue
        if (
            len(want) == 1
            and tokens[i].group().lower() in _ALSO_PREPOSITIONS
            and i > 0
            and tokens[i - 1].group().lower() in _LINKING
        ):
            continue
        start = tokens[i + len(want) - 1].end()
        rest = sentence[start:]
        start += len(rest) - len(rest.lstrip(' “”"‘’'))
        stop = _STOP_PHRASE.search(sentence, start)
        end = stop.start() if stop else len(sentence)
        phrase_words = sentence[start:end].split()
        if not phrase_words:
            return None
        if len(phrase_words) > 12:
            end = start + len(" ".join(phrase_words[:12]))
        return Span(start, end, PHRASE_FOUND)
    return None


_SPEECH_VERB = (
    r"(?:said|says|say|told|tells|tell|wrote|writes|write|added|adds|add|claimed|claims|claim|stated|states|"
    r"explained|explains|explain|insisted|insists|insist|admitted|admits|admit|revealed|reveals|reveal|noted|"
    r"notes|argued|argues|argue|maintained|maintains|maintain)"
)
# "told Newyork Verified that he ...", or with the "that" left out: "said she was ..."
_REPORTED = re.compile(
    rf"\b{_SPEECH_VERB}\b(?:(?:\s+(?!that\b)[\w’'.-]+){{0,4}}?\s+that\s+(?=\S)|\s+(?=(?:she|he|they|we|I)\s+[a-z]))"
)


_INTRODUCED = re.compile(rf"\b{_SPEECH_VERB}\b(?:\s+(?!that\b)[\w’'.-]+){{0,3}}?(?:\s+that|,|:)?\s*$")


def reported_speech(sentence: str) -> Span | None:
    """Indirect speech, the answer to "what did X say" without quote marks: the clause after "told Y that"."""
    m = _REPORTED.search(sentence)
    if not m:
        return None
    end = len(sentence.rstrip().rstrip(".!?"))
    return Span(m.end(), end, PHRASE_FOUND) if end > m.end() else None


_DESCRIBE_Q = re.compile(
    r"^\s*how (?:did|does|do|has|had|would) .+? (?:describe|describes|described|characteri[sz]e|portray|call)\s+"
    r"(?:(herself|himself|themselves|itself|myself)|.+)"
)
_AS_ROLE = re.compile(
    r"\b(?:[Aa]s|herself as|himself as|themselves as|itself as)\s+((?:a|an|the)\s+[\w’'-]+(?:\s+[\w’'-]+){0,4}?)"
    r"(?=,|;|:|—|\s(?:I|she|he|we|they|it)\b)"
)


def description(sentence: str, question: str) -> Span | None:
    """For "how did X describe herself/his part": the role she took ("as a mother of four") or, describing
    anything else, what X said about it in reported speech ("that he had minimal involvement")."""
    m = _DESCRIBE_Q.match(_nq(question))
    if not m:
        return None
    if m.group(1):
        found = _AS_ROLE.search(sentence)
        return Span(found.start(1), found.end(1), PHRASE_FOUND) if found else None
    return reported_speech(sentence)


_FEEL_Q = re.compile(r"^\s*how (?:did|does|do|has|had|would) .+? (?:feel|felt|react|respond)\b")
_FEELING = re.compile(
    r"\b(?:was|were|is|are|been|felt|feel|feels|being)\s+(?:(?:so|very|deeply|really|left|absolutely)\s+)?"
    r"((?:[“\"‘]?[a-z]+(?:ed|en)[”\"’]?)(?:(?:,\s*|\s+and\s+|\s+or\s+)[“\"‘]?[a-z]+(?:ed|en)[”\"’]?){0,2})"
    r"(?=\s+(?:by|about|at|over|that)\b|[,.;]|$)"  # not "with": "associated with" is no feeling
)


def feeling(sentence: str, question: str) -> Span | None:
    """For "how did X feel about Y": the feeling words after a copula ("she was “disgusted” and “shaken” by")."""
    if not _FEEL_Q.match(_nq(question)):
        return None
    m = _FEELING.search(sentence)
    return Span(m.start(1), m.end(1), PHRASE_FOUND) if m else None


_MANNER_Q = re.compile(
    r"^\s*[Hh]ow (?:did|does|do|has|had|will|would|could|can|was|were|is) "
    r"(?:[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*)*|(?:the|a|an|his|her|its|their)\s+[a-z]+|[a-z]+)\s+([a-z]+)\b"
)
_MEANS = re.compile(r"\s(?:via|through|by|with|in a|in an|on (?:his|her|its|their|the))\s")


@lru_cache(maxsize=1024)
def _manner_verb(question: str) -> str | None:
    """The stem of the verb a "how did X <verb>" question asks about, or None for other questions."""
    # "Through what / By what means did X post it?" asks the same as "How did X post it?"
    question = re.sub(
        r"^\s*(?:through|via|by) (?:what|which)(?: (?:means|way|channel|medium))?\b", "How", question, flags=re.I
    )
    question = re.sub(r"\b(?:try|tried|attempt|attempted|manage|managed) to ", "", question)  # "try to reach"
    m = _MANNER_Q.match(question)
    return None if not m or m.group(1) in STOPWORDS else stem(m.group(1))


def manner(sentence: str, question: str) -> Span | None:
    """For "how did X <verb>": the means ("via three Instagram Stories", "by posting ...") or the participle
    clause that carries the verb ("posted on his Instagram, personally apologizing for the images")."""
    want = _manner_verb(question)
    if want is None:
        return None
    for t in re.finditer(r"[A-Za-z’'-]+", sentence):
        if word_stem(t.group()) != want:
            continue
        before = sentence[: t.start()]
        if t.group().endswith("ing"):
            if re.search(r"\bby\s+$", before):
                return _clause(sentence, before.rstrip().rfind("by"))
            lead = re.search(r",\s+(?:[a-z]+ly\s+)?$", before)
            if lead:
                # the clause before the participle is what was done: "posted on his Instagram"
                prev = before[: lead.start()].rfind(",")
                start = prev + 1 if prev >= 0 else 0
                start += len(sentence[start:]) - len(sentence[start:].lstrip())
                end = _clause(sentence, t.start())
                return Span(start, end.end if end else t.end(), PHRASE_FOUND)
            continue
        means = _MEANS.search(sentence, t.end())
        if means and not _STOP_PHRASE.search(sentence, t.end(), means.start()):
            return _clause(sentence, means.start() + 1, max_words=10)
    # The verb put another way ("reach" / "contacted ... via email"): an explicit means still answers "how".
    via = re.search(r"\s(?:via|by means of)\s", sentence)
    return _clause(sentence, via.start() + 1, max_words=6) if via else None


_REASON = re.compile(r"\b(?<!not )(because|since|due to|as a result of|over|for fear of)\s", re.I)
_ROLE_Q = re.compile(r"^\s*what\s+(is|was|are|were)\b.*\b(role|position|job|title|relationship|status)\b")
_ROLE = re.compile(
    r"\b(?:is|was|as|became|become|becoming|named|names|appointed)\s+(?:(?:a|an|the|their|its|her|his)\s+)?"
    r"(?:new\s+|official\s+|longtime\s+)?((?:[a-z-]+\s+){0,2}(?:ambassador|face|director|designer|president|ceo|"
    r"founder|partner|spokes(?:wo)?man|spokesperson|member|owner|chair(?:man|woman)?|head|model|muse))\b"
)


def _clause(sentence: str, start: int, max_words: int = 20) -> Span | None:
    """From `start` to the end of the clause (punctuation or a conjunction), at most `max_words` words."""
    stop = _STOP_PHRASE.search(sentence, start)
    end = stop.start() if stop else len(sentence)
    words = sentence[start:end].split()
    if not words:
        return None
    if len(words) > max_words:
        end = start + len(" ".join(words[:max_words]))
    return Span(start, end, PHRASE_FOUND)


def action_phrase(sentence: str, question: str) -> Span | None:
    """For "what did X do (with Y)" questions: what follows X in the sentence ("pulled the ads from online")."""
    m = re.match(r"^\s*what (?:did|does|has|had|will) (.+?) do\b", question, re.I)
    if not m:
        return None
    subject = m.group(1).split()[-1]
    # what X did, not the auxiliary before it: "she has deleted the pictures" -> "deleted the pictures"
    found = re.search(
        rf"\b{re.escape(subject)}(?:’s|'s)?\s+(?:(?:has|have|had|also|then|later|quickly)\s+)*(?!is\b|was\b)([a-z])",
        sentence,
    )
    if not found:
        return None
    return _clause(sentence, found.start(1), max_words=8)


def reason_clause(sentence: str, question: str) -> Span | None:
    """For "why" questions: the clause after a reason marker ("over his string of antisemitic statements")."""
    if not re.match(r"^\s*why\b", _nq(question)):
        return None
    markers = list(_REASON.finditer(sentence))
    if not markers:
        return None
    # "not because X, but because Y": the affirmed reason is the last one.
    m = markers[-1]
    span = _clause(sentence.replace("”", ",").replace("“", " "), m.start())
    return Span(span.start, span.end, PHRASE_FOUND) if span else None


def role_phrase(sentence: str, question: str) -> Span | None:
    """For "what is X's role/relationship" questions: the role named after a copula ("a brand ambassador")."""
    if not _ROLE_Q.match(_nq(question)):
        return None
    m = _ROLE.search(sentence)
    return Span(m.start(1), m.end(1), PHRASE_FOUND) if m else None


PHRASE_FOUND = 1.5  # score of a span found by a phrase finder (why-clause, role, tail phrase)


# Finders for questions that do not end on their verb, each keyed to a question shape ("why", "how did X feel").
_SHAPE_FINDERS = (reason_clause, role_phrase, action_phrase, description, feeling, manner)


def short_answer(sentence: str, qtype: str, question: str, context: str = "") -> Span | None:
    """The best short answer inside `sentence`, or None when the sentence holds nothing of the asked type.

    `context`: earlier turns a follow-up leans on; their words are never the answer, but the shape of
    the answer (the verb it follows, "why") comes from this turn's question alone.
    """
    if qtype in (SENTENCE, QUOTE):
        core = core_question(question)
        # A question ending on its verb ("built on?") wants that verb's object, whatever else the sentence has.
        finders = (tail_phrase,) if tail_key(core) else _SHAPE_FINDERS
        for finder in finders:
            if span := finder(sentence, core):
                return span
    if qtype == SENTENCE:
        return Span(0, len(sentence), 1.0)
    spans = candidate_spans(sentence, qtype, f"{question} {context}" if context else question)
    if spans:
        return spans[0]
    if qtype == QUOTE:  # a statement without quote marks: the sentence itself is the answer
        return Span(0, len(sentence), 0.5)
    if qtype in (PERSON, LOCATION) and re.search(r"\b(?:from|with|to|at|in|on)\?*\s*$", question):
        # "Where did it remove the campaign from?": no name, but the words after "removed ... from"
        return tail_phrase(sentence, core_question(question))
    return None


_EDGE = " \t\n“”‘’\"'"


def trim_span(text: str, start: int, end: int, whole: bool) -> tuple[int, int]:
    """Shrink an answer span off its quote marks and dangling punctuation (a quote's opening mark that the
    sentence splitter left behind, a clause's trailing comma); `whole` keeps a full sentence's final stop."""
    tail = _EDGE + ",;:" + ("" if whole else ".")
    s, e = start, end
    while s < e and text[s] in _EDGE:
        s += 1
    while e > s and text[e - 1] in tail:
        e -= 1
    # “disgusted” and “shaken”: marks that open and close inside the answer stay, or it reads unbalanced.
    marks = [c for c in text[s:e] if c in "“”"]
    if marks and marks[0] == "”" and s > start and text[s - 1] == "“":
        s -= 1
    if marks and marks[-1] == "“" and e < end and text[e] == "”":
        e += 1
    return (s, e) if e > s else (start, end)
