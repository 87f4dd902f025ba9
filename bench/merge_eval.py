"""Put `rag eval` reports of parts of one question file together: the figures of the whole.

Slow runs (`--llm` on 2 cores takes 10-15 s a question) go in parts, e.g. `--every 2 --offset 0`
and `--every 2 --offset 1`, each written with its rows (`--out`, the default `--rows`); this
recomputes every figure from all the rows and writes them without the rows (for bench/results).

    .venv/bin/python bench/merge_eval.py /tmp/a.json /tmp/b.json --out bench/results/x.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.eval.evaluate import summarise  # noqa: E402


def merge(paths: list[Path]) -> dict:
    """The figures over all the rows of `paths` (reports with rows), and where they came from."""
    reports = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    missing = [str(p) for p, r in zip(paths, reports, strict=True) if "questions" not in r]
    if missing:
        raise SystemExit(f"{', '.join(missing)}: no rows; run `rag eval` with --rows (the default)")
    rows = [row for r in reports for row in r["questions"]]
    ids = [row["id"] for row in rows]
    if len(set(ids)) != len(ids):
        raise SystemExit("the reports share questions: give parts of one file that do not overlap")
    answers = all("em" in row for row in rows)  # every report scored answers (--answers)
    figures = summarise(rows, int(reports[0]["k"]), answers=answers)
    return {
        **figures,
        "parts": [
            {"file": p.name, "n_total": r["n_total"]} for p, r in zip(paths, reports, strict=True)
        ],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reports", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    figures = merge(args.reports)
    args.out.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {figures['n_total']} questions from {len(args.reports)} reports")


if __name__ == "__main__":
    main()
