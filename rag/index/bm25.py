"""BM25: a BM25 index over chunk texts (bm25s), built once at index time and saved with it;
for sharded indexes, term counts per shard scored from every shard's statistics (`TermCounts`)."""

from __future__ import annotations

import functools
import json
import logging
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from rag.errors import IndexCorruptError
from rag.index.generations import REBUILD
from rag.text import STOP

K1, B = 1.5, 0.75  # bm25s.BM25()'s defaults, method "lucene" (tests/test_shards.py checks them)
_stemmer = Stemmer.Stemmer("english")
logging.getLogger("bm25s").setLevel(logging.WARNING)


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, English stop words removed, Snowball-stemmed tokens."""
    out = bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_stemmer, return_ids=False, show_progress=False
    )
    return [list(t) for t in out]  # type: ignore[union-attr]


_WORD = re.compile(r"[A-Za-z0-9]+")


def stems(text: str) -> list[str]:
    """Stemmed words of `text` in order, stop words (rag.text's) dropped, as BM25 sees them.

    >>> stems("The ferries sailed at dawn")
    ['ferri', 'sail', 'dawn']
    """
    return list(_stems(text))


@functools.lru_cache(maxsize=4096)  # rescoring stems the same passages for every search
def _stems(text: str) -> tuple[str, ...]:
    words = [w for w in (m.lower() for m in _WORD.findall(text)) if w not in STOP]
    return tuple(_stemmer.stemWords(words))


class KeywordIndex:
    """BM25 scores for every chunk, aligned with chunk ids (row i = chunk i)."""

    def __init__(self, bm25: bm25s.BM25) -> None:
        self.bm25 = bm25

    @classmethod
    def build(cls, texts: Sequence[str]) -> KeywordIndex:
        bm25 = bm25s.BM25()
        tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=_stemmer, show_progress=False)
        bm25.index(tokens, show_progress=False)
        return cls(bm25)

    def save(self, folder: Path) -> None:
        self.bm25.save(str(folder), show_progress=False)

    def __len__(self) -> int:
        return int(self.bm25.scores["num_docs"])

    @classmethod
    def load(cls, folder: Path, chunks: int | None = None) -> KeywordIndex:
        """Open a saved index, checking its arrays' shapes and ranges (and `chunks` documents,
        when given); changed scores or words are only seen by `rag index verify`."""
        try:
            bm25 = bm25s.BM25.load(str(folder), mmap=False, show_progress=False)
            problem = _damage(bm25)
        except Exception as e:  # numpy/json raise many kinds on damaged files
            raise IndexCorruptError(
                f"{folder}: cannot read the keyword index ({type(e).__name__}); {REBUILD}"
            ) from e
        if problem is None and chunks is not None and bm25.scores["num_docs"] != chunks:
            problem = f"{bm25.scores['num_docs']} documents for {chunks} chunks"
        if problem:
            raise IndexCorruptError(
                f"{folder}: the keyword index is damaged ({problem}); {REBUILD}"
            )
        return cls(bm25)

    def idf(self, terms: set[str]) -> dict[str, float]:
        """BM25's (Lucene) inverse document frequency of each stemmed term; unseen terms get
        the highest, log(1 + (N + 0.5) / 0.5)."""
        indptr, vocab = self.bm25.scores["indptr"], self.bm25.vocab_dict
        order = sorted(terms)
        cols = [vocab.get(t) for t in order]
        df = [
            0 if c is None or c + 1 >= len(indptr) else int(indptr[c + 1] - indptr[c]) for c in cols
        ]
        return dict(zip(order, idf(np.array(df, np.int64), len(self)).tolist(), strict=True))

    def scores(self, query: str, allowed: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every chunk for `query` (0 outside the mask `allowed`, when given);
        all zeros when no query word is indexed (a query of only stop words, punctuation or
        emoji has no words at all).

        >>> KeywordIndex.build(["Cats sleep.", "Dogs bark."]).scores("the ???").tolist()
        [0.0, 0.0]
        """
        vocab, columns = self.bm25.vocab_dict, len(self.bm25.scores["indptr"]) - 1
        ids = [vocab[t] for t in tokenize([query])[0] if vocab.get(t, columns) < columns]
        if not ids:
            return np.zeros(len(self), dtype=np.float32)
        scores = np.asarray(self.bm25.get_scores_from_ids(ids), dtype=np.float32)
        return scores if allowed is None else np.where(allowed, scores, np.float32(0))


