"""Disagree: an answer's disagreements found among its cited sentences (rag/answer/compare.py), said
plainly after the answer (`attach`), and, when a model reported one, checked side by side.

    -> "Sources disagree on the number of countries: [3] (2024-08-03, the latest) says 31
        countries; [1] (2024-08-01) says thirty countries."
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date

from rag.answer.compare import Claim, find, ordinal
from rag.text import facts, known, markers, sentences, split, unbacked
from rag.types import Answer, Citation, Disagreement, Hit

__all__ = [
    "Claim",
    "attach",
    "check_sides",
    "find",
    "latest",
    "newest_first",
    "say",
    "side_dates",
    "stated",
]


def side_dates(d: Disagreement, dates: Mapping[int, date | None]) -> tuple[date | None, ...]:
    """Each side's date: the newest of its citations' articles (`dates`: citation number ->
    its article's date), None when all are undated."""
    return tuple(
        max((x for n in s.citations if (x := dates.get(n))), default=None) for s in d.sides
    )


def newest_first(d: Disagreement, dates: Mapping[int, date | None]) -> Disagreement:
    """`d` with its sides newest first (undated last; sides of one date keep their order)."""
    when = side_dates(d, dates)
    order = sorted(range(len(d.sides)), key=lambda k: -ordinal(when[k]))
    return replace(d, sides=tuple(d.sides[k] for k in order))


def latest(d: Disagreement, dates: Mapping[int, date | None]) -> frozenset[int]:
    """The citations of the newest article among `d`'s sides when its side is newer than every
    other side ("the latest"); empty when no side is.

    >>> from rag.types import Side
    >>> sides = (Side("45", (3, 2)), Side("30", (1,)))
    >>> sorted(latest(Disagreement("the toll", sides), {1: date(2024, 5, 1), 2: date(2024, 5, 2),
    ...                                                 3: date(2024, 5, 3)}))
    [3]
    """
    when = [ordinal(x) for x in side_dates(d, dates)]
    top = max(when, default=0)
    if not top or when.count(top) > 1:
        return frozenset()
    side = d.sides[when.index(top)]
    return frozenset(n for n in side.citations if ordinal(dates.get(n)) == top)


def say(d: Disagreement, dates: Mapping[int, date | None]) -> str:
    """The sentence for the answer: "Sources disagree on X: [3] (2024-08-03, the latest) says
    …; [1] (2024-08-01) says …." (`dates`: citation number -> its article's date), newest
    side first."""
    d = newest_first(d, dates)
    newest = latest(d, dates)
    parts = []
    for side, day in zip(d.sides, side_dates(d, dates), strict=True):
        cites = "".join(f"[{n}]" for n in side.citations)
        tag = day.isoformat() if day else "undated"
        if newest & set(side.citations):
            tag += ", the latest"
        verb = "says" if len(side.citations) == 1 else "say"
        parts.append(f"{cites} ({tag}) {verb} {side.value}")
    return f"Sources disagree on {d.about}: " + "; ".join(parts) + "."


def _claim(n: int, hit: Hit, start: int, end: int, story: str) -> Claim:
    a = hit.article
    copies = frozenset(o.doc_id for o in hit.also)
    return Claim(
        n, a.doc_id, a.published, a.text[start:end], hit.chunk.text, copies, start, end, story
    )


def attach(answer: Answer, passages: int = 5, story: Mapping[str, str] | None = None) -> Answer:
    """`answer` with its disagreements: found among its cited sentences and, against those, the
    sentences of the first `passages` hits it does not cite (cited where they disagree), and
    said in a paragraph after the answer for each one the text does not already state.
    `story`: doc_id -> story id (sentences in one story are compared whatever names they give).
    """
    story = story or {}
    if answer.refused or not answer.citations:
        return replace(answer, disagreements=())
    seen: set[tuple[int, int, int]] = set()
    claims: list[Claim] = []
    for c in answer.citations:
        if (c.n, c.sentence_start, c.sentence_end) not in seen:
            seen.add((c.n, c.sentence_start, c.sentence_end))
            doc = c.hit.article.doc_id
            claims.append(_claim(c.n, c.hit, c.sentence_start, c.sentence_end, story.get(doc, "")))
    asked = {f for f in facts(answer.standalone or answer.question) if not f[0].isdigit()}

    def on_topic(c: Claim) -> bool:  # the passage names something the question names
        return not asked or bool(asked & set(re.findall(r"[\w'’.-]+", c.passage.lower())))

    claims = [c for c in claims if on_topic(c)]
    cited = len(claims)
    docs = {c.doc_id for c in claims}
    for h in answer.hits[:passages]:
        if h.article.doc_id not in docs:
            for s, e in sentences(h.article.text, h.chunk.start, h.chunk.end):
                claims.append(_claim(h.rank, h, s, e, story.get(h.article.doc_id, "")))
    claims[cited:] = [c for c in claims[cited:] if on_topic(c)]
    found = find(claims, cited)
    if not found:
        return replace(answer, disagreements=())
    citations = list(answer.citations)
    hits = {h.rank: h for h in answer.hits}
    for _, used in found:
        for i in sorted(used):
            cl = claims[i]
            if i >= cited and (cl.n, cl.start, cl.end) not in seen and cl.n in hits:
                seen.add((cl.n, cl.start, cl.end))
                citations.append(Citation(cl.n, hits[cl.n], cl.start, cl.end))
    dates = {h.rank: h.article.published for h in answer.hits}
    text = answer.text
    for d, _ in found:
        if not stated(text, d):
            text = f"{text.rstrip()}\n\n{say(d, dates)}"  # a paragraph of its own
    return replace(
        answer,
        text=text,
        citations=tuple(citations),
        disagreements=tuple(newest_first(d, dates) for d, _ in found),
    )


# ------------------------------------------------------------- a model's account, checked

_DIFFER = re.compile(r"\b(disagree|differ|conflict|contradict|while|whereas|but)", re.I)
_SAYS = re.compile(
    r"((?:\[\d+\]\s*)+)(?:\([^)]*\)\s*)?(?:says?|reports?|gives?|puts? it at|states?|puts?)\s+"
    r"([^;\[]+)",
    re.I,
)


def stated(text: str, d: Disagreement) -> bool:
    """`text` already says disagreement `d`: one sentence cites every side, with its value."""
    for s, e in split(text):
        sentence = text[s:e]
        cited = set(markers(sentence))
        have = facts(sentence) | {w.lower() for w in re.findall(r"[\w'’.-]+", sentence)}
        if all(
            set(side.citations) & cited and (facts(side.value) or {side.value.lower()}) <= have
            for side in d.sides
        ):
            return True
    return False


def check_sides(answer: Answer) -> Answer:
    """A generated answer whose sentence reports a disagreement ("[1] says 30; [3] says 31")
    gets that sentence marked unsupported when a side's value is not in the passage it cites."""
    hits = {h.rank: h for h in answer.hits}
    bad: list[tuple[int, int]] = []
    for s, e in split(answer.text):
        sentence = answer.text[s:e]
        if not _DIFFER.search(sentence):
            continue
        for m in _SAYS.finditer(sentence):
            stated_ = facts(m.group(2).strip(" .,"))
            for n in markers(m.group(1)):
                if n in hits and unbacked(stated_, known(hits[n])):
                    bad.append((s, e))
    if not bad:
        return answer
    spans = tuple(sorted({*answer.unsupported, *bad}))
    note = "a side of the disagreement the model reported is not in the passage it cites"
    return replace(answer, unsupported=spans, note="; ".join(x for x in (answer.note, note) if x))
