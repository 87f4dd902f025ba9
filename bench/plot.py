"""Plots: one PNG per benchmark, drawn from bench/results/*.json (missing ones are skipped).

python -m bench.plot
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.common import BASELINE, RESULTS

COLOURS = {"flat": "C0", "hnsw": "C1", "hnsw-flat": "C2", "ivf": "C3"}


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def scaling(data: dict[str, Any], out: Path) -> Path:
    plt = _plt()
    rows = [r for r in data["rows"] if "error" not in r]
    kinds = sorted({r["kind"] for r in rows}, key=list(COLOURS).index)
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    panels = [
        ("build_s", "build time (s)", True),
        ("memory_mb", "memory after load + searches (MB)", True),
        ("p50", "search p50, one query, k=10 (ms)", True),
        ("p95", "search p95 (ms)", True),
        ("recall_at_10", "recall@10 vs exact", False),
    ]
    for ax, (key, title, logy) in zip(axes.flat, panels, strict=False):
        for kind in kinds:
            rs = sorted((r for r in rows if r["kind"] == kind), key=lambda r: r["n"])
            ys = [r["search"][f"{key}_ms"] if key in ("p50", "p95") else r[key] for r in rs]
            ax.plot([r["n"] for r in rs], ys, "o-", label=kind, color=COLOURS.get(kind))
        ax.set_xscale("log")
        if logy:
            ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("vectors (384-dim)")
        ax.grid(True, which="both", alpha=0.3)
        if key == "recall_at_10":
            ax.axhline(0.95, color="grey", ls="--", lw=1)
            ax.set_ylim(0.8, 1.005)
        if key == "p50":
            ax.axhline(5, color="grey", ls="--", lw=1)
        if key == "memory_mb":
            ax.axhline(1024, color="grey", ls="--", lw=1)
    axes[0, 0].legend()
    ax = axes.flat[5]
    biggest = max(r["n"] for r in rows)
    for r in rows:
        if r["n"] == biggest and r.get("sweep"):
            pts = r["sweep"]
            ax.plot(
                [p["p50_ms"] for p in pts],
                [p["recall_at_10"] for p in pts],
                "o-",
                color=COLOURS.get(r["kind"]),
                label=r["kind"],
            )
            for p in pts:
                ax.annotate(
                    f"{p['knob']}/{p['rerank']}", (p["p50_ms"], p["recall_at_10"]), fontsize=7
                )
    ax.axhline(0.95, color="grey", ls="--", lw=1)
    ax.set_title(f"recall vs p50 at {biggest:,} (ef or nprobe / re-ranked)")
    ax.set_xlabel("p50 (ms)")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.suptitle(
        "Vector index kinds on synthetic clustered vectors (2-core CPU, one thread per query)"
    )
    return _save(fig, out / "scaling.png")


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    _plt().close(fig)
    return path


def build(data: dict[str, Any], out: Path) -> Path:
    plt = _plt()
    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 4.5))
    names = ["LangChain baseline", f"build ({data['backend']})"]
    values = [BASELINE["chars_per_s"] / 1000, data["corpus_chars_per_s"] / 1000]
    a.barh(names, values, color=["grey", "C0"])
    a.axvline(2 * BASELINE["chars_per_s"] / 1000, color="C3", ls="--", label="target: 2x baseline")
    for i, v in enumerate(values):
        a.text(v, i, f" {v:.1f}k", va="center")
    a.set_xlabel("corpus characters per second (thousands)")
    a.legend(loc="lower right")
    a.set_title(
        f"{data['articles']:,} articles, {data['chunks']:,} chunks in {data['seconds']:.0f} s"
    )
    stages = data["stages_s"]
    left = 0.0
    for i, (k, v) in enumerate(stages.items()):
        b.barh(["build"], [v], left=left, label=f"{k} {v:.0f} s", color=f"C{i}")
        left += v
    if "bare" in data:
        b.barh(["bare encode"], [data["chunks"] / data["bare"]["chunks_per_s"]], color="C2")
    b.set_xlabel("seconds")
    b.legend(loc="lower right", fontsize=8)
    ratio = data.get("build_vs_bare")
    b.set_title(f"time by stage; build rate / bare encode rate = {ratio}")
    return _save(fig, out / "build.png")


def query(data: dict[str, Any], out: Path) -> Path:
    plt = _plt()
    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 4.5))
    st = data["stages"]
    names = list(st)
    a.bar(names, [st[k]["p50_ms"] for k in names], label="p50")
    a.plot(names, [st[k]["p95_ms"] for k in names], "k_", ms=20, label="p95")
    a.set_ylabel("ms")
    a.set_title(f"stages ({data['chunks']:,} chunks, {data['index_type']}, {data['backend']})")
    a.legend()
    ends = ["search", "ask"]
    x = range(len(ends))
    b.bar([i - 0.2 for i in x], [data[e]["p50_ms"] for e in ends], 0.4, label="p50")
    b.bar([i + 0.2 for i in x], [data[e]["p95_ms"] for e in ends], 0.4, label="p95")
    b.set_xticks(list(x), ends)
    for y, label in ((15, "search p50 target"), (50, "ask p50 target"), (150, "ask p95 target")):
        b.axhline(y, ls="--", lw=1, color="grey")
        b.text(1.45, y, label, fontsize=7, va="bottom", ha="right")
    b.axhline(BASELINE["similarity_search_p50_ms"], color="C3", ls=":", label="baseline p50")
    b.set_title(f"end to end, warm, {data['questions']} questions")
    b.legend()
    return _save(fig, out / "query.png")


def embedding(data: dict[str, Any], out: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    rows = [r for r in data["speed"] if "batch_size" in r]
    for backend in dict.fromkeys(r["backend"] for r in rows):
        rs = [r for r in rows if r["backend"] == backend]
        key = "chunks_per_cpu_s" if all("chunks_per_cpu_s" in r for r in rs) else "chunks_per_s"
        ax.plot([r["batch_size"] for r in rs], [r[key] for r in rs], "o-", label=backend)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("batch size")
    ax.set_ylabel("chunks per CPU second (all threads)")
    ax.set_title(f"encode speed, {data['texts']} news chunks (median of runs)")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return _save(fig, out / "embedding.png")


def reader_fit(data: dict[str, Any], out: Path) -> Path:
    """Reliability of the reader's confidence on each held-out half (bench/fit_reader.py)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect")
    for name in ("squad", "news"):
        for half in ("A", "B"):
            held = (data.get(name) or {}).get(f"held_out_{half}")
            if held:
                p, acc, _ = zip(*held["bins"], strict=True)
                ax.plot(p, acc, "o-", label=f"{name} {half} (ECE {held['ece']:.3f})")
    ax.set_xlabel("confidence shown")
    ax.set_ylabel("share right")
    ax.set_title("Reader confidence, held-out halves")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, out / "reader_reliability.png")


def main(out: Path = RESULTS) -> list[Path]:
    made = []
    for name, draw in (
        ("scaling", scaling),
        ("build", build),
        ("query", query),
        ("embedding", embedding),
        ("reader_fit", reader_fit),
    ):
        data = _load(name)
        if data is not None:
            made.append(draw(data, out))
    return made


if __name__ == "__main__":
    for p in main():
        print(p)
