"""Shipping the reader: a trained checkpoint -> one int8 ONNX file, its tokenizer and record.

    python -m rag.read.export ~/.cache/rag-news/reader-train/final   # writes rag/read/model/

The record `reader.json` holds the file's SHA-256 and size (checked when the reader loads),
the window settings it was trained with, and where it came from; docs/reader-model.md is the
model card. torch and the quantiser are imported only here.
"""

from __future__ import annotations

import json
import os
import uuid
import warnings
from pathlib import Path
from typing import Any

import click

from rag.digest import sha256_file
from rag.embed.onnx import quantize_int8

SHIPPED = Path(__file__).parent / "model"  # package data: reader-int8.onnx, tokenizer.json, ...
MODEL_FILE = "reader-int8.onnx"
RECORD = "reader.json"


def recipe_of(checkpoint: Path) -> dict[str, Any]:
    """The training recipe: `checkpoint`'s own `recipe.json` (a final folder), else the one
    `rag.read.train` wrote beside its `checkpoint-N` folders."""
    for path in (checkpoint / "recipe.json", checkpoint.parent / "recipe.json"):
        if path.is_file():
            return dict(json.loads(path.read_text(encoding="utf-8")))
    raise click.ClickException(
        f"{checkpoint}: no recipe.json in it or beside it; export a folder that "
        "python -m rag.read.train wrote (its final/ or a checkpoint-N in its output)"
    )


def export(checkpoint: Path, out: Path = SHIPPED) -> Path:
    """Export `checkpoint` (a transformers question-answering folder) into `out`; the record."""
    recipe = recipe_of(checkpoint)
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    net = AutoModelForQuestionAnswering.from_pretrained(
        str(checkpoint), attn_implementation="eager"
    ).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(checkpoint))

    class Logits(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net: Any = net

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            o = self.net(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return o.start_logits, o.end_logits  # batch x tokens each

    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = tokenizer(
        ["who?", "what is it?"], ["a passage", "another passage here"], padding=True
    )
    args = tuple(torch.tensor(example[n]) for n in names)
    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "start", "end"]}
    out.mkdir(parents=True, exist_ok=True)
    fp32 = out / f".{uuid.uuid4().hex}-fp32.onnx"
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Logits().eval(),
            args,
            str(fp32),
            input_names=names,
            output_names=["start", "end"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    try:
        quantize_int8(fp32, out / MODEL_FILE)
    finally:
        fp32.unlink(missing_ok=True)
    tmp = out / f".{uuid.uuid4().hex}"
    tokenizer.backend_tokenizer.save(str(tmp))
    os.replace(tmp, out / "tokenizer.json")
    record = {
        "file": MODEL_FILE,
        "sha256": sha256_file(out / MODEL_FILE),
        "bytes": (out / MODEL_FILE).stat().st_size,
        "tokenizer_sha256": sha256_file(out / "tokenizer.json"),
        "max_length": recipe["max_length"],
        "stride": recipe["stride"],
        "max_question": recipe["max_question"],
        "recipe": recipe,
        "card": "docs/reader-model.md",
    }
    (out / RECORD).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return out / MODEL_FILE


@click.command()
@click.argument("checkpoint", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=SHIPPED, show_default=True)
def main(checkpoint: Path, out: Path) -> None:
    """Export a trained reader CHECKPOINT to int8 ONNX with its record (for shipping)."""
    if out.resolve() != SHIPPED.resolve() and out.exists() and not out.is_dir():
        raise click.ClickException(f"{out}: not a folder")
    path = export(checkpoint, out)
    click.echo(f"{path} ({path.stat().st_size / 2**20:.1f} MB)")


if __name__ == "__main__":
    main()
