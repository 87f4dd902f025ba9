"""Retrieve: a question to ranked, filtered, diverse hits (dense + BM25, fused)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .config import Settings
from .index import VectorIndex
from .keyword import KeywordIndex
from .store import Store
from .types import Hit


class Retriever:
    """Searches one loaded generation; holds nothing that changes per query."""

    def __init__(self, store: Store, vectors: VectorIndex, keywords: KeywordIndex) -> None:
        self.store = store
        self.vectors = vectors
        self.keywords = keywords

    def allowed(self, s: Settings) -> np.ndarray | None:
        """Mask over chunk ids that pass the date and outlet filters (None = no filter)."""
        days = self.store.article_day
        keep = self.store.canonical == np.arange(len(days))  # one article per near-dup group
        upper = min((d for d in (s.as_of, s.date_to) if d), default=None)
        if upper:
            keep &= days <= upper.toordinal()  # undated articles (0) pass an upper bound
        if s.date_from:
            keep &= days >= s.date_from.toordinal()
        if s.sources:
            wanted = {outlet(x) for x in s.sources}
            keep &= np.array([outlet(src) in wanted for src in self.store.article_source])
        if keep.all():
            return None
        return keep[self.store.chunk_article]

    def search(self, query: str, qvec: np.ndarray, s: Settings) -> list[Hit]:
        """The top `s.k` hits, at most `s.per_article` per article, best first."""
        mask = self.allowed(s)
        dense_ids: np.ndarray = np.zeros(0, np.int64)
        dense_scores: np.ndarray = np.zeros(0, np.float32)
        if s.mode in ("dense", "hybrid"):
            allowed_ids = None if mask is None else np.flatnonzero(mask)
            if allowed_ids is not None and len(allowed_ids) == 0:
                return []
            dense_scores, dense_ids = self.vectors.search(qvec, s.pool, allowed_ids)
        kw_ids: np.ndarray = np.zeros(0, np.int64)
        kw_scores: np.ndarray = np.zeros(0, np.float32)
        if s.mode in ("bm25", "hybrid"):
            kw_ids, kw_scores = self._keyword(query, mask, s.pool)

        dense_rank = {int(c): r for r, c in enumerate(dense_ids, 1)}
        kw_rank = {int(c): r for r, c in enumerate(kw_ids, 1)}
        if s.mode == "dense":
            fused = {int(c): float(x) for c, x in zip(dense_ids, dense_scores, strict=True)}
        elif s.mode == "bm25":
            fused = {int(c): float(x) for c, x in zip(kw_ids, kw_scores, strict=True)}
        else:
            fused = rrf([dense_rank, kw_rank], s.rrf_k)
        if s.recency_days > 0 and s.recency_weight > 0:
            self._recency(fused, s)
        ranked = sorted(fused, key=lambda c: -fused[c])
        chosen = diverse(ranked, lambda c: int(self.store.chunk_article[c]), s.k, s.per_article)
        sims = self._similarity(
            qvec, chosen, dict(zip(dense_ids.tolist(), dense_scores.tolist(), strict=True))
        )
        hits = []
        for rank, (chunk, article) in enumerate(self.store.chunks(chosen), 1):
            hits.append(
                Hit(
                    chunk=chunk,
                    article=article,
                    score=fused[chunk.id],
                    rank=rank,
                    dense_rank=dense_rank.get(chunk.id),
                    keyword_rank=kw_rank.get(chunk.id),
                    similarity=sims[chunk.id],
                    also=tuple(self.store.also(article.doc_id)),
                )
            )
        return hits

    def _recency(self, fused: dict[int, float], s: Settings) -> None:
        """Scale scores down with article age before the as-of date (newest article if none):
        score * ((1 - w) + w * 0.5 ** (age / half_life)); undated articles count as one
        half-life old."""
        days = self.store.article_day
        ref = s.as_of.toordinal() if s.as_of else int(days.max())
        for c in fused:
            day = int(days[self.store.chunk_article[c]])
            age = max(ref - day, 0) if day else s.recency_days
            fused[c] *= (1 - s.recency_weight) + s.recency_weight * 0.5 ** (age / s.recency_days)

    def _keyword(
        self, query: str, mask: np.ndarray | None, pool: int
    ) -> tuple[np.ndarray, np.ndarray]:
        scores = self.keywords.scores(query)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        n = min(pool, int(np.count_nonzero(scores)))
        if n == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return top.astype(np.int64), scores[top]

    def _similarity(
        self, qvec: np.ndarray, ids: list[int], known: dict[int, float]
    ) -> dict[int, float]:
        """Cosine similarity of the question with each chosen chunk."""
        missing = [c for c in ids if c not in known]
        if missing:
            for c, x in zip(missing, self.vectors.vectors(missing) @ qvec.ravel(), strict=True):
                known[c] = float(x)
        return {c: known[c] for c in ids}


def outlet(source: str) -> str:
    """Outlet names compared without case or a leading "www.": "www.CNN.com" -> "cnn.com"."""
    return source.strip().lower().removeprefix("www.")


def rrf(rankings: list[dict[int, int]], k: int = 60) -> dict[int, float]:
    """Reciprocal rank fusion: sum of 1 / (k + rank) over the rankings an item appears in.

    >>> rrf([{1: 1, 2: 2}, {2: 1}], k=0)
    {1: 1.0, 2: 1.5}
    """
    out: dict[int, float] = {}
    for ranking in rankings:
        for item, rank in ranking.items():
            out[item] = out.get(item, 0.0) + 1.0 / (k + rank)
    return out


def diverse(ranked: list[int], group: Callable[[int], int], k: int, per_group: int) -> list[int]:
    """The first `k` items of `ranked`, with at most `per_group` from any one group.

    >>> diverse([1, 2, 3, 4], lambda x: x % 2, k=3, per_group=1)
    [1, 2]
    """
    seen: dict[int, int] = {}
    out = []
    for item in ranked:
        g = group(item)
        if seen.get(g, 0) < per_group:
            seen[g] = seen.get(g, 0) + 1
            out.append(item)
            if len(out) == k:
                break
    return out
