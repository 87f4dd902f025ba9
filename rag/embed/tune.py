"""Tune: the embedding model fine-tuned on the index's own articles, without labels.

Each article's headline, and its lead sentence, is a query for the rest of its text
(sentence-transformers' `MultipleNegativesRankingLoss`: the other articles in a batch are the
negatives). A held-out slice of the articles measures headline -> own article MRR@10 before
and after, and stops training early when the held-out loss stops falling. The tuned model is
saved inside the index folder (`tuned/<name>/`) and the index is rebuilt with it; the manifest
records its name, the model it was tuned from and a digest of its files, so that:

- later builds, updates and searches use it while the configured model is the one it was
  tuned from (`follow`), and
- files that differ from the ones the index was built with are refused (`check_digest`).

    report = tune(settings, articles)      # -> TuneReport(before=0.61, after=0.70, ...)
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import Settings
from rag.digest import sha256_file
from rag.errors import IndexMismatchError, ModelError, RagError
from rag.text import sentences
from rag.types import Article, Manifest

TUNED = "tuned"  # folder inside the index that holds tuned models
ORIGIN = "tuned_from.json"  # in a tuned model's folder: {"tuned_from": base model name}
Encode = Callable[[list[str]], np.ndarray]
CHARS = 1000  # of an article's text: what a headline or lead is matched with
SEQ = 128  # tokens of each text seen in training (shorter steps; a text's lead says most)
INSTALL = "pip install -e '.[tune]'"  # what training needs beyond the runtime


@dataclass(frozen=True)
class TuneReport:
    """What a tuning run did; `before`/`after`: held-out headline -> article MRR@10."""

    model: str  # path of the tuned model (the manifest's model name)
    base: str  # the model it was tuned from
    digest: str
    pairs: int  # training pairs
    held_out: int  # held-out articles
    before: float
    after: float
    steps: int
    seconds: float


def pairs(articles: Sequence[Article], max_chars: int = CHARS) -> list[tuple[str, str]]:
    """(query, passage) pairs: the headline -> the text after it, and the lead sentence -> the
    text after the lead; articles too short to split give none.

    >>> a = Article("x", "Ferry line reopens", "The harbour ferry sails again. It was shut a year.")
    >>> pairs([a])
    [('Ferry line reopens', 'The harbour ferry sails again. It was shut a year.')]
    """
    out = []
    for a in articles:
        body = a.text.strip()
        if a.title.strip() and len(body) >= 20:
            out.append((a.title.strip(), body[:max_chars]))
        spans = sentences(a.text)
        if len(spans) >= 3:  # a lead and at least two sentences after it
            lead, rest = a.text[spans[0][0] : spans[0][1]], a.text[spans[1][0] :].strip()
            out.append((lead, rest[:max_chars]))
    return out


def split(articles: Sequence[Article], share: float, seed: int = 0) -> tuple[list, list]:
    """(train, held out) articles; the held-out ones are chosen by a stable hash of doc_id."""
    keyed = sorted(articles, key=lambda a: hashlib.sha1(f"{seed}:{a.doc_id}".encode()).digest())
    n = max(1, round(len(keyed) * share)) if len(keyed) > 1 else 0
    return keyed[n:], keyed[:n]


def held_out_mrr(encode: Encode, articles: Sequence[Article], k: int = 10) -> float:
    """MRR@k of each held-out headline finding its own article's text among the held-out ones."""
    items = [a for a in articles if a.title.strip() and a.text.strip()]
    if not items:
        return 0.0
    q = np.asarray(encode([a.title for a in items]))
    d = np.asarray(encode([a.text[:CHARS] for a in items]))
    scores = q @ d.T
    ranks = (scores > np.diag(scores)[:, None]).sum(axis=1) + 1
    return float(np.mean(np.where(ranks <= k, 1.0 / ranks, 0.0)))


