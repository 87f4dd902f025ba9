"""Values: the numbers, dates, days, places and names a sentence states, in a form that
compares.

    >>> [(v.kind, v.text, v.unit) for v in values("Thirty countries met in Lyon on Aug. 19.")]
    [('number', 'Thirty countries', 'country'), ('place', 'Lyon', ''), ('date', 'Aug. 19', '')]
    >>> [(v.kind, v.text, v.key) for v in values("The band moved to Oslo on Tues.")]
    [('place', 'Oslo', ('oslo',)), ('weekday', 'Tues.', ('tuesday',))]

Two values are the same thing said differently when `same` says so: 30 = thirty = 30.0,
1.2 million = 1,200,000, 30% = 30 percent, Aug. 19 = 19 August = August 19th, Monday = monday
= Mon., Paris = Paris, France, Macron = Emmanuel Macron; a hedged number is a range ("about
30", "more than 30"). A weekday said with its reporting ("said on Monday") is not a value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text import STOP

_TOKEN = re.compile(
    r"[$£€]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:%|[A-Za-z]+)?|[A-Za-z][\w'’.-]*|%"
)
_SMALL = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
).split()
_TENS = {
    w: 10 * i for i, w in enumerate("thirty forty fifty sixty seventy eighty ninety".split(), 3)
}
SPELLED = {w: i for i, w in enumerate(_SMALL)} | _TENS
_SPELLED = re.compile(rf"^({'|'.join(list(_TENS) + ['twenty'])})-({'|'.join(_SMALL[1:10])})$")
_SCALE = {"thousand": 1e3, "k": 1e3, "trillion": 1e12, "tn": 1e12, "billion": 1e9, "bn": 1e9,
          "million": 1e6, "m": 1e6, "mn": 1e6}  # fmt: skip
_MONEY = {"$": "$", "£": "£", "€": "€", "dollars": "$", "dollar": "$", "euros": "€", "euro": "€",
          "pounds": "£", "pound": "£"}  # fmt: skip
# hedges: a number after these is a range, not a point (lo, hi as multiples of the number)
_HEDGE = {
    "about": (0.9, 1.1), "around": (0.9, 1.1), "approximately": (0.9, 1.1),
    "roughly": (0.9, 1.1), "some": (0.9, 1.1), "nearly": (0.85, 1.0), "almost": (0.85, 1.0),
    "over": (1.0, float("inf")), "more than": (1.0, float("inf")),
    "at least": (1.0, float("inf")), "upwards of": (1.0, float("inf")),
    "as many as": (0.0, 1.0), "up to": (0.0, 1.0), "fewer than": (0.0, 1.0),
    "less than": (0.0, 1.0), "under": (0.0, 1.0), "below": (0.0, 1.0),
    "above": (1.0, float("inf")), "estimated": (0.8, 1.2),
}  # fmt: skip
MONTHS = (
    "january february march april may june july august september october november december".split()
)
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = re.compile(
    rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?(?!\d)(?:\s*[-–]\s*\d{{1,2}}(?!\d))?(?:,?\s+(\d{{4}}))?"
    rf"|\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+(\d{{4}}))?\b",
    re.I,
)
_WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
# "Tues." -> "tuesday" (abbreviations only capitalised and with their full stop)
_DAY_ABBR = {a: d for d in _WEEKDAYS for a in (d[:3], d[:4], d[:5]) if a != d}
_DAY_PREP = frozenset("on by until till from to next last this since before after".split())
# a weekday this close to one of these words is when it was said, not what happened
_REPORTING = frozenset(
    "said says told tells reported reports wrote added stated confirmed tweeted posted".split()
)
_PLACE_PREP = frozenset("in at near outside".split())
# "to" names a place after one of these (within three words): "moved its office to Lyon"
_MOVES = frozenset(
    "move moved moves moving relocate relocated relocates relocating travel travels travelled "
    "traveled travelling traveling fly flew flies flown flying head headed heads heading return "
    "returned returns returning send sent sends deported transferred evacuated shifted go goes "
    "going gone went come comes coming came sail sailed drove driven fled bound diverted "
    "rerouted transported extradited trip journey visit flight".split()
)
_TITLES = frozenset(
    "president mayor mr mrs ms dr prime minister gov governor sen senator rep judge chief ceo "
    "coach king queen prince general secretary chancellor pope sir lord lady".split()
)
_NAMING = frozenset("by named appointed elected chose picked".split())  # ... then a name
_AGENT_VERBS = re.compile(r"\s+(won|wins|was elected|was named|was appointed|became|will lead)\b")
NOT_NAMES = (
    STOP
    | _WEEKDAYS
    | frozenset(MONTHS)
    | frozenset(m[:3] for m in MONTHS)
    | frozenset(
        "the a an this that it its he she they we i you according however but and or so officials "
        "police".split()
    )
)


@dataclass(frozen=True)
class Value:
    """One stated value: its kind, its words as written, its span in the sentence, and what it
    is compared by (`key`; for numbers the range `lo`..`hi`)."""

    kind: str  # "number", "money", "percent", "year", "date", "weekday", "place", "name"
    text: str  # as written, with the unit: "about 30 countries"
    start: int
    end: int
    key: tuple[str, ...]  # date: ("august", "19"[, "2024"]); weekday: ("monday",);
    # place/name: its words, lower case
    lo: float = 0.0
    hi: float = 0.0
    unit: str = ""  # numbers: the noun counted, singular ("country"); "" when none


def singular(word: str) -> str:
    """A plural noun's singular, roughly: `singular("countries")` -> 'country'."""
    w = word.lower().strip("'’")
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def tokens(sentence: str) -> list[tuple[str, int, int]]:
    """(token, start, end); a word's closing full stop is dropped unless it is an initialism."""
    out = []
    for m in _TOKEN.finditer(sentence):
        t, s, e = m.group(), m.start(), m.end()
        if t.endswith(".") and not re.fullmatch(r"([A-Za-z]\.)+", t):
            t, e = t.rstrip("."), e - (len(t) - len(t.rstrip(".")))
        out.append((t, s, e))
    return out


