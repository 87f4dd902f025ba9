"""Keyword: a BM25 index over chunk texts (bm25s), built once at index time and saved with it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from .errors import IndexCorruptError

_stemmer = Stemmer.Stemmer("english")
logging.getLogger("bm25s").setLevel(logging.WARNING)


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, English stop words removed, Snowball-stemmed tokens."""
    out = bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_stemmer, return_ids=False, show_progress=False
    )
    return [list(t) for t in out]  # type: ignore[union-attr]


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

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex:
        try:
            return cls(bm25s.BM25.load(str(folder), mmap=False, show_progress=False))
        except Exception as e:  # numpy/json raise many kinds on damaged files
            raise IndexCorruptError(
                f"{folder}: cannot read the keyword index ({type(e).__name__}); "
                "run `rag index build` to rebuild"
            ) from e

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for `query` (zeros when no query word is indexed)."""
        return np.asarray(self.bm25.get_scores(tokenize([query])[0]), dtype=np.float32)
