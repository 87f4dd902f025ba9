"""Disagreements: values compared in their forms, sides found, said and checked (extractive and
LLM), in --json and the chat's text. Made-up articles only."""

from __future__ import annotations

import doctest
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

import rag.answer.compare
import rag.answer.disagree
import rag.answer.values
from rag import Pipeline, Settings
from rag.answer.disagree import (
    Claim,
    attach,
    check_sides,
    find,
    latest,
    newest_first,
    say,
    side_dates,
    stated,
)
from rag.answer.values import same, values
from rag.cli.common import answer_json
from rag.cli.main import main
from rag.types import Answer, Article, Chunk, Citation, Disagreement, Hit, Side
from tests.conftest import FakeEmbedder
from tests.llm.test_llm import FakeLLM

D1, D2, D3 = date(2024, 8, 1), date(2024, 8, 2), date(2024, 8, 3)


def one(text: str) -> rag.answer.values.Value:
    (v,) = [v for v in values(text) if v.kind != "year" or "in 1" not in text]
    return v


@pytest.mark.parametrize("module", [rag.answer.values, rag.answer.compare, rag.answer.disagree])
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert result.failed == 0


# ---------------------------------------------------------------- values and their forms


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("30 countries", "thirty countries"),
        ("31 countries", "thirty-one countries"),
        ("1,200 people", "1200 people"),
        ("1.2 million people", "1,200,000 people"),
        ("$12 million", "12 million dollars"),
        ("30% of voters", "30 percent of voters"),
        ("30% of voters", "30 per cent of voters"),
        ("on Aug. 19", "on 19 August"),
        ("on August 19th", "on Aug 19, 2024"),
        ("held in Lyon", "held in Lyon, France"),
        ("won by Ada Lind", "won by Mayor Ada Lind"),
        ("about 300 workers", "310 workers"),
        ("more than 30 people", "45 people"),
        ("nearly 2,000 fans", "1,950 fans"),
        ("younger than 5", "younger than 3"),
        ("on Monday", "on monday"),
        ("on Mon.", "on Monday"),
        ("by Thurs.", "on Thursday night"),
        ("moved to Lyon", "moved to Lyon, France"),
        ("relocated its office to the Hague", "moving to The Hague"),
    ],
)
def test_forms_that_are_the_same_value(a: str, b: str) -> None:
    assert same(one(a), one(b)) and same(one(b), one(a))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("30 countries", "31 countries"),
        ("on Aug. 19", "on Aug. 26"),
        ("held in Lyon", "held in Marseille"),
        ("won by Ada Lind", "won by Bo Chen"),
        ("$12 million", "$15 million"),
        ("about 300 workers", "900 workers"),
        ("on Monday", "on Tuesday"),
        ("moved to Lyon", "moved to Marseille"),
    ],
)
def test_values_that_differ(a: str, b: str) -> None:
    assert not same(one(a), one(b))


def test_what_is_not_a_value() -> None:
    kinds = [(v.kind, v.text) for v in values("At 3 p.m. one of the Covid-19 wards in the 1990s")]
    assert kinds == []  # a time of day, "one of", a name with a number, a decade


@pytest.mark.parametrize(
    "text",
    [
        "Officials said on Monday the road is shut.",  # when it was said
        "The mayor on Friday told reporters the road is shut.",
        "The Sun. Readers wrote in.",  # a newspaper, not Sunday
        "According to Ada Lind, the road is shut.",  # "to" without a move
        "The club sent a letter to President Ada Lind.",  # a person after "to"
        "The club wants to Win it all.",
    ],
)
def test_weekdays_and_places_that_are_not_values(text: str) -> None:
    assert [(v.kind, v.text) for v in values(text) if v.kind in ("weekday", "place")] == []


def test_weekdays_and_places_after_to() -> None:
    said = "The choir flew to New York on Tues. and moved to Oslo by Sunday."
    got = [(v.kind, v.text, v.key) for v in values(said)]
    assert got == [
        ("place", "New York", ("new", "york")),
        ("weekday", "Tues.", ("tuesday",)),
        ("place", "Oslo", ("oslo",)),
        ("weekday", "Sunday", ("sunday",)),
    ]


# ---------------------------------------------------------------- finding sides


def claims(*said: tuple[str, date]) -> list[Claim]:
    return [Claim(n, f"d{n}", day, text) for n, (text, day) in enumerate(said, 1)]


def test_a_number_stated_differently_is_found_newest_first() -> None:
    found = find(
        claims(
            ("Thirty countries signed the ocean pact in Geneva on Monday.", D1),
            ("31 countries have now signed the ocean pact in Geneva.", D3),
            ("30 countries signed the ocean pact, officials said.", D2),
        )
    )
    ((d, used),) = found
    assert d == Disagreement(
        "the number of countries",
        (Side("31 countries", (2,)), Side("30 countries", (1, 3))),
    )
    assert used == {0, 1, 2}


