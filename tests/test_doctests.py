"""The worked examples in docstrings stay true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "rag.text",
    "rag.answer.evidence",
    "rag.errors",
    "rag.embed.backend",
    "rag.ingest.chunk",
    "rag.config",
    "rag.settings_groups",
    "rag.digest",
    "rag.embed.cluster",
    "rag.index.fanout",
    "rag.llm.endpoints",
    "rag.ingest.follow",
    "rag.index.vectors",
    "rag.ingest.jsonl",
    "rag.eval.metrics",
    "rag.index.bm25",
    "rag.ingest.pages",
    "rag.answer.phrase",
    "rag.query",
    "rag.ingest.records",
    "rag.search.retrieve",
    "rag.cli.serving",
    "rag.addresses",
    "rag.index.kinds",
    "rag.index.shards",
    "rag.ingest.sources",
    "rag.search.when",
    "ui.transcript",
    "ui.links",
    "ui.render",
    "ui.session",
    "ui.uploads",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
