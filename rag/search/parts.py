"""Parts: a question's own structure: the outlets it names, its dates, one part per claim.

    o = outlets(("The Daily Lantern", "Harbour Post | City News", "kelp.example"))
    p = parse("Did the Daily Lantern's report on the ferry come before Harbour Post "
              "covered the bridge on May 3, 2031?", o, today=date(2031, 6, 1))
    p.kind, p.order                        # ('order', 'before')
    [(c.outlets, c.date_from) for c in p.claims]
    # [(('The Daily Lantern',), None), (('Harbour Post | City News',), date(2031, 5, 2))]

Outlets are matched against the index's own outlet names by rag/search/outlets.py. A name in
the question that looks like an outlet ("a Morning Courier article", "according to Morning
Courier") but is none of the index's is `missing`: no article of that outlet can back the
question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from rag.search import when
from rag.search.outlets import Named, Outlets
from rag.types import Part

_MONTHS = {
    m: i
    for i, names in enumerate(
        (
            "jan january", "feb february", "mar march", "apr april", "may", "jun june",
            "jul july", "aug august", "sep sept september", "oct october", "nov november",
            "dec december",
        ),
        1,
    )
    for m in names.split()
}  # fmt: skip
_MON = r"(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATE = re.compile(
    rf"\b(?:(?P<iso>(?:19|20)\d\d-\d\d-\d\d)"
    rf"|{_MON}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<year>(?:19|20)\d\d))?"
    rf"|(?P<day2>\d{{1,2}})\s+{_MON.replace('mon>', 'mon2>')}(?:,?\s+(?P<year2>(?:19|20)\d\d))?"
    rf"|{_MON.replace('mon>', 'mon3>')},?\s+(?P<year3>(?:19|20)\d\d))\b",
    re.IGNORECASE,
)
_CUE = re.compile(
    r"\b(before|prior to|earlier than|until|after|since|following|later than|between|on|"
    r"dated|in)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_UPPER = {"before", "prior to", "earlier than", "until"}
_LOWER = {"after", "since", "following", "later than"}
_ORDER = re.compile(
    r"\b(before|prior to|earlier than|preceding|after|later than|following|subsequent to)\b",
    re.IGNORECASE,
)
_AUX = r"(?:is|was|are|were|do|does|did|has|have|had|can|could|will|would|should)"
_YES_NO = re.compile(rf"^{_AUX}\b|,\s*{_AUX}\s+(?:there|the|a|an|it|they|both|\w+'s)\b", re.I)
_WH = re.compile(r"^(?:who|whom|whose|which|what|where|when|why|how)\b", re.I)
# "a Morning Courier article", "report from Morning Courier", "according to Morning Courier"
_NAME = r"((?:The\s+)?[A-Z][\w.&'’]*(?:\s+(?:[A-Z][\w.&'’]*|of|&|and)){0,5})"
_KIND = r"(?:article|report|piece|story|op-ed|editorial|coverage|post|feature)s?"
_LOOKS_NAMED = (
    re.compile(rf"\b{_KIND}\s+(?:from|by|in)\s+{_NAME}"),
    re.compile(rf"\b(?:a|an|the)\s+{_NAME}\s+{_KIND}\b"),
    re.compile(rf"\b(?:reported by|published by|covered by)\s+{_NAME}"),
)
_QUOTES = ("'", '"', "‘", "“", "’", "”")
_EDGE = re.compile(r"^(?:the\s+)|(?:'s|’s|\s+(?:and|of|&))$", re.IGNORECASE)


@dataclass(frozen=True)
class Dated:
    """A date in a question and what it bounds: "before", "after", "on" (that day or
    month), or "between" (paired with the next date)."""

    day: date
    period: str  # "day" or "month"
    cue: str
    start: int
    end: int

    def window(self) -> tuple[date | None, date | None]:
        lo, hi = when.span(self.day, self.period)
        if self.cue == "before":
            return None, self.day
        if self.cue == "after":
            return self.day, None
        return lo, hi


def dates(question: str, today: date) -> list[Dated]:
    """The dates written in `question`, each with its cue; a date without a year takes the
    year of another date in the question, else the latest year not after `today`.

    >>> [(d.day.isoformat(), d.cue) for d in dates("after May 3, 2031 and before June 2", \
date(2032, 1, 1))]
    [('2031-05-03', 'after'), ('2031-06-02', 'before')]
    """
    found = []
    years = [int(y) for m in _DATE.finditer(question) for y in _groups(m, "year") if y]
    for m in _DATE.finditer(question):
        got = _day(m, years[0] if years else None, today)
        if got is None:
            continue
        cue_m = _CUE.search(question[max(0, m.start() - 30) : m.start()])
        cue = cue_m.group(1).lower() if cue_m else "on"
        cue = "before" if cue in _UPPER else "after" if cue in _LOWER else cue
        found.append(Dated(got[0], got[1], cue if cue in ("before", "after") else "on", *m.span()))
    for a, b in zip(found, found[1:], strict=False):  # "between A and B": A..B
        if re.search(r"\bbetween\b", question[max(0, a.start - 60) : a.start], re.I):
            if a.day <= b.day and "and" in question[a.end : b.start].lower():
                i = found.index(a)
                found[i] = Dated(a.day, a.period, "after", a.start, a.end)
                found[i + 1] = Dated(b.day, b.period, "before", b.start, b.end)
    return found


def _groups(m: re.Match[str], name: str) -> list[str | None]:
    return [m.group(n) for n in (name, f"{name}2", f"{name}3")]


def _day(m: re.Match[str], year: int | None, today: date) -> tuple[date, str] | None:
    if m.group("iso"):
        try:
            return date.fromisoformat(m.group("iso")), "day"
        except ValueError:
            return None
    mon = next(x for x in _groups(m, "mon") if x)
    month = _MONTHS[mon.lower().rstrip(".")]
    day = m.group("day") or m.group("day2")
    y = next((x for x in _groups(m, "year") if x), None)
    if y is None and year is None and day is None:
        return None
    guess = int(y) if y else year or today.year
    try:
        d = date(guess, month, int(day) if day else 1)
    except ValueError:
        return None
    if not y and not year and d > today:
        d = d.replace(year=d.year - 1)
    return d, "day" if day else "month"


@dataclass(frozen=True)
class Claim:
    """One part of a question: the outlet it names (none: any), its words and its dates."""

    text: str  # the question's words for this part, without the outlet's name
    named: str = ""  # the outlet as written ("" = none named)
    outlets: tuple[str, ...] = ()  # the index's names for it (empty = any outlet)
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class Parsed:
    """A question's structure: its claims, the outlets it names that the index lacks, and
    what kind of answer it asks for."""

    question: str
    claims: tuple[Claim, ...]
    kind: str  # "order" (was A before B?), "agree" (yes/no across claims), "entity", "plain"
    order: str = ""  # kind "order": "before" or "after", the first claim against the second
    missing: tuple[str, ...] = ()  # outlets named but not in the index

    @property
    def across(self) -> bool:
        """Whether the question names an outlet or a date: searched part by part."""
        return bool(self.missing) or any(c.outlets or c.date_from or c.date_to for c in self.claims)


def yes_no(question: str) -> bool:
    """Whether `question` asks for a yes or a no, even with a "when" or "who" in a clause.

    >>> yes_no("Has the timetable changed since the time when the bridge opened?")
    True
    >>> yes_no("After the storm, did the ferry run?"), yes_no("Who ran the ferry?")
    (True, False)
    """
    q = question.strip()
    return not _WH.match(q) and bool(_YES_NO.search(q))


def parse(question: str, known: Outlets, today: date) -> Parsed:
    """The structure of `question` against the index's outlets; dates without a year are
    read as the latest such day not after `today`."""
    named = known.find(question)
    missing = _missing(question, known, named)
    found = dates(question, today)
    polar = yes_no(question)
    if not named:
        alone = _dated(Claim(question), found, range(len(question)))
        kind = ("agree" if polar else "entity") if len(alone) > 1 or found else "plain"
        return Parsed(question, tuple(alone), kind, "", missing)
    bounds = [n.start for n in named] + [len(question)]
    head = [d for d in found if d.start < named[0].start]
    claims: list[Claim] = []
    order = ""
    for i, n in enumerate(named):
        segment = question[n.end : bounds[i + 1]]
        if i + 1 < len(named) and not order:
            order = _order(segment, found, n.end)
        claim = Claim(segment.strip(" ,;'\"?"), n.written, n.outlets)
        claims.extend(_dated(claim, head, range(0)) if head else [claim])
        claims[-1:] = _dated(claims[-1], found, range(n.end, bounds[i + 1]))
    kind = ("order" if order else "agree") if polar else "entity"
    return Parsed(question, tuple(claims), kind, order if polar else "", missing)


def _dated(claim: Claim, found: list[Dated], where: range) -> list[Claim]:
    """`claim` bounded by the dates inside `where`: one claim per date when they are several
    of one cue ("published on May 2 ... and on May 9"), else one claim within all of them."""
    mine = [d for d in found if d.start in where]
    if not mine:
        return [claim]
    if len(mine) > 1 and len({d.cue for d in mine}) == 1 and mine[0].cue != "after":
        return [_within(claim, [d]) for d in mine]
    return [_within(claim, mine)]


def _within(claim: Claim, mine: list[Dated]) -> Claim:
    los = [w[0] for w in (d.window() for d in mine) if w[0]]
    his = [w[1] for w in (d.window() for d in mine) if w[1]]
    lo, hi = max(los, default=claim.date_from), min(his, default=claim.date_to)
    if lo and hi and lo > hi:  # contradictory: keep the widest reading
        lo, hi = min(los, default=None), max(his, default=None)
    return Claim(claim.text, claim.named, claim.outlets, lo, hi)


def _order(segment: str, found: list[Dated], offset: int) -> str:
    """ "before" / "after" when `segment` (a claim up to the next outlet's name) ends by
    setting it before or after the next claim, not before or after a date."""
    m = next(reversed(list(_ORDER.finditer(segment))), None)
    if m is None or len(segment) - m.end() > 40:
        return ""
    if any(offset + m.end() <= d.start < offset + len(segment) for d in found):
        return ""
    word = m.group(1).lower()
    return "before" if word in ("before", "prior to", "earlier than", "preceding") else "after"


def _missing(question: str, known: Outlets, named: list[Named]) -> tuple[str, ...]:
    """Names the question gives as outlets ("a Morning Courier article") that the index lacks."""
    taken = [range(n.start, n.end) for n in named]
    out: list[str] = []
    for pattern in _LOOKS_NAMED:
        for m in pattern.finditer(question):
            name = _EDGE.sub("", _EDGE.sub("", m.group(1).strip())).strip()
            quoted = question[m.start(1) - 1 : m.start(1)] in _QUOTES or m.group(1)[-1] in _QUOTES
            month = name.split()[0].lower().rstrip(".") in _MONTHS if name else False
            if len(name) < 3 or quoted or month or any(m.start(1) in r for r in taken):
                continue
            if not known.known(name) and name not in out:
                out.append(name)
    return tuple(out)


def part_json(p: Part) -> dict[str, object]:
    """One part of an answer for `--json`: the outlet named, the article cited for it (its
    outlet, date, doc_id, title, [n]) and its sentence."""
    return {
        "named": p.named,
        "claim": p.claim,
        "outlet": p.outlet,
        "date": p.published.isoformat() if p.published else None,
        "doc_id": p.doc_id,
        "title": p.title,
        "citation": p.citation,
        "says": p.says,
        "dates_asked": [d.isoformat() if d else None for d in (p.date_from, p.date_to)],
    }
