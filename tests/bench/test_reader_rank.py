"""bench/reader_rank.py's reader columns, with a fake reader (no model, no index)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np

from bench.reader_rank import NONE, passages, reader_columns, with_reader
from rag.read.model import Span
from rag.types import Article, Chunk, Hit


class FakeReader:
    """A span wherever the passage names a baker; margin = how often it does."""

    def read(self, question: str, texts: Sequence[str], batch: int = 16) -> list[Span]:
        return [
            Span(i, 0, 5, "baker", float(t.count("baker")), 0.0)
            for i, t in enumerate(texts)
            if "baker" in t
        ]


def _hit(doc: str, text: str, rank: int, also: tuple[Article, ...] = ()) -> Hit:
    article = Article(doc_id=doc, title=doc, text=text, published=date(2026, 1, 2))
    chunk = Chunk(id=rank, doc_id=doc, start=0, end=len(text), text=text)
    return Hit(article=article, chunk=chunk, score=1.0, rank=rank, similarity=0.5, also=also)


def test_columns_are_margins_and_gaps_to_the_best() -> None:
    cols = reader_columns("who?", ["a baker baker", "no one", "a baker"], FakeReader())
    assert cols[:, 0].tolist() == [2.0, NONE, 1.0]
    assert cols[:, 1].tolist() == [0.0, NONE - 2.0, -1.0]


def test_passages_follow_the_article_order_and_near_duplicates_read_their_hit() -> None:
    copy = Article(doc_id="b-copy", title="b", text="x", published=date(2026, 1, 2))
    hits = [
        _hit("a", "first a", 1),
        _hit("b", "the baker", 2, also=(copy,)),
        _hit("a", "second a", 3),
        _hit("c", "c text", 4),
    ]
    assert passages(hits, 3) == ["first a", "the baker", "the baker"]


def test_with_reader_adds_two_columns_per_candidate() -> None:
    hits = [_hit("a", "a baker", 1), _hit("b", "b", 2)]
    rows = [{"x": np.zeros((2, 4)), "y": np.array([True, False]), "question": "q", "hits": hits}]
    out = with_reader(rows, FakeReader())
    assert out[0]["x"].shape == (2, 6)
    assert out[0]["x"][:, 4].tolist() == [1.0, NONE]


def test_cross_check_scores_each_half_with_a_model_fitted_on_the_other() -> None:
    from bench.fit_rescore import cross_check

    rng = np.random.default_rng(5)

    def row(half: str, gold_at: int) -> dict:
        x = rng.uniform(0, 0.1, (3, 4))  # noise (a constant column has no scale)
        x[gold_at, 0] = 1.0  # one feature marks the gold candidate
        return {"half": half, "x": x, "y": np.arange(3) == gold_at}

    news = [row(w, i % 3) for i, w in enumerate(["2026-01", "2026-02"] * 4)]
    squad = [row(f"Article_{i}", (i + 1) % 3) for i in range(12)]
    report = cross_check(news, squad)
    assert set(report) == {"A->B", "B->A"}
    for half in report.values():
        for kind in ("news", "squad"):
            assert half[kind]["after"]["hit@1"] == 1.0
            assert half[kind]["before"]["hit@1"] < 1.0
