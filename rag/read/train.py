"""Training the reader: a span head and a no-answer score fine-tuned on SQuAD 2.0 train.

The standard recipe (Devlin et al. 2019; the transformers question-answering example): the
question and a window of the passage are one input, windows overlap by a stride, a window whose
answer is not wholly inside it (or an unanswerable question) points at `[CLS]`. The trainer is
transformers' `Trainer`: seeded, checkpointed every `--save-every` steps, resumed from the last
checkpoint when the output folder has one, its log kept in `train_log.jsonl`.

    python -m rag.read.train --out ~/.cache/rag-news/reader-train --max-steps 1500
    python -m rag.read.train --data tiny.jsonl --out /tmp/r --max-steps 2   # the smoke test

Input lines (SQuAD 2.0 train as in ../shared/train/squad2_train): `{"question", "context",
"answers": [{"text", "answer_start"}], "is_impossible"}`. Needs the `[train]` extra
(transformers' Trainer, accelerate).
"""

from __future__ import annotations

import gzip
import json
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import click

DEFAULT_DATA = Path("../shared/train/squad2_train/squad2_train.jsonl.gz")


@dataclass(frozen=True)
class Recipe:
    """Everything that decides the trained weights (written to `recipe.json` beside them)."""

    base: str = "all-MiniLM-L6-v2"
    max_length: int = 192  # tokens per window: question + passage
    stride: int = 64  # tokens two windows of one passage share
    max_question: int = 48  # longer questions are cut to this many tokens
    questions: int = 0  # 0 = all; else a seeded sample of this many
    batch: int = 16
    lr: float = 1e-4
    warmup: float = 0.06
    max_steps: int = 1000
    seed: int = 17
    # embeddings and the lowest layers kept as they are: no backward pass through them (about
    # 1.5x the windows a second with 3 of 6 layers on 2 cores), and fewer weights to move
    freeze_layers: int = 3
    init: str = ""  # start from these weights (a trained reader) instead of the base model