def _number(tok: str) -> tuple[float, str] | None:
    """A number token's value and attached symbol: "$4" -> (4, "$"), "30%" -> (30, "%")."""
    low = tok.lower()
    if low in SPELLED:
        return float(SPELLED[low]), ""
    m = _SPELLED.match(low)
    if m:
        return float(SPELLED[m.group(1)] + SPELLED[m.group(2)]), ""
    m = re.fullmatch(
        r"([$£€]?)(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?|\d{1,3}(?:,\d{3})+\.\d+)(%|[a-z]+)?", low
    )
    if not m or (m.group(3) and m.group(3) not in ("%", *_SCALE)):
        return None  # "1990s", "21st", "3pm", "737max"
    value = float(m.group(2).replace(",", ""))
    if m.group(3) in _SCALE:
        value *= _SCALE[m.group(3)]
    return value, m.group(1) or ("%" if m.group(3) == "%" else "")


def _hedge(words: list[str], i: int) -> tuple[float, float] | None:
    """The range factors of a hedge ending right before token i, if there is one."""
    two = " ".join(words[max(0, i - 2) : i])
    if i >= 2 and two in _HEDGE:
        return _HEDGE[two]
    return _HEDGE.get(words[i - 1]) if i >= 1 else None


def _numbers(sentence: str, toks: list[tuple[str, int, int]], taken: set[int]) -> list[Value]:
    words = [t.lower() for t, _, _ in toks]
    out = []
    i = 0
    while i < len(toks):
        parsed = None if i in taken else _number(toks[i][0])
        if parsed is None or (words[i] == "one" and i + 1 < len(toks) and words[i + 1] == "of"):
            i += 1
            continue
        value, symbol = parsed
        start, end, j = toks[i][1], toks[i][2], i + 1
        if j < len(toks) and words[j] in _SCALE and len(words[j]) > 2:  # "1.2 million"
            value *= _SCALE[words[j]]
            end, j = toks[j][2], j + 1
        if j < len(toks) and words[j] in ("percent", "%"):
            symbol, end, j = "%", toks[j][2], j + 1
        elif j + 1 < len(toks) and words[j : j + 2] == ["per", "cent"]:
            symbol, end, j = "%", toks[j + 1][2], j + 2
        elif j < len(toks) and words[j] in _MONEY and not symbol:
            symbol, end, j = _MONEY[words[j]], toks[j][2], j + 1
        symbol = _MONEY.get(symbol, symbol)
        if j < len(toks) and re.fullmatch(r"[ap]\.?m\.?|o'clock", words[j]):
            i = j + 1  # a time of day
            continue
        unit = ""
        near = j < len(toks) and not sentence[toks[j - 1][2] : toks[j][1]].strip()
        lower = near and toks[j][0][:1].islower()  # "2021 Ford" is a year and a name, not a unit
        if lower and words[j].isalpha() and words[j] not in STOP and not symbol:
            unit, end = singular(words[j]), toks[j][2]
        raw = toks[i][0]
        year = not symbol and not unit and re.fullmatch(r"(19|20)\d\d", raw) is not None
        kind = "percent" if symbol == "%" else "money" if symbol else "year" if year else "number"
        lo, hi = value, value
        hedge = _hedge(words, i)
        if hedge is None and "than" in words[max(0, i - 2) : i]:
            hedge = (0.0, float("inf"))  # "younger than 5", "than age 3": a bound, not a value
        if hedge and kind != "year":
            lo, hi = value * hedge[0], value * hedge[1]
            k = 2 if i >= 2 and " ".join(words[i - 2 : i]) in _HEDGE else 1
            start = toks[i - k][1]
        key = (symbol,) if symbol else ()
        out.append(Value(kind, sentence[start:end], start, end, key, lo, hi, unit))
        i = j
    return out


def _caps(toks: list[tuple[str, int, int]], i: int) -> int:
    """The end index of a run of capitalised words starting at token i ("Gulf of Mexico")."""
    j = i
    while j < len(toks) and toks[j][0][:1].isupper() and toks[j][0].lower() not in NOT_NAMES:
        j += 1
        if j + 1 < len(toks) and toks[j][0] in ("of", "de", "del") and toks[j + 1][0][:1].isupper():
            j += 1
    return j


