"""Fit the rescoring model (rag/search/rescore.json) on ../shared/eval dev sets, with a cross-check.

Both sets are split in halves that share nothing: SQuAD by Wikipedia article, news by whole
weeks (the first half of the weeks vs the second). A model fitted on one half is scored on the
other, both ways, against the fused ranking without rescoring; then the shipped model is fitted
on everything. Only numbers leave this script (features, labels, figures): no question text.

    python bench/fit_rescore.py --news-index /tmp/idx-news --squad-index /tmp/idx-squad
"""

from __future__ import annotations

import argparse
import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import EVAL, RESULTS
from rag import Pipeline, Settings
from rag.eval.metrics import articles_in_order
from rag.search.rescore import FEATURES, PACKAGED, Rescorer

NEWS_WEIGHT = 10.0  # a news question counts this many SQuAD ones (56 vs 1,789 on dev)
C = 0.1  # inverse L2 strength of the logistic fit (0.1 and 1 tried; 0.1 ties or wins on all halves)


class Recorder(Rescorer):
    """Keeps the fused order and records each query's feature rows."""

    def __init__(self) -> None:
        super().__init__((0.0,) * 2 * len(FEATURES), (1.0,) * 2 * len(FEATURES), ())
        object.__setattr__(self, "notes", {"rows": []})

    def order(self, x: np.ndarray) -> list[int]:
        self.notes["rows"].append(x)
        return list(range(len(x)))


def collect(index: Path, questions: Path, dated: bool) -> list[dict[str, Any]]:
    """Per answerable question: its half key, feature rows, which candidates are gold, and
    (for bench/reader_rank.py, never written out) its text and hits."""
    p = Pipeline(Settings.load(index_dir=index))
    loaded = p.load()
    recorder = Recorder()
    loaded.retriever.rescorers["record"] = recorder
    out = []
    for line in questions.read_text().splitlines():
        q = json.loads(line)
        if q.get("is_impossible") or not q.get("gold_doc_ids"):
            continue
        as_of = date.fromisoformat(q["question_date"]) if dated else None
        before = len(recorder.notes["rows"])
        hits = p.search(q["question"], k=20, as_of=as_of, rescore="record")
        if len(recorder.notes["rows"]) == before:
            continue  # fewer than two candidates: nothing to reorder
        x = recorder.notes["rows"][-1]
        docs = articles_in_order(hits)[: len(x)]
        gold = set(q["gold_doc_ids"])
        half = q["week"] if dated else q["gold_doc_ids"][0].split("#")[0]
        y = np.array([d in gold for d in docs])
        out.append({"half": half, "x": x, "y": y, "question": q["question"], "hits": hits})
    return out


def halves(rows: list[dict[str, Any]], dated: bool) -> tuple[list, list]:
    if dated:
        weeks = sorted({r["half"] for r in rows})
        first = set(weeks[: len(weeks) // 2])
        return [r for r in rows if r["half"] in first], [r for r in rows if r["half"] not in first]
    odd = lambda r: int(hashlib.sha1(r["half"].encode()).hexdigest(), 16) % 2  # noqa: E731
    return [r for r in rows if not odd(r)], [r for r in rows if odd(r)]


def fit(sets: list[tuple[list[dict[str, Any]], float]], trained_on: str) -> Rescorer:
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([r["x"] for rows, _ in sets for r in rows])
    y = np.concatenate([r["y"] for rows, _ in sets for r in rows])
    w = np.concatenate([np.full(len(r["y"]), wt) for rows, wt in sets for r in rows])
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    lr = LogisticRegression(C=C, max_iter=5000).fit((x - mean) / scale, y, sample_weight=w)
    return Rescorer(
        tuple(mean.round(6)), tuple(scale.round(6)), tuple(lr.coef_[0].round(6)), FEATURES,
        trained_on,
    )  # fmt: skip


def score(rows: list[dict[str, Any]], model: Rescorer | None) -> dict[str, float]:
    """Hit@1, Hit@5 and MRR@10 over the candidates (gold outside them counts as a miss)."""
    ranks = []
    for r in rows:
        order = model.order(r["x"]) if model else list(range(len(r["x"])))
        labels = r["y"][order]
        ranks.append(int(np.argmax(labels)) + 1 if labels.any() else None)
    n = len(ranks)
    return {
        "n": n,
        "hit@1": round(sum(k == 1 for k in ranks) / n, 3),
        "hit@5": round(sum(k is not None and k <= 5 for k in ranks) / n, 3),
        "mrr@10": round(sum(1 / k for k in ranks if k and k <= 10) / n, 3),
    }


def cross_check(news: list[dict[str, Any]], squad: list[dict[str, Any]]) -> dict[str, Any]:
    """Hit@1 / Hit@5 / MRR@10 on each held-out half, before rescoring and after, with a model
    fitted on the other half ("A->B": fitted on A, scored on B)."""
    (na, nb), (sa, sb) = halves(news, True), halves(squad, False)
    report = {}
    for name, (train, test) in {"A->B": ((na, sa), (nb, sb)), "B->A": ((nb, sb), (na, sa))}.items():
        m = fit([(train[0], NEWS_WEIGHT), (train[1], 1.0)], "half")
        report[name] = {
            kind: {"before": score(rows, None), "after": score(rows, m)}
            for kind, rows in (("news", test[0]), ("squad", test[1]))
        }
    return report


def index_options(ap: argparse.ArgumentParser) -> None:
    """The two dev indexes a rescoring fit reads (`dev_sets`)."""
    ap.add_argument("--news-index", type=Path, required=True)
    ap.add_argument("--squad-index", type=Path, required=True)


def dev_sets(args: argparse.Namespace) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`collect` on news dev (as of each question's date) and on SQuAD 2.0 dev."""
    news = collect(args.news_index, EVAL / "news" / "dev.jsonl", dated=True)
    return news, collect(args.squad_index, EVAL / "squad2" / "dev.jsonl", dated=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    index_options(ap)
    ap.add_argument("--out", type=Path, default=PACKAGED)
    args = ap.parse_args()
    news, squad = dev_sets(args)
    report = {"news_weight": NEWS_WEIGHT, "C": C, "cross_check": cross_check(news, squad)}
    model = fit(
        [(news, NEWS_WEIGHT), (squad, 1.0)],
        f"news dev ({len(news)} questions, weight {NEWS_WEIGHT:g}) + SQuAD 2.0 dev answerable "
        f"({len(squad)}); cross-check: halves by week / by Wikipedia article",
    )
    model = Rescorer(**{**model.__dict__, "notes": report})
    model.save(args.out)
    (RESULTS / "rescore_fit.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report["cross_check"], indent=1))


if __name__ == "__main__":
    main()
