"""Embedding: chunks per second by backend and batch size, one-question latency, and retrieval
quality per backend on ../shared/eval (Hit@k / MRR with rag.eval.evaluate); with --backend-choice,
the three backends on this CPU (its model and flags), what `auto` picks and what the
calibration would time (bench/results/backends.json).

    python -m bench.embedding --texts 256 --quality
    python -m bench.embedding --backend-choice
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    EVAL,
    NEWS,
    ROOT,
    WORK,
    chunk_texts,
    log,
    news_articles,
    percentiles,
    save,
)
from rag.embed import backend as choice
from rag.embed import embedder as embed

BACKENDS = ("torch", "onnx", "onnx-int8")
BATCHES = (8, 16, 32, 64, 128)


def timed_encode(e: Any, texts: list[str], repeats: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of `repeats` calls of `e.encode(texts)`."""
    runs, cpus = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        e.encode(texts)
        runs.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return runs, cpus


def sample_texts(n: int, seed: int = 0) -> list[str]:
    """`n` chunk texts of the news corpus, drawn at random (so of typical lengths)."""
    records = news_articles()
    rng = np.random.default_rng(seed)
    texts = chunk_texts([records[i] for i in rng.choice(len(records), 200, replace=False)])
    return [texts[i] for i in rng.choice(len(texts), min(n, len(texts)), replace=False)]


def questions(limit: int | None = None) -> list[str]:
    return [json.loads(line)["question"] for line in open(NEWS / "dev.jsonl") if line.strip()][
        :limit
    ]


def speed(
    texts: list[str], backends: tuple[str, ...], batches: tuple[int, ...], repeats: int = 2
) -> list[dict[str, Any]]:
    """Chunks/s of `embedder.encode` over `texts` for each backend and batch size (median)."""
    rows = []
    chars = sum(map(len, texts))
    qs = questions()
    for backend in backends:
        e = embed.load(batch_size=32, backend=backend, cache_dir=WORK / "models")
        e.encode(texts[:16])  # warm-up
        for b in batches:
            e.batch_size = b  # type: ignore[attr-defined]
            runs, cpus = timed_encode(e, texts, repeats)
            s = float(np.median(runs))
            rows.append(
                {
                    "backend": backend,
                    "batch_size": b,
                    "seconds": round(s, 2),
                    "runs": [round(r, 2) for r in runs],
                    "chunks_per_s": round(len(texts) / s, 1),
                    "chars_per_s": round(chars / s),
                    "chunks_per_cpu_s": round(len(texts) / float(np.median(cpus)), 2),
                }
            )
            log(f"embedding: {backend} batch {b}: {rows[-1]['chunks_per_s']} chunks/s")
        times = []
        for q in qs * 2:
            t = time.perf_counter()
            e.encode([q])
            times.append(time.perf_counter() - t)
        rows.append({"backend": backend, "query": percentiles(times)})
        del e
    return rows


def small_news_corpus(path: Path, others: int = 300, seed: int = 0) -> Path:
    """Gold articles of the dev questions plus `others` articles of the same weeks, as JSONL."""
    if path.is_file():
        return path
    gold = {
        d
        for line in open(NEWS / "dev.jsonl")
        if line.strip()
        for d in json.loads(line)["gold_doc_ids"]
    }
    records = news_articles(dev_weeks=True)
    rest = [r for r in records if r["doc_id"] not in gold]
    rng = np.random.default_rng(seed)
    keep = [r for r in records if r["doc_id"] in gold] + [
        rest[i] for i in rng.choice(len(rest), min(others, len(rest)), replace=False)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as f:
        for r in keep:
            f.write(json.dumps(r) + "\n")
    return path


def quality(
    backends: tuple[str, ...], batch_size: int = 32, news_others: int = 300
) -> list[dict[str, Any]]:
    """Hit@k / MRR per backend: SQuAD 2.0 dev (all questions) and news dev (gold + distractors)."""
    from rag import Pipeline, Settings
    from rag.eval.dataset import load_questions
    from rag.eval.evaluate import run

    sets = {
        "squad2": (EVAL / "squad2" / "paragraphs.jsonl.gz", EVAL / "squad2" / "dev.jsonl", None),
        "news-small": (
            small_news_corpus(WORK / f"news-small-{news_others}.jsonl.gz", news_others),
            NEWS / "dev.jsonl",
            "question_date",
        ),
    }
    rows = []
    for backend in backends:
        e = embed.load(batch_size=batch_size, backend=backend, cache_dir=WORK / "models")
        for name, (corpus, qfile, as_of) in sets.items():
            s = Settings.load(
                env={}, index_dir=WORK / f"quality-{name}-{backend}", batch_size=batch_size
            )
            p = Pipeline(s, e)
            t = time.perf_counter()
            if p.stale([corpus]):
                report = p.build([corpus])
                log(f"quality: {name} {backend}: {report.chunks} chunks in {report.seconds:.0f} s")
            build_s = time.perf_counter() - t
            qs = load_questions(qfile, as_of_field=as_of)
            summary = run(p, qs, k=10, progress=False).summary
            keep = {k: v for k, v in summary.items() if k.startswith(("hit@", "mrr", "ndcg", "n"))}
            rows.append({"backend": backend, "set": name, "build_s": round(build_s, 1), **keep})
            log(f"quality: {name} {backend}: {keep}")
    return rows


def seed_texts(n: int = 300, chars: int = 800, seed: int = 0) -> list[str]:
    """`n` made-up chunks of about `chars` characters: sentences of seeds/ drawn at random."""
    import re

    text = " ".join(p.read_text() for p in sorted((ROOT / "seeds").glob("*.txt")))
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split())) if len(s) > 20]
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        parts: list[str] = []
        while sum(map(len, parts)) < chars:
            parts.append(sentences[rng.integers(len(sentences))])
        out.append(" ".join(parts)[: chars + 100])
    return out


