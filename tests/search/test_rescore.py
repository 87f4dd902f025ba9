"""The rescoring of the top articles by their sentences' evidence (rag/search/rescore.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag import Pipeline
from rag.errors import ConfigError
from rag.index.bm25 import KeywordIndex
from rag.search.rescore import FEATURES, Candidate, Rescorer, features
from rag.types import Article, Chunk


def candidate(doc: str, title: str, text: str, score: float) -> Candidate:
    a = Article(doc, title, text)
    return Candidate(a, (Chunk(0, doc, 0, len(text), text),), score, 0.5, 1, 1, 0.5, 1)


def test_the_sentence_that_covers_the_question_scores_higher() -> None:
    cands = [
        candidate("a", "Town news", "The mayor spoke about parking. Rain is due on Friday.", 1.0),
        candidate("b", "Ferry", "The harbour ferry to Tamsby will sail again in May.", 0.9),
    ]
    idf = KeywordIndex.build([c.article.text for c in cands]).idf
    x = features("When will the Tamsby ferry sail again?", cands, idf, ref_day=0)
    assert x.shape == (2, 2 * len(FEATURES))
    col = {n: i for i, n in enumerate(FEATURES)}
    assert x[1, col["sent_cov"]] > x[0, col["sent_cov"]]
    assert x[1, col["sent_idf"]] > x[0, col["sent_idf"]]
    assert x[0, col["score"]] == 1.0 and x[1, len(FEATURES) + col["score"]] < 0  # minus the best
    assert Rescorer.load().order(x) == [1, 0]  # the packaged model moves the ferry article up


def test_a_damaged_or_foreign_model_file_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="not a rescoring model.*RAG_RESCORE=off"):
        Rescorer.load(bad)
    other = tmp_path / "other.json"
    raw = json.loads(Path("rag/search/rescore.json").read_text())
    other.write_text(json.dumps({**raw, "features": ["x"], "weights": [1.0]}))
    with pytest.raises(ConfigError, match="other features"):
        Rescorer.load(other)


def test_rescoring_reorders_only_the_top_articles(fake_pipeline: Pipeline) -> None:
    off = fake_pipeline.search("ukraine security guarantees", k=10, rescore="off")
    width = 2 * len(FEATURES)
    weights = np.zeros(width)
    weights[FEATURES.index("inv_rank")] = -1.0  # a model that reverses the fused order
    reverse = Rescorer((0.0,) * width, (1.0,) * width, tuple(weights))
    fake_pipeline.load().retriever.rescorers["reverse"] = reverse
    flipped = fake_pipeline.search("ukraine security guarantees", k=10, rescore="reverse")
    docs = lambda hits: list(dict.fromkeys(h.article.doc_id for h in hits))  # noqa: E731
    assert docs(flipped) == list(reversed(docs(off)))[: len(docs(flipped))]
    assert [h.rank for h in flipped] == list(range(1, len(flipped) + 1))
    assert fake_pipeline.search("ukraine security guarantees", k=10)  # the packaged model runs
