"""The benchmark code: helpers, synthetic data, stage timing, a tiny scaling run, the plots.

Benchmarks report timings; these tests check behaviour only, never a duration.
"""

from __future__ import annotations

import doctest
import importlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench import build, common, plot, scaling
from rag import Pipeline, Settings
from rag.ingest import chunk, sources
from tests.conftest import EVAL, FakeEmbedder

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["rag.index.vectors", "bench.common"])
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0 and result.attempted > 0


def test_percentiles() -> None:
    p = common.percentiles([0.004, 0.001, 0.002, 0.003])
    assert p["n"] == 4 and p["p50_ms"] == 2.5 and p["p95_ms"] == 4.0 and p["max_ms"] == 4.0
    assert common.percentiles([])["p50_ms"] == 0.0


def test_memory_reads_this_process() -> None:
    m = common.memory()
    assert m["rss_mb"] > 0 and m["peak_mb"] >= m["rss_mb"]


def test_synthetic_vectors_are_unit_rows_with_near_neighbours() -> None:
    x, q = scaling.synthetic(3000, 20)
    assert x.shape == (3000, 384) and q.shape == (20, 384) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(scaling.synthetic(3000)[0], x)  # queries do not change it
    top = np.sort(q @ x.T, axis=1)[:, -10:]
    assert np.median(top) > 0.5 > np.mean(x[:100] @ x[100:200].T)  # clustered, not uniform


def test_tiny_scaling_run_measures_every_kind(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("RAG_BENCH_WORK", str(tmp_path))
    monkeypatch.setattr(scaling, "WORK", tmp_path)
    out = scaling.run([3000], ["flat", "hnsw", "ivf"], queries=60)
    rows = {r["kind"]: r for r in out["rows"]}
    assert set(rows) == {"flat", "hnsw", "ivf"} and not any("error" in r for r in rows.values())
    assert rows["flat"]["recall_at_10"] == 1.0
    assert rows["hnsw"]["recall_at_10"] >= 0.9 and rows["hnsw"]["params"]["M"] == 32
    for r in rows.values():
        assert r["search"]["n"] == 60 and r["disk_mb"] > 0
        assert r["filtered_1%"]["recall_at_10"] >= 0.9
    assert [s["knob"] for s in rows["ivf"]["sweep"]] == [k for k, _ in scaling.SWEEP["ivf"]]


def test_stage_timing_wraps_the_real_build_and_restores_it(tmp_path: Path, corpus: Path) -> None:
    originals = (sources.read, chunk.spans)
    clock = build.Clock()
    emb = build.TimedEmbedder(FakeEmbedder(), clock)
    p = Pipeline(Settings.load(env={}, index_dir=tmp_path / "ix", model="fake"), emb)
    with build.timed_stages(clock):
        report = p.build([corpus])
    assert (sources.read, chunk.spans) == originals
    assert len(emb.texts) == report.chunks == 3
    assert {"read", "chunk", "embed", "write: store", "write: vectors", "write: bm25"} <= set(
        clock.spent
    )
    assert p.search("rocket launch")  # the patched classmethods built a working index


@pytest.mark.skipif(not (EVAL / "news").is_dir(), reason="../shared/eval/news is not here")
def test_query_set_has_at_least_100_questions() -> None:
    from bench.query import question_set

    qs = question_set()
    assert len(qs) >= 100 and all(q.strip() for q, _ in qs)


def test_plots_are_drawn_from_results(tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(plot, "RESULTS", tmp_path)
    row = {
        "n": 1000,
        "kind": "hnsw",
        "build_s": 1.0,
        "memory_mb": 5.0,
        "search": {"p50_ms": 0.1, "p95_ms": 0.2},
        "recall_at_10": 0.99,
        "sweep": [{"knob": 64, "rerank": 50, "p50_ms": 0.1, "recall_at_10": 0.99}],
    }
    (tmp_path / "scaling.json").write_text(json.dumps({"rows": [row, {**row, "n": 10000}]}))
    stages = {k: {"p50_ms": 1.0, "p95_ms": 2.0} for k in ("embed", "dense")}
    query = {"stages": stages, "search": stages["embed"], "ask": stages["dense"]}
    query |= {"chunks": 10, "index_type": "flat", "backend": "torch", "questions": 3}
    (tmp_path / "query.json").write_text(json.dumps(query))
    made = plot.main(tmp_path)
    assert sorted(p.name for p in made) == ["query.png", "scaling.png"]
    assert all(p.stat().st_size > 1000 for p in made)


def test_run_has_help() -> None:
    out = subprocess.run(
        [sys.executable, "bench/run.py", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0 and "--quick" in out.stdout
