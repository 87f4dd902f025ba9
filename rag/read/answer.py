"""Answer from the reader: each top passage read against the question, the best span first.

    r = reading(question, hits, reader)            # the best span of each of the top passages
    p = calibrated.probability(r.x)                # how likely the best span is right (0..1)
    answer(question, hits, r, p, refuse_below)     # "Ada Moss [1][2]. The bakery was ... [1]."

The answer leads with the span, cited to every passage whose own best span is the same answer
(case, articles, number words and forms of one value aside), then the sentence that holds it,
highlighted. Passages from other outlets whose best span is a different answer are sides of a
disagreement ("Ada Moss, say [1][2]; Ben Moss, says [3]"). Below `refuse_below` it refuses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.answer.disagree import newest_first, say
from rag.answer.gate import Gate
from rag.answer.phrase import candidates, wanted
from rag.answer.values import same, values
from rag.eval.metrics import normalize_answer
from rag.read.export import SHIPPED
from rag.read.model import Span
from rag.text import content_words, facts, sentences
from rag.types import Answer, Citation, Disagreement, Hit, Side

REFUSAL = "The articles don't answer this question. The closest passages are listed below."
PASSAGES = 5  # top passages read per question
# another passage's span counts (agrees or disagrees) above this margin, when its sentence
# holds this share of the question's content words (set on bench/disagree_corpus.py's events)
RIVAL_MARGIN = -1.5
RIVAL_COVERAGE = 0.6

FEATURES = (
    "margin",  # the best span's score minus its window's no-answer score
    "score",  # the best span's start + end logit
    "second",  # the margin of the best span that is a different answer (-10 when none)
    "support",  # log(1 + other passages whose best span is the same answer, margin > 0)
    "similarity",  # cosine of the question and the best span's passage
    "rank",  # log(1 + the passage's place in the ranking)
    "kind",  # the span is of the kind the question asks for (0.5: no kind asked)
    "coverage",  # share of the question's content words in the span's sentence
    "length",  # log(1 + words in the span)
)


CALIBRATION = "confidence.json"  # beside the model: p(the best span is right), fitted on dev


def calibration(folder: Path = SHIPPED) -> Gate:
    """The model's calibration: `folder`'s own, else the shipped one."""
    path = folder / CALIBRATION
    return Gate.load(path if path.is_file() else SHIPPED / CALIBRATION, FEATURES)


class Reads(Protocol):
    """What reads passages: the shipped `model.ReaderModel`, or a fake in tests."""

    def read(self, question: str, passages: Sequence[str], batch: int = 16) -> list[Span]: ...


@dataclass(frozen=True)
class Reading:
    """The reader's best span in each passage read, best first, and the features of the best."""

    spans: tuple[Span, ...]
    x: np.ndarray

    @property
    def best(self) -> Span | None:
        return self.spans[0] if self.spans else None


def reading(question: str, hits: Sequence[Hit], reader: Reads, passages: int = PASSAGES) -> Reading:
    """Read the first `passages` hits; their spans ordered by margin, best first."""
    spans = reader.read(question, [h.chunk.text for h in hits[:passages]])
    spans = sorted(spans, key=lambda s: (-s.margin, s.passage))
    return Reading(tuple(spans), features(question, hits, spans))


def same_answer(a: str, b: str) -> bool:
    """Two spans give one answer: equal once normalised, one inside the other, or one value.

    >>> same_answer("the Harbour Bridge", "Harbour Bridge"), same_answer("30", "thirty")
    (True, True)
    >>> same_answer("Ada Moss", "Ben Moss")
    False
    """
    x, y = normalize_answer(a), normalize_answer(b)
    if not x or not y:
        return False
    if x == y or f" {x} " in f" {y} " or f" {y} " in f" {x} ":
        return True
    va, vb = values(a), values(b)
    return len(va) == 1 and len(vb) == 1 and same(va[0], vb[0])


def _sentence(hit: Hit, span: Span) -> tuple[int, int]:
    """The article offsets of the sentence(s) of `hit` that hold `span`."""
    a0, a1 = hit.chunk.start + span.start, hit.chunk.start + span.end
    spans = sentences(hit.article.text, hit.chunk.start, hit.chunk.end)
    inside = [(s, e) for s, e in spans if s < a1 and e > a0]
    if not inside:
        return a0, a1
    return min(s for s, _ in inside), max(e for _, e in inside)


def features(question: str, hits: Sequence[Hit], spans: Sequence[Span]) -> np.ndarray:
    """FEATURES of the best span (the first of `spans`); zeros but `second` when there is none."""
    out = dict.fromkeys(FEATURES, 0.0)
    out["second"] = -10.0
    if not spans:
        out["margin"] = out["score"] = -10.0
        return np.array([out[f] for f in FEATURES], dtype=np.float32)
    best = spans[0]
    hit = hits[best.passage]
    others = [s for s in spans[1:] if s.margin > RIVAL_MARGIN]
    rivals = [s.margin for s in spans[1:] if not same_answer(s.text, best.text)]
    kind = wanted(question)
    s, e = _sentence(hit, best)
    qwords = content_words(question)
    out.update(
        margin=best.margin,
        score=best.score,
        second=max(rivals, default=-10.0),
        support=math.log1p(sum(same_answer(o.text, best.text) for o in others)),
        similarity=hit.similarity,
        rank=math.log1p(best.passage),
        kind=0.5 if not kind else float(bool(candidates(kind, best.text))),
        coverage=len(qwords & content_words(hit.article.text[s:e])) / len(qwords) if qwords else 0,
        length=math.log1p(len(best.text.split())),
    )
    return np.array([out[f] for f in FEATURES], dtype=np.float32)


