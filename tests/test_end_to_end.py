"""The real packaged model, a real index on disk, a real Gradio server (marked slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.common import free_port
from rag import Pipeline, Settings
from tests.conftest import SEEDS

pytestmark = pytest.mark.slow
QUESTION = "Which countries lead the work on security guarantees for Ukraine?"


def test_seed_answer_cites_starmer_and_macron(seed_pipeline: Pipeline) -> None:
    answer = seed_pipeline.ask(QUESTION)
    assert not answer.refused
    naming = [
        c
        for c in answer.citations
        if "Keir Starmer" in c.hit.chunk.text and "Emmanuel Macron" in c.hit.chunk.text
    ]
    assert naming, f"no citation of the passage naming Starmer and Macron: {answer.text}"
    c = naming[0]
    highlighted = c.hit.article.text[c.sentence_start : c.sentence_end]
    assert highlighted.startswith("So, over the past few months, under the leadership of Keir")
    assert highlighted.endswith("concept of security guarantees - said Rutte.")
    assert f"{highlighted} [{c.n}]" in answer.text
    assert c.hit.article.published.isoformat() == "2025-08-19"


def test_off_topic_question_is_refused(seed_pipeline: Pipeline) -> None:
    answer = seed_pipeline.ask("What is a good recipe for banana bread?")
    assert answer.refused and answer.hits


def test_user_given_model_path_works(tmp_path: Path, real_embedder) -> None:
    from rag.embed.embedder import SentenceTransformerEmbedder
    from rag.embed.models import resolve

    path = resolve("all-MiniLM-L6-v2")  # a local folder, as a user would pass with --model
    emb = SentenceTransformerEmbedder(path)
    assert emb.dim == 384
    p = Pipeline(Settings.load(env={}, index_dir=tmp_path / "ix", model=path), emb)
    p.build([SEEDS])
    assert p.status()[1].model == path
    assert not p.ask(QUESTION).refused


def test_unknown_model_gives_one_line_error() -> None:
    from rag.embed.embedder import SentenceTransformerEmbedder
    from rag.errors import ModelError

    with pytest.raises(ModelError) as err:
        SentenceTransformerEmbedder("/nonexistent/model/folder")
    assert "RAG_MODEL" in str(err.value) and "\n" not in str(err.value)


def test_ui_handler_in_process(seed_pipeline: Pipeline) -> None:
    from ui.handlers import respond

    history, cards, box = respond(seed_pipeline, QUESTION, [])
    assert box == "" and history[-1]["role"] == "assistant"
    assert '<a href="#passage-1" class="cite">[1]</a>' in history[-1]["content"]
    assert 'id="passage-1"' in cards and '<mark class="support">' in cards


def test_real_server_answers_through_gradio_client(seed_pipeline: Pipeline) -> None:
    from gradio_client import Client

    from ui.app import build_app
    from ui.assets import CSS

    app = build_app(seed_pipeline)
    port = free_port()
    app.launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, css=CSS
    )
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        history, cards, box = client.predict(QUESTION, [], api_name="/ask")
        content = history[-1]["content"]  # Gradio 6 sends a list of typed parts
        text = content if isinstance(content, str) else " ".join(p["text"] for p in content)
        assert "Keir Starmer" in cards and "[1]" in text
        assert box == ""
    finally:
        app.close()
