"""The seed article's own questions (tests/test_seed_questions.py) with each reader named.

For every reader ("off", "shipped" or an exported folder): how many answerable questions cite
the answering sentence first, and how many unanswerable ones are refused; the misses listed.
The index of seeds/ is built once with the packaged embedder in WORK/seed-index.

    python -m bench.seed_questions off shipped /tmp/reader-v3 [--out FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path
from typing import Any

from bench.common import RESULTS, ROOT, WORK
from rag import Pipeline, Settings

# the chat's first question (tests/test_end_to_end.py): the Starmer and Macron sentence is cited
FLAGSHIP = ("Which countries lead the work on security guarantees for Ukraine?", "Keir Starmer")


def _questions() -> Any:
    """The test module (tests/ is not a package), for its ANSWERABLE and UNANSWERABLE lists."""
    path = ROOT / "tests" / "test_seed_questions.py"
    spec = importlib.util.spec_from_file_location("seed_questions", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def score(p: Pipeline, answerable: list, unanswerable: list) -> dict[str, Any]:
    """Right sentence first / refused counts for one pipeline, with what it got wrong."""
    missed = []
    for question, piece in answerable:
        a = p.ask(question)
        if a.refused:
            missed.append(f"{question} -> refused")
            continue
        first = a.citations[0]
        sentence = first.hit.article.text[first.sentence_start : first.sentence_end]
        if piece not in sentence:
            missed.append(f"{question} -> {a.text.splitlines()[0][:80]}")
    answered = [q for q in unanswerable if not p.ask(q).refused]
    flagship = p.ask(FLAGSHIP[0])
    return {
        "right_first": len(answerable) - len(missed),
        "answerable": len(answerable),
        "refused": len(unanswerable) - len(answered),
        "unanswerable": len(unanswerable),
        "missed": missed,
        "answered_unanswerable": answered,
        "flagship_cited": any(FLAGSHIP[1] in c.hit.chunk.text for c in flagship.citations),
        "flagship_answer": flagship.text.splitlines()[0][:120],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("readers", nargs="+", help='"off", "shipped" or an exported reader folder')
    ap.add_argument("--out", type=Path, default=RESULTS / "seed_questions.json")
    a = ap.parse_args()
    index = WORK / "seed-index"
    if not (index / "CURRENT").exists():
        Pipeline(Settings.load(env={}, index_dir=index)).build([ROOT / "seeds"])
    m = _questions()
    report = {}
    for reader in a.readers:
        p = Pipeline(Settings.load(env={}, index_dir=index, reader=reader))
        report[reader] = score(p, m.ANSWERABLE, m.UNANSWERABLE)
        r = report[reader]
        print(
            f"{reader}: {r['right_first']}/{r['answerable']} right first, "
            f"{r['refused']}/{r['unanswerable']} refused; "
            f"flagship cited: {r['flagship_cited']} ({r['flagship_answer'][:60]})"
        )
    a.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
