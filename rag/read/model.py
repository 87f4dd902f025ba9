"""The reader at answer time: question + passages -> the best answer span in each, or none.

The shipped int8 ONNX file (rag/read/model/, made by `rag.read.export`) runs on onnxruntime with
the tokenizers library: no torch. Its SHA-256 is checked against `reader.json` when it loads.

    reader = ReaderModel()                # the shipped model (or a folder: ReaderModel(Path(...)))
    spans = reader.read("Who founded the bakery?", ["The bakery was founded by Ada Moss in 1921."])
    spans[0].text, spans[0].margin        # ('Ada Moss', 7.2): margin > 0 = an answer beats none

A passage is cut into windows (question + up to `max_length` tokens, `stride` shared, as in
training); each window scores its best span (start + end logits, end within `max_span` tokens
of start) against its own `[CLS]` no-answer score; a passage keeps its best window.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.digest import sha256_file
from rag.errors import ModelError
from rag.read.export import MODEL_FILE, RECORD, SHIPPED

MAX_SPAN = 30  # tokens in an answer at most
TOP = 20  # start and end candidates per window


@dataclass(frozen=True)
class Span:
    """The reader's best answer in one passage: character offsets into that passage."""

    passage: int  # index into the passages given
    start: int
    end: int
    text: str
    score: float  # start + end logit of the span
    null: float  # start + end logit of [CLS] in the same window: "no answer here"

    @property
    def margin(self) -> float:
        """How much the span beats "no answer" (> 0: the reader would answer)."""
        return self.score - self.null


class ReaderModel:
    """One onnxruntime session over the shipped (or a given) reader; safe to call from threads
    (each tokenizer's settings are fixed once, and onnxruntime sessions run concurrently)."""

    def __init__(self, folder: Path = SHIPPED, threads: int | None = None) -> None:
        record = _checked(folder)
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as e:
            raise ModelError(f"the reader needs onnxruntime and tokenizers ({e.name})") from e
        self.max_length = int(record["max_length"])
        self.stride = int(record["stride"])
        self.max_question = int(record.get("max_question", 48))
        # two copies, each set once: questions alone (to cut them), question + passage windows
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.pairs = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.pairs.no_padding()
        self.pairs.enable_truncation(self.max_length, stride=self.stride, strategy="only_second")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            str(folder / record["file"]), options, providers=["CPUExecutionProvider"]
        )

    def read(self, question: str, passages: Sequence[str], batch: int = 16) -> list[Span]:
        """The best span of each passage (same order); a passage with no tokens gets none."""
        windows = self._windows(question, passages)
        if not windows:
            return []
        best: dict[int, Span] = {}
        for i in range(0, len(windows), batch):
            part = windows[i : i + batch]
            start, end = self._run([w[1] for w in part])
            for (p, enc), s, e in zip(part, start, end, strict=True):
                span = _best_span(p, passages[p], enc, s, e)
                if span and (p not in best or span.margin > best[p].margin):
                    best[p] = span
        return [best[p] for p in sorted(best)]

    def _windows(self, question: str, passages: Sequence[str]) -> list[tuple[int, Any]]:
        """(passage index, encoding) for every window of every passage."""
        q_ids = self.tokenizer.encode(question.strip(), add_special_tokens=False).ids
        q = question.strip()
        if len(q_ids) > self.max_question:
            q = self.tokenizer.decode(q_ids[: self.max_question])
        out: list[tuple[int, Any]] = []
        for p, text in enumerate(passages):
            if text.strip():
                enc = self.pairs.encode(q, text)
                out.extend((p, w) for w in [enc, *enc.overflowing])
        return out

    def _run(self, encs: list[Any]) -> tuple[np.ndarray, np.ndarray]:
        """Start and end logits (windows x tokens), padded positions at -inf."""
        width = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), width), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros_like(ids)
        for r, e in enumerate(encs):
            n = len(e.ids)
            ids[r, :n], types[r, :n], mask[r, :n] = e.ids, e.type_ids, 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        start, end = self.session.run(None, feed)
        start = np.where(mask == 1, start, -np.inf)
        end = np.where(mask == 1, end, -np.inf)
        return start, end


def _best_span(p: int, text: str, enc: Any, start: np.ndarray, end: np.ndarray) -> Span | None:
    """The highest-scoring passage span of one window (end >= start, at most MAX_SPAN)."""
    passage = np.array([s == 1 for s in enc.sequence_ids] + [False] * (len(start) - len(enc.ids)))
    if not passage.any():
        return None
    s_masked = np.where(passage, start, -np.inf)
    e_masked = np.where(passage, end, -np.inf)
    starts = np.argsort(-s_masked)[:TOP]
    ends = np.argsort(-e_masked)[:TOP]
    best: tuple[float, int, int] | None = None
    for a in starts:
        if not passage[a]:
            continue
        for b in ends:
            if passage[b] and a <= b < a + MAX_SPAN:
                score = float(start[a] + end[b])
                if best is None or score > best[0]:
                    best = (score, int(a), int(b))
    if best is None:
        return None
    score, a, b = best
    c0, c1 = enc.offsets[a][0], enc.offsets[b][1]
    return Span(p, c0, c1, text[c0:c1], score, float(start[0] + end[0]))


def _checked(folder: Path) -> dict[str, Any]:
    """The model's record, after checking the file's size and SHA-256 against it."""
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        file = folder / record.get("file", MODEL_FILE)
        size = file.stat().st_size
    except (OSError, ValueError, AttributeError) as e:
        raise ModelError(
            f"no reader model in {folder} ({type(e).__name__}); reinstall rag-news, "
            "or export one with `python -m rag.read.export CHECKPOINT`"
        ) from e
    if size != record.get("bytes") or sha256_file(file) != record.get("sha256"):
        raise ModelError(
            f"the reader model {file} is damaged (its SHA-256 differs from {folder / RECORD}); "
            "reinstall rag-news"
        )
    return record
