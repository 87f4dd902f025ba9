"""bench/disagree.py measures what it says: its scoring, its made-up corpus, the detector on it."""

from __future__ import annotations

from bench.disagree import detector, right, score
from bench.disagree_corpus import events, held_out
from rag.types import Disagreement, Side


def test_right_needs_both_planted_values_on_different_sides() -> None:
    d = Disagreement(
        "the number of countries", (Side("31 countries", (2,)), Side("thirty countries", (1,)))
    )
    assert right(d, (("30",), ("31",)))
    assert right(d, (("thirty",), ("31",)))
    assert not right(d, (("30",), ("32",)))
    one_side = Disagreement("x", (Side("31 countries", (1, 2)), Side("7 ships", (3,))))
    assert not right(one_side, (("31",), ("31 countries",)))


def test_the_corpus_and_the_scores() -> None:
    evs = events()
    assert len(evs) == 66 and sum(e.planted is not None for e in evs) == 30
    assert len(held_out()) == 20
    ids = [a["doc_id"] for e in evs for a in e.articles]
    assert len(ids) == len(set(ids))
    s = score(detector(evs))
    assert (s["events"], s["disagreeing_events"], s["agreeing_events"]) == (66, 30, 36)
    assert s["false_alarm_rate"] is not None and 0 <= s["false_alarm_rate"] <= 1
    nothing = score([(e, []) for e in evs])
    assert (
        nothing["recall"] == 0 and nothing["false_alarm_rate"] == 0 and nothing["precision"] is None
    )
