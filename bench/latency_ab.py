"""Search latency, A against B, interleaved question by question on warm pipelines (news dev
questions and variations, each asked `--rounds` times): rescoring on vs off on one index, or
one index vs another (`--vs`, e.g. monthly shards vs unsharded), with and without as-of dates.

    python -m bench.latency_ab --index /tmp/news/index        # -> results/rescore_latency.json
    python -m bench.latency_ab --index /tmp/news/index --vs /tmp/news-month/index  # shards_latency
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from bench.common import percentiles, save
from bench.query import question_set
from rag import Pipeline, Settings

Search = Callable[[str, date | None], Any]


def interleaved(ways: dict[str, Search], rounds: int, dated: bool = True) -> dict[str, Any]:
    """p50/p95 of each way over the same questions, asked in turn (as-of dates when `dated`)."""
    qs = question_set()
    for search in ways.values():
        search(qs[0][0], None)  # warm: model, index and rescoring model loaded
    times: dict[str, list[float]] = {w: [] for w in ways}
    for _ in range(rounds):
        for q, day in qs:
            for way, search in ways.items():
                t = time.perf_counter()
                search(q, day if dated else None)
                times[way].append(time.perf_counter() - t)
    return {w: percentiles(t) for w, t in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--vs", type=Path, default=None, help="Another index to compare with.")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    a = Pipeline(Settings.load(index_dir=args.index))
    out: dict[str, Any] = {"index": str(args.index), "rounds": args.rounds}
    if args.vs is None:
        ways: dict[str, Search] = {
            "rescored": lambda q, d: a.search(q, k=10, as_of=d),
            "fused_only": lambda q, d: a.search(q, k=10, as_of=d, rescore="off"),
        }
        out["search"] = r = interleaved(ways, args.rounds)
        out["added_p50_ms"] = round(r["rescored"]["p50_ms"] - r["fused_only"]["p50_ms"], 2)
        out["added_p95_ms"] = round(r["rescored"]["p95_ms"] - r["fused_only"]["p95_ms"], 2)
        save("rescore_latency", out)
    else:
        b = Pipeline(Settings.load(index_dir=args.vs))
        out["vs"] = str(args.vs)
        ways = {
            "index": lambda q, d: a.search(q, k=10, as_of=d),
            "vs": lambda q, d: b.search(q, k=10, as_of=d),
        }
        out["with_as_of"] = interleaved(ways, args.rounds, dated=True)
        out["without_dates"] = interleaved(ways, args.rounds, dated=False)
        save("shards_latency", out)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
