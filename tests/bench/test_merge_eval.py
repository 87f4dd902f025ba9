"""bench/merge_eval.py: reports of parts of one question file put together."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.merge_eval import merge
from rag.eval.evaluate import run
from rag.eval.report import save
from tests.eval.test_evaluate import ANSWERS, HITS, QUESTIONS, FakeSearcher


def _part(tmp_path: Path, name: str, offset: int, rows: bool = True) -> Path:
    report = run(FakeSearcher(HITS, ANSWERS), QUESTIONS[offset::2], answers=True, progress=False)
    return save(report, tmp_path / name, rows=rows)


def test_two_halves_give_the_whole_files_figures(tmp_path: Path) -> None:
    whole = run(FakeSearcher(HITS, ANSWERS), QUESTIONS, answers=True, progress=False).summary
    merged = merge([_part(tmp_path, "a.json", 0), _part(tmp_path, "b.json", 1)])
    assert (merged["n_total"], merged["em"], merged["refusal_recall"]) == (
        5,
        pytest.approx(whole["em"]),
        pytest.approx(whole["refusal_recall"]),
    )
    assert [p["n_total"] for p in merged["parts"]] == [3, 2]
    assert "questions" not in merged and json.dumps(merged)


def test_overlapping_parts_or_parts_without_rows_are_refused(tmp_path: Path) -> None:
    a = _part(tmp_path, "a.json", 0)
    with pytest.raises(SystemExit, match="share questions"):
        merge([a, a])
    with pytest.raises(SystemExit, match="no rows"):
        merge([a, _part(tmp_path, "b.json", 1, rows=False)])
