"""Query latency: `search` and `ask` (extractive), warm, on a news index; p50/p95 over the dev
questions and variations of them, with the time split by stage, measured by calling the
stages one by one: embed query, filter, dense search, keyword search, fusion (the rest of
`Retriever.search`: fusion, de-duplication, loading the passages) and answer.

    python -m bench.query --index /tmp/news/index
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import BASELINE, NEWS, WORK, index_args, log, memory, percentiles, save
from rag import Pipeline, Settings
from rag.answer.extractive import extractive
from rag.embed import embedder as embed


def question_set() -> list[tuple[str, date | None]]:
    """The dev questions asked on their dates, plus two variations of each (>= 100 in all)."""
    out: list[tuple[str, date | None]] = []
    for line in open(NEWS / "dev.jsonl"):
        if not line.strip():
            continue
        rec = json.loads(line)
        q, day = rec["question"], date.fromisoformat(rec["question_date"])
        out.append((q, day))
        out.append((q.lower().rstrip("?"), None))  # no date filter, lower case, no mark
        words = q.split()
        out.append(("In the news: " + " ".join(words[: max(4, len(words) // 2)]), day))
    return out


CPU: dict[str, list[float]] = {}  # stage -> CPU seconds of this process (all its threads)


def _t(fn: Any, *a: Any, cpu: str = "", **kw: Any) -> tuple[Any, float]:
    """`fn(*a, **kw)` and its wall-clock seconds; with `cpu`, its CPU seconds go to CPU[cpu].

    On a busy machine wall time measures the queue for the cores; CPU time measures the
    work (for a single-threaded stage it is about the wall time on an idle machine).
    """
    c, t = time.process_time(), time.perf_counter()
    out = fn(*a, **kw)
    wall = time.perf_counter() - t
    if cpu:
        CPU.setdefault(cpu, []).append(time.process_time() - c)
    return out, wall


def run(index_dir: Path, backend: str, rounds: int = 1) -> dict[str, Any]:
    s = Settings.load(env={}, index_dir=index_dir, backend=backend)
    emb = embed.load(s.index.model, s.index.batch_size, backend, WORK / "models")
    p = Pipeline(s, emb)
    loaded = p.load()
    r = loaded.retriever
    qs = question_set()
    log(f"query: {len(qs)} questions on {index_dir} ({loaded.manifest.chunks:,} chunks)")
    for q, day in qs:  # warm-up: first touches of the index, caches, lazy imports
        p.ask(q, as_of=day)
    stages: dict[str, list[float]] = {
        k: [] for k in ("embed", "filter", "dense", "keyword", "fusion", "answer")
    }
    ends: dict[str, list[float]] = {"search": [], "ask": []}
    for _ in range(rounds):
        for q, day in qs:
            settings = s.with_(as_of=day)
            _, t = _t(p.search, q, as_of=day, cpu="search")
            ends["search"].append(t)
            _, t = _t(p.ask, q, as_of=day, cpu="ask")
            ends["ask"].append(t)
            qvec, t_embed = _t(emb.encode, [q], cpu="embed")
            qvec = qvec[0]
            mask, t_filter = _t(r.allowed, settings, cpu="filter")
            allowed = None if mask is None else np.flatnonzero(mask)
            _, t_dense = _t(r.vectors.search, qvec, settings.retrieval.pool, allowed, cpu="dense")

            def keyword(q: str = q, mask: Any = mask, pool: int = settings.retrieval.pool) -> Any:
                scores = r.keywords.scores(q)
                if mask is not None:
                    scores = np.where(mask, scores, 0.0)
                n = min(pool, int(np.count_nonzero(scores)))
                return np.argpartition(-scores, n - 1)[:n] if n else scores[:0]

            _, t_kw = _t(keyword, cpu="keyword")
            hits, t_search = _t(r.search, q, qvec, settings, cpu="retrieve")
            _, t_answer = _t(
                extractive, q, qvec, hits, emb.encode, min_score=s.answers.min_score, cpu="answer"
            )
            stages["embed"].append(t_embed)
            stages["filter"].append(t_filter)
            stages["dense"].append(t_dense)
            stages["keyword"].append(t_kw)
            stages["fusion"].append(max(0.0, t_search - t_filter - t_dense - t_kw))
            stages["answer"].append(t_answer)
    out = {
        "real_recall_at_10": real_recall(r.vectors, emb.encode([q for q, _ in qs])),
        "index": str(index_dir),
        "backend": getattr(emb, "backend", backend),
        "index_type": loaded.manifest.index_type,
        "chunks": loaded.manifest.chunks,
        "questions": len(qs),
        "rounds": rounds,
        "search": percentiles(ends["search"]),
        "ask": percentiles(ends["ask"]),
        "stages": {k: percentiles(v) for k, v in stages.items()},
        "cpu": {k: percentiles(v) for k, v in CPU.items()},
        "baseline_similarity_search_p50_ms": BASELINE["similarity_search_p50_ms"],
        "rss_mb": memory()["rss_mb"],
    }
    log(f"query: search p50 {out['search']['p50_ms']} ms, ask p50 {out['ask']['p50_ms']} ms")
    return out


def real_recall(vi: Any, queries: np.ndarray, k: int = 10) -> dict[str, Any]:
    """Recall@k of the index against exact search over its own (real) vectors, no filter."""
    if vi.kind == "flat":
        return {"kind": "flat", "recall": 1.0}
    x = vi.vectors()
    found = [set(vi.search(q, k)[1].tolist()) for q in queries]
    exact = np.argsort(-(queries @ x.T), axis=1)[:, :k]
    recall = np.mean([len(f & set(e.tolist())) / k for f, e in zip(found, exact, strict=True)])
    return {"kind": vi.kind, "params": vi.params, "queries": len(queries), "recall": float(recall)}


def main() -> None:
    args = index_args(__doc__, "rounds", 1)
    save("query", run(args.index, args.backend, args.rounds))


if __name__ == "__main__":
    main()
