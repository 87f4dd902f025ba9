"""Retrieve: a question to ranked, filtered, diverse hits (dense + BM25, fused)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.config import RetrievalSettings, Settings
from rag.embed.embedder import Reranker
from rag.index.store import Store
from rag.search import rescore, when
from rag.search.rescore import Rescorer
from rag.types import Hit


class Vectors(Protocol):
    """Dense search by chunk id: `rag.index.vectors.VectorIndex`, or the shards
    (`rag.index.fanout.ShardSet`)."""

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def vectors(self, ids: list[int] | np.ndarray | None = None) -> np.ndarray: ...


class Keywords(Protocol):
    """BM25 by chunk id: `rag.index.bm25.KeywordIndex`, or the shards
    (`rag.index.fanout.ShardSet`)."""

    def scores(self, query: str, allowed: np.ndarray | None = None) -> np.ndarray: ...

    def idf(self, terms: set[str]) -> dict[str, float]: ...


class Retriever:
    """Searches one loaded generation; holds nothing that changes per query."""

    def __init__(
        self,
        store: Store,
        vectors: Vectors,
        keywords: Keywords,
        reranker: Reranker | None = None,
    ) -> None:
        self.store = store
        self.vectors = vectors
        self.keywords = keywords
        self.reranker = reranker
        self.rescorers: dict[str, Rescorer] = {}
        self.today: Callable[[], date] = date.today  # the clock ages are measured by
        # article row -> its first chunk id and chunk count (chunks are stored article by article)
        rows, first, count = np.unique(store.chunk_article, return_index=True, return_counts=True)
        self._first = np.zeros(len(store.article_day), np.int64)
        self._count = np.zeros(len(store.article_day), np.int64)
        self._first[rows], self._count[rows] = first, count

    def allowed(self, s: Settings) -> np.ndarray | None:
        """Mask over chunk ids that pass the date and outlet filters (None = no filter)."""
        r = s.retrieval
        days = self.store.article_day
        keep = self.store.canonical == np.arange(len(days))  # one article per near-dup group
        upper = min((d for d in (r.as_of, r.date_to) if d), default=None)
        if upper:
            keep &= days <= upper.toordinal()  # undated articles (0) pass an upper bound
        if r.date_from:
            keep &= days >= r.date_from.toordinal()
        if r.outlets:
            wanted = {outlet(x) for x in r.outlets}
            keep &= np.array([outlet(src) in wanted for src in self.store.article_source])
        if keep.all():
            return None
        return keep[self.store.chunk_article]

    def search(self, query: str, qvec: np.ndarray, s: Settings) -> list[Hit]:
        """The top `k` hits, at most `per_article` per article, best first (`s.retrieval`)."""
        r = s.retrieval
        mask = self.allowed(s)
        dense_ids: np.ndarray = np.zeros(0, np.int64)
        dense_scores: np.ndarray = np.zeros(0, np.float32)
        if r.mode in ("dense", "hybrid"):
            allowed_ids = None if mask is None else np.flatnonzero(mask)
            if allowed_ids is not None and len(allowed_ids) == 0:
                return []
            dense_scores, dense_ids = self.vectors.search(qvec, r.pool, allowed_ids)
        kw_ids: np.ndarray = np.zeros(0, np.int64)
        kw_scores: np.ndarray = np.zeros(0, np.float32)
        kw_all: np.ndarray | None = None  # BM25 score of every chunk
        if r.mode in ("bm25", "hybrid"):
            kw_all = self.keywords.scores(query, mask)  # 0 outside the mask
            kw_ids, kw_scores = top_n(kw_all, r.pool)

        dense_rank = {int(c): n for n, c in enumerate(dense_ids, 1)}
        kw_rank = {int(c): n for n, c in enumerate(kw_ids, 1)}
        if r.mode == "dense":
            fused = {int(c): float(x) for c, x in zip(dense_ids, dense_scores, strict=True)}
        elif r.mode == "bm25":
            fused = {int(c): float(x) for c, x in zip(kw_ids, kw_scores, strict=True)}
        elif r.fusion == "rrf":
            fused = rrf([dense_rank, kw_rank], r.rrf_k)
        else:
            if kw_all is None:  # hybrid always scores keywords; an empty score list is zeros
                kw_all = np.zeros(len(self.store), np.float32)
            known = dict(zip(dense_ids.tolist(), dense_scores.tolist(), strict=True))
            both = list(dict.fromkeys([*dense_rank, *kw_rank]))
            dense = self._similarity(qvec, both, known)
            top = float(kw_scores[0]) if len(kw_scores) else 1.0
            fused = {
                c: r.dense_weight * dense[c] + (1 - r.dense_weight) * float(kw_all[c]) / top
                for c in both
            }
        if r.recency_days > 0 and r.recency_weight > 0:
            self._recency(fused, r)
        ranked = sorted(fused, key=lambda c: -fused[c])
        known = dict(zip(dense_ids.tolist(), dense_scores.tolist(), strict=True))
        if self.reranker is not None:  # reorder the best candidates by the cross-encoder
            pool = diverse(ranked, self._article_of, r.rerank_pool, r.per_article)
            texts = [f"{a.title}\n{c.text}" for c, a in self.store.chunks(pool)]
            order = np.argsort(-self.reranker.score(query, texts), kind="stable")
            ranked = [pool[int(i)] for i in order]
        elif r.rescore != "off":  # reorder the best articles by their sentences' evidence
            ranked = self._rescore(query, qvec, ranked, fused, (dense_rank, kw_rank), known, r)
        chosen = diverse(ranked, self._article_of, r.k, r.per_article)
        sims = self._similarity(qvec, chosen, known)
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

    def _rescore(
        self,
        query: str,
        qvec: np.ndarray,
        ranked: list[int],
        fused: dict[int, float],
        ranks: tuple[dict[int, int], dict[int, int]],
        known: dict[int, float],
        r: RetrievalSettings,
    ) -> list[int]:
        """`ranked` with the chunks of its first `rescore.ARTICLES` articles reordered by the
        rescoring model (rag/search/rescore.py), article by article."""
        if r.rescore not in self.rescorers:
            self.rescorers[r.rescore] = Rescorer.load(Path(r.rescore) if r.rescore else None)
        groups: dict[int, list[int]] = {}
        for c in diverse(ranked, self._article_of, rescore.POOL, r.per_article):
            groups.setdefault(self._article_of(c), []).append(c)
        chosen = list(groups.items())[: rescore.ARTICLES]
        if len(chosen) < 2:
            return ranked
        ids = [c for _, g in chosen for c in g]
        rows = {ch.id: (ch, a) for ch, a in self.store.chunks(ids)}
        sims = self._similarity(qvec, ids, known)
        firsts = [int(self._first[row]) for row, _ in chosen]
        leads = self.vectors.vectors(firsts) @ qvec.ravel()
        dense, kw = ranks
        cands = [
            rescore.Candidate(
                article=rows[g[0]][1],
                chunks=tuple(rows[c][0] for c in g),
                score=fused[g[0]],
                similarity=max(sims[c] for c in g),
                dense_rank=min((dense[c] for c in g if c in dense), default=None),
                keyword_rank=min((kw[c] for c in g if c in kw), default=None),
                lead_similarity=float(lead),
                n_chunks=int(self._count[row]),
            )
            for (row, g), lead in zip(chosen, leads, strict=True)
        ]
        # the rescorer's ages were fitted from dates days after the articles: without an as-of
        # date, from the newest article on or before today (never a future one)
        ref = when.anchor(r.as_of, self.today())
        x = rescore.features(query, cands, self.keywords.idf, ref if r.as_of else self._newest(ref))
        front = [c for i in self.rescorers[r.rescore].order(x) for c in chosen[i][1]]
        moved = set(ids)
        return front + [c for c in ranked if c not in moved]

    def _article_of(self, chunk: int) -> int:
        """The article row of a chunk id (near-duplicate and diversity groups)."""
        return int(self.store.chunk_article[chunk])

    def _recency(self, fused: dict[int, float], r: RetrievalSettings) -> None:
        """Scale scores down with article age before the as-of date (today if none; never a
        future-dated article's): score * ((1 - w) + w * 0.5 ** (age / half_life)); articles
        after it count as age 0, undated ones as one half-life older than the newest article
        on or before it (so an old corpus does not favour its undated articles)."""
        days = self.store.article_day
        ref = when.anchor(r.as_of, self.today())
        undated = ref - self._newest(ref) + r.recency_days
        for c in fused:
            day = int(days[self.store.chunk_article[c]])
            age = max(ref - day, 0) if day else undated
            fused[c] *= (1 - r.recency_weight) + r.recency_weight * 0.5 ** (age / r.recency_days)

    def _newest(self, ref: int) -> int:
        """The day of the newest dated article on or before day `ref` (`ref` when none)."""
        days = self.store.article_day
        past = days[(days > 0) & (days <= ref)]
        return int(past.max()) if past.size else ref

    def _similarity(
        self, qvec: np.ndarray, ids: list[int], known: dict[int, float]
    ) -> dict[int, float]:
        """Cosine similarity of the question with each chosen chunk."""
        missing = [c for c in ids if c not in known]
        if missing:
            for c, x in zip(missing, self.vectors.vectors(missing) @ qvec.ravel(), strict=True):
                known[c] = float(x)
        return {c: known[c] for c in ids}


def top_n(scores: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Ids and scores of the `n` highest positive scores, best first.

    >>> top_n(np.array([0.0, 3.0, 1.0, 2.0]), 2)
    (array([1, 3]), array([3., 2.]))
    """
    n = min(n, int(np.count_nonzero(scores > 0)))
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, scores.dtype)
    top = np.argpartition(-scores, n - 1)[:n]
    top = top[np.argsort(-scores[top], kind="stable")]
    return top.astype(np.int64), scores[top]


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
