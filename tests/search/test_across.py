"""Questions across outlets (rag/search/parts.py, rag/search/across.py, rag/answer/verdict.py):
outlets and dates named in a question, one search per part, time order from stored dates,
agreement, refusal per part, and the --json parts. Made-up articles from made-up outlets."""

from __future__ import annotations

import doctest
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import rag.answer.verdict
import rag.search.outlets
import rag.search.parts
from rag import Pipeline, Settings
from rag.cli.main import main
from rag.query import Query
from rag.read.model import Span
from rag.search.across import merge, named_only, narrowed, search
from rag.search.outlets import aliases, outlets
from rag.search.parts import Claim, dates, parse
from rag.types import Article, Chunk, Hit
from tests.conftest import FakeEmbedder

OUTLETS = (
    "The Daily Lantern",
    "Harbour Post | City News",
    "Kelp Gazette - Weekend",
    "Kelp Gazette - Sport",
    "HillCrest.example",
    "Fortune Bay Times",
)
TODAY = date(2031, 12, 31)

ARTICLES = [
    ("lantern-pier", "The Daily Lantern", "2031-05-01", "Tamsby pier reopens",
     "The Tamsby pier reopened on Thursday after a winter of repairs. The council spent "
     "40,000 crowns on new planks for the pier."),
    ("harbour-bridge", "Harbour Post | City News", "2031-05-03", "Bridge works begin",
     "Work on the Tamsby bridge began on Saturday. Engineers expect the bridge to close "
     "for six weeks while the deck is replaced."),
    ("harbour-pier", "Harbour Post | City News", "2031-05-02", "Pier opens again",
     "The Tamsby pier opened again this week. The council spent 55,000 crowns on new planks "
     "for the pier, a spokesperson said."),
    ("kelp-bakery", "Kelp Gazette - Weekend", "2031-04-20", "Bakery wins prize",
     "The Mill Lane bakery in Tamsby won the county bread prize for its rye loaf."),
    ("hill-ferry", "HillCrest.example", "2031-04-25", "Ferry timetable",
     "The Tamsby ferry will sail twice a day from June, the operator said."),
]  # fmt: skip


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "towns.jsonl"
    rows = [
        {"doc_id": d, "source": s, "published": p, "title": t, "text": x}
        for d, s, p, t, x in ARTICLES
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


@pytest.fixture
def towns(tmp_path: Path) -> Pipeline:
    p = Pipeline(
        Settings.load(
            env={}, index_dir=tmp_path / "index", model="fake", min_score=0.2, gate="off"
        ),
        FakeEmbedder(),
    )
    p.build([write_corpus(tmp_path / "corpus")])
    return p


# ---------------------------------------------------------------- the question's structure


def test_doctests() -> None:
    assert doctest.testmod(rag.search.parts).failed == 0
    assert doctest.testmod(rag.search.outlets).failed == 0
    assert doctest.testmod(rag.answer.verdict).failed == 0


@pytest.mark.parametrize(
    ("question", "named"),
    [
        ("Did the daily lantern say so?", []),  # lower case, plain words: not a name
        ("Did The Daily Lantern say so?", [("The Daily Lantern",)]),
        ("Did THE DAILY LANTERN say so?", [("The Daily Lantern",)]),
        ("Was the Daily Lantern's story first?", [("The Daily Lantern",)]),  # possessive
        ("Did Harbour Post report it?", [("Harbour Post | City News",)]),  # head of "A | B"
        ("Did Kelp Gazette cover it?", [("Kelp Gazette - Sport", "Kelp Gazette - Weekend")]),
        ("Did hillcrest say it?", [("HillCrest.example",)]),  # inner capitals: any case
        ("What did Fortune Bay Times and Harbour Post say?",
         [("Fortune Bay Times",), ("Harbour Post | City News",)]),
        ("Is fortune on our side?", []),
    ],
)  # fmt: skip
def test_outlets_named_in_a_question(question: str, named: list[tuple[str, ...]]) -> None:
    assert [n.outlets for n in outlets(OUTLETS).find(question)] == named


def test_aliases_and_outlets_the_index_lacks() -> None:
    assert aliases("The Harbour Post | City News") == {"harbour post", "harbour post | city news"}
    p = parse(
        "Did a Morning Courier article agree with The Daily Lantern?", outlets(OUTLETS), TODAY
    )
    assert p.missing == ("Morning Courier",)
    quoted = parse("Does the 'Pier Repairs Update' article say so?", outlets(OUTLETS), TODAY)
    assert quoted.missing == ()


def test_dates_before_after_between_and_on() -> None:
    found = dates("between May 2, 2031 and June 3, 2031", TODAY)
    assert [(d.day, d.cue) for d in found] == [
        (date(2031, 5, 2), "after"),
        (date(2031, 6, 3), "before"),
    ]
    on = dates("published on 2031-05-03", TODAY)[0]
    assert on.window() == (date(2031, 5, 2), date(2031, 5, 4))
    assert dates("in March 2031", TODAY)[0].window()[0] == date(2031, 3, 1)
    assert dates("before May 9", date(2031, 6, 1))[0].day == date(2031, 5, 9)  # year: today's


def test_one_part_per_outlet_with_its_dates_and_the_order_asked() -> None:
    p = parse(
        "Did The Daily Lantern report the pier reopening before Harbour Post reported the "
        "bridge works published on May 3, 2031?",
        outlets(OUTLETS),
        TODAY,
    )
    assert (p.kind, p.order) == ("order", "before")
    assert [c.outlets for c in p.claims] == [("The Daily Lantern",), ("Harbour Post | City News",)]
    assert (p.claims[1].date_from, p.claims[1].date_to) == (date(2031, 5, 2), date(2031, 5, 4))
    agree = parse("Do The Daily Lantern and Harbour Post both say the pier reopened?",
                  outlets(OUTLETS), TODAY)  # fmt: skip
    assert agree.kind == "agree" and len(agree.claims) == 2
    assert (
        parse("Which town has a pier, says Harbour Post?", outlets(OUTLETS), TODAY).kind == "entity"
    )
    assert not parse("Which town has a pier?", outlets(OUTLETS), TODAY).across


def test_a_part_is_searched_within_its_outlet_and_dates() -> None:
    s = Settings.load(env={}, outlets=("The Daily Lantern", "Harbour Post | City News"))
    c = Claim(
        "x", "Harbour Post", ("Harbour Post | City News",), date(2031, 5, 2), date(2031, 5, 4)
    )
    cs = narrowed(s, c)
    assert cs is not None
    assert cs.retrieval.outlets == ("Harbour Post | City News",)
    assert (cs.retrieval.date_from, cs.retrieval.date_to, cs.retrieval.as_of) == (
        date(2031, 5, 2),
        date(2031, 5, 4),
        date(2031, 5, 4),
    )
    assert narrowed(s.with_(outlets=("Kelp Gazette - Sport",)), c) is None  # request excludes it


def test_a_clause_naming_no_outlet_is_searched_in_the_outlets_the_question_names() -> None:
    s = Settings.load(env={})
    q = "Which council, said The Daily Lantern and Harbour Post, spent 40,000 crowns on planks?"
    both = named_only(s, parse(q, outlets(OUTLETS), TODAY))
    assert both is not None
    assert both.retrieval.outlets == ("The Daily Lantern", "Harbour Post | City News")
    anywhere = parse("Did the pier reopen before the bridge works began in May 2031?",
                     outlets(OUTLETS), TODAY)  # fmt: skip
    assert anywhere.across and named_only(s, anywhere) is s  # a part names no outlet: any


def _hit(chunk: int, doc: str) -> Hit:
    return Hit(Chunk(chunk, doc, 0, 1, "x"), Article(doc, doc, "x"), 1.0)


def test_merge_takes_each_part_in_turn_without_repeats() -> None:
    one = [_hit(1, "a"), _hit(2, "a"), _hit(3, "b")]
    two = [_hit(1, "a"), _hit(4, "c")]
    merged = merge([one, two], k=3, per_article=1)
    assert [h.article.doc_id for h in merged] == ["a", "c", "b"]
    assert [h.rank for h in merged] == [1, 2, 3]


def test_merge_one_after_the_other_stops_at_k() -> None:
    first = [_hit(1, "a"), _hit(2, "b")]
    rest = [_hit(3, "c"), _hit(4, "d"), _hit(5, "e")]
    merged = merge([first, rest], k=3, per_article=1, in_turn=False)
    assert [h.article.doc_id for h in merged] == ["a", "b", "c"]
    assert len(merge([rest], k=2, per_article=1, in_turn=False)) == 2


def test_a_question_across_outlets_shows_k_passages(towns: Pipeline) -> None:
    q = "Do The Daily Lantern and Harbour Post both say the pier reopened?"
    assert len(towns.search(q, k=4, per_article=1)) == 4
    assert len(towns.ask(q, Query(k=4)).hits) == 4


# ---------------------------------------------------------------- search, answers, refusal


def test_each_named_outlet_gets_its_article_in_the_hits(towns: Pipeline) -> None:
    hits = towns.search("Do The Daily Lantern and Harbour Post both say the pier reopened?", k=4)
    by_part = {h.part: h.article.outlet for h in hits if h.part}
    assert by_part == {1: "The Daily Lantern", 2: "Harbour Post | City News"}
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    off = towns.search("Do The Daily Lantern and Harbour Post both say the pier reopened?",
                       k=4, parts="off")  # fmt: skip
    assert all(h.part == 0 for h in off)


def test_a_clause_is_also_searched_beyond_the_outlets_the_question_names(
    towns: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every part names an outlet, so a clause naming none is searched within theirs; its fact
    # may still come from another outlet: it is searched over every article too, for the fusion
    q = ("Which town, whose pier reopened according to The Daily Lantern and Harbour Post, "
         "will have a ferry that sails twice a day from June?")  # fmt: skip
    retriever, s = towns.load().retriever, towns.settings.with_(k=4, per_article=1)
    seen: list[tuple[str, tuple[str, ...]]] = []
    real = retriever.search

    def spy(text: str, qvec: np.ndarray, cs: Settings) -> list[Hit]:
        seen.append((text, cs.retrieval.outlets))
        return real(text, qvec, cs)

    monkeypatch.setattr(retriever, "search", spy)
    qvec = towns.embedder.encode([q])[0]
    hits = search(q, qvec, retriever, s, towns.embedder.encode)
    assert hits is not None
    ferry = "will have a ferry that sails twice a day from June?"
    named = ("The Daily Lantern", "Harbour Post | City News")
    assert (ferry, named) in seen and (ferry, ()) in seen
    assert [h.article.doc_id for h in hits[:2]] == ["lantern-pier", "harbour-pier"]
    assert "hill-ferry" in [h.article.doc_id for h in hits]


def test_time_order_is_answered_from_the_stored_dates(towns: Pipeline) -> None:
    yes = towns.ask("Did The Daily Lantern report the pier reopening before Harbour Post "
                    "reported the bridge works?")  # fmt: skip
    assert not yes.refused and yes.text.startswith("Yes [1][2].")
    assert "The Daily Lantern (2031-05-01)" in yes.text and "(2031-05-03)" in yes.text
    assert [(p.outlet, p.published) for p in yes.parts] == [
        ("The Daily Lantern", date(2031, 5, 1)),
        ("Harbour Post | City News", date(2031, 5, 3)),
    ]
    assert {p.doc_id for p in yes.parts} == {"lantern-pier", "harbour-bridge"}
    no = towns.ask("Did Harbour Post report the bridge works after HillCrest reported the "
                   "ferry timetable?")  # fmt: skip
    assert no.text.startswith("Yes")  # May 3 is after April 25
    first = towns.ask("Did Harbour Post report the bridge works before HillCrest reported the "
                      "ferry timetable?")  # fmt: skip
    assert first.text.startswith("No [")


def test_agreement_sets_each_outlet_beside_the_other(towns: Pipeline) -> None:
    a = towns.ask("Do The Daily Lantern and Harbour Post agree on what the council spent on "
                  "new planks for the pier?")  # fmt: skip
    assert not a.refused
    assert a.text.startswith("No [1][2].")  # 40,000 against 55,000 crowns
    assert "The Daily Lantern (2031-05-01)" in a.text and "(2031-05-02)" in a.text
    assert {p.doc_id for p in a.parts} == {"lantern-pier", "harbour-pier"}
    assert all(p.citation for p in a.parts)


def test_with_the_reader_on_the_parts_are_still_read_by_sentence_scores(
    towns: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    on = Pipeline(towns.settings.with_(reader="shipped"), towns.embedder)
    asked: list[str] = []
    monkeypatch.setattr(
        type(on.answerer), "reader_model", lambda self, s: asked.append(s.answers.reader)
    )
    q = "Do The Daily Lantern and Harbour Post agree on what the council spent on new planks?"
    assert on.ask(q).text == towns.ask(q).text
    assert "off" in asked  # each part's own words: the reader's calibration refuses yes/no
    on.ask("Who cut the ribbon at the pier?")  # an ordinary question: the reader reads it
    assert asked[-1] == "shipped"


class Spans:
    """A fake reader that finds `word` in every passage holding it (margin 5)."""

    def __init__(self, word: str) -> None:
        self.word = word

    def read(self, question: str, passages: Sequence[str], batch: int = 16) -> list[Span]:
        return [
            Span(i, t.index(self.word), t.index(self.word) + len(self.word), self.word, 5.0, 0.0)
            for i, t in enumerate(passages)
            if self.word in t
        ]


class Sure:
    """A fake calibration: every reading is right with probability `p`; refuse below .5."""

    def __init__(self, p: float) -> None:
        self.p = p

    def probability(self, x: object) -> float:
        return self.p

    def threshold(self, precision: float) -> float:
        return 0.5


@pytest.mark.parametrize("sure", [0.9, 0.1])
def test_a_question_across_outlets_leads_with_the_readers_span_when_it_is_sure(
    towns: Pipeline, monkeypatch: pytest.MonkeyPatch, sure: float
) -> None:
    on = Pipeline(towns.settings.with_(reader="shipped"), towns.embedder)
    monkeypatch.setattr(
        type(on.answerer),
        "reader_model",
        lambda self, s: (Spans("Tamsby"), Sure(sure)) if s.answers.reader != "off" else None,
    )
    q = "Which town's pier did The Daily Lantern and Harbour Post both report on?"
    got, off = on.ask(q), towns.ask(q)
    assert not got.refused and {p.doc_id for p in got.parts} == {p.doc_id for p in off.parts}
    if sure > 0.5:
        assert got.text.startswith("Tamsby [")
    else:  # the reader finds no answer: the sentences answer (or refuse), as with it off
        assert got.text == off.text


def test_a_named_outlet_the_index_lacks_is_refused_with_the_closest_passages(
    towns: Pipeline,
) -> None:
    a = towns.ask("Did a Morning Courier article say the Tamsby pier reopened?")
    assert a.refused and "Morning Courier" in a.text and a.hits


def test_a_part_whose_dates_hold_no_article_is_refused(towns: Pipeline) -> None:
    a = towns.ask("Did Harbour Post report the bridge works published on March 3, 2031?")
    assert a.refused and "from Harbour Post dated 2031-03-02 to 2031-03-04" in a.text


def test_ask_json_shows_each_part(towns: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.cli import main as cli

    monkeypatch.setattr(cli, "pipeline", lambda **o: Pipeline(towns.settings, FakeEmbedder()))
    out = CliRunner().invoke(
        main,
        ["ask", "--json", "Did The Daily Lantern report the pier reopening before Harbour "
         "Post reported the bridge works?"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    parts = json.loads(out.output)["parts"]
    assert [(p["outlet"], p["date"], p["citation"]) for p in parts] == [
        ("The Daily Lantern", "2031-05-01", 1),
        ("Harbour Post | City News", "2031-05-03", 2),
    ]


def test_eval_reports_figures_per_question_type(
    towns: Pipeline, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from rag.cli import evals as cli_eval

    rows = [
        {"id": "q1", "question_type": "order", "answers": ["Yes"],
         "gold_doc_ids": ["lantern-pier", "harbour-bridge"],
         "question": "Did The Daily Lantern report the pier reopening before Harbour Post "
                     "reported the bridge works?"},
        {"id": "q2", "question_type": "order", "answers": ["Yes"],
         "gold_doc_ids": ["harbour-bridge", "hill-ferry"],
         "question": "Did Harbour Post report the bridge works before HillCrest reported the "
                     "ferry timetable?"},
        {"id": "q3", "question_type": "null", "answers": [], "is_impossible": True,
         "question": "Did a Morning Courier article say the Tamsby pier reopened?"},
    ]  # fmt: skip
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    monkeypatch.setattr(
        cli_eval,
        "pipeline",
        lambda **o: Pipeline(towns.settings.with_(per_article=1), FakeEmbedder()),
    )
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        main, ["eval", "--questions", str(questions), "--answers", "--no-rows", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["n/order"] == 2 and report["n/null"] == 1
    assert report["em/order"] == 0.5  # the second one is "No": May 3 is not before April 25
    assert report["em/null"] == 1.0 and report["refused/null"] == 1.0
    assert report["all@10"] == 1.0 and report["all@10/order"] == 1.0
    assert "all@10/order" in result.output


def test_with_an_llm_the_prompt_lists_each_outlet_and_date_and_asks_short_answer_first(
    towns: Pipeline,
) -> None:
    from tests.llm.test_llm import FakeLLM

    question = (
        "Did The Daily Lantern report the pier reopening before Harbour Post reported the "
        "bridge works?"
    )
    base = towns.ask(question)
    first, second = base.parts
    llm = FakeLLM("Yes [1][2]. The pier reopened [1]. Work on the bridge began [2].")
    towns.llm = llm
    a = towns.ask(question, llm=True)
    system, *_, user = llm.seen[0]
    assert "short answer alone: Yes, No" in system.content
    assert 'outlet="The Daily Lantern" date="2031-05-01"' in user.content
    assert 'date="2031-05-03"' in user.content
    assert a.llm == "fake-llm" and a.text.startswith("Yes [1][2].")
    numbers = {c.hit.article.doc_id: c.n for c in a.citations}
    assert [p.citation for p in a.parts] == [numbers[first.doc_id], numbers[second.doc_id]]


def test_the_chat_names_the_outlets_and_dates_compared_escaped() -> None:
    from rag.types import Answer, Part
    from ui.render import chat_message

    part = Part("Kelp", "x", "k1", "Kelp <b>Gazette</b>", date(2031, 5, 2), citation=2)
    html = chat_message(Answer("q", "Yes [2].", False, parts=(part,)))
    assert "Compared: Kelp &lt;b&gt;Gazette&lt;/b&gt; \\(2031\\-05\\-02\\) \\[2\\]" in html
    assert "<b>" not in html
