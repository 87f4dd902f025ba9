"""Verdict: the answer to a question across outlets, part by part, without an LLM.

    order: "Did the Daily Lantern report the ferry before Harbour Post covered the bridge?"
        -> "Yes [1][2]. The Daily Lantern (2031-05-01): The ferry ... [1] Harbour Post
            (2031-05-03): The bridge ... [2]"   (from the articles' stored dates)
    agree: "Do the Daily Lantern and Harbour Post both say the pier reopened?"
        -> each outlet's sentence, and "they differ on the date" where their values differ;
           otherwise "The articles do not settle it" (the sentences are shown, not judged)

Each part's article is the one whose sentence answers that part best (its own reading, gate
or reader model); the answer leads with the short answer (Yes / No / Before / After), cited to
every part, then one cited sentence per part with its outlet and date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from rag.answer.compare import Claim as Said
from rag.answer.compare import find
from rag.ingest.records import outlet
from rag.search.parts import Claim, Parsed
from rag.types import Answer, Citation, Hit, Part

UNSETTLED = "The articles do not settle it"


@dataclass(frozen=True)
class Found:
    """What one part's search found: its claim, and the sentence that answers it best."""

    claim: Claim
    hit: Hit | None  # the article holding the claim (None: nothing found)
    start: int = 0  # the sentence, as offsets into the article's text
    end: int = 0
    refused: bool = True  # the part's own reading found no answer


def found(claim: Claim, reading: Answer, group: Sequence[Hit]) -> Found:
    """The part's article and sentence: its reading's first citation, else its top hit's
    opening sentence (with `refused` set)."""
    if reading.citations:
        c = reading.citations[0]
        return Found(claim, c.hit, c.sentence_start, c.sentence_end, reading.refused)
    if not group:
        return Found(claim, None)
    h = group[0]
    return Found(claim, h, h.chunk.start, min(h.chunk.end, h.chunk.start + 200), True)


def order(p: Parsed, parts: Sequence[Found]) -> str:
    """ "Yes"/"No" ("Before"/"After" when asked "before or after") from the first two parts'
    articles' dates; "" when a date is missing or both are of one day."""
    a, b = (x.hit.article.published if x.hit else None for x in parts[:2])
    if a is None or b is None or a == b:
        return ""
    if " before or after " in f" {p.question.lower()} ":
        return "Before" if a < b else "After"
    first = a < b if p.order == "before" else a > b
    return "Yes" if first else "No"


def differ(parts: Sequence[Found]) -> str:
    """What the parts' sentences give different values for ("the date"), "" when nothing."""
    said = [
        Said(i, a.doc_id, a.published, a.text[x.start : x.end], x.hit.chunk.text)
        for i, x in enumerate(parts, 1)
        if x.hit and (a := x.hit.article)
    ]
    found_ = find(said)
    return found_[0][0].about if found_ else ""


def compose(question: str, hits: Sequence[Hit], short: str, parts: Sequence[Found]) -> Answer:
    """The answer: `short` cited to every part (or UNSETTLED), then each part's outlet, date
    and sentence, cited; the cited passages first in `hits`, numbered as cited."""
    cited: list[Hit] = []
    for x in parts:
        if x.hit and all(h.chunk.id != x.hit.chunk.id for h in cited):
            cited.append(x.hit)
    rest = [h for h in hits if all(h.chunk.id != c.chunk.id for c in cited)]
    shown = tuple(replace(h, rank=n) for n, h in enumerate([*cited, *rest], 1))
    number = {h.chunk.id: h.rank for h in shown}
    citations: list[Citation] = []
    lines: list[str] = []
    out: list[Part] = []
    for x in parts:
        if x.hit is None:
            continue
        n = number[x.hit.chunk.id]
        hit = shown[n - 1]
        if not any(c.n == n and c.sentence_start == x.start for c in citations):
            citations.append(Citation(n, hit, x.start, x.end))
        sentence = " ".join(x.hit.article.text[x.start : x.end].split())
        lines.append(f"{_who(hit)}: {sentence} [{n}]")
        out.append(_part(x, n, sentence))
    marks = "".join(f"[{n}]" for n in dict.fromkeys(c.n for c in citations))
    lead = f"{short} {marks}." if short else f"{UNSETTLED}; here is what each says."
    return Answer(
        question=question,
        text=" ".join([lead, *lines]),
        refused=False,
        citations=tuple(citations),
        hits=shown,
        parts=tuple(out),
    )


def _who(hit: Hit) -> str:
    a = hit.article
    day = a.published.isoformat() if a.published else "undated"
    return f"{outlet(a) or a.title} ({day})"


def _part(x: Found, n: int, says: str) -> Part:
    a = x.hit.article if x.hit else None
    return Part(
        named=x.claim.named,
        claim=x.claim.text,
        doc_id=a.doc_id if a else "",
        outlet=outlet(a) if a else "",
        published=a.published if a else None,
        title=a.title if a else "",
        citation=n,
        says=says,
        date_from=x.claim.date_from,
        date_to=x.claim.date_to,
    )


def parts_of(answer: Answer, parts: Sequence[Found]) -> tuple[Part, ...]:
    """The parts of an answer written another way (the reader's, an LLM's): each part's
    article, cited with the number the answer gives it (0 when it does not cite it)."""
    by_doc = {c.hit.article.doc_id: c.n for c in answer.citations}
    shown = {h.article.doc_id: h.rank for h in answer.hits}
    out = []
    for x in parts:
        doc = x.hit.article.doc_id if x.hit else ""
        says = " ".join(x.hit.article.text[x.start : x.end].split()) if x.hit else ""
        out.append(_part(x, by_doc.get(doc, 0), says))
        if doc and doc not in by_doc and doc not in shown:
            out[-1] = replace(out[-1], citation=0)
    return tuple(out)


def when_said(parts: Sequence[Found]) -> tuple[date | None, ...]:
    return tuple(x.hit.article.published if x.hit else None for x in parts)


def compared(ps: tuple[Part, ...]) -> str:
    """The outlets and dates an answer compared, in a line ("" with no parts).

    >>> compared((Part("Kelp", "x", "k1", "Kelp Gazette", date(2031, 5, 2), citation=2),))
    'Compared: Kelp Gazette (2031-05-02) [2]'
    """
    items = [
        f"{p.outlet or p.named} ({p.published.isoformat() if p.published else 'undated'})"
        + (f" [{p.citation}]" if p.citation else "")
        for p in ps
        if p.doc_id
    ]
    return "Compared: " + "; ".join(items) if items else ""
