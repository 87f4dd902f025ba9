"""Phrase: what a question asks for (a name, a number, a date, a place) and the short phrase of
that kind in a sentence, to lead an answer with. Heuristics, no model: a phrase is only ever
taken from the sentence itself.

>>> wanted("How many moons does Mars have?")
'number'
>>> phrase("How many moons does Mars have?", "Mars has two small moons, Phobos and Deimos.")
'two'
>>> phrase("Who opened the bridge?", "The bridge was opened by Mayor Ada Lind on Friday.")
'Mayor Ada Lind'
"""

from __future__ import annotations

import re

_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
_DAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|"
    "ninety|hundred|thousand|million|billion|trillion|dozen|dozens|hundreds|thousands|millions"
)
_DATE = re.compile(
    rf"\b(?:(?:early |late |mid-)?(?:{_MONTHS})\.?(?: \d{{1,2}}(?:st|nd|rd|th)?)?(?:,? \d{{4}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)? (?:of )?(?:{_MONTHS})\.?(?:,? \d{{4}})?"
    rf"|(?:last |next |on )?(?:{_DAYS})"
    rf"|(?:in |the )?(?:1[5-9]|20)\d\d(?:s)?"
    rf"|\d{{4}}-\d\d-\d\d)\b"
)
_NUMBER = re.compile(
    rf"(?:[$€£¥]\s?)?\b(?:\d[\d,.]*|(?:{_NUMBER_WORDS})(?:[- ](?:{_NUMBER_WORDS}))*)"
    r"(?:\s?(?:%|percent|per cent))?"
    r"(?: (?:million|billion|trillion|thousand|hundred))?\b(?:\s?%)?",
    re.IGNORECASE,
)
_TITLE = r"(?:Mr|Mrs|Ms|Dr|Prof|Sen|Rep|Gov|Gen|St)\."
_LINK = r"(?:of|de|der|den|da|van|von|al|bin|la|le|del|the|and|&)"  # "Ursula von der Leyen"
_NAME = re.compile(rf"(?:{_TITLE} )?[A-Z][\w'’\-]*(?:(?: {_LINK})* [A-Z][\w'’\-]*)*")
_MONEY = re.compile(
    r"(?:[$€£¥]\s?\d[\d,.]*(?: ?(?:million|billion|trillion|thousand|[mbk]n?))?"
    r"|\b\d[\d,.]*(?: (?:million|billion|trillion|thousand))? "
    r"(?:dollars|euros|pounds|yen|yuan|francs|rupees|usd|eur|gbp))\b",
    re.IGNORECASE,
)
_COST = re.compile(r"\b(?:cost|costs|price|paid|pay|spend|spent|worth|budget|fund|funds|fee)\b")
_WORD = re.compile(r"[A-Za-z0-9]+")
_NOT_NAMES = frozenset(
    "The A An In On At As But And Or If When While After Before This That These Those It Its "
    "He She They We I You His Her Their Our There Here Then So Yet For From By With Of To "
    "What Who Which Where Why How Monday Tuesday Wednesday Thursday Friday Saturday Sunday "
    "Mr Mrs Ms Dr".split()
)


def wanted(question: str) -> str:
    """The kind of answer `question` asks for: "name", "number", "money", "date", "place" or ""
    ("how much ... cost" asks for money; "how many <things>" is "number" too, see `counted`)."""
    q = question.lower().strip()
    if re.search(r"\bhow much\b", q) and _COST.search(q):
        return "money"
    if re.match(r"(?:.*\b)?(how (?:many|much|long|far|old|big|tall|high|large))\b", q) or re.search(
        r"\bwhat (?:number|percentage|share|amount|proportion|age)\b", q
    ):
        return "number"
    if re.search(r"\bwhen\b|\bwhat (?:year|date|day|month|time|decade|century)\b", q) or re.search(
        r"\bwhich (?:year|date|day|month|decade|century)\b", q
    ):
        return "date"
    if re.search(r"\bwhere\b|\b(?:what|which) (?:country|city|state|town|place|region)\b", q):
        return "place"
    if re.search(r"\bwho(?:m|se)?\b", q) or re.search(
        r"\b(?:what|which) (?:company|organi[sz]ation|team|group|party|person|man|woman|"
        r"president|leader|minister|agency|country's|firm|brand|network|club)\b",
        q,
    ):
        return "name"
    return ""


