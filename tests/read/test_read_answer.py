"""The reader's answer (rag/read/answer.py) with a fake reader: span first, agreement,
disagreement between outlets, refusal, and the features it is calibrated on."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rag.read.answer import FEATURES, REFUSAL, answer, reading, same_answer
from rag.read.model import Span
from rag.types import Article, Chunk, Hit


def _hit(text: str, rank: int, doc: str, source: str = "") -> Hit:
    a = Article(doc_id=doc, title=f"Headline {doc}", text=f"Intro line. {text}", outlet=source)
    start = len("Intro line. ")
    return Hit(Chunk(rank, doc, start, len(a.text), text), a, score=1 / rank, rank=rank)


class FakeReader:
    """Finds `answers[i]` in passage i (margin `margins[i]`); None: no span."""

    def __init__(self, answers: Sequence[str | None], margins: Sequence[float]) -> None:
        self.answers, self.margins = answers, margins

    def read(self, question: str, passages: Sequence[str], batch: int = 16) -> list[Span]:
        out = []
        for i, (text, a) in enumerate(zip(passages, self.answers, strict=False)):
            if a is not None and a in text:
                s = text.index(a)
                out.append(Span(i, s, s + len(a), a, self.margins[i], 0.0))
        return out


def test_the_span_leads_in_its_sentence_cited_by_every_passage_that_agrees() -> None:
    hits = [
        _hit("Weather was calm. The bakery was founded by Ada Moss in 1921.", 1, "a", "x.com"),
        _hit("Nothing about it.", 2, "b", "y.com"),
        _hit("Ada Moss founded the bakery, its owners said.", 3, "c", "z.com"),
    ]
    r = reading(
        "Who founded the bakery?", hits, FakeReader(["Ada Moss", None, "Ada Moss"], [6, 0, 3])
    )
    got = answer("Who founded the bakery?", hits, r, 0.9, 0.5)
    assert not got.refused
    assert got.text == "Ada Moss [1][2]. The bakery was founded by Ada Moss in 1921. [1]"
    first = got.citations[0]
    assert first.hit.article.text[first.sentence_start : first.sentence_end].startswith(
        "The bakery"
    )
    assert [h.article.doc_id for h in got.hits] == ["a", "c", "b"]
    assert got.disagreements == ()


def test_different_answers_from_different_outlets_are_a_disagreement() -> None:
    hits = [
        _hit("The fair was held in Lyon this year.", 1, "a", "one.example"),
        _hit("This year the fair was held in Marseille.", 2, "b", "two.example"),
    ]
    r = reading("Where was the fair held?", hits, FakeReader(["Lyon", "Marseille"], [5, 4]))
    got = answer("Where was the fair held?", hits, r, 0.8, 0.5)
    (d,) = got.disagreements
    assert [s.value for s in d.sides] == ["Lyon", "Marseille"]
    assert [s.citations for s in d.sides] == [(1,), (2,)]
    assert "Sources disagree on the answer: [1] (undated) says Lyon; [2] (undated) says" in got.text


def test_forms_of_one_value_are_no_disagreement() -> None:
    assert same_answer("thirty", "30") and same_answer("The Harbour Bridge", "harbour bridge")
    hits = [
        _hit("Officials count thirty boats in the bay.", 1, "a", "one.example"),
        _hit("In the bay, officials count 30 boats.", 2, "b", "two.example"),
    ]
    q = "How many boats do officials count in the bay?"
    r = reading(q, hits, FakeReader(["thirty", "30"], [5, 4]))
    got = answer(q, hits, r, 0.8, 0.5)
    assert got.disagreements == () and got.text.startswith("thirty [1][2].")


def test_different_numbers_are_left_to_the_sentences_check() -> None:
    hits = [
        _hit("The ferry carries 400 passengers across the sound.", 1, "a", "one.example"),
        _hit(
            "Across the sound, the ferry carries 60 cars and 380 passengers.", 2, "b", "two.example"
        ),
    ]
    q = "How many passengers does the ferry carry across the sound?"
    r = reading(q, hits, FakeReader(["400", "60 cars and 380"], [5, 4]))
    got = answer(q, hits, r, 0.8, 0.5)
    assert got.disagreements == ()  # rag/answer/disagree.py sets the two sentences side by side
    assert got.text.startswith("400 [1].")


def test_low_confidence_or_no_span_refuses_and_keeps_the_hits() -> None:
    hits = [_hit("The bakery sells bread.", 1, "a")]
    r = reading("Who founded it?", hits, FakeReader(["bread"], [2]))
    got = answer("Who founded it?", hits, r, 0.2, 0.5)
    assert got.refused and got.text == REFUSAL and got.hits == tuple(hits)
    none = reading("Who founded it?", hits, FakeReader([None], [0]))
    assert none.best is None and answer("Who founded it?", hits, none, 0.9, 0.5).refused


def test_features_say_kind_support_and_rivals() -> None:
    hits = [
        _hit("It opened in 1921.", 1, "a"),
        _hit("It opened in 1921, records show.", 2, "b"),
        _hit("Some say it opened in 1925.", 3, "c"),
    ]
    r = reading("When did it open?", hits, FakeReader(["1921", "1921", "1925"], [6, 2, 1]))
    x = dict(zip(FEATURES, r.x.tolist(), strict=True))
    assert x["margin"] == 6 and x["kind"] == 1.0 and x["second"] == 1
    assert np.isclose(x["support"], np.log1p(1))
    wrong_kind = reading("When did it open?", hits, FakeReader(["It"], [6]))
    assert dict(zip(FEATURES, wrong_kind.x.tolist(), strict=True))["kind"] == 0.0


def test_narrowed_keeps_the_sentences_around_each_span_with_article_offsets() -> None:
    from rag.read.answer import narrowed

    text = "One a. Two b. The bakery was founded by Ada Moss. Four d. Five e. Six f."
    hits = [_hit(text, 1, "a"), _hit("Alpha one. Beta two. Gamma three. Delta four.", 2, "b")]
    r = reading("Who founded it?", hits, FakeReader(["Ada Moss", None], [5, 0]))
    first, second = narrowed(hits, r)
    assert first.chunk.text == "Two b. The bakery was founded by Ada Moss. Four d."
    assert first.article.text[first.chunk.start : first.chunk.end] == first.chunk.text
    assert second.chunk.text == "Alpha one. Beta two. Gamma three."


def test_an_answer_about_another_place_is_no_side() -> None:
    hits = [
        _hit("The Veslen fair was held in Lyon this year.", 1, "a", "one.example"),
        _hit("The Orlen fair was held in Marseille this year.", 2, "b", "two.example"),
    ]
    q = "Where was the Veslen fair held this year?"
    got = answer(q, hits, reading(q, hits, FakeReader(["Lyon", "Marseille"], [5, 4])), 0.8, 0.5)
    assert got.disagreements == () and got.text.startswith("Lyon [1].")
