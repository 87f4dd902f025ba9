"""Does the reader help ranking? Its margin as a rescoring feature, scored on held-out halves.

Issue 22 asks for the reader's score in the ranking "if it wins on the held-out halves". For
each answerable dev question (news dev, SQuAD 2.0 dev) the rescoring features of the top
candidate articles are recorded (bench/fit_rescore.py), and the reader reads each candidate's
best chunk: its best span's margin over "no answer", and that minus the best candidate's. The
rescoring model is fitted on one half and scored on the other, both ways (the halves of
bench/fit_rescore.py), with and without the reader's features. Only numbers leave this script.

    python -m bench.reader_rank --news-index index-news --squad-index index-squad [--model DIR]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import RESULTS
from bench.fit_rescore import cross_check, dev_sets, index_options
from rag.eval.metrics import articles_in_order
from rag.read.answer import Reads
from rag.read.export import SHIPPED
from rag.types import Hit

NONE = -10.0  # the margin of a candidate the reader finds no span in


def passages(hits: Sequence[Hit], n: int) -> list[str]:
    """The text of each of the first `n` ranked articles' best chunk (a near-duplicate listed
    under a hit reads that hit's chunk)."""
    out: dict[str, str] = {}
    for h in hits:
        for doc in (h.article.doc_id, *(a.doc_id for a in h.also)):
            out.setdefault(doc, h.chunk.text)
    return [out[d] for d in articles_in_order(hits)[:n]]


def reader_columns(question: str, texts: Sequence[str], reader: Reads) -> np.ndarray:
    """Per candidate: the reader's best margin, and that minus the best candidate's."""
    margin = np.full(len(texts), NONE)
    for s in reader.read(question, texts):
        margin[s.passage] = s.margin
    return np.column_stack([margin, margin - margin.max()]) if len(texts) else margin


def with_reader(rows: list[dict[str, Any]], reader: Reads) -> list[dict[str, Any]]:
    """The same rows, the reader's two columns added to each candidate's features."""
    out = []
    for r in rows:
        extra = reader_columns(r["question"], passages(r["hits"], len(r["x"])), reader)
        out.append({**r, "x": np.hstack([r["x"], extra])})
    return out


def main() -> None:
    from rag.read.model import ReaderModel

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    index_options(ap)
    ap.add_argument("--model", type=Path, default=SHIPPED)
    ap.add_argument("--out", type=Path, default=RESULTS / "reader_rank.json")
    args = ap.parse_args()
    news, squad = dev_sets(args)
    reader = ReaderModel(args.model)
    report = {
        "model": str(args.model),
        "rescoring": cross_check(news, squad),
        "rescoring + reader": cross_check(with_reader(news, reader), with_reader(squad, reader)),
    }
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
