"""Metrics: SQuAD-style answer scores (EM, F1, contains) and article-level retrieval scores
(Hit@k, MRR, nDCG), on plain strings and ids; the conventions are in rag/eval/evaluate.py."""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable, Sequence

import numpy as np

from rag.text import split
from rag.types import Hit

CUTOFFS = (1, 5, 10)  # hit@k reported in every report
_PUNCT = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_CITATION = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")  # "[1]", "[1, 2]"


def _is_punct(ch: str) -> bool:
    return ch in _PUNCT or unicodedata.category(ch).startswith("P")


def normalize_answer(s: str) -> str:
    """Lower case, drop punctuation, drop articles, collapse whitespace (SQuAD).

    >>> normalize_answer("The  Cat!")
    'cat'
    >>> normalize_answer("“Blue Harbour”")
    'blue harbour'
    """
    s = "".join(ch for ch in s.lower() if not _is_punct(ch))
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def strip_citations(text: str) -> str:
    """Remove `[n]` markers: "Paris [1]." -> "Paris." """
    return _CITATION.sub("", text)


def short_answer(text: str) -> str:
    """What EM and F1 score: the answer up to its first citation (a generated answer leads
    with the answer phrase: "40,000 [1]. The library holds ... [1]."), else its first sentence.

    >>> short_answer("Tamsby [1]. The town of Tamsby opened it [1].")
    'Tamsby'
    >>> short_answer("Oakridge [1], Millbrook [3].")
    'Oakridge'
    """
    head = _CITATION.split(text, maxsplit=1)[0]  # no citations left in it
    spans = split(head)
    return head[spans[0][0] : spans[0][1]].strip() if spans else ""


def _golds(golds: Iterable[str]) -> list[str]:
    # Official SQuAD 2.0: golds that normalise to nothing are dropped; none left = unanswerable.
    return [g for g in golds if normalize_answer(g)] or [""]


def exact_match(pred: str, golds: Iterable[str]) -> float:
    """1.0 if the normalised prediction equals a normalised gold; no golds: 1.0 iff pred empty."""
    p = normalize_answer(pred)
    return float(any(p == normalize_answer(g) for g in _golds(golds)))


def _f1(pred_tokens: list[str], gold_tokens: list[str]) -> float:
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    common = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    if common == 0:
        return 0.0
    precision = common / len(pred_tokens)
    recall = common / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def token_f1(pred: str, golds: Iterable[str]) -> float:
    """Best token-overlap F1 over the golds; no golds: 1.0 iff pred empty.

    >>> round(token_f1("the big cat", ["a cat"]), 3)
    0.667
    """
    p = normalize_answer(pred).split()
    return max(_f1(p, normalize_answer(g).split()) for g in _golds(golds))


def answer_contains(pred: str, golds: Iterable[str]) -> bool:
    """True if some normalised gold is a substring of the normalised prediction."""
    p = normalize_answer(pred)
    return bool(p) and any(g and g in p for g in map(normalize_answer, golds))


# ---------------------------------------------------------------- retrieval metrics


def articles_in_order(hits: Iterable[Hit]) -> list[str]:
    """Ranked chunks -> ranked article ids, each at its first occurrence.

    A hit's near-duplicate copies (`Hit.also`, shown on its card as "also reported by") share
    its rank: they are listed right after it.
    """
    return list(
        dict.fromkeys(d for h in hits for d in (h.article.doc_id, *(a.doc_id for a in h.also)))
    )


def check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be 1 or more, got {k}")


def first_gold_rank(ranked_ids: Sequence[str], gold: Collection[str]) -> int | None:
    """1-based rank of the first gold id, None when none was retrieved."""
    return next((i for i, d in enumerate(ranked_ids, start=1) if d in gold), None)


def hit_at_k(ranked_ids: Sequence[str], gold: Collection[str], k: int) -> float:
    """1.0 if any gold id is among the first k."""
    check_k(k)
    return float(any(d in gold for d in ranked_ids[:k]))


def all_at_k(ranked_ids: Sequence[str], gold: Collection[str], k: int = 10) -> float:
    """1.0 if every gold id is among the first k (the multi-hop measure: all the evidence).

    >>> all_at_k(["a", "b", "c"], {"a", "c"}, 3), all_at_k(["a", "b", "c"], {"a", "c"}, 2)
    (1.0, 0.0)
    """
    check_k(k)
    return float(bool(gold) and set(gold) <= set(ranked_ids[:k]))


def recall_at_k(ranked_ids: Sequence[str], gold: Collection[str], k: int = 10) -> float:
    """Share of the gold ids among the first k (0.0 with no gold)."""
    check_k(k)
    gold = set(gold)
    return len(gold & set(ranked_ids[:k])) / len(gold) if gold else 0.0


def by_kind(rows: Sequence[dict], kind: str, names: Sequence[str]) -> dict[str, float | int]:
    """Means of the row fields `names` per value of the row field `kind` (rows where a field
    is None are left out of its mean): {"n/<value>": count, "<name>/<value>": mean}.

    >>> by_kind([{"t": "x", "em": 1.0}, {"t": "x", "em": 0.0}, {"t": "y", "em": None}], "t", ["em"])
    {'n/x': 2, 'em/x': 0.5, 'n/y': 1}
    """
    out: dict[str, float | int] = {}
    for value in sorted({r.get(kind) or "" for r in rows} - {""}):
        mine = [r for r in rows if r.get(kind) == value]
        out[f"n/{value}"] = len(mine)
        for name in names:
            scored = [r[name] for r in mine if r.get(name) is not None]
            if scored:
                out[f"{name}/{value}"] = mean(scored)
    return out


def mrr_at_k(ranked_ids: Sequence[str], gold: Collection[str], k: int = 10) -> float:
    """Reciprocal rank of the first gold id within the first k, else 0.0."""
    check_k(k)
    rank = first_gold_rank(ranked_ids[:k], gold)
    return 0.0 if rank is None else 1.0 / rank


def ndcg_at_k(ranked_ids: Sequence[str], gold: Collection[str], k: int = 10) -> float:
    """Binary-relevance nDCG@k; the ideal ranks min(len(gold), k) gold ids first.

    >>> ndcg_at_k(["a", "b", "c"], {"c"})
    0.5
    """
    check_k(k)
    gold = set(gold)
    if not gold:
        return 0.0
    seen: set[str] = set()
    dcg = 0.0
    for i, d in enumerate(ranked_ids[:k], start=1):
        if d in gold and d not in seen:  # a gold id counts once
            seen.add(d)
            dcg += 1.0 / math.log2(i + 1)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(gold), k) + 1))
    return dcg / ideal


# ---------------------------------------------------------------- running


def mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if len(values) else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else 0.0  # linear interpolation