@pytest.mark.parametrize(
    "said",
    [
        # the same value in other words
        ("Thirty countries signed the ocean pact.", "30 countries signed the ocean pact."),
        ("The tunnel opens on Aug. 19.", "Officials said the tunnel opens on 19 August."),
        ("The summit will be held in Lyon.", "The summit will be held in Lyon, France."),
        # different values that answer different questions
        ("30 countries signed the treaty on Monday.", "12 countries refused to attend the summit."),
        ("The festival takes place in Lyon.", "Last year's festival winner lives in Marseille."),
        ("Tourism in Tamsby rose 12% in 2022.", "Tourism in Tamsby rose 8% in 2023."),
        # one article also gives the other's value
        ("30 countries signed the pact.", "31 countries have signed the pact, up from 30 in May."),
    ],
)  # fmt: skip
def test_no_disagreement(said: tuple[str, str]) -> None:
    assert find(claims((said[0], D1), (said[1], D2))) == []


def test_one_article_or_its_copies_never_disagree_with_themselves() -> None:
    a = Claim(1, "d1", D1, "30 countries signed the pact.")
    b = Claim(2, "d1", D1, "31 countries signed the pact.")
    c = Claim(3, "d3", D2, "31 countries signed the pact.", copies=frozenset({"d1"}))
    assert find([a, b]) == [] and find([a, c]) == []


def test_articles_naming_other_subjects_are_not_compared() -> None:
    a = Claim(1, "d1", D1, "30 countries signed the Tamsby ocean pact.")
    b = Claim(2, "d2", D2, "31 countries signed the Orlen ocean pact.")
    assert find([a, b]) == []
    assert find([a, Claim(2, "d2", D2, b.sentence, story="s1")]) == []  # no story on a
    same_story = [
        Claim(1, "d1", D1, a.sentence, story="s1"),
        Claim(2, "d2", D2, b.sentence, story="s1"),
    ]
    assert len(find(same_story)) == 1  # one story: compared  # fmt: skip


@pytest.mark.parametrize(
    ("a", "b", "about", "values_"),
    [
        ("The Brenmoor council vote will be held on Monday.",
         "The Brenmoor council vote will be held on Tuesday.", "the day", ("Tuesday", "Monday")),
        ("The Orlen bakery moved to Lyon in March.", "In March the Orlen bakery moved to Nice.",
         "the place", ("Nice", "Lyon")),
    ],
)  # fmt: skip
def test_weekdays_and_places_after_to_disagree(
    a: str, b: str, about: str, values_: tuple[str, str]
) -> None:
    ((d, _),) = find(claims((a, D1), (b, D2)))
    assert d.about == about and tuple(s.value for s in d.sides) == values_


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # forms of one value
        ("The Brenmoor council vote is on Monday.", "The Brenmoor council vote is on monday."),
        ("The Brenmoor council vote is on Mon.", "The Brenmoor council vote is on Monday."),
        ("The Orlen bakery moved to Lyon.", "The Orlen bakery moved to Lyon, France."),
        ("The Orlen bakery reopens on Aug. 19.", "The Orlen bakery reopens on 19 August."),
        ("Thirty bakers joined the Orlen fair.", "30 bakers joined the Orlen fair."),
        # the day it was reported, not the day it happened
        ("The Orlen fair opened in Lyon, officials said on Monday.",
         "The Orlen fair opened in Lyon, officials said on Tuesday."),
        # a sentence that gives both days
        ("The Brenmoor vote is on Monday.",
         "The Brenmoor vote, first set for Monday, is now on Tuesday."),
    ],
)  # fmt: skip
def test_weekday_and_to_forms_do_not_disagree(a: str, b: str) -> None:
    assert find(claims((a, D1), (b, D2))) == []


def test_weekdays_of_articles_a_week_apart_are_not_compared() -> None:
    a = "The Brenmoor council vote will be held on Monday."
    b = "The Brenmoor council vote will be held on Tuesday."
    assert find(claims((a, D1), (b, date(2024, 8, 8)))) == []
    assert len(find(claims((a, D1), (b, date(2024, 8, 7))))) == 1


def test_places_and_names_and_dates() -> None:
    kinds = {
        "The summit will be held in Lyon on Friday.": "The summit will be held in Marseille.",
        "The chess open was won by Ada Lind.": "The chess open was won by Bo Chen.",
        "The tunnel will open on Aug. 19, they said.": "They said the tunnel will open on Aug. 26.",
    }
    abouts = [find(claims((a, D1), (b, D2)))[0][0].about for a, b in kinds.items()]
    assert abouts == ["the place", "the name", "the date"]


