"""The shipped reader back as a trainable checkpoint: its int8 ONNX weights, dequantised.

    python -m rag.read.restore ~/.cache/rag-news/reader-shipped   # then train --init that folder

Training continues from the shipped model on any machine, without the float checkpoint it was
exported from (that one lives only in the cache of the machine that trained it). The weights
are the int8 ones times their scales: within half a quantisation step of the trained floats,
which further training absorbs. torch, transformers and onnx are imported only when it runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from rag.read.export import MODEL_FILE, RECORD, SHIPPED

PREFIX = "net."  # export() wraps the question-answering model as `net`
QUANTIZED = "_quantized"


def weights(onnx_file: Path) -> dict[str, Any]:
    """The model's parameters by their transformers names, as float32 numpy arrays."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_file)).graph
    arrays = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    out: dict[str, Any] = {}
    for name, value in arrays.items():  # floats kept as they were: biases, layer norms
        if name.startswith(PREFIX) and value.dtype.kind == "f" and not name.endswith("_scale"):
            out[name[len(PREFIX) :]] = value
    for name in arrays:  # tables read by Gather (embeddings): named after their parameter
        if name.startswith(PREFIX) and name.endswith(QUANTIZED):
            base = name[: -len(QUANTIZED)]
            out[base[len(PREFIX) :]] = _dequantize(arrays, base)
    for node in graph.node:  # linear layers: MatMulInteger nodes named after their module
        if node.op_type == "MatMulInteger" and node.name.endswith("/MatMul_quant"):
            module = node.name.strip("/").removesuffix("/MatMul_quant").replace("/", ".")
            base = node.input[1].removesuffix(QUANTIZED)
            out[module[len(PREFIX) :] + ".weight"] = _dequantize(arrays, base).T
    return out


def _dequantize(arrays: dict[str, Any], base: str) -> Any:
    import numpy as np

    q = arrays[base + QUANTIZED].astype(np.float32)
    zero = arrays[base + "_zero_point"].astype(np.float32)
    return ((q - zero) * arrays[base + "_scale"]).astype(np.float32)  # per column when 1-D


def restore(out: Path, folder: Path = SHIPPED) -> Path:
    """Write the reader in `folder` as a transformers checkpoint in `out` (config from its base)."""
    import torch
    from transformers import AutoConfig, AutoModelForQuestionAnswering, AutoTokenizer

    from rag.embed.models import resolve

    record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    base = resolve(record["recipe"]["base"])
    model = AutoModelForQuestionAnswering.from_config(AutoConfig.from_pretrained(base))
    state = {k: torch.from_numpy(v.copy()) for k, v in weights(folder / MODEL_FILE).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("position_ids")]
    if missing or unexpected:
        raise click.ClickException(
            f"{folder / MODEL_FILE}: weights do not fit {base} "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]}); export it again"
        )
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    AutoTokenizer.from_pretrained(base).save_pretrained(str(out))
    (out / "recipe.json").write_text(json.dumps(record["recipe"], indent=1), encoding="utf-8")
    return out


@click.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.option(
    "--model",
    "folder",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=SHIPPED,
    help="A reader folder written by `rag.read.export` (default: the shipped one).",
)
def main(out: Path, folder: Path) -> None:
    """Write the shipped reader (or --model FOLDER's) as a checkpoint in OUT, to train further."""
    click.echo(f"restored: {restore(out, folder)}")


if __name__ == "__main__":
    main()
