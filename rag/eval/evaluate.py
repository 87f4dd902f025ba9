"""Evaluate: run a question file against an index and score retrieval and answers.

Works against any `Searcher` (the pipeline is one), so it imports no heavy library; the
questions come from rag/eval/dataset.py:

    questions = load_questions("../shared/eval/news/dev.jsonl", as_of_field="question_date")
    report = run(pipeline, questions, k=10, answers=True)
    print(format_table(report))
    save(report, "runs/news-dev.json")

Conventions (documented once, here):
- Retrieval is scored at article level: ranked chunks collapse to article ids by first
  occurrence. Questions that are `is_impossible`, or have no `gold_doc_ids`, are left out of the
  retrieval figures (`n` counts the ones scored; `n_total` counts all). Cut-offs above `k` only
  see the `k` hits that were asked for.
- Answers follow the SQuAD 2.0 rules: a refusal is an empty prediction; an unanswerable question
  scores 1 only for an empty prediction. `[n]` citation markers are removed before scoring.
  An answerable question with no gold `answers` (a retrieval-only file) gets no answer scores.
- `normalize_answer` is the official SQuAD one, except that it also removes Unicode punctuation
  (curly quotes, dashes): answers may be quoted like `“Blue Harbour”`.
- Refusal precision/recall: the positive class is "refused" (`Answer.refused`, or an empty
  answer text); gold positive is `is_impossible`. When undefined (nothing refused / no
  impossible question) they are 0.0, as scikit-learn's `zero_division=0`; `n_refused` and
  `n_impossible` in the summary tell an undefined 0.0 from a bad one.
- An empty set of values averages to 0.0, and percentiles of no latencies are 0.0.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any, Protocol

from tqdm import tqdm  # type: ignore[import-untyped]

from rag.eval.dataset import Question
from rag.eval.metrics import (
    CUTOFFS,
    all_at_k,
    answer_contains,
    articles_in_order,
    by_kind,
    check_k,
    exact_match,
    first_gold_rank,
    hit_at_k,
    mean,
    mrr_at_k,
    ndcg_at_k,
    normalize_answer,
    percentile,
    recall_at_k,
    short_answer,
    strip_citations,
    token_f1,
)
from rag.eval.report import Report
from rag.text import split
from rag.types import Answer, Hit

KIND_FIGURES = ("all@10", "hit@1", "hit@10", "em", "refused")  # given per question_type too


class Searcher(Protocol):
    """What evaluation needs from a pipeline."""

    def search(self, query: str, *, k: int, as_of: date | None = None) -> list[Hit]: ...

    def ask(self, question: str, *, as_of: date | None = None) -> Answer: ...


# ---------------------------------------------------------------- answer metrics


def run(
    searcher: Searcher,
    questions: Sequence[Question],
    *,
    k: int = 10,
    answers: bool = False,
    progress: bool = True,
    done: Mapping[str, dict[str, Any]] | None = None,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> Report:
    """Search (and with `answers`, ask) every question; score each one and summarise.

    `done`: rows already made, by question id (a checkpoint's), taken as they are;
    `on_row`: called with each new row as soon as it is made.

    Row keys: id, question, as_of, gold_doc_ids, is_impossible, ranked (top-k article ids),
    rank (first gold, 1-based), hit@1, hit@5, hit@10, rr, ndcg@10 (all None when not scored
    for retrieval), latency_ms; with answers also those of `_score_answer`, answer_latency_ms
    and ttft_ms (time to the first streamed piece of a generated answer, else None).
    """
    check_k(k)
    rows: list[dict[str, Any]] = []
    done = done or {}
    for q in tqdm(questions, desc="eval", unit="q", file=sys.stderr, disable=not progress):
        if q.id in done:
            rows.append(done[q.id])
            continue
        t0 = time.perf_counter()
        hits = searcher.search(q.question, k=k, as_of=q.as_of)
        latency = (time.perf_counter() - t0) * 1000
        ranked = articles_in_order(hits)[:k]
        gold = set(q.gold_doc_ids)
        scored = bool(gold) and not q.is_impossible
        row: dict[str, Any] = {
            "id": q.id,
            "question": q.question,
            "as_of": q.as_of,
            "gold_doc_ids": list(q.gold_doc_ids),
            "is_impossible": q.is_impossible,
            "ranked": ranked,
            "rank": first_gold_rank(ranked, gold) if scored else None,
            **{f"hit@{c}": hit_at_k(ranked, gold, c) if scored else None for c in CUTOFFS},
            "rr": mrr_at_k(ranked, gold, 10) if scored else None,
            "ndcg@10": ndcg_at_k(ranked, gold, 10) if scored else None,
            "all@10": all_at_k(ranked, gold, 10) if scored else None,
            "recall@10": recall_at_k(ranked, gold, 10) if scored else None,
            "question_type": q.question_type,
            "latency_ms": round(latency, 3),
        }
        if answers:
            t0 = time.perf_counter()
            answer, first = _answer(searcher, q)
            answer_latency = (time.perf_counter() - t0) * 1000
            row.update(_score_answer(q, answer))
            row["answer_latency_ms"] = round(answer_latency, 3)
            row["ttft_ms"] = None if first is None else round((first - t0) * 1000, 3)
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return Report(summarise(rows, k, answers=answers), rows)


def summarise(rows: list[dict[str, Any]], k: int, *, answers: bool) -> dict[str, float | int]:
    """The report's figures from its rows (also for rows of several runs put together)."""
    summary = _summarise(rows, k)
    summary.update(by_kind(rows, "question_type", KIND_FIGURES))
    summary["latency_p50_ms"] = percentile([r["latency_ms"] for r in rows], 50)
    summary["latency_p95_ms"] = percentile([r["latency_ms"] for r in rows], 95)
    if answers:
        summary.update(_summarise_answers(rows))
        answer_latencies = [r["answer_latency_ms"] for r in rows]
        summary["answer_latency_p50_ms"] = percentile(answer_latencies, 50)
        summary["answer_latency_p95_ms"] = percentile(answer_latencies, 95)
        ttfts = [r["ttft_ms"] for r in rows if r["ttft_ms"] is not None]
        summary["ttft_p50_ms"] = percentile(ttfts, 50) if ttfts else 0.0
    return summary


def _answer(searcher: Searcher, q: Question) -> tuple[Answer, float | None]:
    """The answer, and when its first streamed piece came (perf_counter; None: not streamed)."""
    stream = getattr(searcher, "ask_stream", None)
    if stream is None:
        return searcher.ask(q.question, as_of=q.as_of), None
    first: float | None = None
    for part in stream(q.question, as_of=q.as_of):
        if isinstance(part, Answer):
            return part, first
        if first is None:
            first = time.perf_counter()
    raise RuntimeError("ask_stream ended without an Answer")


def _score_answer(q: Question, answer: Answer) -> dict[str, Any]:
    """prediction (the short answer scored, "" when refused), refused, em, f1, f1_full (the
    whole text), contains (whole text), citations, cited_with_answer (citations whose passage
    holds a gold answer; None when not scored), sentences, unsupported, generated, fallback."""
    full = strip_citations(answer.text).strip()
    refused = answer.refused or not full
    pred, full = ("", "") if refused else (short_answer(answer.text), full)
    golds_norm = [g for g in map(normalize_answer, q.answers) if g]
    scored_cites = bool(golds_norm) and q.answer_in_gold and not q.is_impossible and not refused
    row: dict[str, Any] = {
        "prediction": pred,
        "refused": refused,
        "citations": len(answer.citations),
        "cited_with_answer": sum(
            any(g in normalize_answer(c.hit.chunk.text) for g in golds_norm)
            for c in answer.citations
        )
        if scored_cites
        else None,
        "sentences": 0 if refused else len(split(answer.text)),
        "unsupported": len(answer.unsupported),
        "generated": bool(answer.llm),
        "fallback": bool(answer.note) and "instead" in answer.note,
        "confidence": answer.confidence,
        "answer_in_gold": q.answer_in_gold,
    }
    if q.is_impossible:
        golds: tuple[str, ...] = ()  # SQuAD 2.0: only an empty prediction is right
    elif q.answers:
        golds = q.answers
    else:  # answerable but no gold text: nothing to score against
        return {**row, "em": None, "f1": None, "f1_full": None, "contains": None}
    return {
        **row,
        "em": exact_match(pred, golds),
        "f1": token_f1(pred, golds),
        "f1_full": token_f1(full, golds),
        "contains": None if q.is_impossible else float(answer_contains(full, golds)),
        "contains_first": None if q.is_impossible else float(answer_contains(_lead(answer), golds)),
    }


def _lead(answer: Answer) -> str:
    """The answer's lead: its short answer and the first cited sentence ("" when refused)."""
    if answer.refused or not answer.citations:
        return ""
    c = answer.citations[0]
    return f"{short_answer(answer.text)} {c.hit.article.text[c.sentence_start : c.sentence_end]}"


def _summarise(rows: list[dict[str, Any]], k: int) -> dict[str, float | int]:
    retrieved = [r for r in rows if r["hit@1"] is not None]
    summary: dict[str, float | int] = {"n": len(retrieved), "n_total": len(rows), "k": k}
    for c in CUTOFFS:
        summary[f"hit@{c}"] = mean([r[f"hit@{c}"] for r in retrieved])
    summary["mrr@10"] = mean([r["rr"] for r in retrieved])
    summary["ndcg@10"] = mean([r["ndcg@10"] for r in retrieved])
    summary["all@10"] = mean([r["all@10"] for r in retrieved])  # every gold article in the top 10
    summary["recall@10"] = mean([r["recall@10"] for r in retrieved])
    return summary


def _summarise_answers(rows: list[dict[str, Any]]) -> dict[str, float | int]:
    summary: dict[str, float | int] = {}
    scored = [r for r in rows if r["em"] is not None]
    impossible = [r for r in rows if r["is_impossible"]]
    refused = [r for r in rows if r["refused"]]
    true_refusals = sum(1 for r in refused if r["is_impossible"])
    summary["n_answers"] = len(scored)
    summary["em"] = mean([r["em"] for r in scored])
    summary["f1"] = mean([r["f1"] for r in scored])
    summary["f1_full"] = mean([r["f1_full"] for r in scored])
    summary["answer_contains"] = mean([r["contains"] for r in scored if r["contains"] is not None])
    in_gold = [r for r in scored if r.get("contains_first") is not None and r["answer_in_gold"]]
    summary["answer_in_first_sentence"] = mean([r["contains_first"] for r in in_gold])
    answerable = [r for r in rows if not r["is_impossible"]]
    summary["wrong_refusals"] = mean([float(r["refused"]) for r in answerable])
    cited = [r for r in rows if r["cited_with_answer"] is not None]
    n_cites = sum(r["citations"] for r in cited)
    summary["citation_precision"] = (
        sum(r["cited_with_answer"] for r in cited) / n_cites if n_cites else 0.0
    )
    n_sent = sum(r["sentences"] for r in rows)
    summary["unsupported_share"] = sum(r["unsupported"] for r in rows) / n_sent if n_sent else 0.0
    summary["n_generated"] = sum(r["generated"] for r in rows)
    summary["n_fallback"] = sum(r["fallback"] for r in rows)
    summary["n_refused"] = len(refused)
    summary["n_impossible"] = len(impossible)
    summary["refusal_precision"] = true_refusals / len(refused) if refused else 0.0
    summary["refusal_recall"] = true_refusals / len(impossible) if impossible else 0.0
    return summary
