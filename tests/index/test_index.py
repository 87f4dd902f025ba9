"""FAISS search against brute force, generations on disk, and damaged files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag import Pipeline
from rag.errors import IndexCorruptError, IndexMismatchError, RagError
from rag.index.vectors import VectorIndex, current, read_manifest, verify


def unit_rows(n: int, d: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("n,d,k", [(50, 8, 5), (1000, 64, 10), (3, 16, 10)])
def test_search_matches_brute_force(n: int, d: int, k: int) -> None:
    data, queries = unit_rows(n, d, 1), unit_rows(20, d, 2)
    index = VectorIndex.build(data)
    for q in queries:
        scores, ids = index.search(q, k)
        exact = data @ q
        expected = np.argsort(-exact, kind="stable")[: min(k, n)]
        assert list(ids) == list(expected)
        np.testing.assert_allclose(scores, exact[expected], rtol=1e-5, atol=1e-5)


def test_search_with_allowed_ids_matches_masked_brute_force() -> None:
    data, q = unit_rows(200, 16, 3), unit_rows(1, 16, 4)[0]
    allowed = np.arange(0, 200, 7)
    _, ids = VectorIndex.build(data).search(q, 5, allowed)
    exact = np.full(200, -np.inf)
    exact[allowed] = data[allowed] @ q
    assert list(ids) == list(np.argsort(-exact)[:5])


def test_save_load_round_trip(tmp_path: Path) -> None:
    data = unit_rows(30, 8, 5)
    VectorIndex.build(data).save(tmp_path / "v.faiss")
    loaded = VectorIndex.load(tmp_path / "v.faiss")
    np.testing.assert_array_equal(loaded.vectors(), data)
    np.testing.assert_array_equal(loaded.vectors([3, 1]), data[[3, 1]])


def _files(gen: Path) -> list[Path]:
    return sorted(p for p in gen.rglob("*") if p.is_file() and p.name != "manifest.json")


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_files_give_one_line_errors(fake_pipeline: Pipeline, damage: str) -> None:
    gen = current(fake_pipeline.settings.index.index_dir)
    for path in _files(gen):
        original = path.read_bytes()
        if damage == "truncate":
            path.write_bytes(original[: len(original) // 2])
        else:
            flipped = bytearray(original)
            flipped[len(flipped) // 2] ^= 0xFF
            path.write_bytes(bytes(flipped))
        with pytest.raises(IndexCorruptError) as err:
            verify(gen)
        assert path.name in str(err.value) and "rag index build" in str(err.value)
        assert "\n" not in str(err.value)
        path.write_bytes(original)
    verify(gen)


def test_truncated_files_fail_to_load_with_a_clear_message(fake_pipeline: Pipeline) -> None:
    gen = current(fake_pipeline.settings.index.index_dir)
    for path in _files(gen):
        original = path.read_bytes()
        path.write_bytes(original[: len(original) // 3])
        fresh = Pipeline(fake_pipeline.settings, fake_pipeline.embedder)
        try:
            fresh.search("cats")
        except RagError as e:  # a damaged file must surface as our error, not a traceback
            assert "rag index build" in str(e) and "\n" not in str(e)
        path.write_bytes(original)


def test_manifest_from_another_format_is_refused(fake_pipeline: Pipeline) -> None:
    gen = current(fake_pipeline.settings.index.index_dir)
    m = gen / "manifest.json"
    m.write_text(m.read_text().replace('"format_version": 2', '"format_version": 99'))
    with pytest.raises(IndexMismatchError, match="rebuild"):
        read_manifest(gen)
    m.write_text("{not json")
    with pytest.raises(IndexCorruptError, match="manifest.json"):
        read_manifest(gen)


def test_old_generations_are_cleaned_up(fake_pipeline: Pipeline, corpus: Path) -> None:
    index_dir = fake_pipeline.settings.index.index_dir
    (index_dir / "gen-20000101T000000-dead00.partial").mkdir()  # a crashed build's leftovers
    for _ in range(3):
        fake_pipeline.build([corpus])
    gens = sorted(p.name for p in index_dir.glob("gen-*"))
    assert len(gens) == 2 and not any(g.endswith(".partial") for g in gens)
    assert current(index_dir).name in gens
