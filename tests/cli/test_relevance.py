"""One name and one number for how well a passage matches (issue 23, 5): `rag search` and
`rag ask` print "(relevance 0.NN)", `--json` gives that value as "relevance" (the fused "score"
is another number, kept for scripts that sort by it; "similarity" is gone), and the page's search
results, its answer cards and the agents' tools show the same "relevance 0.NN". The real `rag`
command in-process over the fake embedder; made-up articles."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from rag import Pipeline, Settings
from tests.conftest import FakeEmbedder
from tests.fakecli import FAKE, fake_cli

SHOWN = re.compile(r"relevance (\d\.\d\d)")


def _built(tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Path]:
    """The CLI (fake embedder) and an index of `corpus` it built."""
    rag = fake_cli(monkeypatch)
    ix = tmp_path / "ix"
    assert rag("index", "build", corpus, "--index", ix, "--quiet").exit_code == 0
    return rag, ix


def _page_pipeline(index: Path) -> Pipeline:
    return Pipeline(Settings.load(env={}, **{**FAKE, "index_dir": index}), FakeEmbedder())


def test_search_relevance_is_one_figure_in_cli_json_page_and_tools(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui.agents import tools
    from ui.handlers import search

    rag, ix = _built(tmp_path, corpus, monkeypatch)
    query = "rocket launch"
    hits = json.loads(rag("search", query, "--index", ix, "--json", "--k", "3").stdout)["hits"]
    assert len(hits) >= 2 and all("similarity" not in h for h in hits)
    want = [f"{h['relevance']:.2f}" for h in hits]
    assert any(f"{h['score']:.2f}" != f"{h['relevance']:.2f}" for h in hits)  # two figures
    text = rag("search", query, "--index", ix, "--k", "3").stdout
    assert SHOWN.findall(text) == want and "score" not in text
    p = _page_pipeline(ix)
    assert SHOWN.findall(search(p, query, 3, {})) == want  # the Search tab
    assert SHOWN.findall(tools(p)[1](query, n=3)) == want  # the agents' search tool


def test_answer_relevance_is_one_figure_in_cli_json_and_cards(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui.render import cards_html

    rag, ix = _built(tmp_path, corpus, monkeypatch)
    question = "How long do cats sleep?"
    data = json.loads(rag("ask", question, "--index", ix, "--json").stdout)
    want = [f"{h['relevance']:.2f}" for h in data["passages"]]
    assert want and {c["relevance"] for c in data["citations"]} <= {
        h["relevance"] for h in data["passages"]
    }
    text = rag("ask", question, "--index", ix).stdout
    assert SHOWN.findall(text) == want and "(score" not in text
    assert SHOWN.findall(cards_html(_page_pipeline(ix).ask(question))) == want  # the page's cards
