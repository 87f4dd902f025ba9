"""The answerability gate: features, the fitted model, and answer-first extractive answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.answer.evidence import FEATURES, features, gather
from rag.answer.extractive import REFUSAL, extractive
from rag.answer.gate import PACKAGED, Gate, curve, fit
from rag.answer.phrase import phrase, wanted
from rag.errors import ConfigError
from rag.types import Answer, Article, Chunk, Hit
from tests.conftest import FakeEmbedder

FERRY = (
    "The new ferry Norda entered service on Monday. The Norda can carry 420 passengers between "
    "Vask and Holm. The captain, Ines Berg, said the crossing takes 35 minutes. The old ferry was "
    "retired in March 2029 after forty years."
)


def _hit(text: str, doc: str = "a", rank: int = 1, sim: float = 0.6) -> Hit:
    a = Article(doc_id=doc, title=f"{doc} title", text=text)
    return Hit(Chunk(rank, doc, 0, len(text), text), a, 1.0 / rank, rank, 1, 1, similarity=sim)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many passengers does the ferry carry?", "number"),
        ("When was the old ferry retired?", "date"),
        ("In what year did it sink?", "date"),
        ("Who is the captain?", "name"),
        ("Which company built it?", "name"),
        ("Where does the ferry sail to?", "place"),
        ("Why was it late?", ""),
    ],
)
def test_what_a_question_asks_for(question: str, kind: str) -> None:
    assert wanted(question) == kind


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("How many passengers does the ferry carry?", "It carries 420 passengers.", "420"),
        ("When was the old ferry retired?", "It was retired in March 2029.", "March 2029"),
        ("Who is the captain?", "The captain, Ines Berg, said it was calm.", "Ines Berg"),
        ("How long is the crossing?", "The crossing takes 35 minutes.", "35"),
        ("Where does it sail from?", "It sails from Vask at dawn.", "Vask"),
        ("Who is the captain?", "The crossing takes 35 minutes.", ""),  # nothing of the kind
        ("Who is Ines Berg?", "Ines Berg said it was calm.", ""),  # only what was asked about
        ("Why was it late?", "Fog delayed it by an hour.", ""),
    ],
)
def test_the_phrase_comes_from_the_sentence(question: str, sentence: str, expected: str) -> None:
    got = phrase(question, sentence)
    assert got == expected
    assert got in sentence  # never a phrase the sentence does not contain


def test_features_of_an_answering_and_an_unrelated_passage() -> None:
    emb = FakeEmbedder()
    q = "How many passengers can the Norda carry?"
    qvec = emb.encode([q])[0]
    good = [_hit(FERRY)]
    bad = [_hit("Bakers in Holm sell rye bread. The market is busy in spring.", sim=0.1)]
    fg = dict(zip(FEATURES, features(q, good, gather(q, qvec, good, emb.encode)), strict=True))
    fb = dict(zip(FEATURES, features(q, bad, gather(q, qvec, bad, emb.encode)), strict=True))
    assert fg["sentence_coverage"] > fb["sentence_coverage"]
    assert fg["type_present"] == 1.0 and fb["type_present"] == 0.0
    assert fg["facts_coverage"] == 1.0 and fb["facts_coverage"] == 0.0  # "Norda"
    assert fg["sentence_similarity"] > fb["sentence_similarity"]
    assert fg["agreement"] == 1.0 and fg["margin"] == 0.0  # one article: no rival


def _toy_gate() -> Gate:
    rng = np.random.default_rng(0)
    n = 400
    y = rng.random(n) < 0.5
    x = rng.normal(size=(n, len(FEATURES))).astype(np.float32)
    x[:, 0] += np.where(y, 1.5, -1.5)  # sentence similarity separates them
    check = np.arange(n) % 2 == 1
    return fit(x, y, check, "toy")


def test_fit_gives_a_model_and_a_refusal_curve(tmp_path: Path) -> None:
    gate = _toy_gate()
    assert gate.weights[0] > 1.0 and gate.features == FEATURES
    high = np.zeros(len(FEATURES)), np.zeros(len(FEATURES))
    high[0][0], high[1][0] = 3.0, -3.0
    assert gate.probability(high[0]) > 0.9 > 0.1 > gate.probability(high[1])
    assert gate.curve and all(0 <= p <= 1 and 0 <= r <= 1 for _, p, r in gate.curve)
    strict, loose = gate.threshold(0.95), gate.threshold(0.6)
    assert strict <= loose  # asking for surer refusals refuses less
    again = Gate.load(gate.save(tmp_path / "g.json"))
    assert again == gate


def test_curve_counts_refusals_of_unanswerable_questions() -> None:
    p = np.array([0.1, 0.2, 0.8, 0.9])
    answerable = np.array([False, True, True, False])
    rows = {t: (prec, rec) for t, prec, rec in curve(p, answerable)}
    assert rows[0.2] == (1.0, 0.5)  # below 0.2: the first, rightly refused
    assert rows[0.8] == (0.5, 0.5)


def test_a_damaged_or_foreign_gate_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "gate.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="refit it"):
        Gate.load(bad)
    with pytest.raises(ConfigError, match="refusal_precision"):
        _toy_gate().threshold(1.5)


def test_the_packaged_gate_loads() -> None:
    gate = Gate.load(PACKAGED)
    assert gate.features == FEATURES and gate.curve and gate.trained_on


def test_answer_leads_with_the_best_sentence_and_its_phrase() -> None:
    emb = FakeEmbedder()
    hits = [_hit("Bakers in Holm sell rye bread.", "b", 1, 0.5), _hit(FERRY, "a", 2, 0.6)]
    q = "How many passengers can the Norda carry?"
    answer = extractive(q, emb.encode([q])[0], hits, emb.encode, min_score=0.0)
    assert answer.text.startswith(
        "420 [1]. The Norda can carry 420 passengers between Vask and Holm. [1]"
    )
    first = answer.citations[0]
    assert first.n == 1 and first.hit.article.doc_id == "a"
    assert first.hit.article.text[first.sentence_start : first.sentence_end].startswith(
        "The Norda can"
    )
    assert answer.confidence is not None


def test_below_the_threshold_is_a_refusal_with_passages_and_confidence() -> None:
    emb = FakeEmbedder()
    hits = [_hit("Bakers in Holm sell rye bread.", sim=0.1)]
    q = "How many passengers does the ferry carry?"
    gate = _toy_gate()
    answer = extractive(q, emb.encode([q])[0], hits, emb.encode, min_score=0.99, gate=gate)
    assert answer.refused and answer.text == REFUSAL and answer.hits == tuple(hits)
    assert answer.confidence is not None and answer.confidence < 0.99


def test_features_gathered_saved_and_fitted(fake_pipeline, tmp_path: Path) -> None:
    from rag.answer.calibrate import Features, fit_files, gather_features
    from rag.eval.dataset import Question

    qs = [
        Question("a", "How long do cats sleep?", ("x",), ("sixteen hours",)),
        Question("b", "When did the rocket launch?", ("y",), ("Tuesday",)),
        Question("c", "Who painted the ceiling of the old chapel?", ("z",), is_impossible=True),
        Question("d", "What do penguins eat in winter?", ("w",), is_impossible=True),
    ]
    found = gather_features(fake_pipeline, qs)
    assert found.x.shape == (4, len(FEATURES)) and found.answerable.tolist() == [1, 1, 0, 0]
    again = Features.load(found.save(tmp_path / "f.npz"))
    assert np.array_equal(again.x, found.x) and len(set(again.group.tolist())) == 4
    gate = fit_files([tmp_path / "f.npz", tmp_path / "f.npz"])
    assert gate.features == FEATURES and "8 rows, 4 unanswerable" in gate.trained_on


def test_a_generated_answer_with_nothing_backed_on_weak_evidence_is_not_shown() -> None:
    from dataclasses import replace

    from rag.ask import unbacked
    from rag.types import Citation

    hit = _hit(FERRY)
    base = Answer("q", "x [1]", False, hits=(hit,), confidence=0.3)
    wrong = Answer("q", "It carries 900 cars [1].", False, (Citation(1, hit, 0, 10, False),))
    assert unbacked(wrong, base, 0.5)
    assert not unbacked(wrong, replace(base, confidence=0.8), 0.5)  # strong evidence: shown
    backed = replace(wrong, citations=(Citation(1, hit, 0, 10, True),))
    assert not unbacked(backed, base, 0.5)  # a backed claim: shown
