"""Chunk offsets point at the exact chunk text."""

from __future__ import annotations

import pytest

from rag.ingest.chunk import spans
from tests.conftest import SEEDS

TEXTS = [
    "Short.",
    "word " * 500,
    "Same sentence again. " * 120,
    "Para one is here.\n\nPara two follows, with more words in it.\n\n" * 40,
    "Ünïcödé — “quotes” and emoji 🎉 in a sentence. " * 60,
    (SEEDS / "000_55bc94bc3d2eb8b0.txt").read_text(),
]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("size,overlap", [(200, 0), (400, 80), (800, 100)])
def test_chunk_text_equals_article_slice(text: str, size: int, overlap: int) -> None:
    out = spans(text, size, overlap)
    assert out, "every non-empty text gives at least one chunk"
    pieces = [text[s:e] for s, e in out]
    assert all(p.strip() == p and p for p in pieces)
    assert all(len(p) <= size for p in pieces)
    assert [s for s, _ in out] == sorted(s for s, _ in out)
    covered = set()
    for s, e in out:
        covered.update(range(s, e))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())