def test_say_is_plain_and_newest_first() -> None:
    d = Disagreement(
        "the number of countries", (Side("31 countries", (3,)), Side("30 countries", (1, 2)))
    )
    text = say(d, {1: D1, 2: D2, 3: D3})
    assert text == (
        "Sources disagree on the number of countries: [3] (2024-08-03, the latest) says "
        "31 countries; [1][2] (2024-08-02) say 30 countries."
    )  # fmt: skip


# ---------------------------------------------------------------- on answers


def hit(n: int, text: str, day: date, doc: str = "", title: str = "Ocean pact") -> Hit:
    a = Article(doc or f"d{n}", title, text, published=day, outlet=f"outlet{n}.example")
    return Hit(Chunk(n, a.doc_id, 0, len(text), text), a, 1.0, rank=n)


def cite(h: Hit, end: int | None = None) -> Citation:
    return Citation(h.rank, h, 0, end or len(h.article.text))


def test_attach_adds_an_uncited_side_and_says_it() -> None:
    h1 = hit(1, "Thirty countries signed the ocean pact in Geneva.", D1)
    h2 = hit(
        2, "The pact bans deep sea mining. 31 countries have signed the ocean pact in Geneva.", D3
    )
    q, said = "How many countries signed the ocean pact?", "Thirty countries signed it [1]."
    a = Answer(q, said, False, citations=(cite(h1),), hits=(h1, h2))
    out = attach(a)
    sides = (Side("31 countries", (2,)), Side("thirty countries", (1,)))
    assert out.disagreements == (Disagreement("the number of countries", sides),)
    assert out.text.startswith("Thirty countries signed it [1].\n\nSources disagree on")
    assert "[2] (2024-08-03, the latest) says 31 countries" in out.text
    added = [c for c in out.citations if c.n == 2]
    assert [h2.article.text[c.sentence_start : c.sentence_end] for c in added] == [
        "31 countries have signed the ocean pact in Geneva."
    ]
    assert attach(out).text == out.text  # said once


def test_attach_leaves_agreeing_and_refused_answers_alone() -> None:
    h1 = hit(1, "Thirty countries signed the ocean pact.", D1)
    h2 = hit(2, "30 countries have signed the ocean pact.", D2)
    a = Answer("q", "Thirty [1].", False, citations=(cite(h1),), hits=(h1, h2))
    assert attach(a) == a
    refused = Answer("q", "no", True, hits=(h1, h2))
    assert attach(refused).disagreements == ()


def test_answer_json_has_disagreements_and_as_of() -> None:
    d = Disagreement("the place", (Side("Marseille", (2,)), Side("Lyon", (1,))))
    out = answer_json(Answer("q", "t", False, disagreements=(d,), as_of=D3))
    sides = [
        {"value": "Marseille", "citations": [2], "date": None},
        {"value": "Lyon", "citations": [1], "date": None},
    ]
    assert out["disagreements"] == [{"about": "the place", "sides": sides}]
    assert out["as_of"] == "2024-08-03"
    assert answer_json(Answer("q", "t", False))["disagreements"] == []


def test_answer_json_sides_are_newest_first_with_their_dates() -> None:
    h1 = hit(1, "The ferry toll stood at 30 on Friday.", D1)
    h2 = hit(2, "The ferry toll rose to 45.", D3)
    h3 = hit(3, "The ferry toll was 30.", D2)
    h4 = Hit(Chunk(4, "d4", 0, 3, "52."), Article("d4", "T", "52."), 1.0, rank=4)  # undated
    d = Disagreement("the toll", (Side("52", (4,)), Side("30", (1, 3)), Side("45", (2,))))
    out = answer_json(Answer("q", "t", False, hits=(h1, h2, h3, h4), disagreements=(d,)))
    ((only,),) = [out["disagreements"]]
    assert set(only) == {"about", "sides"} and only["about"] == "the toll"
    assert only["sides"] == [
        {"value": "45", "citations": [2], "date": "2024-08-03"},
        {"value": "30", "citations": [1, 3], "date": "2024-08-02"},  # its newest article's
        {"value": "52", "citations": [4], "date": None},  # undated last
    ]


def test_latest_is_the_newest_article_of_a_strictly_newest_side() -> None:
    d = Disagreement("the toll", (Side("30", (1, 3)), Side("45", (2, 4))))
    dates = {1: D1, 2: D3, 3: D2, 4: D2}
    assert latest(d, dates) == {2}
    assert newest_first(d, dates).sides[0].value == "45"
    assert side_dates(d, dates) == (D2, D3)
    assert latest(d, {1: D3, 2: D3}) == frozenset()  # a tie: none is the latest
    assert latest(d, {}) == frozenset()  # undated
    text = say(d, dates)  # sides given oldest first: said newest first all the same
    assert text.startswith("Sources disagree on the toll: [2][4] (2024-08-03, the latest) say 45;")


