"""Answer: hits to a short extractive answer whose sentences cite their passages as [n]."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from .types import Answer, Citation, Hit

REFUSAL = "The articles don't answer this question. The closest passages are listed below."
# a sentence ends at . ! or ? (plus closing quotes/brackets) before white space and a capital,
# digit or opening quote; or at a line break
_BOUNDARY = re.compile(r"(?<=[.!?])([\"'”’)\]]*)\s+(?=[\"“‘(\[]?[A-Z0-9])|\n+")
_WORD = re.compile(r"[A-Za-z0-9]+")
_STOP = frozenset(
    "a an the of in on at to for by with from and or is are was were be been what which who whom "
    "whose when where why how did do does that this these those it its as about into than then "
    "there their they he she his her has have had not no will would can could should".split()
)

Encode = Callable[[Sequence[str]], np.ndarray]


def sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the sentences of `text[start:end]`, as offsets into `text`, trimmed.

    >>> sentences("Hi there. Bye now!")
    [(0, 9), (10, 18)]
    """
    end = len(text) if end is None else end
    out = []
    pos = start
    for m in _BOUNDARY.finditer(text, start, end):
        out.append((pos, m.end(1) if m.group(1) is not None else m.start()))
        pos = m.end()
    out.append((pos, end))
    return [(s, e) for s, e in (trim(text, s, e) for s, e in out) if e - s >= 3]


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """The span `text[start:end]` without surrounding white space.

    >>> trim("  hi  ", 0, 6)
    (2, 4)
    """
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def content_words(text: str) -> set[str]:
    return {w for w in (m.group().lower() for m in _WORD.finditer(text)) if w not in _STOP}


def extractive(
    question: str,
    qvec: np.ndarray,
    hits: Sequence[Hit],
    encode: Encode,
    *,
    min_score: float,
    max_sentences: int = 3,
    passages: int = 3,
    margin: float = 0.25,
) -> Answer:
    """Pick the best-matching sentence of each of the top passages (up to 3) and cite them.

    A sentence's score is its cosine similarity to the question plus a bonus for the question's
    content words it contains; sentences more than `margin` below the best are left out.

    Refuses (and still returns the hits) when no passage is similar enough to the question.
    Cited passages come first in the returned hits, numbered in the order the answer cites them.
    """
    if not hits or max(h.similarity for h in hits) < min_score:
        return Answer(question=question, text=REFUSAL, refused=True, hits=tuple(hits))
    cands: list[tuple[int, int, int]] = []  # (hit index, sentence start, sentence end)
    for i, h in enumerate(hits[:passages]):
        text, c = h.article.text, h.chunk
        cands += [(i, s, e) for s, e in sentences(text, c.start, c.end)]
    if not cands:
        return Answer(question=question, text=REFUSAL, refused=True, hits=tuple(hits))
    texts = [hits[i].article.text[s:e] for i, s, e in cands]
    sims = encode(texts) @ qvec.ravel()
    qwords = content_words(question)
    overlap = np.array(
        [len(qwords & content_words(t)) / len(qwords) if qwords else 0.0 for t in texts]
    )
    score = sims + 0.2 * overlap
    order = np.argsort(-score, kind="stable")
    best = float(score[order[0]])
    picked: list[int] = []  # at most one sentence per passage: several sources, little repetition
    for j in map(int, order):
        if len(picked) == max_sentences or score[j] < best - margin:
            break
        if all(cands[j][0] != cands[p][0] for p in picked):
            picked.append(j)
    picked.sort(key=lambda j: (cands[j][0], cands[j][1]))  # read in passage order

    # number cited passages 1..m in the order cited, then the rest
    cited: list[int] = []
    for j in picked:
        if cands[j][0] not in cited:
            cited.append(cands[j][0])
    order_hits = cited + [i for i in range(len(hits)) if i not in cited]
    number = {i: n for n, i in enumerate(order_hits, 1)}
    renumbered = tuple(Hit(**{**h.__dict__, "rank": number[i]}) for i, h in enumerate(hits))
    shown = tuple(sorted(renumbered, key=lambda h: h.rank))
    parts = []
    citations = []
    for j in picked:
        i, s, e = cands[j]
        n = number[i]
        parts.append(f"{texts[j]} [{n}]")
        citations.append(Citation(n=n, hit=renumbered[i], sentence_start=s, sentence_end=e))
    return Answer(
        question=question,
        text=" ".join(parts),
        refused=False,
        citations=tuple(citations),
        hits=shown,
    )
