"""Shared helpers: percentiles, memory readings, machine facts, result files."""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"
NEWS = EVAL / "news"
RESULTS = ROOT / "bench" / "results"
WORK = Path(os.environ.get("RAG_BENCH_WORK", "/tmp/rag-bench"))  # big scratch files, not kept

# The LangChain baseline measured on this machine (issue 7): same model, same news corpus.
BASELINE = {
    "build_seconds": 1661.0,
    "corpus_chars": 34.6e6,
    "chars_per_s": 20.8e3,
    "chunks_per_s": 29.3,
    "peak_rss_gb": 2.7,
    "similarity_search_p50_ms": 20.6,
    "similarity_search_p95_ms": 24.6,
}


def percentiles(seconds: Sequence[float]) -> dict[str, float]:
    """p50 / p95 / mean / max in milliseconds (nearest-rank p95).

    >>> percentiles([0.001, 0.002, 0.003])["p50_ms"]
    2.0
    """
    if not seconds:
        return {"n": 0, "p50_ms": 0.0, "p95_ms": 0.0, "mean_ms": 0.0, "max_ms": 0.0}
    ms = sorted(1000 * s for s in seconds)
    p95 = ms[min(len(ms) - 1, max(0, int(round(0.95 * len(ms))) - 1))]
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 3),
        "p95_ms": round(p95, 3),
        "mean_ms": round(statistics.fmean(ms), 3),
        "max_ms": round(ms[-1], 3),
    }


def memory(pid: int | str = "self") -> dict[str, float]:
    """Resident memory of a process in MB: total, anonymous, file-backed, and the peak."""
    out: dict[str, float] = {}
    names = {"VmRSS": "rss_mb", "RssAnon": "anon_mb", "RssFile": "file_mb", "VmHWM": "peak_mb"}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in names:
                out[names[key]] = round(int(value.split()[0]) / 1024, 1)
    return out


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    """What the numbers were measured on, and how busy it was."""
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for mod in ("faiss", "torch", "onnxruntime", "sentence_transformers", "numpy", "bm25s"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:  # not installed, or no version
            versions[mod] = None
    return {
        "cpu": cpu,
        "cpus": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "versions": versions,
        "load_average": load_average(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def save(name: str, data: dict[str, Any], folder: Path = RESULTS) -> Path:
    """Write `data` (plus the machine facts) to `folder/name.json`."""
    folder.mkdir(parents=True, exist_ok=True)
    data = {"machine": machine(), **data}
    path = folder / f"{name}.json"
    path.write_text(json.dumps(data, indent=1, default=str) + "\n")
    return path


def index_args(doc: str | None, number: str, default: int) -> argparse.Namespace:
    """The options of the parts that measure one index: --index, --backend, and `--<number>`."""
    ap = argparse.ArgumentParser(description=doc)
    ap.add_argument("--index", type=Path, default=WORK / "news-index")
    ap.add_argument("--backend", default="auto")
    ap.add_argument(f"--{number}", type=int, default=default)
    return ap.parse_args()


def log(*parts: Any) -> None:
    print(time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


def news_articles(dev_weeks: bool = False, limit: int | None = None) -> list[dict[str, Any]]:
    """News corpus records (doc_id, title, text, published, week, ...); `dev_weeks` keeps
    the weeks that dev.jsonl asks about (the cheaper corpus of ../shared/eval/README.md)."""
    import gzip

    weeks = None
    if dev_weeks:
        weeks = {json.loads(line)["week"] for line in open(NEWS / "dev.jsonl") if line.strip()}
    out = []
    with gzip.open(NEWS / "corpus.jsonl.gz", "rt") as f:
        for line in f:
            rec = json.loads(line)
            if weeks is None or rec.get("week") in weeks:
                out.append(rec)
                if limit is not None and len(out) >= limit:
                    break
    return out


def chunk_texts(records: list[dict[str, Any]], size: int = 800, overlap: int = 100) -> list[str]:
    """What the model reads for each chunk of these records (title + passage), as a build does."""
    from rag.ingest import chunk
    from rag.types import Article

    texts = []
    for r in records:
        a = Article(doc_id=r["doc_id"], title=r.get("title", ""), text=r["text"])
        texts += [chunk.embed_text(a, b, e) for b, e in chunk.spans(a.text, size, overlap)]
    return texts


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
