"""The optional cross-encoder reranker, with a tiny randomly initialised model saved locally."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag import Pipeline
from rag.errors import ModelError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 2-layer BERT with a random head, saved as a CrossEncoder folder (no network)."""
    from sentence_transformers import CrossEncoder
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from rag.embed.models import resolve

    folder = tmp_path_factory.mktemp("tiny-ce")
    tokenizer = AutoTokenizer.from_pretrained(resolve("all-MiniLM-L6-v2"))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=1,
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    CrossEncoder(str(folder), device="cpu").save(str(folder))
    return str(folder)


def test_reranker_reorders_candidates(fake_pipeline: Pipeline, tiny_cross_encoder: str) -> None:
    plain = fake_pipeline.search("rocket launch crew station", k=3, per_article=1)
    p = Pipeline(fake_pipeline.settings.with_(reranker=tiny_cross_encoder), fake_pipeline.embedder)
    reranked = p.search("rocket launch crew station", k=3, per_article=1)
    assert {h.chunk.id for h in reranked} == {h.chunk.id for h in plain}
    scores = p.reranker.score("rocket launch", [h.chunk.text for h in reranked])
    assert scores.shape == (3,) and np.isfinite(scores).all()
    texts = [f"{h.article.title}\n{h.chunk.text}" for h in reranked]
    order = np.argsort(-p.reranker.score("rocket launch crew station", texts), kind="stable")
    assert list(order) == [0, 1, 2]  # the hits come back in the reranker's order


def test_bad_reranker_path_is_one_line(fake_pipeline: Pipeline, tmp_path: Path) -> None:
    p = Pipeline(
        fake_pipeline.settings.with_(reranker=str(tmp_path / "missing")), fake_pipeline.embedder
    )
    with pytest.raises(ModelError, match="RAG_RERANKER"):
        p.search("rocket")
