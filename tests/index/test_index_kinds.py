"""Index kinds (flat, HNSW, IVF) against brute-force numpy, with and without filters."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag import Pipeline, Settings
from rag.errors import ConfigError, IndexCorruptError
from rag.index import vectors as rag_index
from rag.index.kinds import EXACT_MAX, choose
from rag.index.vectors import VectorIndex, current
from tests.conftest import FakeEmbedder

KINDS = ["flat", "hnsw", "hnsw-flat", "ivf"]


def clustered(n: int, d: int, seed: int) -> np.ndarray:
    """Unit rows in 200 clusters: data with neighbours worth finding, like embeddings."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(0).standard_normal((200, d)).astype(np.float32)
    x = centres[rng.integers(200, size=n)] + 0.3 * rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def brute(data: np.ndarray, q: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list:
    scores = data @ q
    if allowed is not None:
        masked = np.full(len(data), -np.inf, dtype=np.float32)
        masked[allowed] = scores[allowed]
        scores = masked
    return list(
        np.argsort(-scores, kind="stable")[: min(k, len(data) if allowed is None else len(allowed))]
    )


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    x = clustered(3000, 32, 1)
    return x, clustered(40, 32, 2)


@pytest.mark.parametrize("kind", KINDS)
def test_search_finds_the_brute_force_neighbours(kind: str, data) -> None:
    x, queries = data
    vi = VectorIndex.build(x, kind)
    assert vi.kind == kind and len(vi) == len(x)
    recall = []
    for q in queries:
        scores, ids = vi.search(q, 10)
        expected = brute(x, q, 10)
        recall.append(len(set(ids.tolist()) & set(expected)) / 10)
        np.testing.assert_allclose(scores, x[ids] @ q, rtol=1e-4, atol=1e-4)  # exact scores
        assert list(scores) == sorted(scores, reverse=True)
    assert np.mean(recall) >= (1.0 if kind == "flat" else 0.9)  # 0.95+ at scale: bench/


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("share", [0.5, 0.05, 0.002])
def test_filtered_search_keeps_to_the_allowed_ids(kind: str, share: float, data) -> None:
    x, queries = data
    vi = VectorIndex.build(x, kind)
    rng = np.random.default_rng(3)
    allowed = np.sort(rng.choice(len(x), max(1, int(share * len(x))), replace=False))
    recall = []
    for q in queries[:10]:
        _, ids = vi.search(q, 10, allowed)
        assert set(ids.tolist()) <= set(allowed.tolist())
        expected = brute(x, q, 10, allowed)
        assert len(ids) == len(expected)
        recall.append(len(set(ids.tolist()) & set(expected)) / len(expected))
    assert np.mean(recall) >= (1.0 if kind == "flat" else 0.9)


@pytest.mark.parametrize("kind", KINDS)
def test_save_load_keeps_vectors_and_results(kind: str, data, tmp_path: Path) -> None:
    x, queries = data
    built = VectorIndex.build(x, kind)
    built.save(tmp_path / "vectors.faiss")
    loaded = VectorIndex.load(tmp_path / "vectors.faiss")
    assert loaded.kind == kind and loaded.params == built.params
    np.testing.assert_array_equal(loaded.vectors(), x)  # reused by incremental builds
    np.testing.assert_array_equal(loaded.vectors([7, 2]), x[[7, 2]])
    assert loaded.vectors([]).shape == (0, x.shape[1])
    for q in queries[:5]:
        np.testing.assert_array_equal(built.search(q, 5)[1], loaded.search(q, 5)[1])


def test_tiny_inputs_and_empty_filters() -> None:
    x = clustered(3, 8, 4)
    for kind in KINDS:
        vi = VectorIndex.build(x, kind)
        assert len(vi.search(x[0], 10)[1]) == 3
        assert len(vi.search(x[0], 10, np.array([], dtype=np.int64))[1]) == 0
        assert list(vi.search(x[0], 10, np.array([2]))[1]) == [2]


def test_auto_is_exact_up_to_the_threshold_then_ivf() -> None:
    assert choose(EXACT_MAX) == "flat"
    assert choose(EXACT_MAX + 1) == "ivf"
    assert choose(10, "hnsw") == "hnsw"
    with pytest.raises(ConfigError, match="index type"):
        choose(10, "annoy")
    with pytest.raises(ConfigError, match="index_type"):
        Settings.load(env={"RAG_INDEX_TYPE": "annoy"})


def test_missing_or_truncated_stored_vectors_are_reported(data, tmp_path: Path) -> None:
    x, _ = data
    VectorIndex.build(x, "hnsw").save(tmp_path / "vectors.faiss")
    npy = tmp_path / "vectors.npy"
    npy.write_bytes(npy.read_bytes()[:1000])
    with pytest.raises(IndexCorruptError, match="rag index build"):
        VectorIndex.load(tmp_path / "vectors.faiss")
    npy.unlink()
    with pytest.raises(IndexCorruptError, match="vectors.npy"):
        VectorIndex.load(tmp_path / "vectors.faiss")


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_forced_kind_is_built_recorded_and_searched(
    kind: str, corpus: Path, tmp_path: Path
) -> None:
    s = Settings.load(env={}, index_dir=tmp_path / "ix", model="fake", index_type=kind)
    p = Pipeline(s, FakeEmbedder())
    p.build([corpus])
    manifest = json.loads((current(s.index.index_dir) / "manifest.json").read_text())
    assert manifest["index_type"] == kind
    assert ("ef_search" in manifest["index_params"]) == (kind == "hnsw")
    assert "rocket" in p.search("rocket launch")[0].article.title.lower()
    (corpus / "cats.txt").write_text("date 2024-03-02\\nDogs bark at night.")
    again = p.build([corpus])  # reuses the unchanged articles' vectors from the stored copy
    assert again.reused == again.chunks - 1


def test_stored_rows_are_read_by_position_not_mapped(data, tmp_path: Path) -> None:
    x, _ = data
    VectorIndex.build(x, "ivf").save(tmp_path / "vectors.faiss")
    vi = VectorIndex.load(tmp_path / "vectors.faiss")
    assert isinstance(vi.stored, rag_index.Rows) and len(vi.stored) == len(x)
    ids = np.array([5, 0, len(x) - 1, 5])
    assert np.array_equal(vi.vectors(ids), x[ids]) and np.array_equal(vi.vectors(), x)
    rag_index.Rows.SCAN = 2  # the large-read path gives the same rows
    try:
        assert np.array_equal(vi.vectors(ids), x[ids])
    finally:
        rag_index.Rows.SCAN = 4096
    maps = Path("/proc/self/maps").read_text()
    assert "vectors.npy" not in maps  # nothing of the file stays mapped
    with pytest.raises(IndexError):
        vi.stored[[len(x)]]
