"""Disagreements: values compared in their forms, sides found, said and checked (extractive and
LLM), in --json and the chat's text. Made-up articles only."""

from __future__ import annotations

import doctest
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

import rag.compare
import rag.disagree
import rag.values
from rag import Pipeline, Settings
from rag.cli import main
from rag.cli_common import answer_json
from rag.disagree import Claim, attach, check_sides, find, say, stated
from rag.types import Answer, Article, Chunk, Citation, Disagreement, Hit, Side
from rag.values import same, values
from tests.conftest import FakeEmbedder
from tests.test_llm import FakeLLM

D1, D2, D3 = date(2024, 8, 1), date(2024, 8, 2), date(2024, 8, 3)


def one(text: str) -> rag.values.Value:
    (v,) = [v for v in values(text) if v.kind != "year" or "in 1" not in text]
    return v


@pytest.mark.parametrize("module", [rag.values, rag.compare, rag.disagree])
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
    ],
)
def test_values_that_differ(a: str, b: str) -> None:
    assert not same(one(a), one(b))


def test_what_is_not_a_value() -> None:
    kinds = [(v.kind, v.text) for v in values("At 3 p.m. one of the Covid-19 wards in the 1990s")]
    assert kinds == []  # a time of day, "one of", a name with a number, a decade


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
    a = Article(doc or f"d{n}", title, text, published=day, source=f"outlet{n}.example")
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
    sides = [{"value": "Marseille", "citations": [2]}, {"value": "Lyon", "citations": [1]}]
    assert out["disagreements"] == [{"about": "the place", "sides": sides}]
    assert out["as_of"] == "2024-08-03"
    assert answer_json(Answer("q", "t", False))["disagreements"] == []


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
    monkeypatch.setattr("rag.cli.pipeline", lambda **_: pact)
    q = "How many countries signed the ocean protection pact in Geneva?"
    r = CliRunner().invoke(main, ["ask", q, "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["as_of"] == "2024-08-03"
    (d,) = data["disagreements"]
    assert d["about"] == "the number of countries"
    assert [s["value"] for s in d["sides"]] == ["31 countries", "thirty countries"]
    assert {x["story"] for x in data["stories"]} and all(s["citations"] for s in d["sides"])
    text = CliRunner().invoke(main, ["ask", q])
    assert "Sources disagree on the number of countries" in text.output
    assert "as of 2024-08-03" in text.output