def candidates(kind: str, sentence: str) -> list[tuple[int, int]]:
    """Spans of `sentence` that could be an answer of `kind`."""
    if kind == "date":
        spans: list[tuple[int, int]] = []
        for m in _DATE.finditer(sentence):
            s, e = m.span()
            lead = re.match(r"(?:on|in|the) ", sentence[s:e])
            s += lead.end() if lead else 0
            if spans and re.fullmatch(r",? ?", sentence[spans[-1][1] : s]):
                spans[-1] = (spans[-1][0], e)  # "Tuesday, May 10": one date
            else:
                spans.append((s, e))
        return spans
    if kind == "money":
        return [_strip(sentence, *m.span()) for m in _MONEY.finditer(sentence)]
    if kind == "number":
        dates = [m.span() for m in _DATE.finditer(sentence)]
        out = []
        for m in _NUMBER.finditer(sentence):
            s, e = _strip(sentence, *m.span())
            if e > s and not any(ds <= s and e <= de for ds, de in dates):
                out.append((s, e))
        return out
    if kind in ("name", "place"):
        out = []
        for m in _NAME.finditer(sentence):
            s, e = m.span()
            words = sentence[s:e].split()
            while words and words[0].rstrip(".") in _NOT_NAMES:
                s += len(words.pop(0)) + 1
            if not words:
                continue
            if kind == "place":
                before = sentence[max(0, s - 6) : s].lower()
                if not re.search(r"\b(?:in|at|from|to|near|of)\s$", before):
                    continue
            out.append((s, e))
        return out
    return []


def counted(question: str) -> str:
    """What "how many <things>" counts, as a word stem ("how many troops" -> "troop"); "".

    >>> counted("How many troops will be sent?"), counted("How many were hurt?")
    ('troop', '')
    """
    m = re.search(r"\bhow many ([a-z]+)", question.lower())
    if not m or m.group(1) in _AUX:
        return ""
    return m.group(1)[:5] if len(m.group(1)) > 5 else m.group(1).rstrip("s")


_AUX = frozenset("are were is was do did does have has had will would can could of".split())


def _counts(sentence: str, s: int, e: int, stem: str) -> bool:
    """Whether the number at sentence[s:e] counts `stem`s: the thing follows within 3 words."""
    after = re.findall(r"[a-z]+", sentence[e : e + 40].lower())[:3]
    return any(w.startswith(stem) for w in after)


def _strip(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s] in " ,.":
        s += 1
    while e > s and text[e - 1] in " ,.":
        e -= 1
    return s, e


def phrase(question: str, sentence: str) -> str:
    """The short phrase of `sentence` that answers `question`, or "" when none stands out.

    Among the spans of the wanted kind whose words are not all in the question, the one closest
    to where the question's words occur in the sentence.
    """
    kind = wanted(question)
    spans = candidates(kind, sentence) if kind else []
    stem = counted(question) if kind == "number" else ""
    if stem:
        spans = [(s, e) for s, e in spans if _counts(sentence, s, e, stem)]
    qwords = {w.lower() for w in _WORD.findall(question)}
    fresh = [
        (s, e)
        for s, e in spans
        if {w.lower() for w in _WORD.findall(sentence[s:e])} - qwords - {"the", "of", "and"}
    ]
    if not fresh:
        return ""
    anchors = [m.start() for m in _WORD.finditer(sentence) if m.group().lower() in qwords]
    if not anchors:
        return sentence[fresh[0][0] : fresh[0][1]].strip()

    def distance(span: tuple[int, int]) -> int:
        s, e = span
        return min(min(abs(a - s), abs(a - e)) for a in anchors)

    s, e = min(fresh, key=distance)
    words = sentence[s:e].split()
    while len(words) > 1 and words[0].lower().strip(",.") in qwords:  # "President Ada Lind"
        words.pop(0)  # when the question asked about "the President"
    return " ".join(words)