def idf(df: np.ndarray, n: int) -> np.ndarray:
    """BM25's (Lucene) inverse document frequency for `df` documents of `n`, as bm25s computes it.

    >>> idf(np.array([1, 2]), 2).round(3).tolist()
    [0.693, 0.182]
    """
    return np.log(1 + (n - np.asarray(df, np.float64) + 0.5) / (np.asarray(df) + 0.5))


class TermCounts:
    """Term counts of one shard's chunks, scored by BM25 from statistics over all shards.

    bm25s bakes idf and the mean chunk length of its own corpus into its scores, so scores of
    separately indexed shards would depend on where the index is cut. This keeps the counts
    (a CSC matrix, one column per stemmed word: `indptr[w]:indptr[w+1]` into `docs`/`tf`) and
    chunk lengths; `scores` takes idf and the mean length over every shard (Elasticsearch's DFS
    query-then-fetch) and gives bm25s's "lucene" scores: over all shards, those of one bm25s
    index of every chunk.

    >>> t = TermCounts.build(["Cats sleep.", "Dogs bark at cats."])
    >>> t.df(["cat", "dog", "owl"]).tolist(), len(t), t.length
    ([2, 1, 0], 2, 5)
    """

    def __init__(
        self,
        words: list[str],
        indptr: np.ndarray,  # word column -> start in docs/tf (len(words) + 1)
        docs: np.ndarray,  # chunk rows (local to the shard), by word, ascending within one
        tf: np.ndarray,  # times the word occurs in that chunk
        lengths: np.ndarray,  # chunk row -> tokens (stop words removed), as bm25s counts them
    ) -> None:
        self.words = words
        self.vocab = {w: i for i, w in enumerate(words)}
        self.indptr, self.docs, self.tf, self.lengths = indptr, docs, tf, lengths
        self.length = int(lengths.sum())

    @classmethod
    def build(cls, texts: Sequence[str]) -> TermCounts:
        tokens = tokenize(texts)
        vocab: dict[str, int] = {}
        cols: list[int] = []
        docs: list[int] = []
        tf: list[int] = []
        for row, toks in enumerate(tokens):
            for word, count in Counter(toks).items():
                cols.append(vocab.setdefault(word, len(vocab)))
                docs.append(row)
                tf.append(count)
        c, d = np.array(cols, np.int64), np.array(docs, np.int32)
        order = np.lexsort((d, c))
        indptr = np.concatenate([[0], np.cumsum(np.bincount(c, minlength=len(vocab)))])
        lengths = np.array([len(t) for t in tokens], np.int32)
        return cls(
            list(vocab), indptr.astype(np.int64), d[order], np.array(tf, np.int32)[order], lengths
        )

    def __len__(self) -> int:
        return len(self.lengths)

    _ARRAYS = ("indptr", "docs", "tf", "lengths")

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "words.json").write_text(json.dumps(self.words, ensure_ascii=False))
        for name in self._ARRAYS:
            np.save(folder / f"{name}.npy", getattr(self, name))

    @classmethod
    def load(cls, folder: Path, chunks: int | None = None) -> TermCounts:
        """Open saved counts, checking types, shapes and ranges (and `chunks` rows when given)."""
        try:
            words = json.loads((folder / "words.json").read_bytes())
            arrays = [np.load(folder / f"{n}.npy", allow_pickle=False) for n in cls._ARRAYS]
            problem = _count_damage(words, *arrays)
        except Exception as e:  # numpy/json raise many kinds on damaged files
            raise IndexCorruptError(
                f"{folder}: cannot read the keyword counts ({type(e).__name__}); {REBUILD}"
            ) from e
        if problem is None and chunks is not None and len(arrays[3]) != chunks:
            problem = f"{len(arrays[3])} chunks, the shard has {chunks}"
        if problem:
            raise IndexCorruptError(
                f"{folder}: the keyword counts are damaged ({problem}); {REBUILD}"
            )
        return cls(words, *arrays)

    def df(self, terms: Sequence[str]) -> np.ndarray:
        """Chunks holding each of `terms` (0 for a word this shard has not got)."""
        cols = [self.vocab.get(t) for t in terms]
        return np.array(
            [0 if c is None else int(self.indptr[c + 1] - self.indptr[c]) for c in cols], np.int64
        )

    def scores(
        self,
        terms: Sequence[str],
        weights: np.ndarray,  # float32 idf of each term, from every shard's document counts
        avgdl: float,  # mean chunk length over every shard
        rows: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(rows, BM25 scores) of this shard's chunks holding a term, among `rows` if given.

        A term counts once per occurrence in `terms`, as in `KeywordIndex.scores`; each part is
        bm25s's: float32(idf * tf / (tf + k1 (1 - b + b len / avgdl))), summed in float32.
        """
        out = np.zeros(len(self), np.float32)
        known = [(self.vocab[t], w) for t, w in zip(terms, weights, strict=True) if t in self.vocab]
        if known:
            cols = np.array([c for c, _ in known], np.int64)
            lo, hi = self.indptr[cols], self.indptr[cols + 1]
            sizes = hi - lo
            # the postings of every term, term after term: positions lo..hi-1 of each
            at = np.repeat(lo - np.cumsum(sizes) + sizes, sizes) + np.arange(int(sizes.sum()))
            docs, tf = self.docs[at], self.tf[at].astype(np.float32)
            weight = np.repeat(np.array([w for _, w in known], np.float32), sizes)
            tfc = tf / (K1 * ((1 - B) + B * self.lengths[docs] / avgdl) + tf)
            np.add.at(out, docs, (weight.astype(np.float64) * tfc).astype(np.float32))
        hit = np.flatnonzero(out) if rows is None else rows[out[rows] != 0]
        return hit.astype(np.int64), out[hit]


def _count_damage(
    words: object, indptr: np.ndarray, docs: np.ndarray, tf: np.ndarray, lengths: np.ndarray
) -> str | None:
    """What is visibly wrong with loaded term counts."""
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        return "vocabulary"
    if any(a.ndim != 1 or a.dtype.kind not in "iu" for a in (indptr, docs, tf, lengths)):
        return "array types"
    if len(indptr) != len(words) + 1 or indptr[0] != 0 or not len(docs) == len(tf) == indptr[-1]:
        return "array lengths"
    if np.any(np.diff(indptr) < 0) or np.any(tf < 1) or np.any(lengths < 0):
        return "array values"
    if len(docs) and (int(docs.min()) < 0 or int(docs.max()) >= len(lengths)):
        return "a chunk row out of range"
    return None


def _damage(bm25: bm25s.BM25) -> str | None:
    """What is visibly wrong with loaded BM25 arrays (a CSC matrix: one column per word)."""
    s = bm25.scores
    data, indices, indptr, n = s["data"], s["indices"], s["indptr"], s["num_docs"]
    if not isinstance(n, int) or n < 0:
        return "document count"
    if data.ndim != 1 or indices.ndim != 1 or indptr.ndim != 1 or len(indptr) < 1:
        return "array shapes"
    if data.dtype.kind != "f" or indices.dtype.kind not in "iu" or indptr.dtype.kind not in "iu":
        return "array types"
    if not len(data) == len(indices) == indptr[-1] or indptr[0] != 0:
        return "array lengths"
    if np.any(np.diff(indptr) < 0) or not np.all(np.isfinite(data)) or np.any(data < 0):
        return "array values"
    if len(indices) and (int(indices.min()) < 0 or int(indices.max()) >= n):
        return "a document id out of range"
    words = bm25.vocab_dict
    if len(words) not in (len(indptr) - 1, len(indptr)):  # bm25s adds "" past the last column
        return "vocabulary size"
    if words and (min(words.values()) < 0 or max(words.values()) >= len(indptr)):
        return "vocabulary ids"
    return None
