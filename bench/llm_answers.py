"""Generated vs extractive answers on a question file: EM/F1, refusals, citation precision,
unsupported sentences, time to first token and total answer time (medians).

    .venv/bin/python bench/llm_answers.py --index /tmp/news/index \\
        --questions ../shared/eval/news/dev.jsonl --llm-path qwen2.5-coder-1.5b \\
        --out bench/results/llm-news-dev.json --rows /tmp/llm-news-dev-rows.json

`--llm-path` takes a .gguf path or a `rag llm install` name; `--llm-url` a server instead.
Citation precision: the share of citations whose passage contains a gold answer (normalised as
for EM), over questions whose answer is in their gold article.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.check import check, split  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.evaluate import (  # noqa: E402
    answer_contains,
    exact_match,
    load_questions,
    normalize_answer,
    strip_citations,
    token_f1,
)
from rag.pipeline import Pipeline  # noqa: E402
from rag.types import Answer  # noqa: E402


def score(answer: Answer, golds: tuple[str, ...], in_gold: bool) -> dict[str, Any]:
    pred = "" if answer.refused else strip_citations(answer.text).strip()
    gold_norm = [normalize_answer(g) for g in golds if normalize_answer(g)]
    cites = [
        any(g in normalize_answer(c.hit.chunk.text) for g in gold_norm) for c in answer.citations
    ]
    n_sent = 0 if answer.refused else len(split(answer.text))
    return {
        "prediction": pred,
        "refused": answer.refused,
        "em": exact_match(pred, golds),
        "f1": token_f1(pred, golds),
        "contains": float(answer_contains(pred, golds)),
        "citations": len(cites),
        "citations_with_answer": sum(cites) if in_gold else None,
        "sentences": n_sent,
        "unsupported": len(answer.unsupported),
        "note": answer.note,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--questions", type=Path, default=ROOT.parent / "shared/eval/news/dev.jsonl")
    ap.add_argument("--llm-path", default="")
    ap.add_argument("--llm-url", default="")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--passages", type=int, default=None, help="RAG_LLM_PASSAGES")
    ap.add_argument("--out", type=Path, default=None, help="summary JSON (figures only)")
    ap.add_argument(
        "--rows",
        type=Path,
        default=None,
        help="per-question JSON (holds eval text: keep it out of the repository)",
    )
    args = ap.parse_args()

    overrides = {"index_dir": args.index, "llm_path": args.llm_path, "llm_url": args.llm_url}
    if args.passages:
        overrides["llm_passages"] = args.passages
    s = Settings.load(**overrides)
    p = Pipeline(s)
    questions = load_questions(args.questions, as_of_field="question_date", limit=args.limit)
    in_gold = {
        json.loads(line)["id"]: json.loads(line).get("answer_in_gold_doc", True)
        for line in open(args.questions)
    }
    p.ask(questions[0].question)  # load the index and the embedding model
    rows = []
    for i, q in enumerate(questions, 1):
        t0 = time.perf_counter()
        ext = p.ask(q.question, as_of=q.as_of)
        t_ext = time.perf_counter() - t0
        t0 = time.perf_counter()
        first = None
        gen: Answer | None = None
        for item in p.ask_stream(q.question, llm=True, as_of=q.as_of):
            if isinstance(item, Answer):
                gen = item
            elif first is None:
                first = time.perf_counter() - t0
        total = time.perf_counter() - t0
        assert gen is not None
        sents = []  # per sentence of the final text: for re-scoring at another min_support
        if gen.llm and not gen.refused:
            at0 = check(
                gen.text,
                {h.rank: h for h in gen.hits[: s.llm_passages]},
                p.embedder.encode,
                0.0,
                attribute=False,
            )
            sents = [
                {"cited": x.cited, "similarity": round(x.similarity, 4), "missing": x.missing}
                for x in at0.sentences
            ]
        row = {
            "id": q.id,
            "question": q.question,
            "answers": list(q.answers),
            "extractive": {**score(ext, q.answers, in_gold[q.id]), "seconds": t_ext},
            "llm": {
                **score(gen, q.answers, in_gold[q.id]),
                "text": gen.text,
                "checked": sents,
                "ttft": first,
                "seconds": total,
            },
        }
        rows.append(row)
        g = row["llm"]
        print(
            f"{i:3d} f1 ext {row['extractive']['f1']:.2f} llm {g['f1']:.2f} "
            f"ttft {first or 0:.1f}s total {total:.1f}s | {gen.text[:100]!r}",
            file=sys.stderr,
            flush=True,
        )

    def summary(kind: str) -> dict[str, Any]:
        r = [row[kind] for row in rows]
        cited = [x for x in r if x["citations_with_answer"] is not None]
        out = {
            "n": len(r),
            "em": 100 * statistics.mean(x["em"] for x in r),
            "f1": 100 * statistics.mean(x["f1"] for x in r),
            "contains": 100 * statistics.mean(x["contains"] for x in r),
            "refused": sum(x["refused"] for x in r),
            "citation_precision": sum(x["citations_with_answer"] for x in cited)
            / max(1, sum(x["citations"] for x in cited)),
            "unsupported_share": sum(x["unsupported"] for x in r)
            / max(1, sum(x["sentences"] for x in r)),
            "median_seconds": statistics.median(x["seconds"] for x in r),
        }
        if kind == "llm":
            ttft = [x["ttft"] for x in r if x["ttft"] is not None]
            out["median_ttft"] = statistics.median(ttft) if ttft else None
            out["fallbacks"] = sum(bool(x["note"]) and "instead" in x["note"] for x in r)
        return out

    report = {
        "index": str(args.index),
        "llm": args.llm_url or args.llm_path or "installed",
        "llm_passages": s.llm_passages,
        "min_support": s.min_support,
        "extractive": summary("extractive"),
        "generated": summary("llm"),
        "rows": rows,
    }
    summary = {k: v for k, v in report.items() if k != "rows"}
    print(json.dumps(summary, indent=1))
    for path, data in ((args.out, summary), (args.rows, report)):
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(data, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