def read_questions(path: Path, limit: int, seed: int) -> list[dict[str, Any]]:
    """The training questions, shuffled with `seed`, the first `limit` of them (0 = all)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    random.Random(seed).shuffle(rows)
    return rows[:limit] if limit else rows


def windows(rows: list[dict[str, Any]], tokenizer: Any, recipe: Recipe) -> Iterator[dict]:
    """Question/passage windows with their answer's token positions (0, 0 = no answer).

    One question -> one or more windows (`return_overflowing_tokens`, `stride`); the answer's
    character span is mapped to tokens through the offsets of the passage's tokens only.
    """
    for start in range(0, len(rows), 256):
        part = rows[start : start + 256]
        questions = [_cut_question(r["question"], tokenizer, recipe.max_question) for r in part]
        enc = tokenizer(
            questions,
            [r["context"] for r in part],
            truncation="only_second",
            max_length=recipe.max_length,
            stride=recipe.stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
        )
        for i, offsets in enumerate(enc["offset_mapping"]):
            row = part[enc["overflow_to_sample_mapping"][i]]
            first, last = _answer_tokens(row, offsets, enc.sequence_ids(i))
            yield {
                "input_ids": enc["input_ids"][i],
                "attention_mask": enc["attention_mask"][i],
                "token_type_ids": enc["token_type_ids"][i],
                "start_positions": first,
                "end_positions": last,
            }


def _cut_question(question: str, tokenizer: Any, limit: int) -> str:
    ids = tokenizer(question.strip(), add_special_tokens=False)["input_ids"]
    return question.strip() if len(ids) <= limit else tokenizer.decode(ids[:limit])


def _answer_tokens(row: dict, offsets: list, seq_ids: list) -> tuple[int, int]:
    """Token positions of the answer inside this window, or (0, 0) for `[CLS]`."""
    answers = row.get("answers") or []
    if row.get("is_impossible") or not answers:
        return 0, 0
    a_start = answers[0]["answer_start"]
    a_end = a_start + len(answers[0]["text"])
    passage = [k for k, s in enumerate(seq_ids) if s == 1]
    if not passage or offsets[passage[0]][0] > a_start or offsets[passage[-1]][1] < a_end:
        return 0, 0
    first = next(k for k in passage if offsets[k][1] > a_start)
    last = next(k for k in reversed(passage) if offsets[k][0] < a_end)
    return first, last


def _freeze(model: Any, layers: int) -> None:
    """No gradients for the embeddings and the first `layers` encoder layers (0: train all)."""
    if layers <= 0:
        return
    encoder = model.base_model
    for p in encoder.embeddings.parameters():
        p.requires_grad_(False)
    for layer in encoder.encoder.layer[:layers]:
        for p in layer.parameters():
            p.requires_grad_(False)


def _log_callback(path: Path) -> Any:
    """A callback that appends each logged record (step, loss, lr, seconds) to `path`."""
    from transformers import TrainerCallback

    t0 = time.time()

    class Log(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **_: Any) -> None:
            record = {"step": state.global_step, "elapsed_s": round(time.time() - t0, 1)}
            with path.open("a", encoding="utf-8") as f:
                f.write(json.dumps({**record, **(logs or {})}) + "\n")

    return Log()


def train(data: Path, out: Path, recipe: Recipe, save_every: int = 50) -> Path:
    """Train (or resume) into `out`; returns the folder of the final weights (`out/final`)."""
    import torch
    import transformers
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    from rag.embed.models import resolve

    out.mkdir(parents=True, exist_ok=True)
    (out / "recipe.json").write_text(json.dumps(asdict(recipe), indent=1), encoding="utf-8")
    transformers.set_seed(recipe.seed)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    base = resolve(recipe.base)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForQuestionAnswering.from_pretrained(recipe.init or base)
    _freeze(model, recipe.freeze_layers)
    rows = read_questions(data, recipe.questions, recipe.seed)
    examples = list(windows(rows, tokenizer, recipe))
    print(f"{len(rows)} questions -> {len(examples)} windows", file=sys.stderr)
    args = transformers.TrainingArguments(
        output_dir=str(out),
        per_device_train_batch_size=recipe.batch,
        learning_rate=recipe.lr,
        warmup_steps=recipe.warmup,  # a fraction of max_steps
        weight_decay=0.01,
        max_steps=recipe.max_steps,
        logging_steps=10,
        save_steps=save_every,
        save_total_limit=2,
        seed=recipe.seed,
        use_cpu=True,
        report_to=[],
        dataloader_num_workers=0,
        disable_tqdm=True,
    )
    trainer = transformers.Trainer(
        model=model,
        args=args,
        train_dataset=examples,  # a list is a map-style dataset
        data_collator=transformers.DataCollatorWithPadding(tokenizer),
        callbacks=[_log_callback(out / "train_log.jsonl")],
    )
    resume = any(out.glob("checkpoint-*"))
    trainer.train(resume_from_checkpoint=True if resume else None)
    final = out / "final"
    trainer.save_model(str(final))
    tokenizer.save_pretrained(str(final))
    (final / "recipe.json").write_text(json.dumps(asdict(recipe), indent=1), encoding="utf-8")
    return final


@click.command()
@click.option("--data", type=click.Path(path_type=Path), default=DEFAULT_DATA, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="checkpoints + log")
@click.option("--max-steps", default=Recipe.max_steps, show_default=True)
@click.option("--questions", default=0, help="a seeded sample of this many questions (0 = all)")
@click.option("--batch", default=Recipe.batch, show_default=True)
@click.option("--max-length", default=Recipe.max_length, show_default=True)
@click.option("--lr", default=Recipe.lr, show_default=True)
@click.option("--save-every", default=50, show_default=True, help="steps between checkpoints")
@click.option("--freeze-layers", default=Recipe.freeze_layers, show_default=True)
@click.option("--init", default="", help="start from a trained reader's folder (continue training)")
@click.option("--seed", default=Recipe.seed, show_default=True, help="question and window order")
def main(
    data: Path,
    out: Path,
    max_steps: int,
    questions: int,
    batch: int,
    max_length: int,
    lr: float,
    save_every: int,
    freeze_layers: int,
    init: str,
    seed: int,
) -> None:
    """Fine-tune the reader on SQuAD 2.0 train (resumes from OUT's last checkpoint)."""
    if not data.exists():
        raise click.ClickException(f"{data}: no training data there; pass --data FILE.jsonl[.gz]")
    recipe = Recipe(
        max_steps=max_steps,
        questions=questions,
        batch=batch,
        max_length=max_length,
        lr=lr,
        freeze_layers=freeze_layers,
        init=init,
        seed=seed,
    )
    final = train(data, out, recipe, save_every)
    click.echo(f"trained: {final}")


if __name__ == "__main__":
    main()