def _names(sentence: str, toks: list[tuple[str, int, int]], taken: set[int]) -> list[Value]:
    """Places after in/at/near/outside ("in Lyon", "in Paris, France") and agents: "by Ada Lind",
    "Ada Lind won", "named Ada Lind"."""
    out = []
    words = [t.lower() for t, _, _ in toks]
    i = 0
    while i < len(toks):
        kind = _opens(words, i)
        j = i + 1
        if kind and j < len(toks) and words[j] == "the":
            j += 1
        while kind == "name" and j < len(toks) and words[j] in _TITLES:
            j += 1
        if words[i] == "to" and j < len(toks) and words[j] in _TITLES:
            kind = ""  # "sent a letter to President Lind": a person, not a place
        end = _caps(toks, j) if kind and j not in taken else j
        if kind == "place" and end > j and end + 1 < len(toks):  # "Paris, France"
            gap = sentence[toks[end - 1][2] : toks[end][1]]
            if gap.strip() == "," and toks[end][0][:1].isupper():
                end = max(end, _caps(toks, end))
        if kind and end > j:
            s, e = toks[j][1], toks[end - 1][2]
            out.append(Value(kind, sentence[s:e], s, e, _key(words[j:end])))
            i = end
            continue
        i += 1
    for m in re.finditer(r"(?:[A-Z][\w'’.-]*\s+){0,2}[A-Z][\w'’.-]*", sentence):
        after = _AGENT_VERBS.match(sentence, m.end())
        words_ = [w.lower() for w in m.group().split() if w.lower() not in _TITLES]
        if after and words_ and not set(words_) & NOT_NAMES:
            if not any(v.start <= m.start() < v.end for v in out):
                out.append(Value("name", m.group(), m.start(), m.end(), _key(words_)))
    return out


def _opens(words: list[str], i: int) -> str:
    """The kind of value word i opens: "place" (in, at, near, outside; "to" after a move),
    "name" (by, named, ...) or ""."""
    w = words[i]
    if w in _PLACE_PREP or w == "to" and _MOVES & set(words[max(0, i - 3) : i]):
        return "place"
    return "name" if w in _NAMING else ""


def _weekdays(sentence: str, toks: list[tuple[str, int, int]]) -> list[Value]:
    """Weekdays ("on Monday", "by Tues."), unless said with their reporting ("said on Monday",
    "officials on Monday told")."""
    words = [t.lower() for t, _, _ in toks]
    out = []
    for i, (t, s, e) in enumerate(toks):
        dotted = t[:1].isupper() and sentence[e : e + 1] == "."
        after = i > 0 and words[i - 1] in _DAY_PREP  # "on Sun.", not "The Sun."
        abbr = _DAY_ABBR.get(words[i], "") if dotted and after else ""
        day = words[i] if words[i] in _WEEKDAYS else abbr
        if not day or _REPORTING & set(words[max(0, i - 3) : i] + words[i + 1 : i + 2]):
            continue
        end = e + 1 if abbr else e
        out.append(Value("weekday", sentence[s:end], s, end, (day,)))
    return out


def _key(words: list[str]) -> tuple[str, ...]:
    return tuple(w.rstrip("'’s") if w.endswith(("'s", "’s")) else w for w in words if w != "of")


def values(sentence: str) -> list[Value]:
    """Every number, date, place and name `sentence` states, in order of position."""
    toks = tokens(sentence)
    out: list[Value] = []
    taken: set[int] = set()  # tokens inside a date or a weekday
    for m in _DATE.finditer(sentence):
        first = m.group(1) is not None  # "Aug. 19" rather than "19 August"
        month, day, year = m.group(*((1, 2, 3) if first else (5, 4, 6)))
        name = next(x for x in MONTHS if x.startswith(month.lower()[:3]))
        key = (name, str(int(day)), *([year] if year else []))
        out.append(Value("date", m.group().rstrip(".,"), m.start(), m.end(), key))
        taken |= {i for i, (_, s, e) in enumerate(toks) if s < m.end() and e > m.start()}
    days = _weekdays(sentence, toks)  # "by Thurs.": a day, not a name
    taken |= {i for i, (_, s, _e) in enumerate(toks) if any(d.start <= s < d.end for d in days)}
    out += _numbers(sentence, toks, taken)
    out += _names(sentence, toks, taken)
    out += days
    return sorted(out, key=lambda v: v.start)


def same(a: Value, b: Value) -> bool:
    """True when `a` and `b` could be the same value said differently (or within a hedge)."""
    if a.kind != b.kind:
        return False
    if a.kind in ("number", "money", "percent", "year"):
        eps = 1e-9 * max(1.0, abs(a.hi), abs(b.hi))
        return a.lo <= b.hi + eps and b.lo <= a.hi + eps
    if a.kind == "weekday":
        return a.key == b.key
    if a.kind == "date":
        n = min(len(a.key), len(b.key))
        return a.key[:2] == b.key[:2] and a.key[:n] == b.key[:n]
    x, y = set(a.key) - {"the"}, set(b.key) - {"the"}
    return x <= y or y <= x
