"""Rescore: the top articles of a search reordered by the evidence in their sentences.

There is no packaged cross-encoder, so the ranking signal is built from what the index holds:
for each of the first `ARTICLES` candidate articles, how well its best sentence covers the
question (stemmed words, weighted by BM25's idf), names and numbers, the kind of phrase asked
for, the headline, the lead's vector, the fused score and ranks, and age. A small logistic
model over these (and each one's distance to the best candidate's) scores the candidates; it
ships as `rag/search/rescore.json` and is refit by `bench/fit_rescore.py` on a cross-check split.

    order = Rescorer.load().order(features(question, qvec, candidates, idf, ref_day))
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer.phrase import phrase, wanted
from rag.errors import ConfigError
from rag.index.bm25 import stems
from rag.text import facts, sentences
from rag.types import Article, Chunk

PACKAGED = Path(__file__).with_name("rescore.json")
ARTICLES = 10  # candidate articles reordered
POOL = 20  # chunks taken from the fused ranking to find them (at most 2 per article)

FEATURES = (
    "score",  # fused score of the article's best chunk / the best fused score
    "inv_rank",  # 1 / the article's place in the fused ranking
    "sim",  # best cosine of the question and one of its chunks
    "kw",  # 1 / best BM25 rank of its chunks (0: not in the keyword pool)
    "dense",  # 1 / best dense rank (0: not in the dense pool)
    "sent_cov",  # best share of the question's stemmed words in one sentence
    "sent_idf",  # best idf-weighted share in one sentence
    "pass_cov",  # share in the headline and its chunks
    "pass_idf",  # idf-weighted share there
    "title_idf",  # idf-weighted share in the headline
    "bigram",  # share of the question's word pairs found as pairs in the passage
    "facts",  # share of the question's names and numbers in the passage (1: none)
    "sent_facts",  # ... in the best sentence
    "type_present",  # a top sentence holds a phrase of the kind asked for (0.5: no kind)
    "age",  # log(1 + days before the reference date)
    "lead_sim",  # cosine of the question and the article's first chunk
    "n_chunks",  # log of the article's chunk count (long round-ups vs focused reports)
    "in_pool",  # how many of its chunks reached the pool
)


@dataclass(frozen=True)
class Candidate:
    """One article among the top of a fused ranking, with what retrieval knew of it."""

    article: Article
    chunks: tuple[Chunk, ...]  # its chunks in the pool, best first
    score: float  # fused score of the best one
    similarity: float  # best cosine with the question
    dense_rank: int | None
    keyword_rank: int | None
    lead_similarity: float
    n_chunks: int


def _pairs(words: list[str]) -> set[tuple[str, str]]:
    return set(zip(words, words[1:], strict=False))


def features(
    question: str,
    cands: Sequence[Candidate],
    idf: Callable[[set[str]], dict[str, float]],
    ref_day: int,
) -> np.ndarray:
    """One row of FEATURES per candidate, then each minus the best over candidates."""
    qlist = stems(question)
    qw = set(qlist)
    weights = idf(qw)
    total = sum(weights.values()) or 1.0
    qpairs = _pairs(qlist)
    words = question.split()
    qfacts = facts(" ".join(["x", *words[1:]])) if len(words) > 1 else set()
    kind = wanted(question)
    top = cands[0].score if cands and cands[0].score else 1.0

    def share(found: set[str]) -> tuple[float, float]:
        hit = qw & found
        return (len(hit) / len(qw) if qw else 0.0), sum(weights[w] for w in hit) / total

    rows = []
    for rank, c in enumerate(cands, 1):
        a = c.article
        texts = [a.text[s:e] for ch in c.chunks for s, e in sentences(a.text, ch.start, ch.end)]
        sets = [set(stems(t)) for t in texts]
        covs = [share(x) for x in sets] or [(0.0, 0.0)]
        passage = a.title + " " + " ".join(ch.text for ch in c.chunks)
        passage_words = stems(passage)
        passage = passage.lower()
        best = max(range(len(covs)), key=lambda i: covs[i][1] + 0.01 * covs[i][0])
        best_text = texts[best].lower() if texts else ""
        pcov, pidf = share(set(passage_words))
        by_cover = sorted(range(len(texts)), key=lambda i: -len(qw & sets[i]))[:2]
        day = a.published.toordinal() if a.published else 0
        f = {
            "score": c.score / top,
            "inv_rank": 1 / rank,
            "sim": c.similarity,
            "kw": 1 / c.keyword_rank if c.keyword_rank else 0.0,
            "dense": 1 / c.dense_rank if c.dense_rank else 0.0,
            "sent_cov": max(x for x, _ in covs),
            "sent_idf": max(y for _, y in covs),
            "pass_cov": pcov,
            "pass_idf": pidf,
            "title_idf": share(set(stems(a.title)))[1],
            "bigram": len(qpairs & _pairs(passage_words)) / len(qpairs) if qpairs else 0.0,
            "facts": sum(x in passage for x in qfacts) / len(qfacts) if qfacts else 1.0,
            "sent_facts": sum(x in best_text for x in qfacts) / len(qfacts) if qfacts else 1.0,
            "type_present": 0.5
            if not kind
            else float(any(phrase(question, texts[i]) for i in by_cover)),
            "age": math.log1p(max(ref_day - day, 0)) if ref_day and day else 0.0,
            "lead_sim": c.lead_similarity,
            "n_chunks": math.log(max(c.n_chunks, 1)),
            "in_pool": float(len(c.chunks)),
        }
        rows.append([f[n] for n in FEATURES])
    x = np.array(rows, dtype=np.float64).reshape(len(rows), len(FEATURES))
    return np.hstack([x, x - x.max(axis=0)]) if len(x) else np.zeros((0, 2 * len(FEATURES)))


@dataclass(frozen=True)
class Rescorer:
    """A fitted linear scorer over `features` rows (standardised)."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    features: tuple[str, ...] = FEATURES
    trained_on: str = ""
    notes: dict[str, Any] = field(default_factory=dict)

    def scores(self, x: np.ndarray) -> np.ndarray:
        return ((x - np.array(self.mean)) / np.array(self.scale)) @ np.array(self.weights)

    def order(self, x: np.ndarray) -> list[int]:
        """Candidate positions, best first (ties keep the fused order)."""
        return [int(i) for i in np.argsort(-self.scores(x), kind="stable")] if len(x) else []

    def save(self, path: Path) -> Path:
        path.write_text(json.dumps(asdict(self), indent=1) + "\n")
        return path

    @classmethod
    def load(cls, path: Path | None = None) -> Rescorer:
        path = path or PACKAGED
        try:
            raw = json.loads(path.read_text())
            model = cls(**{**raw, "features": tuple(raw["features"])})
        except (OSError, ValueError, TypeError, KeyError) as e:
            raise ConfigError(
                f"{path}: not a rescoring model ({type(e).__name__}); give a file that "
                "bench/fit_rescore.py wrote, or RAG_RESCORE=off"
            ) from e
        width = 2 * len(FEATURES)
        if model.features != FEATURES or not len(model.mean) == len(model.weights) == width:
            raise ConfigError(
                f"{path}: fitted on other features than this version computes; refit it with "
                "bench/fit_rescore.py, or set RAG_RESCORE=off"
            )
        return model
