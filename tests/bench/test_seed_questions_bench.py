"""bench/seed_questions.py: the counts and misses it reports, with a fake pipeline."""

from __future__ import annotations

from types import SimpleNamespace

from bench.seed_questions import FLAGSHIP, score

TEXT = "The kiln in Ashby fires pottery. Keir Starmer opened it."


def _answer(refused: bool, start: int = 0, end: int = 32) -> SimpleNamespace:
    hit = SimpleNamespace(article=SimpleNamespace(text=TEXT), chunk=SimpleNamespace(text=TEXT))
    cited = () if refused else (SimpleNamespace(hit=hit, sentence_start=start, sentence_end=end),)
    return SimpleNamespace(refused=refused, citations=cited, text="an answer [1].")


class Fake:
    """Answers what it is told to; refuses the rest."""

    def __init__(self, answers: dict[str, SimpleNamespace]) -> None:
        self.answers = answers

    def ask(self, question: str) -> SimpleNamespace:
        return self.answers.get(question, _answer(refused=True))


def test_counts_right_sentence_first_refusals_and_the_flagship() -> None:
    pipeline = Fake(
        {
            "What does the kiln fire?": _answer(False),  # right sentence first
            "Who opened the kiln?": _answer(False),  # the wrong sentence first
            "How hot is the kiln?": _answer(False),  # unanswerable, answered
            FLAGSHIP[0]: _answer(False, 33, len(TEXT)),
        }
    )
    r = score(
        pipeline,
        [("What does the kiln fire?", "fires pottery"), ("Who opened the kiln?", "opened it")],
        ["How hot is the kiln?", "Who painted the kiln?"],
    )
    assert (r["right_first"], r["answerable"], r["refused"], r["unanswerable"]) == (1, 2, 1, 2)
    assert r["missed"] == ["Who opened the kiln? -> an answer [1]."]
    assert r["answered_unanswerable"] == ["How hot is the kiln?"]
    assert r["flagship_cited"] is True
