"""Calibrate the reader (rag/read/model/confidence.json) on ../shared/eval dev, with cross-checks.

Each dev set is split in halves that share nothing (SQuAD by Wikipedia article, news by week,
alternating). A calibration fitted on one half is scored on the other, both ways: expected
calibration error (ECE, 10 bins), refusal precision / recall, EM / F1 of the answer span under SQuAD
2.0's rule (an unanswerable question scores only for a refusal). The shipped calibration is fitted
on one half of the groups and its refusal curve measured on the other (as rag/answer/gate.py does).
Also the closed setting: each SQuAD question read against its gold paragraph alone. Only numbers
leave this script.

    python -m bench.fit_reader --squad-index index-squad --news-index index-news [--model DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import EVAL, RESULTS, WORK
from rag import Pipeline, Settings
from rag.answer.gate import curve, fit
from rag.eval.dataset import Question, load_questions
from rag.eval.metrics import exact_match, token_f1
from rag.read import answer as read_answer
from rag.read.export import SHIPPED
from rag.read.model import ReaderModel

BINS = 10


def _group(q: Question) -> int:
    key = f"{q.as_of.isocalendar()[:2]}" if q.as_of else q.gold_doc_ids[0].split("#")[0]
    return zlib.crc32(key.encode())


def collect(index: Path, questions: list[Question], model: ReaderModel, k: int) -> dict:
    """Features, labels and scores of the best span for every question (numbers only)."""
    p = Pipeline(Settings.load(index_dir=index, reader="off"))
    xs, right, answerable, em, f1, groups = [], [], [], [], [], []
    for q in questions:
        hits = p.search(q.question, k=k, as_of=q.as_of)
        r = read_answer.reading(q.question, hits, model, k)
        best = r.best.text if r.best else ""
        xs.append(r.x)
        answerable.append(not q.is_impossible)
        em.append(exact_match(best, q.answers) if q.answers else 0.0)
        f1.append(token_f1(best, q.answers) if q.answers else 0.0)
        right.append(bool(q.answers) and f1[-1] >= 0.5)
        groups.append(_group(q))
    return {
        "x": np.stack(xs),
        "right": np.array(right),
        "answerable": np.array(answerable),
        "em": np.array(em),
        "f1": np.array(f1),
        "group": np.array(groups),
    }


def cached(name: str, index: Path, questions: list[Question], model: ReaderModel, k: int) -> dict:
    """`collect`, kept in WORK/reader-fit/NAME.npz (numbers only) for the next run."""
    path = WORK / "reader-fit" / f"{name}.npz"
    if path.is_file():
        with np.load(path) as f:
            return {key: f[key] for key in f.files}
    d = collect(index, questions, model, k)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **d)
    return d


def ece(p: np.ndarray, y: np.ndarray) -> tuple[float, list[tuple[float, float, int]]]:
    """Expected calibration error over BINS equal-width bins, and (mean p, accuracy, n) a bin."""
    bins = []
    total = 0.0
    for b in range(BINS):
        m = (p >= b / BINS) & ((p < (b + 1) / BINS) if b < BINS - 1 else (p <= 1))
        if m.any():
            bins.append((float(p[m].mean()), float(y[m].mean()), int(m.sum())))
            total += m.sum() / len(p) * abs(p[m].mean() - y[m].mean())
    return float(total), bins


def scores(d: dict, p: np.ndarray, threshold: float) -> dict[str, float]:
    """SQuAD 2.0 scoring when refusing below `threshold`; refusal precision / recall."""
    refused = p < threshold
    imp = ~d["answerable"]
    em = np.where(refused, imp.astype(float), np.where(imp, 0.0, d["em"]))
    f1 = np.where(refused, imp.astype(float), np.where(imp, 0.0, d["f1"]))
    n_ref = int(refused.sum())
    right = int((refused & imp).sum())
    return {
        "em": float(em.mean() * 100),
        "f1": float(f1.mean() * 100),
        "refusal_precision": right / n_ref if n_ref else 0.0,
        "refusal_recall": right / max(int(imp.sum()), 1),
        "answerable_refused": float((refused & ~imp).sum() / max(int((~imp).sum()), 1)),
        "threshold": threshold,
    }


def cross(d: dict, target_precision: float) -> dict[str, Any]:
    """Fit on one half of the groups, score the other, both ways."""
    ordered = sorted(set(d["group"].tolist()))
    halves = [set(ordered[0::2]), set(ordered[1::2])]
    out: dict[str, Any] = {}
    for name, held in zip(("A", "B"), halves, strict=True):
        check = np.array([g in held for g in d["group"].tolist()])
        g = fit(d["x"], d["answerable"], check, "", right=d["right"], features=read_answer.FEATURES)
        p = np.array([g.probability(x) for x in d["x"][check]])
        sub = {k: v[check] for k, v in d.items() if isinstance(v, np.ndarray)}
        e, bins = ece(p, sub["right"])
        inner = np.array([g.probability(x) for x in d["x"][~check]])
        t = _threshold(inner, d["answerable"][~check], target_precision)
        out[f"held_out_{name}"] = {"n": int(check.sum()), "ece": e, "bins": bins}
        out[f"held_out_{name}"] |= scores(sub, p, t)
    return out


def _threshold(p: np.ndarray, answerable: np.ndarray, precision: float) -> float:
    ok = [t for t, prec, r in curve(p, answerable) if prec >= precision and r > 0]
    return max(ok, default=0.0)


def closed(model: ReaderModel, questions: list[Question]) -> dict[str, float]:
    """SQuAD with the gold paragraph given: answer when the span beats no-answer (margin > 0)."""
    with gzip.open(EVAL / "squad2" / "paragraphs.jsonl.gz", "rt", encoding="utf-8") as f:
        text = {r["doc_id"]: r["text"] for r in map(json.loads, f)}
    em, f1 = [], []
    for q in questions:
        spans = model.read(q.question, [text[q.gold_doc_ids[0]]])
        said = spans[0].text if spans and spans[0].margin > 0 else ""
        if q.is_impossible:
            em.append(float(not said))
            f1.append(float(not said))
        else:
            em.append(exact_match(said, q.answers) if said else 0.0)
            f1.append(token_f1(said, q.answers) if said else 0.0)
    return {"em": float(np.mean(em) * 100), "f1": float(np.mean(f1) * 100), "n": len(em)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--squad-index", type=Path, required=True)
    ap.add_argument("--news-index", type=Path)
    ap.add_argument("--model", type=Path, default=SHIPPED)
    ap.add_argument("--k", type=int, default=read_answer.PASSAGES)
    ap.add_argument("--precision", type=float, default=0.85)
    ap.add_argument("--limit", type=int)
    ap.add_argument("--out", type=Path, default=RESULTS / "reader_fit.json")
    ap.add_argument("--no-ship", action="store_true", help="do not write confidence.json")
    a = ap.parse_args()
    model = ReaderModel(a.model)
    digest = json.loads((a.model / "reader.json").read_text())["sha256"][:12]
    squad_q = load_questions(EVAL / "squad2" / "dev.jsonl", limit=a.limit)
    sets = {"squad": cached(f"squad-{digest}-{a.k}-{a.limit}", a.squad_index, squad_q, model, a.k)}
    if a.news_index:
        news_q = load_questions(EVAL / "news" / "dev.jsonl", "question_date")
        sets["news"] = cached(f"news-{digest}-{a.k}", a.news_index, news_q, model, a.k)
    report: dict[str, Any] = {"model": str(a.model), "k": a.k, "precision": a.precision}
    for name, d in sets.items():
        report[name] = cross(d, a.precision)
    report["squad_closed"] = closed(model, squad_q)
    both = {k: np.concatenate([d[k] for d in sets.values()]) for k in sets["squad"]}
    ordered = sorted(set(both["group"].tolist()))
    check = np.array([g in set(ordered[1::2]) for g in both["group"].tolist()])
    g = fit(
        both["x"],
        both["answerable"],
        check,
        "",
        right=both["right"],
        features=read_answer.FEATURES,
    )
    trained_on = f"{', '.join(sets)} dev: {len(check)} questions (cross-check: half the groups)"
    g = type(g)(**{**g.__dict__, "trained_on": trained_on})
    if not a.no_ship:
        g.save(a.model / read_answer.CALIBRATION)
    a.out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "model"}, indent=1)[:3000])


if __name__ == "__main__":
    main()