def start_seconds(name: str, runs: int = 2) -> float:
    """Median seconds from a fresh interpreter to the first vector (import, load, encode)."""
    code = (
        "from pathlib import Path; from rag import embed; "
        f"embed.load(batch_size=16, backend={name!r}, cache_dir=Path({str(WORK / 'models')!r}))"
        ".encode(['a question'])"
    )
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
        times.append(time.perf_counter() - t)
    return round(statistics.median(times), 2)


def backend_choice(n: int = 300, batch: int = 16, repeats: int = 3) -> dict[str, Any]:
    """Chunks/s of each backend on `n` seeds/ chunks (median of `repeats`), the CPU, the
    choice `auto` makes here and the calibration timings it would use without the flags."""
    texts = seed_texts(n)
    cpu = choice.cpu()
    rows, made = [], {}
    for name in BACKENDS:
        e = made[name] = embed.load(batch_size=batch, backend=name, cache_dir=WORK / "models")
        e.encode(texts[:16])  # warm-up
        runs, cpus = timed_encode(e, texts, repeats)
        s = statistics.median(runs)
        rows.append(
            {
                "backend": name,
                "chunks_per_s": round(n / s, 1),
                "runs_s": [round(r, 2) for r in runs],
                "chunks_per_cpu_s": round(n / statistics.median(cpus), 2),
            }
        )
        log(f"backends: {name}: {rows[-1]['chunks_per_s']} chunks/s")
    rate = {r["backend"]: r["chunks_per_s"] for r in rows}
    t = time.perf_counter()
    calibration = {n: round(choice.seconds_for_sample(made[n]), 3) for n in ("onnx-int8", "onnx")}
    calibration_s = time.perf_counter() - t
    auto = embed.load(batch_size=batch, backend="auto", cache_dir=WORK / "models")
    return {
        "cpu": cpu.model,
        "int8_flags": [f for f in choice.INT8_FLAGS if f in cpu.flags],
        "flags": " ".join(sorted(cpu.flags)),
        "texts": n,
        "mean_chars": round(float(np.mean([len(t) for t in texts]))),
        "batch_size": batch,
        "speed": rows,
        "int8_vs_onnx": round(rate["onnx-int8"] / rate["onnx"], 2),
        "int8_vs_torch": round(rate["onnx-int8"] / rate["torch"], 2),
        "onnx_vs_torch": round(rate["onnx"] / rate["torch"], 2),
        "auto": {"backend": auto.backend, "reason": auto.reason},  # type: ignore[attr-defined]
        "calibration_sample_s": calibration,  # median of 3, what a CPU without the flags times
        "calibration_total_s": round(calibration_s, 2),  # the files loaded: add their loading
        "start_to_first_vector_s": {name: start_seconds(name) for name in BACKENDS},
        "not_measured": "an AVX2-only CPU: none was available (this one has the int8 flags)",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--texts", type=int, default=256)
    ap.add_argument("--backends", nargs="+", default=list(BACKENDS))
    ap.add_argument("--batches", type=int, nargs="+", default=list(BATCHES))
    ap.add_argument("--quality", action="store_true", help="also build and evaluate per backend")
    ap.add_argument(
        "--backend-choice", action="store_true", help="only bench/results/backends.json"
    )
    args = ap.parse_args()
    if args.backend_choice:
        save("backends", backend_choice())
        return
    texts = sample_texts(args.texts)
    out: dict[str, Any] = {"texts": len(texts), "chars": sum(map(len, texts))}
    out["speed"] = speed(texts, tuple(args.backends), tuple(args.batches))
    if args.quality:
        out["quality"] = quality(tuple(b for b in args.backends if b != "onnx"))
    save("embedding", out)


if __name__ == "__main__":
    main()
