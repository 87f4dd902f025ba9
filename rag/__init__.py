"""rag: a question-answering chatbot over news articles that always shows its sources."""

from .config import Settings
from .errors import RagError
from .pipeline import Pipeline
from .types import Answer, Article, BuildReport, Chunk, Citation, Hit, Manifest, Skipped

__all__ = [
    "Answer",
    "Article",
    "BuildReport",
    "Chunk",
    "Citation",
    "Hit",
    "Manifest",
    "Pipeline",
    "RagError",
    "Settings",
    "Skipped",
]
