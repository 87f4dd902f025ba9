"""Disagreement detection on a made-up corpus (bench/disagree_corpus.py): precision and recall
of the disagreements reported, and the false-alarm rate on questions whose sources agree.

Two ways, reported side by side:
- `detector`: `rag.answer.disagree.find` on the event's fact sentences themselves (no retrieval);
- `pipeline`: `Pipeline.ask` (extractive, default settings, the packaged model unless `--fake`)
  over an index of every event's articles: what a user gets, retrieval and refusals included.

A reported disagreement is right when its sides hold both planted values (compared with
`rag.answer.values.same`); an event is detected when one of its reported disagreements is right.

    .venv/bin/python bench/disagree.py [--fake] [--out bench/results/disagree.json]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import NEWS, RESULTS, WORK  # noqa: E402
from bench.disagree_corpus import Event, events, held_out  # noqa: E402
from rag.answer.compare import Claim, find  # noqa: E402
from rag.answer.values import same, values  # noqa: E402
from rag.text import sentences  # noqa: E402
from rag.types import Disagreement  # noqa: E402


def _parsed(text: str) -> list[Any]:
    return values(text) or values(f"in {text}") or values(f"by {text}")


def _holds(side: str, planted: str) -> bool:
    """The side's value is the planted one, said the same way or another."""
    word = re.search(rf"(?<![\w.,]){re.escape(planted)}(?![\w,]|\.\d)", side, re.I)
    return bool(word) or any(same(v, w) for v in _parsed(side) for w in _parsed(planted))


def right(d: Disagreement, planted: tuple[tuple[str, ...], tuple[str, ...]]) -> bool:
    """Each planted side (its values as the articles say them) is on a different side."""
    where = [{k for k, s in enumerate(d.sides) if any(_holds(s.value, p) for p in said)}
             for said in planted]  # fmt: skip
    return bool(where[0] and where[1] and len(where[0] | where[1]) > 1)


def score(results: Sequence[tuple[Event, Sequence[Disagreement]]]) -> dict[str, Any]:
    reported = [(e, d) for e, ds in results for d in ds]
    correct = [1 for e, d in reported if e.planted and right(d, e.planted)]
    planted = [(e, ds) for e, ds in results if e.planted]
    found = [1 for e, ds in planted if e.planted and any(right(d, e.planted) for d in ds)]
    agree = [(e, ds) for e, ds in results if not e.planted]
    alarms = [e for e, ds in agree if ds]
    by_form = Counter(e.form for e, _ in agree)
    alarm_form = Counter(e.form for e in alarms)
    return {
        "events": len(results),
        "disagreeing_events": len(planted),
        "agreeing_events": len(agree),
        "reported": len(reported),
        "precision": round(len(correct) / len(reported), 4) if reported else None,
        "recall": round(len(found) / len(planted), 4) if planted else None,
        "false_alarm_rate": round(len(alarms) / len(agree), 4) if agree else None,
        "false_alarms_by_form": {f: f"{alarm_form[f]}/{n}" for f, n in sorted(by_form.items())},
        "missed_kinds": sorted(
            e.kind for e, ds in planted if e.planted and not any(right(d, e.planted) for d in ds)
        ),
    }


def detector(evs: Sequence[Event]) -> list[tuple[Event, list[Disagreement]]]:
    out = []
    for e in evs:
        claims = [
            Claim(i + 1, a["doc_id"], date.fromisoformat(a["published"]), a["text"][s:t])
            for i, a in enumerate(e.articles)
            for s, t in sentences(a["text"])
        ]
        out.append((e, [d for d, _ in find(claims)]))
    return out


def pipeline(
    evs: Sequence[Event], fake: bool, name: str = "disagree", reader: str = "off"
) -> tuple[list[Any], dict[str, Any]]:
    from rag import Pipeline, Settings

    folder = WORK / name
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "articles").mkdir(parents=True)
    with open(folder / "articles" / "events.jsonl", "w") as f:
        for e in evs:
            for a in e.articles:
                f.write(json.dumps(a) + "\n")
    embedder = None
    overrides: dict[str, Any] = {"reader": reader}
    if fake:
        from tests.conftest import FakeEmbedder

        embedder = FakeEmbedder()
        overrides = {"model": "fake", "gate": "off", "min_score": 0.2, "reader": "off"}
    p = Pipeline(Settings.load(env={}, index_dir=folder / "index", **overrides), embedder)
    p.build([folder / "articles"])
    out, refused, seconds = [], 0, []
    for e in evs:
        t0 = time.perf_counter()
        answer = p.ask(e.question)
        seconds.append(time.perf_counter() - t0)
        refused += answer.refused
        out.append((e, list(answer.disagreements)))
    seconds.sort()
    return out, {"refused": refused, "ask_p50_ms": round(1000 * seconds[len(seconds) // 2], 1)}


def news(index_dir: Path) -> dict[str, Any]:
    """How many news dev questions get a disagreement on the news index (counts only; each one
    flagged is for a person to judge, see docs/quality.md)."""
    from rag import Pipeline, Settings
    from rag.config import DEFAULT_MODEL

    p = Pipeline(Settings.load(env={}, index_dir=index_dir, model=DEFAULT_MODEL))
    rows = [json.loads(line) for line in open(NEWS / "dev.jsonl")]
    flagged = sides = 0
    for r in rows:
        day = r.get("question_date")
        a = p.ask(r["question"], as_of=date.fromisoformat(day) if day else None)
        flagged += bool(a.disagreements)
        sides += sum(len(d.sides) for d in a.disagreements)
    return {"index": str(index_dir), "questions": len(rows), "with_disagreements": flagged,
            "sides": sides}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fake", action="store_true", help="the tests' fake embedder, no gate")
    ap.add_argument("--out", type=Path, default=RESULTS / "disagree.json")
    ap.add_argument("--news", type=Path, default=None, help="also count on this news index")
    ap.add_argument("--reader", default="off", help="RAG_READER for the pipeline: shipped, off")
    args = ap.parse_args()
    evs, held = events(), held_out()
    through, extra = pipeline(evs, args.fake, reader=args.reader)
    held_through, held_extra = pipeline(held, args.fake, "disagree-held-out", args.reader)
    model = "fake" if args.fake else f"default, reader {args.reader}"
    result = {
        "corpus": "bench/disagree_corpus.py (made up)",
        "detector": score(detector(evs)),
        "pipeline": {**score(through), **extra, "model": model},
        "held_out_detector": score(detector(held)),
        "held_out_pipeline": {**score(held_through), **held_extra, "model": model},
    }
    if args.news:
        result["news_dev"] = news(args.news)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
