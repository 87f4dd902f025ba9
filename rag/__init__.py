"""rag: a question-answering chatbot over news articles that always shows its sources.

`import rag` is light (no torch, faiss, gradio or langchain): `Pipeline` and the heavy modules
behind it are imported when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rag import errors
from rag.config import Settings
from rag.errors import *  # noqa: F403  (the whole error tree: errors.__all__)
from rag.query import Query
from rag.types import Answer, Article, BuildReport, Chunk, Citation, Hit, Manifest, Skipped

if TYPE_CHECKING:
    from rag.pipeline import Pipeline

__all__ = [
    "Answer",
    "Article",
    "BuildReport",
    "Chunk",
    "Citation",
    "Hit",
    "Manifest",
    "Pipeline",
    "Query",
    "Settings",
    "Skipped",
    *errors.__all__,
]


def __getattr__(name: str) -> Any:
    if name == "Pipeline":
        from rag.pipeline import Pipeline

        return Pipeline
    raise AttributeError(f"module 'rag' has no attribute {name!r}")