def model_digest(folder: Path) -> str:
    """One SHA-256 over every file of a saved model (names and contents)."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode() + b"\0" + sha256_file(path).encode())
    return h.hexdigest()


def origin(model: str) -> tuple[str, str]:
    """(the model `model` was tuned from, its digest) when `model` is a folder `tune` wrote,
    else ("", "")."""
    marker = Path(model) / ORIGIN
    if not marker.is_file():
        return "", ""
    try:
        base = str(json.loads(marker.read_text())["tuned_from"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ModelError(f"{marker} is damaged ({type(e).__name__}); run `rag index tune`") from e
    return base, model_digest(Path(model))


def follow(settings: Settings, manifest: Manifest | None) -> Settings:
    """`settings` using the live index's tuned model when the configured model is the one it
    was tuned from (another configured model is left as is and refused on load)."""
    if manifest is None or not manifest.tuned_from or settings.index.model != manifest.tuned_from:
        return settings
    return settings.with_(model=manifest.model)


def check_digest(manifest: Manifest) -> None:
    """Refuse a tuned model whose files differ from the ones the index was built with."""
    if not manifest.model_digest:
        return
    folder = Path(manifest.model)
    found = model_digest(folder) if folder.is_dir() else ""
    if found != manifest.model_digest:
        what = "not the one" if found else "missing, not the one"
        raise IndexMismatchError(
            f"the tuned model {manifest.model} is {what} the index was built with; run "
            f"`rag index tune` again, or `rag index rollback` to go back to the base model"
        )


def tune(
    settings: Settings,
    articles: Sequence[Article],
    *,
    epochs: int = 1,
    batch_size: int = 32,
    held_out: float = 0.1,
    max_steps: int = 0,
    seed: int = 0,
    progress: bool = False,
) -> TuneReport:
    """Fine-tune `settings.index.model` on `articles` and save it under the index's `tuned/` folder.
    Never sees evaluation questions: only the articles' own headlines and texts."""
    try:
        from datasets import Dataset
        from sentence_transformers import (
            SentenceTransformer,
            SentenceTransformerTrainer,
            SentenceTransformerTrainingArguments,
            losses,
        )
        from transformers import EarlyStoppingCallback
    except ImportError as e:
        raise ModelError(f"tuning needs the training extras ({e.name}); run: {INSTALL}") from None
    from rag.embed.models import resolve

    t0 = time.perf_counter()
    train, test, test_articles = _data(articles, held_out, seed, batch_size)
    model = SentenceTransformer(resolve(settings.index.model), device="cpu")

    def encode(texts: list[str]) -> np.ndarray:
        return model.encode(texts, batch_size=64, normalize_embeddings=True)

    before = held_out_mrr(encode, test_articles)
    serving_length = model.max_seq_length
    model.max_seq_length = min(serving_length or SEQ, SEQ)  # trained on the first SEQ tokens
    name = f"{Path(settings.index.model).name}-tuned-{_stamp(articles)}"
    out = (settings.index.index_dir / TUNED / name).resolve()
    args = _arguments(
        SentenceTransformerTrainingArguments,
        out.parent / f".{name}-checkpoints",
        len(train),
        epochs=epochs,
        batch_size=batch_size,
        max_steps=max_steps,
        seed=seed,
        progress=progress,
    )
    columns = lambda ps: {"anchor": [q for q, _ in ps], "positive": [p for _, p in ps]}  # noqa: E731
    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_dict(columns(train)),
        eval_dataset=Dataset.from_dict(columns(test)),
        loss=losses.MultipleNegativesRankingLoss(model),
        callbacks=[EarlyStoppingCallback(early_stopping_patience=2)],
    )
    trainer.train()
    model.max_seq_length = serving_length  # measured and saved as it will embed the index
    after = held_out_mrr(encode, test_articles)
    model.save(str(out))
    (out / ORIGIN).write_text(json.dumps({"tuned_from": settings.index.model}) + "\n")
    shutil.rmtree(out.parent / f".{name}-checkpoints", ignore_errors=True)
    return TuneReport(
        model=str(out),
        base=settings.index.model,
        digest=model_digest(out),
        pairs=len(train),
        held_out=len(test_articles),
        before=round(before, 4),
        after=round(after, 4),
        steps=int(trainer.state.global_step),
        seconds=round(time.perf_counter() - t0, 1),
    )


def _data(
    articles: Sequence[Article], held_out: float, seed: int, batch_size: int
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[Article]]:
    """(training pairs, shuffled; held-out pairs; held-out articles), or RagError when the
    articles give too few pairs to train on."""
    train_articles, test_articles = split(articles, held_out, seed)
    train, test = pairs(train_articles), pairs(test_articles)
    if len(train) < 2 * batch_size or not test:
        raise RagError(
            f"{len(articles)} articles give {len(train)} training pairs; tuning needs at least "
            f"{2 * batch_size} (index more articles, or pass a smaller --batch-size)"
        )
    random.Random(seed).shuffle(train)
    return train, test, test_articles


def _arguments(
    arguments: Any,
    checkpoints: Path,
    n_pairs: int,
    *,
    epochs: int,
    batch_size: int,
    max_steps: int,
    seed: int,
    progress: bool,
) -> Any:
    """The trainer's arguments (`arguments`: SentenceTransformerTrainingArguments): evaluate,
    save and log four times a run, keep the best checkpoint by held-out loss."""
    steps_per_epoch = max(1, n_pairs // batch_size)
    every = max(1, min(steps_per_epoch * epochs, max_steps or steps_per_epoch) // 4)
    return arguments(
        output_dir=str(checkpoints),
        num_train_epochs=epochs,
        max_steps=max_steps or -1,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=batch_size,
        learning_rate=2e-5,
        warmup_steps=max(1, steps_per_epoch // 10),
        batch_sampler="no_duplicates",  # the same headline twice in a batch is no negative
        eval_strategy="steps",
        eval_steps=every,
        save_strategy="steps",
        save_steps=every,
        save_total_limit=1,
        load_best_model_at_end=True,
        metric_for_best_model="eval_loss",
        logging_steps=every,
        report_to="none",
        disable_tqdm=not progress,
        seed=seed,
        use_cpu=True,
        dataloader_num_workers=0,
    )


def _stamp(articles: Sequence[Article]) -> str:
    """A short name for the article set a model was tuned on."""
    h = hashlib.sha1("".join(sorted(a.content_hash or a.doc_id for a in articles)).encode())
    return h.hexdigest()[:8]
