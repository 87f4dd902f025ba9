"""Builds on Ray: throughput of the same full build locally and on a local Ray cluster with 1
and 2 workers (rag/embed/cluster.py), same articles, same backend and batch size.

    python -m bench.ray_build                      # the first 150 news articles, 2 rounds
    python -m bench.ray_build --articles 300 --rounds 3

Four ways, each a fresh index folder, run in turn once per round (medians reported):

- ``local``: `Pipeline.build` as a user runs it (ONNX Runtime on every CPU of the machine);
- ``local-1-thread``: the same with one ONNX Runtime thread, the CPU of one Ray worker;
- ``ray-1`` / ``ray-2``: `Indexer` with `RayEncoder`, 1 or 2 actors of 1 CPU (1 thread) each,
  on a cluster started once beforehand (its start is reported apart: a cluster serves many
  builds; `--ray local` pays it once per command).

Ray's overhead is ray-1 against local-1-thread (same CPU); the speed-up is ray-2 against ray-1.
`local` against `local-1-thread` shows how much of a second core the machine had free.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.build import corpus_file
from bench.common import WORK, load_average, log, save
from rag import Pipeline, Settings
from rag.build import Indexer
from rag.embed import backend
from rag.embed import embedder as embed
from rag.index import vectors as index

WAYS = ("local", "local-1-thread", "ray-1", "ray-2")


def cpu_model() -> str:
    """`lscpu`'s model name (the CPU the numbers were measured on)."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""
    return next((ln.split(":", 1)[1].strip() for ln in out.splitlines() if "Model name" in ln), "")


def one_build(way: str, corpus: Path, folder: Path, settings: Settings) -> dict[str, Any]:
    """One full build of `corpus` into a fresh `folder`: its report, wall and CPU seconds."""
    from rag.embed.cluster import RayEncoder

    shutil.rmtree(folder, ignore_errors=True)
    s = settings.with_(index_dir=folder)
    models = s.index.index_dir / "models"
    load = load_average()
    wall, cpu = time.perf_counter(), time.process_time()
    if way.startswith("ray-"):
        encoder = RayEncoder(s, workers=int(way.split("-")[1]))
        report = Indexer(s, not_here, encoder).build([corpus])
    else:
        threads = 1 if way == "local-1-thread" else None
        e = embed.OnnxEmbedder(
            s.index.model, s.index.batch_size, quantize=True, cache_dir=models, threads=threads
        )
        report = Pipeline(s, e).build([corpus])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "way": way,
        "chunks": report.chunks,
        "seconds": round(wall, 2),
        "chunks_per_s": round(report.chunks / wall, 1),
        "driver_cpu_s": round(cpu, 2),  # this process only, not Ray's workers
        "load_before": load,
        "load_after": load_average(),
    }


def fixed_cost(settings: Settings, folder: Path, repeats: int = 3) -> dict[str, float]:
    """Seconds to embed 16 texts (one model call) on Ray with 1 worker, and locally with a
    fresh 1-thread embedder: what a build on Ray costs beyond its embedding (median)."""
    from rag.embed.cluster import RayEncoder

    s = settings.with_(index_dir=folder)
    texts = backend.sample(16)
    ray_s, local_s = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        RayEncoder(s, workers=1)(texts)
        ray_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        models = s.index.index_dir / "models"
        embed.OnnxEmbedder(s.index.model, s.index.batch_size, cache_dir=models, threads=1).encode(
            texts
        )
        local_s.append(time.perf_counter() - t)
    return {
        "ray_1_worker_s": statistics.median(ray_s),
        "local_1_thread_s": statistics.median(local_s),
    }


def not_here() -> embed.Embedder:
    raise AssertionError("a build on Ray embeds on its workers, not here")


def vectors(folder: Path) -> np.ndarray:
    return index.VectorIndex.load(index.current(folder) / index.VECTORS).vectors()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--articles", type=int, default=150)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--work", type=Path, default=WORK / "ray-build")
    args = ap.parse_args()

    import ray

    corpus = corpus_file(False, args.articles)
    settings = Settings.load(env={}, backend="onnx-int8")
    started = time.perf_counter()
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, logging_level="ERROR")
    cluster_start = time.perf_counter() - started
    log(f"Ray {ray.__version__} cluster of {ray.cluster_resources().get('CPU')} CPUs started")
    runs: list[dict[str, Any]] = []
    try:
        fixed = fixed_cost(settings, args.work / "fixed")
        log(f"16 texts: {fixed}")
        for r in range(args.rounds):
            order = WAYS if r % 2 == 0 else WAYS[::-1]  # drifting load hits every way alike
            for way in order:
                runs.append(one_build(way, corpus, args.work / way, settings))
                log(f"round {r + 1}: {way}: {runs[-1]['seconds']} s, {runs[-1]['chunks_per_s']}/s")
        diff = float(np.abs(vectors(args.work / "ray-2") - vectors(args.work / "local")).max())
    finally:
        ray.shutdown()

    median = {w: statistics.median(x["seconds"] for x in runs if x["way"] == w) for w in WAYS}
    chunks = runs[0]["chunks"]
    rate = {w: round(chunks / median[w], 1) for w in WAYS}

    out = {
        "cpu_model": cpu_model(),
        "ray": ray.__version__,
        "corpus": str(corpus),
        "articles": args.articles,
        "chunks": chunks,
        "backend": settings.index.backend,
        "batch_size": settings.index.batch_size,
        "rounds": args.rounds,
        "cluster_start_s": round(cluster_start, 2),
        "one_call_of_16_texts_s": {k: round(v, 2) for k, v in fixed.items()},
        "median_seconds": {w: round(v, 2) for w, v in median.items()},
        "chunks_per_s": rate,
        "ray_overhead_1_worker": round(median["ray-1"] / median["local-1-thread"] - 1, 3),
        "ray_overhead_1_worker_best_of": round(
            min(x["seconds"] for x in runs if x["way"] == "ray-1")
            / min(x["seconds"] for x in runs if x["way"] == "local-1-thread")
            - 1,
            3,
        ),
        "ray_1_worker_vs_local": round(median["ray-1"] / median["local"], 3),
        "speedup_2_workers_vs_1": round(median["ray-1"] / median["ray-2"], 3),
        "speedup_2_workers_vs_local": round(median["local"] / median["ray-2"], 3),
        "local_2_threads_vs_1": round(median["local-1-thread"] / median["local"], 3),
        "vectors_max_abs_diff_ray_vs_local": diff,
        "runs": runs,
    }
    log(f"saved {save('ray_build', out)}")


if __name__ == "__main__":
    main()
