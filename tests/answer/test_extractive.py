"""Sentence spans and the extractive answer."""

from __future__ import annotations

import numpy as np

from rag.answer.extractive import REFUSAL, extractive
from rag.text import sentences
from rag.types import Article, Chunk, Hit
from tests.conftest import FakeEmbedder


def test_sentences_are_trimmed_spans() -> None:
    text = 'He said "Go." Then left!  Next line\nNew para. 3 items remain.'
    got = [text[s:e] for s, e in sentences(text)]
    assert got == ['He said "Go."', "Then left!", "Next line", "New para.", "3 items remain."]


def test_sentences_inside_a_window_use_article_offsets() -> None:
    text = "First one. Second one. Third one."
    spans = sentences(text, 11, 33)
    assert [text[s:e] for s, e in spans] == ["Second one.", "Third one."]


def _hit(text: str, rank: int, sim: float, doc: str) -> Hit:
    a = Article(doc_id=doc, title=doc, text=text)
    return Hit(Chunk(rank, doc, 0, len(text), text), a, score=1.0 / rank, rank=rank, similarity=sim)


def test_answer_numbers_cited_passages_first() -> None:
    emb = FakeEmbedder()
    hits = [
        _hit("Nothing relevant here at all.", 1, 0.9, "a"),
        _hit("The bridge opened in 1932 after six years.", 2, 0.8, "b"),
    ]
    q = "When did the bridge open?"
    answer = extractive(q, emb.encode([q])[0], hits, emb.encode, min_score=0.2)
    assert answer.citations[0].hit.article.doc_id == "b" and answer.citations[0].n == 1
    assert answer.text.startswith("1932 [1]. The bridge opened in 1932 after six years. [1]")
    assert [h.article.doc_id for h in answer.hits] == ["b", "a"]
    assert [h.rank for h in answer.hits] == [1, 2]


def test_weak_evidence_is_refused_but_passages_kept() -> None:
    hits = [_hit("Unrelated.", 1, 0.1, "a")]
    answer = extractive("q", np.ones(64, np.float32), hits, FakeEmbedder().encode, min_score=0.3)
    assert answer.refused and answer.text == REFUSAL and answer.hits == tuple(hits)


def test_the_headline_and_questions_are_never_the_answer() -> None:
    """The headline holds the question's words but not the fact: the body sentence answers."""
    emb = FakeEmbedder()
    title = "Orrby opens a library in its old station"
    text = (
        f"{title}\nWill the Orrby station library lend books? "
        "The shelves hold 4,500 books and a reading room."
    )
    a = Article(doc_id="d", title=title, text=text)
    hits = [Hit(Chunk(1, "d", 0, len(text), text), a, score=1.0, rank=1, similarity=0.9)]
    q = "How many books does the Orrby station library lend?"
    answer = extractive(q, emb.encode([q])[0], hits, emb.encode, min_score=0.2)
    quoted = [text[c.sentence_start : c.sentence_end] for c in answer.citations]
    assert quoted == ["The shelves hold 4,500 books and a reading room."]
    assert answer.text.startswith("4,500 [1].")
