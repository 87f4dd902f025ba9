"""Embedder: texts to normalised vectors with one sentence-transformers model (PyTorch or ONNX).

Backends (`Settings.index.backend`):

- ``torch``: `SentenceTransformer.encode`, float32.
- ``onnx``: the same network exported once to ONNX and run by ONNX Runtime, float32.
- ``onnx-int8``: that export with int8 weights (dynamic quantisation, AVX-512 VNNI friendly):
  on such a CPU 2x float32 ONNX and 3.6x PyTorch, same retrieval quality on ../shared/eval.
- ``auto``: the faster of the two ONNX files on this CPU (rag/embed/backend.py) where onnxruntime
  is installed and the model is a plain transformer + mean pooling + normalise
  (all-MiniLM-L6-v2 is), else ``torch``.

Each embedder says which backend it runs (``backend``) and why (``reason``). The export is
setup, in rag/embed/onnx.py: it runs once into a cache folder keyed by the model's files (by
default ``models/`` inside the index folder). Running a cached export imports neither torch
nor transformers.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import numpy as np

from rag.config import BACKENDS, DEFAULT_MODEL
from rag.embed.models import default_cache, resolve
from rag.errors import ModelError, brief


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 rows of width `dim`."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """The real model. `name` is what the user asked for; it goes into the manifest."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 64) -> None:
        from sentence_transformers import SentenceTransformer

        self.name = model
        self.batch_size = batch_size
        self.backend = "torch"
        self.reason = "asked for"
        with _loading(
            f"embedding model {model!r}",
            "give a local path or a sentence-transformers model name with --model / RAG_MODEL",
        ):
            self.model = SentenceTransformer(resolve(model), device="cpu")
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


def load(
    model: str = DEFAULT_MODEL,
    batch_size: int = 32,
    backend: str = "auto",
    cache_dir: Path | None = None,
) -> Embedder:
    """The embedder for `backend` (see the module docstring), with `backend` and `reason`
    attributes; "auto" never fails over ONNX: it falls back to PyTorch, saying why on stderr."""
    if backend not in BACKENDS:
        raise ModelError(f"backend {backend!r} is not one of {', '.join(BACKENDS)}")
    if backend == "torch":
        return SentenceTransformerEmbedder(model, batch_size)
    if backend in ("onnx", "onnx-int8"):
        return OnnxEmbedder(model, batch_size, quantize=backend == "onnx-int8", cache_dir=cache_dir)
    try:
        return _auto(model, batch_size, cache_dir)
    except ModelError as e:
        print(f"note: using the PyTorch backend: {e}", file=sys.stderr)
        torch = SentenceTransformerEmbedder(model, batch_size)
        torch.reason = f"ONNX unavailable: {e}"
        return torch


def _auto(model: str, batch_size: int, cache_dir: Path | None) -> OnnxEmbedder:
    """The faster ONNX embedder on this CPU (by its flags, else timed once and remembered)."""
    from rag.embed import backend as choice
    from rag.embed import onnx as export

    folder = export.export_folder(model, cache_dir)  # ModelError when ONNX cannot do it
    made: dict[str, OnnxEmbedder] = {}

    def onnx(name: str) -> OnnxEmbedder:
        if name not in made:
            made[name] = OnnxEmbedder(
                model, batch_size, quantize=name == "onnx-int8", cache_dir=cache_dir
            )
        return made[name]

    timers = {n: lambda n=n: choice.seconds_for_sample(onnx(n)) for n in ("onnx-int8", "onnx")}
    folders = [folder, default_cache() / folder.name]  # this index's, and the user cache's
    name, reason = choice.choose(choice.cpu(), folders, folder.name, timers)
    chosen = onnx(name)
    chosen.reason = reason
    return chosen