def answer(
    question: str, hits: Sequence[Hit], r: Reading, confidence: float, refuse_below: float
) -> Answer:
    """The span first, cited to each passage that agrees, then its sentence; or a refusal."""
    best = r.best
    if best is None or best.margin <= -50 or confidence < refuse_below:
        return Answer(
            question=question, text=REFUSAL, refused=True, hits=tuple(hits), confidence=confidence
        )
    groups = _groups([s for s in r.spans if s is best or _counts(question, hits, s)])
    cited = [s.passage for g in groups for s in g]
    order = cited + [i for i in range(len(hits)) if i not in cited]
    number = {i: n for n, i in enumerate(order, 1)}
    renumbered = [replace(h, rank=number[i]) for i, h in enumerate(hits)]
    citations = []
    for g in groups:
        for s in g:
            start, end = _sentence(hits[s.passage], s)
            citations.append(Citation(number[s.passage], renumbered[s.passage], start, end))
    first = groups[0]
    marks = "".join(f"[{number[s.passage]}]" for s in first)
    start, end = _sentence(hits[best.passage], best)
    sentence = hits[best.passage].article.text[start:end].rstrip()
    text = f"{best.text.strip().rstrip('.')} {marks}. {sentence} [{number[best.passage]}]"
    sides = _sides(groups, hits, number)
    found = (Disagreement("the answer", sides),) if sides else ()
    if found:
        dates = {number[i]: h.article.published for i, h in enumerate(hits)}
        found = (newest_first(found[0], dates),)
        text = f"{text}\n\n{say(found[0], dates)}"
    return Answer(
        question=question,
        text=text,
        refused=False,
        citations=tuple(citations),
        hits=tuple(sorted(renumbered, key=lambda h: h.rank)),
        confidence=confidence,
        disagreements=found,
    )


def _counts(question: str, hits: Sequence[Hit], span: Span) -> bool:
    """`span` is a confident answer to this question: its margin and its sentence's words."""
    if span.margin <= RIVAL_MARGIN:
        return False
    hit = hits[span.passage]
    passage = f"{hit.article.title} {hit.chunk.text}"
    named = {f for f in facts(" ".join(["x", *question.split()[1:]])) if not f[0].isdigit()}
    if not named <= facts(passage) | content_words(passage):  # another place's, another's
        return False
    qwords = content_words(question)
    s, e = _sentence(hits[span.passage], span)
    held = qwords & content_words(hits[span.passage].article.text[s:e])
    return not qwords or len(held) / len(qwords) >= RIVAL_COVERAGE


def _groups(spans: Sequence[Span]) -> list[list[Span]]:
    """Spans grouped by answer, in order of each group's best span."""
    groups: list[list[Span]] = []
    for s in spans:
        home = next((g for g in groups if same_answer(g[0].text, s.text)), None)
        if home is None:
            groups.append([s])
        else:
            home.append(s)
    return groups


def _sides(groups: list[list[Span]], hits: Sequence[Hit], number: dict[int, int]) -> tuple:
    """Sides of a disagreement: answers given by passages of different outlets (or articles
    where outlets are unknown); none when every answer comes from one outlet."""

    def who(s: Span) -> str:
        a = hits[s.passage].article
        return a.outlet or a.doc_id

    if len(groups) < 2 or len({who(s) for g in groups for s in g}) < 2:
        return ()
    if all(_counted(g[0].text) for g in groups):
        return ()  # numbers and dates: the sentences' own check knows their forms (disagree.py)
    firsts = {who(s) for s in groups[0]}
    rest = [g for g in groups[1:] if {who(s) for s in g} - firsts]
    if not rest:
        return ()
    return tuple(
        Side(g[0].text.strip(), tuple(number[s.passage] for s in g)) for g in [groups[0], *rest]
    )


def _counted(span: str) -> bool:
    """Whether `span` states a number, an amount, a share, a year or a date.

    >>> _counted("four hundred"), _counted("nearly 2,000"), _counted("Ada Moss")
    (True, True, False)
    """
    return any(v.kind in _NUMERIC for v in values(span))


_NUMERIC = frozenset({"number", "money", "percent", "year", "date", "weekday"})


def narrowed(hits: Sequence[Hit], r: Reading, around: int = 1) -> list[Hit]:
    """`hits` cut to the reader's windows: the sentence holding each passage's best span and
    `around` sentences either side (a passage with no span keeps its first 2 * around + 1
    sentences); offsets stay article offsets, so citations and highlights work as before."""
    best = {s.passage: s for s in r.spans}
    out = []
    for i, h in enumerate(hits):
        spans = sentences(h.article.text, h.chunk.start, h.chunk.end)
        if not spans:
            out.append(h)
            continue
        at = 0
        if i in best:
            a0 = h.chunk.start + best[i].start
            at = next((k for k, (s, e) in enumerate(spans) if s <= a0 < e), 0)
        lo = max(0, at - around) if i in best else 0
        hi = min(len(spans), lo + 2 * around + 1)
        s, e = spans[lo][0], spans[hi - 1][1]
        out.append(replace(h, chunk=replace(h.chunk, start=s, end=e, text=h.article.text[s:e])))
    return out


def restates(d: Disagreement, found: Sequence[Disagreement]) -> bool:
    """`d` gives the same sides (the same answers) as one of `found`."""
    return any(
        len(d.sides) == len(f.sides)
        and all(any(same_answer(a.value, b.value) for b in f.sides) for a in d.sides)
        for f in found
    )
