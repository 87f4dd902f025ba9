"""Tests for rag.eval.evaluate: metrics against hand-computed values, run() with a fake searcher."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import pytest

from rag.errors import ConfigError, InputError
from rag.eval.dataset import Question, load_questions
from rag.eval.evaluate import (
    Report,
    answer_contains,
    articles_in_order,
    exact_match,
    first_gold_rank,
    hit_at_k,
    mrr_at_k,
    ndcg_at_k,
    normalize_answer,
    run,
    strip_citations,
    summarise,
    token_f1,
)
from rag.eval.report import compare, format_table, save
from rag.types import Answer, Article, Chunk, Citation, Hit

EVAL = Path(__file__).resolve().parents[3] / "shared" / "eval"


# ---------------------------------------------------------------- answer metrics


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The  Cat!", "cat"),
        ("  a Dog, an apple and THE end. ", "dog apple and end"),
        ("Theater", "theater"),  # articles only as whole words
        ("“Blue Harbour”", "blue harbour"),  # Unicode quotes are punctuation too
        ("U.S.-led", "usled"),  # punctuation is removed, not replaced by a space
        ("", ""),
        ("the a an", ""),
    ],
)
def test_normalize_answer(text: str, expected: str) -> None:
    assert normalize_answer(text) == expected


def test_strip_citations() -> None:
    assert strip_citations("Paris [1]. It is big [2, 3].") == "Paris. It is big."


def test_exact_match() -> None:
    assert exact_match("The Cat!", ["cat"]) == 1.0
    assert exact_match("cat", ["dog", "the cat"]) == 1.0  # any gold
    assert exact_match("big cat", ["cat"]) == 0.0
    assert exact_match("Blue Harbour", ["“Blue Harbour”"]) == 1.0


def test_token_f1_hand_computed() -> None:
    # "the big cat" -> [big, cat]; "a cat" -> [cat]; P = 1/2, R = 1 -> F1 = 2/3
    assert token_f1("the big cat", ["a cat"]) == pytest.approx(2 * (0.5 * 1) / (0.5 + 1))
    assert round(token_f1("the big cat", ["a cat"]), 3) == 0.667
    # max over golds: vs "dog" 0, vs "big cat" 1
    assert token_f1("the big cat", ["dog", "big cat"]) == 1.0
    # repeated tokens count with multiplicity: [cat, cat] vs [cat] -> P 1/2, R 1
    assert token_f1("cat cat", ["cat"]) == pytest.approx(2 / 3)
    assert token_f1("dog", ["cat"]) == 0.0
    # an answerable question answered with nothing scores 0
    assert token_f1("", ["cat"]) == 0.0
    assert exact_match("", ["cat"]) == 0.0


def test_unanswerable_rule() -> None:
    # SQuAD 2.0: no golds -> 1 only for an empty prediction
    assert exact_match("", []) == 1.0
    assert token_f1("", []) == 1.0
    assert exact_match("the", []) == 1.0  # normalises to empty
    assert exact_match("Paris", []) == 0.0
    assert token_f1("Paris", []) == 0.0
    # golds that normalise to nothing are dropped, as in the official script
    assert exact_match("", ["!!", "the"]) == 1.0


def test_answer_contains() -> None:
    assert answer_contains("It was the Blue Harbour, renewed.", ["“Blue Harbour”"])
    assert answer_contains("Europe will require it", ["Asia", "Europe"])
    assert not answer_contains("Asia", ["Europe"])
    assert not answer_contains("", ["Europe"])
    assert not answer_contains("anything", [])
    assert not answer_contains("anything", ["the"])  # empty gold after normalising


# ---------------------------------------------------------------- retrieval metrics


def test_single_gold_at_rank_3() -> None:
    ranked, gold = ["a", "b", "c"], {"c"}
    assert hit_at_k(ranked, gold, 1) == 0.0
    assert hit_at_k(ranked, gold, 5) == 1.0
    assert mrr_at_k(ranked, gold) == pytest.approx(1 / 3)
    assert ndcg_at_k(ranked, gold) == pytest.approx(1 / math.log2(4)) == 0.5
    assert first_gold_rank(ranked, gold) == 3


def test_two_golds() -> None:
    ranked, gold = ["a", "x", "b", "y"], {"a", "b"}
    assert hit_at_k(ranked, gold, 1) == 1.0
    assert mrr_at_k(ranked, gold) == 1.0
    # DCG = 1/log2(2) + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3)
    assert ndcg_at_k(ranked, gold) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    assert ndcg_at_k(["a", "b"], gold) == pytest.approx(1.0)
    # only one of two golds found, at rank 1: DCG 1, IDCG 1 + 1/log2(3)
    assert ndcg_at_k(["a"], gold) == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_ideal_dcg_is_capped_at_k() -> None:
    # three golds, k=1: ideal has one relevant item, so a gold at rank 1 is perfect
    assert ndcg_at_k(["a", "b"], {"a", "b", "c"}, k=1) == 1.0


def test_no_gold_found_and_cutoffs() -> None:
    ranked, gold = ["a", "b", "c"], {"z"}
    assert hit_at_k(ranked, gold, 10) == 0.0
    assert mrr_at_k(ranked, gold) == 0.0
    assert ndcg_at_k(ranked, gold) == 0.0
    assert first_gold_rank(ranked, gold) is None
    assert ndcg_at_k(ranked, set()) == 0.0
    # a gold beyond the cutoff does not count
    assert mrr_at_k(["a", "b", "c"], {"c"}, k=2) == 0.0
    assert hit_at_k([], {"a"}, 5) == 0.0
    with pytest.raises(ValueError):
        hit_at_k(ranked, gold, 0)


# ---------------------------------------------------------------- fake searcher


def _hit(doc_id: str, n: int, rank: int) -> Hit:
    article = Article(doc_id=doc_id, title=f"title {doc_id}", text="x" * 100)
    chunk = Chunk(id=n, doc_id=doc_id, start=0, end=10, text="x" * 10)
    return Hit(chunk=chunk, article=article, score=1.0 / rank, rank=rank)


def _hits(*doc_ids: str) -> list[Hit]:
    return [_hit(d, i, i + 1) for i, d in enumerate(doc_ids)]


def test_articles_in_order_dedupes_by_first_occurrence() -> None:
    assert articles_in_order(_hits("a", "b", "a", "c", "b")) == ["a", "b", "c"]
    assert articles_in_order([]) == []


class FakeSearcher:
    """Canned hits and answers per question; records the calls it gets."""

    def __init__(self, hits: dict[str, list[str]], answers: dict[str, Answer]) -> None:
        self.hits, self.answers = hits, answers
        self.calls: list[tuple[str, str, object]] = []

    def search(self, query: str, *, k: int, as_of: date | None = None) -> list[Hit]:
        self.calls.append(("search", query, (k, as_of)))
        return _hits(*self.hits[query])[:k]

    def ask(self, question: str, *, as_of: date | None = None) -> Answer:
        self.calls.append(("ask", question, as_of))
        return self.answers[question]


QUESTIONS = [
    # gold at rank 1; answered right (with a citation marker)
    Question("q1", "Q1?", ("a",), ("Paris",), False, date(2022, 6, 16)),
    # gold at rank 3 (after de-duplication); answered half right
    Question("q2", "Q2?", ("c",), ("the big cat",), False),
    # impossible; correctly refused
    Question("q3", "Q3?", ("a",), (), True),
    # impossible; answered anyway
    Question("q4", "Q4?", (), (), True),
    # answerable but wrongly refused; gold not retrieved
    Question("q5", "Q5?", ("z",), ("Rome",), False),
]
HITS = {
    "Q1?": ["a", "b", "a"],
    "Q2?": ["a", "a", "b", "c"],
    "Q3?": ["a"],
    "Q4?": ["b"],
    "Q5?": ["a", "b"],
}
ANSWERS = {
    "Q1?": Answer("Q1?", "Paris [1].", refused=False),
    "Q2?": Answer("Q2?", "a cat [2]", refused=False),
    "Q3?": Answer("Q3?", "The articles don't say.", refused=True),
    "Q4?": Answer("Q4?", "Berlin [1]", refused=False),
    "Q5?": Answer("Q5?", "The articles don't say.", refused=True),
}


def test_run_retrieval_only() -> None:
    fake = FakeSearcher(HITS, ANSWERS)
    report = run(fake, QUESTIONS, k=10, progress=False)
    s = report.summary
    assert (s["n"], s["n_total"], s["k"]) == (3, 5, 10)  # q3, q4 impossible: not scored
    assert s["hit@1"] == pytest.approx(1 / 3)
    assert s["hit@5"] == pytest.approx(2 / 3)
    assert s["hit@10"] == pytest.approx(2 / 3)
    assert s["mrr@10"] == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert s["ndcg@10"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert s["latency_p95_ms"] >= s["latency_p50_ms"] >= 0
    assert "em" not in s and not any(c[0] == "ask" for c in fake.calls)
    # every question is searched, with its own date
    assert ("search", "Q1?", (10, date(2022, 6, 16))) in fake.calls
    assert sum(c[0] == "search" for c in fake.calls) == 5

    q2 = report.rows[1]
    assert q2["ranked"] == ["a", "b", "c"]
    assert (q2["rank"], q2["hit@1"], q2["hit@5"], q2["rr"]) == (3, 0.0, 1.0, pytest.approx(1 / 3))
    q3 = report.rows[2]
    assert q3["rank"] is None and q3["hit@5"] is None and q3["rr"] is None


def test_run_with_answers_and_refusals() -> None:
    report = run(FakeSearcher(HITS, ANSWERS), QUESTIONS, answers=True, progress=False)
    s, rows = report.summary, report.rows
    # em: q1 1, q2 0, q3 1 (refused, impossible), q4 0, q5 0 -> 2/5
    assert s["em"] == pytest.approx(2 / 5)
    # f1: q1 1, q2 "a cat" vs "the big cat": P 1, R 1/2 -> 2/3, q3 1, q4 0, q5 0
    assert s["f1"] == pytest.approx((1 + 2 / 3 + 1) / 5)
    # contains over answerable q1, q2, q5: 1, 0 ("big cat" not in "cat"), 0
    assert s["answer_contains"] == pytest.approx(1 / 3)
    # refused: q3 (impossible) and q5 (answerable) -> precision 1/2; impossible q3, q4 -> recall 1/2
    assert (s["n_refused"], s["n_impossible"]) == (2, 2)
    assert s["refusal_precision"] == pytest.approx(0.5)
    assert s["refusal_recall"] == pytest.approx(0.5)
    assert s["answer_latency_p50_ms"] >= 0
    assert rows[0]["prediction"] == "Paris"  # up to the first citation marker
    assert rows[2]["prediction"] == "" and rows[2]["refused"] is True
    assert rows[2]["contains"] is None  # impossible: not scored for contains


def test_the_figures_of_two_halves_put_together_are_the_whole_runs() -> None:
    whole = run(FakeSearcher(HITS, ANSWERS), QUESTIONS, answers=True, progress=False)
    halves = [
        run(FakeSearcher(HITS, ANSWERS), QUESTIONS[i::2], answers=True, progress=False)
        for i in (0, 1)
    ]
    merged = summarise([r for h in halves for r in h.rows], 10, answers=True)
    timed = {k for k in whole.summary if k.endswith("_ms")}
    assert {k: merged[k] for k in whole.summary.keys() - timed} == {
        k: whole.summary[k] for k in whole.summary.keys() - timed
    }
    assert timed <= merged.keys()


class StreamingSearcher(FakeSearcher):
    """Writes each answer in two pieces first, like `Pipeline.ask_stream` with an LLM."""

    def ask_stream(self, question: str, *, as_of: date | None = None):  # type: ignore[no-untyped-def]
        yield "Europe "
        yield "[1]."
        yield self.answers[question]


def test_run_scores_generated_answers() -> None:
    chunk = Chunk(0, "a", 0, 40, "The European Union, i.e. Europe, decided.")
    other = Chunk(1, "b", 0, 10, "Unrelated.")
    art = Article(doc_id="a", title="t", text=chunk.text)
    cite = lambda c, n: Citation(n, Hit(c, art, 1.0, n), 0, 10, True)  # noqa: E731
    text = "Europe [1]. The European Union decided it [1][2]. It rained."
    answer = Answer(
        "Q?",
        text,
        False,
        (cite(chunk, 1), cite(chunk, 1), cite(other, 2)),
        llm="m",
        unsupported=((text.index("It rained"), len(text)),),
    )
    qs = [Question("q", "Q?", ("a",), ("Europe",))]
    report = run(StreamingSearcher({"Q?": ["a"]}, {"Q?": answer}), qs, answers=True, progress=False)
    s, row = report.summary, report.rows[0]
    assert row["prediction"] == "Europe" and (s["em"], s["f1"]) == (1.0, 1.0)  # the lead phrase
    assert s["f1_full"] < 0.5 and s["answer_contains"] == 1.0  # the whole text
    assert s["citation_precision"] == pytest.approx(2 / 3)  # two of three passages hold "Europe"
    assert s["unsupported_share"] == pytest.approx(1 / 3)  # one sentence of three
    assert (s["n_generated"], s["n_fallback"]) == (1, 0)
    assert row["ttft_ms"] is not None and 0 <= row["ttft_ms"] <= row["answer_latency_ms"]
    assert s["ttft_p50_ms"] == row["ttft_ms"]
    # an answer not found in its gold article does not count for citation precision
    qs = [Question("q", "Q?", ("a",), ("Europe",), answer_in_gold=False)]
    report = run(StreamingSearcher({"Q?": ["a"]}, {"Q?": answer}), qs, answers=True, progress=False)
    assert report.rows[0]["cited_with_answer"] is None and report.summary["citation_precision"] == 0


def test_run_refusal_figures_when_undefined() -> None:
    # nothing refused and nothing impossible: both figures are 0.0 by convention
    qs = [Question("q1", "Q1?", ("a",), ("Paris",))]
    s = run(FakeSearcher(HITS, ANSWERS), qs, answers=True, progress=False).summary
    assert (s["n_refused"], s["n_impossible"]) == (0, 0)
    assert s["refusal_precision"] == 0.0 and s["refusal_recall"] == 0.0


def test_run_empty_and_k_cutoff() -> None:
    s = run(FakeSearcher(HITS, ANSWERS), [], progress=False).summary
    assert (s["n"], s["n_total"], s["hit@5"], s["latency_p50_ms"]) == (0, 0, 0.0, 0.0)
    report = run(FakeSearcher(HITS, ANSWERS), QUESTIONS[1:2], k=2, progress=False)
    assert report.rows[0]["ranked"] == ["a"]  # 2 chunks of one article
    assert report.summary["hit@10"] == 0.0


def test_run_shows_progress_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    run(FakeSearcher(HITS, ANSWERS), QUESTIONS[:1], progress=True)
    out, err = capsys.readouterr()
    assert out == "" and "1/1" in err


# ---------------------------------------------------------------- output


def test_format_table() -> None:
    report = Report({"n": 3, "hit@1": 1 / 3, "latency_p50_ms": 12.5}, [])
    lines = format_table(report).splitlines()
    assert lines[0].split() == ["metric", "value"]
    assert lines[2].split() == ["n", "3"]
    assert lines[3].split() == ["hit@1", "0.333"]
    assert lines[4].split() == ["latency_p50_ms", "12.500"]
    assert len({len(line) for line in lines}) == 1  # aligned


def test_save_and_compare(tmp_path: Path) -> None:
    a = run(FakeSearcher(HITS, ANSWERS), QUESTIONS, progress=False)
    path = save(a, tmp_path / "runs" / "deep" / "a.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["hit@5"] == a.summary["hit@5"] and len(data["questions"]) == 5
    assert data["questions"][0]["as_of"] == "2022-06-16"

    better = dict(HITS, **{"Q5?": ["z"], "Q2?": ["x", "y", "w", "v", "u", "c"]})
    b = run(FakeSearcher(better, ANSWERS), QUESTIONS, progress=False)
    text = compare(path, save(b, tmp_path / "b.json"))
    assert "gained (1), lost (1)" in text
    assert "+ q5  rank None -> 1" in text
    assert "- q2  rank 3 -> 6" in text
    with pytest.raises(InputError, match="not an evaluation report"):
        (tmp_path / "bad.json").write_text("[]", encoding="utf-8")
        compare(path, tmp_path / "bad.json")


# ---------------------------------------------------------------- loading questions


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_questions(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            json.dumps(
                {
                    "id": "x1",
                    "question": "Q?",
                    "gold_doc_ids": ["d"],
                    "answers": ["A"],
                    "question_date": "2022-06-16",
                }
            ),
            "",
            json.dumps({"question": "No id?", "is_impossible": True, "question_date": None}),
            json.dumps(
                {
                    "id": 7,
                    "question": "Squad style",
                    "answers": [{"text": "B"}],
                    "question_date": "2022-07-01",
                }
            ),
        ],
    )
    qs = load_questions(path, as_of_field="question_date")
    assert qs[0] == Question("x1", "Q?", ("d",), ("A",), False, date(2022, 6, 16))
    assert qs[1] == Question("3", "No id?", (), (), True, None)  # id = line number
    assert qs[2].id == "7" and qs[2].answers == ("B",)
    assert load_questions(path)[0].as_of is None
    assert len(load_questions(path, limit=2)) == 2
    assert load_questions(path, limit=0) == []
    with pytest.raises(ConfigError):
        load_questions(path, limit=-1)


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ('["a list"]', "expected a JSON object"),
        ('{"id": "b"}', "'question' is missing"),
        ('{"question": "Q?", "gold_doc_ids": "d1"}', "'gold_doc_ids' must be a list"),
        ('{"question": "Q?", "is_impossible": "yes"}', "'is_impossible' must be true or false"),
        ('{"question": "Q?", "question_date": "June"}', "write it as YYYY-MM-DD"),
        ('{"question": "Q?"}', "no 'question_date' field"),
        ('{"id": "a", "question": "again", "question_date": null}', "already used on line 1"),
    ],
)
def test_load_questions_bad_line(tmp_path: Path, bad: str, fragment: str) -> None:
    good = '{"id": "a", "question": "Q?", "question_date": "2022-06-16"}'
    path = _write(tmp_path, [good, bad])
    with pytest.raises(InputError) as err:
        load_questions(path, as_of_field="question_date")
    message = str(err.value)
    assert f"{path}:2" in message and fragment in message
    assert "\n" not in message


def test_load_questions_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read question file"):
        load_questions(tmp_path / "nope.jsonl")


@pytest.mark.skipif(
    not (EVAL / "news" / "dev.jsonl").exists(),
    reason=f"evaluation data not found at {EVAL}/news/dev.jsonl (../shared/eval beside the repo)",
)
def test_load_real_news_dev() -> None:
    qs = load_questions(EVAL / "news" / "dev.jsonl", as_of_field="question_date")
    assert len(qs) == 56
    assert len({q.id for q in qs}) == 56
    assert all(q.as_of is not None and q.gold_doc_ids and q.answers for q in qs)
    assert not any(q.is_impossible for q in qs)
    assert qs[0].as_of == date(2022, 6, 16)
    assert min(q.as_of for q in qs if q.as_of) >= date(2022, 6, 1)


class StoppingSearcher(FakeSearcher):
    """Stops (as a killed run would) when asked its `stop_at`th question."""

    def __init__(self, stop_at: int) -> None:
        super().__init__(HITS, ANSWERS)
        self.stop_at = stop_at

    def ask(self, question: str, *, as_of: date | None = None) -> Answer:
        if sum(c[0] == "ask" for c in self.calls) + 1 == self.stop_at:
            raise KeyboardInterrupt
        return super().ask(question, as_of=as_of)


def test_a_stopped_run_goes_on_from_its_checkpoint(tmp_path: Path) -> None:
    from rag.eval.checkpoint import Checkpoint, partial_path

    path = partial_path(tmp_path / "run.json")
    assert path.name == "run.json.partial.jsonl"
    options = {"questions": "q.jsonl", "k": 10, "answers": True}
    first = Checkpoint.open(path, options)
    with pytest.raises(KeyboardInterrupt):
        run(StoppingSearcher(3), QUESTIONS, answers=True, progress=False, on_row=first.add)
    with path.open("a") as f:
        f.write('{"id": "q3", "quest')  # the stop came while a row was being written
    kept = Checkpoint.open(path, options)
    assert sorted(kept.rows) == ["q1", "q2"]
    again = FakeSearcher(HITS, ANSWERS)
    report = run(again, QUESTIONS, answers=True, progress=False, done=kept.rows, on_row=kept.add)
    assert [c[1] for c in again.calls if c[0] == "ask"] == ["Q3?", "Q4?", "Q5?"]
    whole = run(FakeSearcher(HITS, ANSWERS), QUESTIONS, answers=True, progress=False)
    timed = {k for k in whole.summary if k.endswith("_ms")}
    assert {k: v for k, v in report.summary.items() if k not in timed} == {
        k: v for k, v in whole.summary.items() if k not in timed
    }
    assert [r["id"] for r in report.rows] == ["q1", "q2", "q3", "q4", "q5"]
    kept.remove()
    assert not path.exists()


def test_a_checkpoint_of_another_run_is_not_mixed_in(tmp_path: Path) -> None:
    from rag.eval.checkpoint import Checkpoint

    path = tmp_path / "run.json.partial.jsonl"
    Checkpoint.open(path, {"k": 10}).add({"id": "q1"})
    with pytest.raises(
        InputError,
        match=r"run\.json\.partial\.jsonl holds the rows of a run "
        "with other options; run with those options again",
    ):
        Checkpoint.open(path, {"k": 5})
    for bad in ("not json\n", '{"options": {"k": 10}}\n["no id"]\n{"id": "q2"}\n'):
        path.write_text(bad)
        with pytest.raises(InputError, match="cannot use checkpoint .*delete it"):
            Checkpoint.open(path, {"k": 10})
