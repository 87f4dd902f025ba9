"""Scaling: each vector-index kind on synthetic vectors at 10k ... 1M; build time, memory,
single-query latency (k=10) and recall@10 against exact search, plus a parameter sweep.

The vectors imitate sentence embeddings rather than noise: 384-dim, unit length, grouped in
topics and sub-topics (uniform random points on a sphere have no near neighbours to find and
make every approximate index look worse than on real data). `realism` in the results compares
their neighbour similarities with those of the news index when one is given.

Each (size, kind) runs in a fresh process, so its memory figure is its own:
    python -m bench.scaling --sizes 10000 100000 --kinds flat hnsw
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import RESULTS, ROOT, WORK, log, memory, percentiles, save
from rag.index import kinds as index_kinds
from rag.index.vectors import VectorIndex

DIM = 384
K = 10
KINDS = ("flat", "hnsw", "hnsw-flat", "ivf")
TOPICS = 200  # broad subjects
LEAF = 50  # points per story
ARTICLE = 6  # points per article, on average (skewed: a few long articles, many short ones)
SHARED = 0.7  # pull of the common direction on topic centres
LEAF_SPREAD = 0.04  # noise per dimension: story around its topic
ARTICLE_SPREAD = 0.045  # article around its story
POINT_SPREAD = 0.035  # chunk around its article
# with these, 6,000 synthetic vectors have median neighbour similarities (1st, 3rd, 6th,
# 10th) of 0.71 / 0.69 / 0.68 / 0.65 and mean pair similarity 0.08; 6,000 news chunks embedded
# by the model: 0.78 / 0.71 / 0.65 / 0.58 and 0.09 (a flatter top 10 is the harder case)
SWEEP = {  # (ef_search or nprobe, rerank) pairs tried after the default
    "hnsw": [(16, 10), (32, 10), (64, 10), (64, 50), (128, 50), (256, 50)],
    "hnsw-flat": [(16, 10), (32, 10), (64, 10), (128, 10)],
    "ivf": [(8, 50), (16, 50), (32, 50), (64, 50), (128, 50)],
}


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def synthetic(n: int, queries: int = 0, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """`n` base vectors and `queries` query vectors (float32 unit rows, 384 wide).

    Topics around a shared direction (embeddings of one model are not centred), stories
    (LEAF points each) around topics, articles (ARTICLE points on average, sizes skewed) around
    stories, points around articles. Queries are fresh points from the same articles, drawn
    after the base set, so the base set does not depend on `queries`.
    """
    rng = np.random.default_rng(seed)

    def noisy(centres: np.ndarray, spread: float) -> np.ndarray:
        noise = rng.standard_normal(centres.shape).astype(np.float32)
        return _unit(centres + spread * noise)

    shared = _unit(rng.standard_normal((1, DIM)).astype(np.float32))
    topics = _unit(_unit(rng.standard_normal((TOPICS, DIM)).astype(np.float32)) + SHARED * shared)
    n_leaves, n_articles = max(1, n // LEAF), max(1, n // ARTICLE)
    leaves = noisy(topics[rng.integers(TOPICS, size=n_leaves)], LEAF_SPREAD)
    articles = noisy(leaves[rng.integers(n_leaves, size=n_articles)], ARTICLE_SPREAD)
    weight = rng.exponential(size=n_articles)
    weight /= weight.sum()

    def draw(m: int) -> np.ndarray:
        out = np.empty((m, DIM), np.float32)
        for lo in range(0, m, 100_000):
            hi = min(m, lo + 100_000)
            out[lo:hi] = noisy(articles[rng.choice(n_articles, hi - lo, p=weight)], POINT_SPREAD)
        return out

    base = draw(n)
    return base, draw(queries)


def dataset(n: int, queries: int) -> tuple[Path, Path, Path]:
    """Base vectors, queries and exact top-10 ids on disk (made once, under WORK)."""
    folder = WORK / f"synth-{n}"
    base, qs = folder / "base.npy", folder / f"queries-{queries}.npy"
    gt = folder / f"gt-{queries}.npy"
    if not gt.is_file():
        import faiss

        folder.mkdir(parents=True, exist_ok=True)
        log(f"scaling: making {n:,} synthetic vectors")
        x, q = synthetic(n, queries)
        np.save(base, x)
        np.save(qs, q)
        exact = faiss.IndexFlatIP(DIM)
        exact.add(x)
        np.save(gt, exact.search(q, K)[1])
    return base, qs, gt


def _recall(found: list[np.ndarray], truth: np.ndarray) -> float:
    return float(
        np.mean(
            [
                len(set(f[:K].tolist()) & set(t[:K].tolist())) / K
                for f, t in zip(found, truth, strict=True)
            ]
        )
    )


def _timed(
    vi: VectorIndex, queries: np.ndarray, allowed: np.ndarray | None = None
) -> tuple[list[float], list[np.ndarray]]:
    times, found = [], []
    for q in queries:
        t = time.perf_counter()
        _, ids = vi.search(q, K, allowed)
        times.append(time.perf_counter() - t)
        found.append(ids)
    return times, found


def child(n: int, kind: str, queries: int) -> dict[str, Any]:
    """One (size, kind) measurement; runs in its own process."""
    base, qs, gt_path = dataset(n, queries)
    x = np.load(base, mmap_mode="r")
    q, gt = np.load(qs), np.load(gt_path)
    t0 = time.perf_counter()
    vi = VectorIndex.build(np.asarray(x), kind)
    build_s = time.perf_counter() - t0
    params = vi.params
    folder = WORK / f"ix-{n}-{kind}"
    folder.mkdir(parents=True, exist_ok=True)
    vi.save(folder / "vectors.faiss")
    disk = {p.name: p.stat().st_size for p in folder.iterdir()}
    del vi
    gc.collect()
    before = memory()
    vi = VectorIndex.load(folder / "vectors.faiss")
    n_lat = queries if kind != "flat" or n <= 100_000 else min(queries, 200)
    _timed(vi, q[: min(50, n_lat)])  # warm-up: page in what the searches touch
    times, found = _timed(vi, q[:n_lat])
    after = memory()
    row: dict[str, Any] = {
        "n": n,
        "kind": kind,
        "params": params,
        "build_s": round(build_s, 2),
        "disk_mb": round(sum(disk.values()) / 1e6, 1),
        "disk_files_mb": {k: round(v / 1e6, 1) for k, v in disk.items()},
        "memory_mb": round(after["rss_mb"] - before["rss_mb"], 1),
        "memory_anon_mb": round(after["anon_mb"] - before["anon_mb"], 1),
        "memory_file_mb": round(after["file_mb"] - before["file_mb"], 1),
        "search": percentiles(times),
        "recall_at_10": round(_recall(found, gt[:n_lat]), 4),
    }
    # a filter keeping 30 % of the ids, and one keeping 1 % (the exact-subset path)
    nf = min(200, n_lat)
    ids = np.arange(n)
    for share, allowed in (("30%", ids[ids % 10 < 3]), ("1%", ids[ids % 100 == 0])):
        sub = np.asarray(x[allowed])
        truth = allowed[np.argsort(-(sub @ q[:nf].T), axis=0, kind="stable")[:K].T]
        times, found = _timed(vi, q[:nf], allowed)
        row[f"filtered_{share}"] = {
            "search": percentiles(times),
            "recall_at_10": round(_recall(found, truth), 4),
        }
        del sub
    sweep = []
    for knob, rerank in SWEEP.get(kind, []):
        if vi.kind == "ivf":
            vi.set_search(nprobe=min(knob, vi.params["nlist"]), rerank=rerank)
        else:
            vi.set_search(ef_search=knob, rerank=rerank)
        times, found = _timed(vi, q[: min(300, n_lat)])
        sweep.append(
            {
                "knob": knob,
                "rerank": rerank,
                "p50_ms": percentiles(times)["p50_ms"],
                "recall_at_10": round(_recall(found, gt[: len(found)]), 4),
            }
        )
    row["sweep"] = sweep
    return row


def run(sizes: list[int], kinds: list[str], queries: int = 1000) -> dict[str, Any]:
    """Every (size, kind) in its own process; returns all rows."""
    rows = []
    for n in sizes:
        dataset(n, queries)
        for kind in kinds:
            log(f"scaling: {kind} at {n:,}")
            cmd = [
                sys.executable,
                "-m",
                "bench.scaling",
                "--child",
                str(n),
                kind,
                "--queries",
                str(queries),
            ]
            done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            if done.returncode != 0:
                log(f"scaling: {kind} at {n:,} failed: {done.stderr.strip()[-500:]}")
                rows.append({"n": n, "kind": kind, "error": done.stderr.strip()[-500:]})
                continue
            row = json.loads(done.stdout.strip().splitlines()[-1])
            log(
                f"scaling: {kind} at {n:,}: build {row['build_s']} s, "
                f"p50 {row['search']['p50_ms']} ms, recall@10 {row['recall_at_10']}, "
                f"memory {row['memory_mb']} MB"
            )
            rows.append(row)
    return {
        "dim": DIM,
        "k": K,
        "queries": queries,
        "rows": rows,
        "settings": {
            "exact_max": index_kinds.EXACT_MAX,
            "hnsw_m": index_kinds.HNSW_M,
            "ef_construction": index_kinds.HNSW_EF_CONSTRUCTION,
            "ef_search": index_kinds.HNSW_EF_SEARCH,
            "ivf_nprobe": index_kinds.IVF_NPROBE,
            "rerank": index_kinds.RERANK,
        },
    }


def realism(news_vectors: np.ndarray, n: int = 100_000, probes: int = 500) -> dict[str, Any]:
    """Neighbour similarities (top-1, top-10) of synthetic vs real chunk vectors."""
    import faiss

    def stats(x: np.ndarray) -> dict[str, float]:
        rng = np.random.default_rng(0)
        pick = rng.choice(len(x), size=min(probes, len(x)), replace=False)
        index = faiss.IndexFlatIP(x.shape[1])
        index.add(np.ascontiguousarray(x))
        sims = index.search(np.ascontiguousarray(x[pick]), K + 1)[0][:, 1:]  # drop self
        return {
            "top1_sim": round(float(np.median(sims[:, 0])), 3),
            "top10_sim": round(float(np.median(sims[:, -1])), 3),
            "mean_sim": round(float(np.mean(x[pick[:200]] @ x[pick[200:400]].T)), 3),
        }

    m = min(n, len(news_vectors))
    return {"synthetic": stats(synthetic(m)[0]), "news": stats(news_vectors[:m]), "n": m}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--kinds", nargs="+", default=list(KINDS))
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--child", nargs=2, metavar=("N", "KIND"))
    ap.add_argument(
        "--merge", action="store_true", help="replace only these (size, kind) rows in the results"
    )
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(int(args.child[0]), args.child[1], args.queries)))
        return
    out = run(args.sizes, args.kinds, args.queries)
    old = RESULTS / "scaling.json"
    if args.merge and old.is_file():
        new = {(r["n"], r["kind"]) for r in out["rows"]}
        kept = [r for r in json.loads(old.read_text())["rows"] if (r["n"], r["kind"]) not in new]
        out["rows"] = sorted(kept + out["rows"], key=lambda r: (r["n"], KINDS.index(r["kind"])))
    save("scaling", out)


if __name__ == "__main__":
    main()
