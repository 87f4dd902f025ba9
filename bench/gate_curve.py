"""The answerability gate's refusal precision/recall curves, one per features file, scored with
the packaged gate (rag/answer/gate.json), plus the cross-check curve stored in it. Writes
bench/results/gate.json (figures only) and bench/results/gate.png.

    rag eval --questions ../shared/eval/squad2/dev.jsonl --index IDX --gate-features squad.npz
    .venv/bin/python -m bench.gate_curve squad.npz news.npz
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bench.common import RESULTS, log, save
from rag.answer.calibrate import Features
from rag.answer.gate import PACKAGED, Gate, curve


def points(p: np.ndarray, answerable: np.ndarray) -> list[tuple[float, float, float]]:
    rows = curve(p, answerable)
    step = max(1, len(rows) // 60)
    return [tuple(round(v, 4) for v in r) for r in rows[::step]]  # type: ignore[misc]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("features", nargs="+", type=Path)
    ap.add_argument("--gate", type=Path, default=PACKAGED)
    args = ap.parse_args()
    gate = Gate.load(args.gate)
    out: dict[str, object] = {"gate": gate.trained_on, "sets": {}}
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for path in args.features:
        f = Features.load(path)
        p = np.array([gate.probability(x) for x in f.x])
        rows = points(p, f.answerable)
        out["sets"][path.stem] = {  # type: ignore[index]
            "rows": len(p),
            "unanswerable": int((~f.answerable).sum()),
            "curve_threshold_precision_recall": rows,
        }
        ax.plot([r[2] for r in rows], [r[1] for r in rows], label=f"{path.stem} ({len(p)})")
    cc = gate.curve
    ax.plot([r[2] for r in cc], [r[1] for r in cc], "--", color="grey", label="cross-check")
    ax.axhline(0.85, color="red", lw=0.6)
    ax.axvline(0.60, color="red", lw=0.6)
    ax.set_xlabel("refusal recall (share of unanswerable questions refused)")
    ax.set_ylabel("refusal precision")
    ax.set_ylim(0.3, 1.02)
    ax.set_title("Answerability gate (target: precision .85 at recall .60)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    png = RESULTS / "gate.png"
    fig.savefig(png, dpi=110)
    log(f"gate: wrote {png}")
    save("gate", out)


if __name__ == "__main__":
    main()
