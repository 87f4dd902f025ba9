"""Calibrate: gather the answerability gate's features on a question file, and fit the gate.

    rag eval --questions mine.jsonl --corpus mine.jsonl.gz --gate-features mine.npz
    rag gate fit mine.npz [more.npz ...] --out my-gate.json      # then RAG_GATE=my-gate.json

A features file holds numbers only (features, labels, groups: no question text). Questions
marked `is_impossible` are the unanswerable examples; with `shift_days`, each dated question is
also asked as of `shift_days` earlier (articles of other weeks only) and counted unanswerable
when no gold answer appears in its top passages. The cross-check split keeps whole groups
(an article of SQuAD, a week of news) on one side, so the curve is measured on unseen topics.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer.evidence import FEATURES, features, gather
from rag.answer.gate import Gate, fit
from rag.errors import InputError
from rag.eval.dataset import Question
from rag.eval.metrics import normalize_answer


@dataclass(frozen=True)
class Features:
    """Rows of gate features with their labels and the group each belongs to."""

    x: np.ndarray  # (n, len(FEATURES)) float32
    answerable: np.ndarray  # (n,) bool
    group: np.ndarray  # (n,) int64: a hash of the question's group (article, week)

    def save(self, path: Path) -> Path:
        np.savez_compressed(
            path, x=self.x, answerable=self.answerable, group=self.group, names=np.array(FEATURES)
        )
        return path

    @classmethod
    def load(cls, path: Path) -> Features:
        try:
            with np.load(path) as f:
                if tuple(f["names"]) != FEATURES:
                    raise InputError(f"{path} holds other gate features; gather them again")
                return cls(f["x"], f["answerable"].astype(bool), f["group"])
        except (OSError, KeyError, ValueError) as e:
            raise InputError(f"cannot read gate features from {path} ({e})") from None


def _group(q: Question) -> int:
    """The week a dated question was asked, else the article (before "#") it is about."""
    if q.as_of:
        year, week, _ = q.as_of.isocalendar()
        key = f"week {year}-{week}"
    else:
        key = q.gold_doc_ids[0].split("#")[0] if q.gold_doc_ids else q.id
    return zlib.crc32(key.encode())


def _row(p: Any, text: str, **search: Any) -> tuple[np.ndarray, list[Any]]:
    hits = p.search(text, **{k: v for k, v in search.items() if v is not None})
    qvec = p.embedder.encode([text])[0]
    ev = gather(text, qvec, hits, p.embedder.encode)
    return features(text, hits, ev), hits


def _holds_answer(hits: Sequence[Any], answers: Sequence[str]) -> bool:
    passages = normalize_answer(" ".join(h.chunk.text for h in hits[:3]))
    return any(normalize_answer(a) and normalize_answer(a) in passages for a in answers)


def gather_features(
    p: Any, questions: Sequence[Question], *, shift_days: int = 0, per_article: int | None = None
) -> Features:
    """Gate features of each question against the pipeline `p`, searched as it answers
    (`per_article`: its setting unless given)."""
    xs: list[np.ndarray] = []
    labels: list[bool] = []
    groups: list[int] = []
    for q in questions:
        x, _ = _row(p, q.question, as_of=q.as_of, per_article=per_article)
        xs.append(x)
        labels.append(not q.is_impossible)
        groups.append(_group(q))
        if shift_days and q.as_of and not q.is_impossible:
            before = q.as_of - timedelta(days=shift_days)
            x, hits = _row(p, q.question, as_of=before, per_article=per_article)
            if hits and not _holds_answer(hits, q.answers):
                xs.append(x)
                labels.append(False)
                groups.append(_group(q))
    if not xs:
        raise InputError("no questions to gather gate features from")
    return Features(np.stack(xs), np.array(labels), np.array(groups, dtype=np.int64))


def fit_files(paths: Sequence[Path], c: float = 1.0) -> Gate:
    """Fit the gate on features files; every other group is kept for the cross-check."""
    parts = [Features.load(Path(x)) for x in paths]
    x = np.concatenate([f.x for f in parts])
    y = np.concatenate([f.answerable for f in parts])
    g = np.concatenate([f.group + i * (1 << 33) for i, f in enumerate(parts)])
    if y.all() or not y.any():
        raise InputError("the features hold only answerable or only unanswerable questions")
    ordered = sorted(set(g.tolist()))
    check_groups = set(ordered[1::2])
    check = np.array([v in check_groups for v in g.tolist()])
    names = ", ".join(Path(x).name for x in paths)
    return fit(x, y, check, f"{names}: {len(y)} rows, {int((~y).sum())} unanswerable", c)