class OnnxEmbedder:
    """The model exported to ONNX, run by ONNX Runtime; same vectors as the PyTorch one
    (float32: cosine > 0.9999; int8: about 0.99)."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        batch_size: int = 32,
        *,
        quantize: bool = True,
        cache_dir: Path | None = None,
        threads: int | None = None,
    ) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as e:
            raise ModelError(f"the ONNX backend needs onnxruntime ({e.name} is missing)") from e
        self.name = model
        self.batch_size = batch_size
        self.backend = "onnx-int8" if quantize else "onnx"
        self.reason = "asked for"
        from rag.embed.onnx import adopt, export_onnx, remove

        self.file = export_onnx(model, cache_dir, quantize)
        path = Path(resolve(model))
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        try:
            self._start(ort, str(self.file), max_tokens(path), threads)
        except Exception as e:  # a damaged cached file: remove it so the next load re-exports
            remove(self.file)
            raise ModelError(f"cannot load {self.file} ({type(e).__name__}); try again") from e
        adopt(self.file, model)  # an export older than integrity records gets one now

    @classmethod
    def from_bytes(
        cls,
        model: str,
        onnx: bytes,
        tokenizer: str,
        tokens: int,
        *,
        batch_size: int = 32,
        backend: str = "onnx-int8",
        threads: int | None = None,
    ) -> OnnxEmbedder:
        """The embedder from an export's bytes and its tokenizer.json text, needing no model
        folder or cache: how Ray workers on other machines get it (rag/embed/cluster.py)."""
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self = cls.__new__(cls)
        self.name, self.batch_size, self.backend, self.reason = model, batch_size, backend, ""
        self.file = Path(f"<{len(onnx)} bytes>")
        self.tokenizer = Tokenizer.from_str(tokenizer)
        self._start(ort, onnx, tokens, threads)
        return self

    def _start(self, ort: Any, onnx: str | bytes, tokens: int, threads: int | None) -> None:
        """Open the ONNX Runtime session on `onnx` (a path or the file's bytes)."""
        self.tokenizer.enable_truncation(tokens)
        self.tokenizer.no_padding()  # we pad per batch, after sorting by length
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or _cpus()
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # shared CPUs
        self.session = ort.InferenceSession(onnx, options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.dim = int(self.session.get_outputs()[0].shape[1] or self.encode(["x"]).shape[1])

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encs = self.tokenizer.encode_batch(list(texts))
        order = np.argsort([len(e.ids) for e in encs], kind="stable")
        rows: list[np.ndarray] = []
        for batch in batches([encs[i] for i in order], self.batch_size):
            width = len(batch[-1].ids)  # sorted: the last is the longest
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for r, e in enumerate(batch):
                ids[r, : len(e.ids)] = e.ids
                mask[r, : len(e.ids)] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            rows.append(
                self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
            )
        out = np.empty((len(texts), rows[0].shape[1]), dtype=np.float32)
        out[order] = np.concatenate(rows)
        return out


def batches(encs: list[Any], size: int, slack: float = 1.25) -> list[list[Any]]:
    """Split encodings sorted by length into batches of at most `size` whose longest is at
    most `slack` times (+ 4 tokens) their shortest: padding stays small.

    Answer sentences (10 to 60 tokens) then cost 40 % less CPU than in one padded batch;
    chunks of similar length still fill whole batches.
    """
    out: list[list[Any]] = []
    for e in encs:
        if out and len(out[-1]) < size and len(e.ids) <= slack * len(out[-1][0].ids) + 4:
            out[-1].append(e)
        else:
            out.append([e])
    return out


def max_tokens(path: Path) -> int:
    """The model's input limit in tokens (sentence_bert_config.json; 512 when it is missing)."""
    try:
        config = json.loads((path / "sentence_bert_config.json").read_text())
        return int(config.get("max_seq_length") or 512)
    except (OSError, ValueError):
        return 512


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@contextlib.contextmanager
def _loading(what: str, hint: str) -> Iterator[None]:
    """Turn any failure to load a model into a one-line ModelError saying what to do."""
    try:
        yield
    except Exception as e:  # the library raises many kinds (OSError, HF errors, ValueError)
        raise ModelError(f"cannot load {what} ({brief(e)}); {hint}") from e


class Reranker(Protocol):
    """Scores (question, passage) pairs; higher is more relevant."""

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray: ...


class CrossEncoderReranker:
    """A sentence-transformers CrossEncoder by name or local path (off unless configured)."""

    def __init__(self, model: str) -> None:
        from sentence_transformers import CrossEncoder

        with _loading(
            f"reranker {model!r}",
            "give a local path or a CrossEncoder model name with RAG_RERANKER, or unset it",
        ):
            self.model = CrossEncoder(model, device="cpu")

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        if not passages:
            return np.zeros(0, np.float32)
        pairs = [(query, p) for p in passages]
        return np.asarray(self.model.predict(pairs, show_progress_bar=False), dtype=np.float32)