def test_check_sides_marks_a_side_its_passage_does_not_give() -> None:
    h1 = hit(1, "Thirty countries signed the ocean pact.", D1)
    h2 = hit(2, "31 countries have signed the ocean pact.", D3)
    right = "Sources disagree: [2] says 31 countries; [1] says 30 countries."
    wrong = "Sources disagree: [2] says 30 countries; [1] says 31 countries."
    for text, bad in ((right, False), (wrong, True)):
        a = check_sides(Answer("q", text, False, hits=(h1, h2)))
        assert bool(a.unsupported) is bad
        assert ("not in the passage it cites" in a.note) is bad
    d = Disagreement(
        "the number of countries", (Side("31 countries", (2,)), Side("thirty countries", (1,)))
    )
    assert stated(right, d) and not stated("Thirty countries signed [1].", d)
    cited = (cite(h1), Citation(2, h2, 0, len(h2.article.text)))
    said = attach(Answer("How many countries signed the ocean pact?", f"31 [2]. {right}", False,
                         citations=cited, hits=(h1, h2)))  # fmt: skip
    assert said.disagreements and said.text.count("Sources disagree") == 1  # the model said it


# ---------------------------------------------------------------- through the pipeline

PACT = [
    {"doc_id": "pact-1", "title": "Ocean pact signed in Geneva", "published": "2024-08-01",
     "source": "north.example", "text": "Thirty countries signed the ocean protection pact in "
     "Geneva on Monday, officials said. The pact limits deep sea mining for ten years."},
    {"doc_id": "pact-2", "title": "More countries join the ocean pact", "published": "2024-08-03",
     "source": "south.example", "text": "31 countries have now signed the ocean protection pact "
     "in Geneva, the organisers said. The pact limits deep sea mining for ten years."},
    {"doc_id": "bakery", "title": "Tamsby bakery wins prize", "published": "2024-07-01",
     "source": "town.example", "text": "A bakery in Tamsby won the regional bread prize."},
]  # fmt: skip


@pytest.fixture
def pact(tmp_path: Path) -> Pipeline:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "pact.jsonl").write_text("".join(json.dumps(r) + "\n" for r in PACT))
    s = Settings.load(env={}, index_dir=tmp_path / "index", model="fake", min_score=0.1, gate="off")
    p = Pipeline(s, FakeEmbedder())
    p.build([folder])
    return p


def test_extractive_answer_says_sources_disagree(pact: Pipeline) -> None:
    a = pact.ask("How many countries signed the ocean protection pact in Geneva?")
    assert not a.refused and len(a.disagreements) == 1
    (d,) = a.disagreements
    by_value = {s.value: s.citations for s in d.sides}
    assert set(by_value) == {"31 countries", "thirty countries"}
    assert d.sides[0].value == "31 countries"  # newest first
    newest = {h.rank: h.article.doc_id for h in a.hits}[d.sides[0].citations[0]]
    assert newest == "pact-2"
    assert "Sources disagree on the number of countries" in a.text and "the latest" in a.text
    assert a.as_of == date(2024, 8, 3)


def test_llm_prompt_has_the_date_and_asks_for_disagreements(pact: Pipeline) -> None:
    pact.llm = FakeLLM("31 [1]. 31 countries have now signed the pact [1].")
    a = pact.ask(
        "How many countries signed the ocean protection pact in Geneva?", llm=True, as_of=D3
    )
    sent = pact.llm.seen[0]  # type: ignore[union-attr]
    assert "Sources disagree" in sent[0].content
    assert "Today is 2024-08-03." in sent[-1].content
    assert a.llm == "fake-llm" and len(a.disagreements) == 1
    assert "Sources disagree on the number of countries" in a.text  # the model left it out


def test_cli_ask_json_has_disagreements(pact: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("rag.cli.main.pipeline", lambda **_: pact)
    q = "How many countries signed the ocean protection pact in Geneva?"
    r = CliRunner().invoke(main, ["ask", q, "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["as_of"] == "2024-08-03"
    (d,) = data["disagreements"]
    assert d["about"] == "the number of countries"
    assert [s["value"] for s in d["sides"]] == ["31 countries", "thirty countries"]
    assert [s["date"] for s in d["sides"]] == ["2024-08-03", "2024-08-01"]
    assert {x["story"] for x in data["stories"]} and all(s["citations"] for s in d["sides"])
    text = CliRunner().invoke(main, ["ask", q])
    assert "Sources disagree on the number of countries" in text.output
    assert "As of 2024-08-03 (the newest cited article)" in text.output
