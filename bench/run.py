"""Run the benchmarks: one command, each part in its own process, results in bench/results/
(JSON per part, PNG plots). See bench/README.md for what each part measures.

    .venv/bin/python bench/run.py --quick              # minutes: small sizes, a small corpus
    .venv/bin/python bench/run.py                      # the full set (an hour or more on 2 cores)
    .venv/bin/python bench/run.py --only query serve --index /tmp/news/index
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import WORK, load_average, log  # noqa: E402

PARTS = ("scaling", "embedding", "build", "query", "serve", "quality", "startup", "ray")


def commands(args: argparse.Namespace) -> dict[str, list[str]]:
    index = str(args.index or WORK / "news-index")
    quick = args.quick
    sizes = ["10000", "100000"] if quick else ["10000", "30000", "100000", "300000", "1000000"]
    build = ["--backend", args.backend, "--index", str(WORK / "news-index")]
    build += ["--dev-weeks", "--limit", "200"] if quick else ["--torch-share", "0.1"]
    return {
        "scaling": ["bench.scaling", "--sizes", *sizes, "--queries", "300" if quick else "1000"],
        "embedding": ["bench.embedding", "--texts", "128" if quick else "256"]
        + (["--batches", "16", "32", "64"] if quick else []),
        "build": ["bench.build", *build],
        "query": ["bench.query", "--index", index, "--backend", args.backend],
        "serve": ["bench.serve", "--index", index, "--backend", args.backend],
        "quality": ["bench.embedding", "--texts", "16", "--batches", "32", "--quality"],
        "startup": ["bench.startup", "--runs", "3" if quick else "5"],
        "ray": ["bench.ray_build", "--articles", "50" if quick else "150", "--rounds", "3"],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes and corpus (minutes)")
    ap.add_argument("--only", nargs="+", choices=PARTS, help="run these parts only")
    ap.add_argument(
        "--index", type=Path, help="news index for query/serve (default: the one build makes)"
    )
    ap.add_argument(
        "--backend", default="auto", help="embedding backend (auto, torch, onnx, onnx-int8)"
    )
    args = ap.parse_args()
    parts = args.only or [p for p in PARTS if not (args.quick and p == "quality")]
    if args.index and not args.only:
        parts = [p for p in parts if p != "build"]  # query the given index, do not rebuild it
    failed = []
    for part in parts:
        log(f"run: {part} (load average {load_average()})")
        cmd = [sys.executable, "-m", *commands(args)[part]]
        if subprocess.run(cmd, cwd=ROOT).returncode != 0:
            failed.append(part)
    from bench import plot

    for path in plot.main():
        log(f"run: wrote {path.relative_to(ROOT)}")
    if failed:
        log(f"run: failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
