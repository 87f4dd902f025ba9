"""The worked examples in docstrings stay true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "rag.text",
    "rag.backend",
    "rag.chunk",
    "rag.config",
    "rag.digest",
    "rag.distributed",
    "rag.fanout",
    "rag.endpoints",
    "rag.follow",
    "rag.index",
    "rag.jsonl",
    "rag.metrics",
    "rag.keyword",
    "rag.pages",
    "rag.phrase",
    "rag.query",
    "rag.records",
    "rag.retrieve",
    "rag.serving",
    "rag.shards",
    "rag.sources",
    "rag.when",
    "ui.export",
    "ui.links",
    "ui.render",
    "ui.session",
    "ui.uploads",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
