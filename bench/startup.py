"""Start-up: how long a user waits for `import rag`, `rag --help` and a first `rag ask` on the
seed index, each a fresh process, median of 5 (issue 13 targets: --help <= 0.5 s, ask on a
small index <= 2.5 s), and which heavy libraries each one loaded.

    .venv/bin/python -m bench.startup [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import ROOT, WORK, log, save

HEAVY = ("torch", "sentence_transformers", "transformers", "faiss", "gradio", "langchain_core")
PROBE = (
    "import json, runpy, sys; sys.argv = {argv!r}\n"
    "try:\n    runpy.run_module('rag.cli.main', run_name='__main__')\n"
    "except SystemExit:\n    pass\n"
    f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]), file=sys.stderr)"
)


def timed(cmd: list[str], runs: int, env: dict[str, str]) -> dict[str, object]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:4])} failed: {r.stderr[-400:]}")
    return {"median_s": round(statistics.median(times), 3), "runs_s": [round(t, 3) for t in times]}


def loaded(argv: list[str], env: dict[str, str]) -> list[str]:
    """The heavy modules a `rag ...` process had imported by the time it finished."""
    code = PROBE.format(argv=["rag", *argv])
    r = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    return json.loads(r.stderr.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    rag = str(Path(sys.executable).with_name("rag"))
    index = WORK / "seed-index"
    build = [rag, "index", "build", "seeds", "--index", str(index), "--quiet"]
    subprocess.run(build, cwd=ROOT, env=env, check=True, capture_output=True)
    question = "Who called the talks very successful?"
    ask = ["ask", question, "--index", str(index)]
    out: dict[str, object] = {
        "import_rag": timed([sys.executable, "-c", "import rag"], args.runs, env),
        "help": timed([rag, "--help"], args.runs, env),
        "ask_seed_index": timed([rag, *ask], args.runs, env),
        "loaded_by_help": loaded(["--help"], env),
        "loaded_by_ask": loaded(ask, env),
        "targets_s": {"help": 0.5, "ask_seed_index": 2.5},
    }
    log(f"startup: {json.dumps(out)}")
    save("startup", out)


if __name__ == "__main__":
    main()
