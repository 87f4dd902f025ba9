"""Choose `min_support` (rag/answer/check.py) on ../shared/eval dev data, and measure the check.

An answer sentence is stood in for by the question turned into a statement with its gold
answer ("When did the 1973 oil crisis begin?" + "October 1973" -> "the 1973 oil crisis begin:
October 1973."). Pairs:
  supported:    the statement vs the passage that holds the answer (SQuAD: the gold paragraph;
                news: the gold article's sentences around the answer, about a chunk long);
  unsupported:  the statement vs a passage on the same topic without the answer (SQuAD: another
                paragraph of the same Wikipedia article; news: the same week's article that
                shares most words with it but not the answer);
  wrong answer: news only: the statement with a wrong multiple-choice option vs the gold passage.
The threshold maximises balanced accuracy of the similarity test on these pairs.

    .venv/bin/python bench/support_threshold.py [--squad 400] [--out bench/results/support.json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.answer.check import check  # noqa: E402
from rag.embed.embedder import SentenceTransformerEmbedder  # noqa: E402
from rag.text import content_words, sentences  # noqa: E402
from rag.types import Article, Chunk, Hit  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"
_WH = re.compile(
    r"^(which|what|who|whom|whose|when|where|why|how( many| much| long)?)\b\s*"
    r"((did|does|do|was|were|is|are|has|have|will|can)\b\s*)?",
    re.I,
)


def statement(question: str, answer: str) -> str:
    q = _WH.sub("", question.strip().rstrip("?")).strip()
    a = answer.strip(' “”"')
    return f"{q[:1].upper()}{q[1:]}: {a}."


def window(text: str, at: int, size: int = 800) -> tuple[int, int]:
    """About `size` characters of whole sentences around offset `at`."""
    spans = sentences(text)
    i = next((k for k, (s, e) in enumerate(spans) if s <= at < e), 0)
    lo = hi = i
    while spans[hi][1] - spans[lo][0] < size and (lo > 0 or hi < len(spans) - 1):
        if hi < len(spans) - 1:
            hi += 1
        if spans[hi][1] - spans[lo][0] < size and lo > 0:
            lo -= 1
    return spans[lo][0], spans[hi][1]


def hit(doc: str, text: str, span: tuple[int, int]) -> Hit:
    a = Article(doc_id=doc, title="", text=text)
    return Hit(Chunk(0, doc, span[0], span[1], text[span[0] : span[1]]), a, score=1.0, rank=1)


def squad_pairs(n: int, rng: random.Random) -> list[tuple[str, Hit, int]]:
    paras = {}
    with gzip.open(EVAL / "squad2" / "paragraphs.jsonl.gz", "rt") as f:
        for line in f:
            p = json.loads(line)
            paras[p["doc_id"]] = p
    by_title: dict[str, list[str]] = {}
    for d in paras:
        by_title.setdefault(d.split("#")[0], []).append(d)
    qs = [json.loads(x) for x in open(EVAL / "squad2" / "dev.jsonl")]
    qs = [q for q in qs if not q["is_impossible"] and q["answers"]]
    rng.shuffle(qs)
    out = []
    for q in qs[:n]:
        gold = q["gold_doc_ids"][0]
        ans = q["answers"][0]
        claim = statement(q["question"], ans)
        text = paras[gold]["text"]
        out.append((claim, hit(gold, text, (0, len(text))), 1))
        others = [
            d for d in by_title[gold.split("#")[0]] if d != gold and ans not in paras[d]["text"]
        ]
        if others:
            d = max(
                others,
                key=lambda d: len(content_words(claim) & content_words(paras[d]["text"])),
            )
            out.append((claim, hit(d, paras[d]["text"], (0, len(paras[d]["text"]))), 0))
    return out


def news_pairs() -> tuple[list[tuple[str, Hit, int]], list[tuple[str, Hit, int]]]:
    qs = [json.loads(x) for x in open(EVAL / "news" / "dev.jsonl")]
    weeks = {q["week"] for q in qs}
    docs = {}
    with gzip.open(EVAL / "news" / "corpus.jsonl.gz", "rt") as f:
        for line in f:
            d = json.loads(line)
            if d["week"] in weeks:
                docs[d["doc_id"]] = d
    words_of: dict[str, list[tuple[int, set[str]]]] = {}  # doc_id -> (sentence start, words)

    def sentence_words(d: dict) -> list[tuple[int, set[str]]]:
        if d["doc_id"] not in words_of:
            words_of[d["doc_id"]] = [
                (s, content_words(d["text"][s:e])) for s, e in sentences(d["text"])
            ]
        return words_of[d["doc_id"]]

    pairs, wrong = [], []
    for q in qs:
        ans = q["answers"][0].strip(' “”"')
        gold = next((docs[g] for g in q["gold_doc_ids"] if g in docs), None)
        if gold is None or ans not in gold["text"]:
            continue
        claim = statement(q["question"], ans)
        span = window(gold["text"], gold["text"].index(ans))
        pairs.append((claim, hit(gold["doc_id"], gold["text"], span), 1))
        for choice in q.get("choices", []):
            c = choice.strip(' “”"')
            if c != ans and c not in gold["text"][span[0] : span[1]]:
                wrong.append((statement(q["question"], c), pairs[-1][1], 0))
                break
        words = content_words(claim)
        best = None
        for d in docs.values():
            if d["week"] != q["week"] or d["doc_id"] in q["gold_doc_ids"] or ans in d["text"]:
                continue
            for s, sw in sentence_words(d):
                score = len(words & sw)
                if best is None or score > best[0]:
                    best = (score, d, s)
        if best is not None:
            _, d, s = best
            pairs.append((claim, hit(d["doc_id"], d["text"], window(d["text"], s)), 0))
    return pairs, wrong


def verdicts(pairs, encode) -> tuple[np.ndarray, np.ndarray]:
    """(similarity, facts all found) per pair, from one check at threshold 0."""
    out = [
        check(f"{c} [1]", {1: h}, encode, 0.0, attribute=False).sentences[0] for c, h, _ in pairs
    ]
    return np.array([x.similarity for x in out]), np.array([not x.missing for x in out])


def best_threshold(sims: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    best = (0.0, 0.0)
    for t in np.arange(0.2, 0.8, 0.01):
        tpr = float(np.mean(sims[labels == 1] >= t))
        tnr = float(np.mean(sims[labels == 0] < t))
        if (tpr + tnr) / 2 > best[1]:
            best = (round(float(t), 2), (tpr + tnr) / 2)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--squad", type=int, default=400, help="SQuAD questions to sample")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "support.json")
    args = ap.parse_args()
    rng = random.Random(0)
    emb = SentenceTransformerEmbedder()
    news, wrong = news_pairs()
    squad = squad_pairs(args.squad, rng)
    report: dict = {}
    sims, facts_ok = {}, {}
    for name, pairs in (("news", news), ("squad", squad), ("wrong", wrong)):
        sims[name], facts_ok[name] = verdicts(pairs, emb.encode)
    sims["all"] = np.concatenate([sims["news"], sims["squad"]])
    facts_ok["all"] = np.concatenate([facts_ok["news"], facts_ok["squad"]])
    labels = {n: np.array([y for *_, y in p]) for n, p in (("news", news), ("squad", squad))}
    labels["all"] = np.concatenate([labels["news"], labels["squad"]])
    for name in ("news", "squad", "all"):
        y = labels[name]
        t, bacc = best_threshold(sims[name], y)
        report[name] = {
            "pairs": len(y),
            "supported_median_sim": float(np.median(sims[name][y == 1])),
            "unsupported_median_sim": float(np.median(sims[name][y == 0])),
            "best_threshold": t,
            "balanced_accuracy": round(bacc, 3),
        }
    t = report["all"]["best_threshold"]
    for name in ("news", "squad", "all"):
        ok = facts_ok[name] & (sims[name] >= t)
        y = labels[name]
        report[name]["full_check_at_threshold"] = {
            "supported_kept": float(np.mean(ok[y == 1])),
            "unsupported_flagged": float(np.mean(~ok[y == 0])),
            "facts_ok_supported": float(np.mean(facts_ok[name][y == 1])),
        }
    flagged = ~(facts_ok["wrong"] & (sims["wrong"] >= t))
    report["news_wrong_choice_flagged"] = {
        "pairs": len(wrong),
        "share": float(np.mean(flagged)),
        "by_facts": float(np.mean(~facts_ok["wrong"])),
    }
    print(json.dumps(report, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
