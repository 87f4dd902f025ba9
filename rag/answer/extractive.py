"""Extractive: hits to a short extractive answer, answer first, whose sentences cite their
passages as [n]; or a refusal when the answerability gate (rag/answer/gate.py) says the passages
don't answer.

    "Ada Lind [1]. The bridge was opened by Mayor Ada Lind on Friday [1]. ..."

The sentence that answers best comes first; where the question asks for a name, number, date
or place and a sentence scoring close to the best holds one (rag/answer/phrase.py), that sentence
comes first, led by the short phrase, cited to the same passage. Up to two more sentences from
other passages follow, best first.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rag.answer.evidence import Encode, Evidence, features, gather, lead
from rag.answer.gate import Gate
from rag.types import Answer, Citation, Hit

REFUSAL = "The articles don't answer this question. The closest passages are listed below."


def confidence(question: str, hits: Sequence[Hit], ev: Evidence, gate: Gate | None) -> float:
    """The gate's probability that `hits` answer `question` (with no gate: the best passage
    similarity, the old floor's number)."""
    if gate is None:
        return max((h.similarity for h in hits), default=0.0)
    return gate.probability(features(question, hits, ev))


def extractive(
    question: str,
    qvec: np.ndarray,
    hits: Sequence[Hit],
    encode: Encode,
    *,
    min_score: float,
    gate: Gate | None = None,
    max_sentences: int = 3,
    passages: int = 3,
    margin: float = 0.25,
) -> Answer:
    """The best sentence (and its phrase) first, then up to two from other passages, cited.

    Refuses (and still returns the hits) when the confidence is below `min_score`: the gate's
    probability when a `gate` is given, else the best passage's similarity. Cited passages come
    first in the returned hits, numbered in the order the answer cites them.
    """
    if not hits:
        return Answer(question=question, text=REFUSAL, refused=True, confidence=0.0)
    ev = gather(question, qvec, hits, encode, passages)
    sure = confidence(question, hits, ev, gate)
    best = ev.best
    if best is None or sure < min_score:
        return Answer(
            question=question, text=REFUSAL, refused=True, hits=tuple(hits), confidence=sure
        )
    top = float(ev.score[ev.answers[0]])
    led = lead(question, ev)
    picked: list[int] = [led[0]] if led else []  # one sentence per passage: little repetition
    for j in ev.answers:
        if len(picked) == max_sentences or ev.score[j] < top - margin:
            break
        if all(ev.spans[j][0] != ev.spans[p][0] for p in picked):
            picked.append(j)

    # number cited passages 1..m in the order cited, then the rest
    cited = [ev.spans[j][0] for j in picked]
    order_hits = cited + [i for i in range(len(hits)) if i not in cited]
    number = {i: n for n, i in enumerate(order_hits, 1)}
    renumbered = tuple(Hit(**{**h.__dict__, "rank": number[i]}) for i, h in enumerate(hits))
    shown = tuple(sorted(renumbered, key=lambda h: h.rank))
    parts = []
    citations = []
    if led:
        parts.append(f"{led[1]} [1].")
    for j in picked:
        i, s, e = ev.spans[j]
        n = number[i]
        parts.append(f"{ev.texts[j]} [{n}]")
        citations.append(Citation(n=n, hit=renumbered[i], sentence_start=s, sentence_end=e))
    return Answer(
        question=question,
        text=" ".join(parts),
        refused=False,
        citations=tuple(citations),
        hits=shown,
        confidence=sure,
    )
