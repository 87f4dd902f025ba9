"""ONNX: a sentence-transformers model to one ONNX file (float32 or int8), once, and its check.

Setup code, kept apart from the embedders that run the file (rag/embed/embedder.py). Light to
import: torch, sentence_transformers and the quantiser are imported only while an export is made.

The cache (by default ``models/`` inside the index folder)::

    <cache>/<model slug>-<fingerprint>/   # fingerprint: the model's files + EXPORT_VERSION
        model.onnx         model.onnx.json        # float32 graph; its record {sha256, bytes, ...}
        model-int8.onnx    model-int8.onnx.json   # dynamic int8 quantisation of model.onnx
        backend.json       # what backend="auto" chose on which CPU (rag/embed/backend.py)

An export made before records existed has no ``.json``: loading it adopts it (writes the
record once ONNX Runtime has parsed the file), and `verify_exports` lists it as unrecorded
rather than failing: re-exporting would cost a torch import and a minute for a file that
is most likely sound.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.digest import sha256_file
from rag.embed.models import default_cache, resolve
from rag.errors import IndexCorruptError, ModelError

EXPORT_VERSION = 2  # bump when the exported graph changes: old cached exports are then ignored


@dataclass(frozen=True)
class ExportsChecked:
    """What `verify_exports` found: files whose sha256 matched their record, files without one."""

    checked: tuple[Path, ...]
    unrecorded: tuple[Path, ...]


def mean_pooled(path: Path) -> bool:
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


def fingerprint(path: Path) -> str:
    """Changes when the model's files do (names, sizes, times) or the export code does."""
    h = hashlib.sha256(f"{EXPORT_VERSION}".encode())
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        st = f.stat()
        h.update(f"{f.relative_to(path)}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]


def export_folder(model: str, cache_dir: Path | None = None) -> Path:
    """The cache folder of `model`'s exports (which may not exist yet); checks the model."""
    path = Path(resolve(model))
    if not path.is_dir():
        raise ModelError(f"{model!r} is not a local model folder; the ONNX backend needs one")
    if not mean_pooled(path) or not (path / "tokenizer.json").is_file():
        raise ModelError(f"{model!r} is not a mean-pooled model with a tokenizer.json")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", model).strip("-.")[-60:] or "model"
    return (cache_dir or default_cache()) / f"{slug}-{fingerprint(path)}"


def export_onnx(model: str, cache_dir: Path | None = None, quantize: bool = True) -> Path:
    """The ONNX file of `model` (int8 when `quantize`), exported on first use, then cached.

    The graph takes input_ids, attention_mask and token_type_ids (int64, batch x tokens) and
    returns the mean-pooled, L2-normalised embedding (float32, batch x dim).
    """
    folder = export_folder(model, cache_dir)
    fp32, int8 = folder / "model.onnx", folder / "model-int8.onnx"
    target = int8 if quantize else fp32
    if _intact(target):
        return target
    shared = default_cache() / folder.name / target.name  # another index's export, same model
    if shared != target and _intact(shared):
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".{uuid.uuid4().hex}.onnx"
            shutil.copyfile(shared, tmp)
            os.replace(tmp, target)
            want = _recorded(shared).get("sha256")
            if _record(target, model) == want or want is None:
                return target
            remove(target)  # the copy differs from its record: export afresh
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not _intact(fp32):
            _export(Path(resolve(model)), fp32)
            _record(fp32, model)
        if quantize:
            quantize_int8(fp32, int8)
            _record(int8, model)
        if shared != target:  # keep a copy for the next index folder (best effort)
            with contextlib.suppress(OSError):
                shared.parent.mkdir(parents=True, exist_ok=True)
                tmp = shared.with_name(f".{uuid.uuid4().hex}.onnx")
                shutil.copyfile(target, tmp)
                os.replace(tmp, shared)
                _record(shared, model)
    except ImportError as e:
        raise ModelError(
            f"the ONNX backend needs onnx and onnxruntime ({e.name} is missing)"
        ) from e
    except Exception as e:  # the exporter and quantiser raise many kinds
        raise ModelError(f"cannot export {model!r} to ONNX ({type(e).__name__}: {e})"[:300]) from e
    return target


def adopt(file: Path, model: str) -> None:
    """Give an export made before records existed its record (after it loaded fine)."""
    if file.is_file() and not record_path(file).is_file():
        with contextlib.suppress(OSError):
            _record(file, model)


def remove(file: Path) -> None:
    """Delete an export and its record, so that the next load exports it again."""
    file.unlink(missing_ok=True)
    record_path(file).unlink(missing_ok=True)


def verify_exports(models_dir: Path) -> ExportsChecked:
    """Check each ``*/*.onnx`` under `models_dir` against its record (size, then sha256).

    Raises IndexCorruptError naming the first damaged file. A missing folder checks nothing.
    """
    checked: list[Path] = []
    unrecorded: list[Path] = []
    for f in sorted(models_dir.glob("*/*.onnx")) if models_dir.is_dir() else []:
        if not record_path(f).is_file():
            unrecorded.append(f)
            continue
        want = _recorded(f)
        if not want.get("sha256"):
            raise IndexCorruptError(
                f"the record {record_path(f)} is damaged; delete {f.parent} to export it again"
            )
        if f.stat().st_size != want.get("bytes") or sha256_file(f) != want["sha256"]:
            raise IndexCorruptError(
                f"the exported model {f} is damaged (its sha256 differs from its record); "
                f"delete {f.parent} and the next load exports it again"
            )
        checked.append(f)
    return ExportsChecked(tuple(checked), tuple(unrecorded))


def record_path(file: Path) -> Path:
    """``model-int8.onnx`` -> ``model-int8.onnx.json``."""
    return file.with_name(file.name + ".json")


def _recorded(file: Path) -> dict[str, Any]:
    """The record of `file`, or {} when it is missing or unreadable."""
    try:
        out = json.loads(record_path(file).read_text())
    except (OSError, ValueError):
        return {}
    return out if isinstance(out, dict) else {}


def _intact(file: Path) -> bool:
    """Cheap check on load: the file exists and has the size its record says (when recorded)."""
    if not file.is_file():
        return False
    size = _recorded(file).get("bytes")
    return size is None or size == file.stat().st_size


def _record(file: Path, model: str) -> str:
    """Write `file`'s record (atomically) and return its sha256."""
    digest = sha256_file(file)
    body = {
        "sha256": digest,
        "bytes": file.stat().st_size,
        "model": model,
        "export_version": EXPORT_VERSION,
    }
    tmp = file.with_name(f".{uuid.uuid4().hex}.json")
    tmp.write_text(json.dumps(body, indent=1) + "\n")
    os.replace(tmp, record_path(file))
    return digest


def quantize_int8(fp32: Path, int8: Path) -> None:
    """Dynamic int8 weights, per channel (the VNNI setting of sentence-transformers)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = int8.with_name(f".{uuid.uuid4().hex}.onnx")
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
