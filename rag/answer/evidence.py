"""Evidence: the sentences of the top passages scored against a question, and the features
that say whether they answer it (the answerability gate's inputs, `rag.answer.gate`).

    ev = gather(question, qvec, hits, encode)   # every sentence of the top 3 passages, scored
    ev.best                                     # the best sentence: (hit index, start, end)
    features(question, hits, ev)                # FEATURES, in order, as floats
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rag.answer.phrase import phrase, wanted
from rag.text import STOP, content_words, facts, sentences
from rag.types import Hit

Encode = Callable[[Sequence[str]], np.ndarray]
OVERLAP_WEIGHT = 0.2  # a sentence's score: cosine + this x share of question words it holds
LEAD_MARGIN = 0.1  # a sentence holding the phrase asked for may lead from this far below the best

FEATURES = (
    "sentence_similarity",  # cosine of the best sentence and the question
    "passage_similarity",  # best cosine of a whole passage (the old refusal floor's number)
    "sentence_coverage",  # share of the question's content words in the best sentence
    "passage_coverage",  # ... in the best sentence's passage (title included)
    "facts_coverage",  # share of the question's names/numbers in that passage (1 when none)
    "has_facts",  # the question names something (a name, number or date)
    "type_present",  # a top sentence holds a new phrase of the kind asked for (0.5: no kind)
    "margin",  # best sentence score minus the best of another article (0 when alone)
    "agreement",  # the best passage is in the top 3 of both dense and keyword rankings
    "question_words",  # log(1 + number of the question's content words)
    "missing_words",  # log(1 + the question's content words found nowhere in the passage)
    "sentence_facts",  # share of the question's names/numbers in the best sentence (1: none)
    "bigram_coverage",  # share of the question's word pairs found as pairs in the passage
    "top3_coverage",  # best question-word share among the three best sentences
)


@dataclass(frozen=True)
class Evidence:
    """Candidate sentences (hit index, start, end) with their similarity and score, best first."""

    spans: tuple[tuple[int, int, int], ...]
    texts: tuple[str, ...]
    similarity: np.ndarray  # cosine of each sentence and the question
    coverage: np.ndarray  # share of the question's content words each sentence holds
    score: np.ndarray  # similarity + OVERLAP_WEIGHT * coverage
    quotable: tuple[bool, ...]  # may be quoted as an answer (see _quotable)

    @property
    def order(self) -> list[int]:
        return [int(i) for i in np.argsort(-self.score, kind="stable")]

    @property
    def answers(self) -> list[int]:
        """The sentences an answer may quote, best first: all of them when none is quotable."""
        picked = [j for j in self.order if self.quotable[j]]
        return picked or self.order

    @property
    def best(self) -> int | None:
        return self.order[0] if self.spans else None


def gather(
    question: str, qvec: np.ndarray, hits: Sequence[Hit], encode: Encode, passages: int = 3
) -> Evidence:
    """Every sentence of the first `passages` hits, scored against the question."""
    spans: list[tuple[int, int, int]] = []
    for i, h in enumerate(hits[:passages]):
        spans += [(i, s, e) for s, e in sentences(h.article.text, h.chunk.start, h.chunk.end)]
    texts = tuple(hits[i].article.text[s:e] for i, s, e in spans)
    if not spans:
        empty = np.zeros(0, np.float32)
        return Evidence((), (), empty, empty, empty, ())
    sims = np.asarray(encode(list(texts)) @ qvec.ravel(), dtype=np.float32)
    qwords = content_words(question)
    cover = np.array(
        [len(qwords & content_words(t)) / len(qwords) if qwords else 0.0 for t in texts],
        dtype=np.float32,
    )
    titles = [hits[i].article.title for i, _, _ in spans]
    quotable = tuple(_quotable(question, h, t) for h, t in zip(titles, texts, strict=True))
    return Evidence(tuple(spans), texts, sims, cover, sims + OVERLAP_WEIGHT * cover, quotable)


def _quotable(question: str, title: str, sentence: str) -> bool:
    """Whether `sentence` may be quoted as an answer: never a question (it asks, never
    answers); the article's headline only when it holds a phrase of the kind `question` asks
    for (it names the subject, seldom the fact asked for).

    >>> _quotable("How many ride?", "Ferry sails", "Ferry sails"), _quotable("Who?", "", "Why?")
    (False, False)
    >>> _quotable("How many ride?", "180 ride the ferry", "180 ride the ferry")
    True
    """
    said = " ".join(sentence.split()).casefold()
    if said.rstrip("\"'”’)").endswith("?"):
        return False
    headline = said == " ".join(title.split()).casefold()
    return not headline or bool(wanted(question) and phrase(question, sentence))


def lead(question: str, ev: Evidence, near: float = LEAD_MARGIN) -> tuple[int, str] | None:
    """The sentence to lead an answer with and its phrase: of the sentences scoring within
    `near` of the best, the best one holding a phrase of the kind the question asks for
    (rag/answer/phrase.py); None when the question asks for no kind or none holds one."""
    if not wanted(question) or ev.best is None:
        return None
    top = float(ev.score[ev.answers[0]])
    for j in ev.answers:
        if ev.score[j] < top - near:
            break
        found = phrase(question, ev.texts[j])
        if found:
            return j, found
    return None


def _pairs(text: str) -> set[tuple[str, str]]:
    """Adjacent word pairs, lower case, stop words dropped first ("prime minister", ...)."""
    words = [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOP]
    return set(zip(words, words[1:], strict=False))


def _question_facts(question: str) -> set[str]:
    """Names, numbers and dates the question states (its first word aside)."""
    words = question.split()
    return facts(" ".join(["x", *words[1:]])) if len(words) > 1 else set()


def features(question: str, hits: Sequence[Hit], ev: Evidence) -> np.ndarray:
    """FEATURES for (question, hits, evidence); all zeros (plus the question's own) when there
    is no candidate sentence."""
    qwords = content_words(question)
    qfacts = _question_facts(question)
    out = dict.fromkeys(FEATURES, 0.0)
    out["has_facts"] = float(bool(qfacts))
    out["question_words"] = math.log1p(len(qwords))
    out["passage_similarity"] = max((h.similarity for h in hits[:3]), default=0.0)
    best = ev.best
    if best is None:
        return np.array([out[f] for f in FEATURES], dtype=np.float32)
    i, s, e = ev.spans[best]
    hit = hits[i]
    out["sentence_similarity"] = float(ev.similarity[best])
    out["sentence_coverage"] = float(ev.coverage[best])
    passage = f"{hit.article.title} {hit.chunk.text}"
    if qwords:
        out["passage_coverage"] = len(qwords & content_words(passage)) / len(qwords)
    lowered = passage.lower()
    out["facts_coverage"] = sum(1 for f in qfacts if f in lowered) / len(qfacts) if qfacts else 1.0
    out["type_present"] = 0.5 if not wanted(question) else float(lead(question, ev) is not None)
    found = content_words(passage)
    out["missing_words"] = math.log1p(len(qwords - found))
    sentence = ev.texts[best].lower()
    out["sentence_facts"] = sum(1 for f in qfacts if f in sentence) / len(qfacts) if qfacts else 1.0
    pairs = _pairs(question)
    out["bigram_coverage"] = len(pairs & _pairs(passage)) / len(pairs) if pairs else 0.0
    out["top3_coverage"] = max(float(ev.coverage[j]) for j in ev.order[:3])
    doc = hit.article.doc_id
    others = [float(ev.score[j]) for j in ev.order if hits[ev.spans[j][0]].article.doc_id != doc]
    out["margin"] = float(ev.score[best]) - others[0] if others else 0.0
    ranks = (hit.dense_rank, hit.keyword_rank)
    out["agreement"] = float(all(r is not None and r <= 3 for r in ranks))
    return np.array([out[f] for f in FEATURES], dtype=np.float32)
