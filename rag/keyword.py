"""Keyword: a BM25 index over chunk texts (bm25s), built once at index time and saved with it."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from .errors import IndexCorruptError
from .generation import REBUILD
from .text import STOP

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
    return _stemmer.stemWords(
        [w for w in (m.lower() for m in _WORD.findall(text)) if w not in STOP]
    )


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
        n, indptr, vocab = len(self), self.bm25.scores["indptr"], self.bm25.vocab_dict
        out = {}
        for t in terms:
            i = vocab.get(t)
            df = int(indptr[i + 1] - indptr[i]) if i is not None and i + 1 < len(indptr) else 0
            out[t] = math.log(1 + (n - df + 0.5) / (df + 0.5))
        return out

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for `query`; all zeros when no query word is indexed
        (a query of only stop words, punctuation or emoji has no words at all).

        >>> KeywordIndex.build(["Cats sleep.", "Dogs bark."]).scores("the ???").tolist()
        [0.0, 0.0]
        """
        vocab, columns = self.bm25.vocab_dict, len(self.bm25.scores["indptr"]) - 1
        ids = [vocab[t] for t in tokenize([query])[0] if vocab.get(t, columns) < columns]
        if not ids:
            return np.zeros(len(self), dtype=np.float32)
        return np.asarray(self.bm25.get_scores_from_ids(ids), dtype=np.float32)


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
