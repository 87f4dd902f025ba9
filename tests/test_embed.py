"""Embedding backends: ONNX (float32, int8) against the PyTorch model, export caching, fallback."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag import Pipeline, Settings, embed
from rag.errors import ConfigError, ModelError
from tests.conftest import SEEDS, FakeEmbedder

TEXTS = [
    "Cats sleep most of the day.",
    "The rocket launched from Florida on Tuesday. " * 40,  # past the 256-token limit
    "Budget",
    "Which countries lead the work on security guarantees for Ukraine?",
    "",
    "Engineers said the launch went well; the crew will dock with the station on Friday.",
]


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ModelError, match="backend"):
        embed.load(backend="tensorrt")
    with pytest.raises(ConfigError, match="backend"):
        Settings.load(env={"RAG_BACKEND": "tensorrt"})


def test_onnx_needs_a_local_mean_pooled_model(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="local model folder"):
        embed.export_onnx(str(tmp_path / "nowhere"), tmp_path / "cache")
    (tmp_path / "m" / "1_Pooling").mkdir(parents=True)
    (tmp_path / "m" / "modules.json").write_text(
        json.dumps(
            [
                {"idx": 0, "path": "", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            ]
        )
    )
    (tmp_path / "m" / "1_Pooling" / "config.json").write_text(
        json.dumps({"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False})
    )
    with pytest.raises(ModelError, match="mean-pooled"):
        embed.export_onnx(str(tmp_path / "m"), tmp_path / "cache")


def test_auto_falls_back_to_torch_and_says_why(monkeypatch, capsys) -> None:
    def no_onnx(*args: object, **kwargs: object) -> None:
        raise ModelError("onnxruntime is missing")

    monkeypatch.setattr(embed, "OnnxEmbedder", no_onnx)
    monkeypatch.setattr(embed, "SentenceTransformerEmbedder", lambda m, b: FakeEmbedder())
    assert isinstance(embed.load(backend="auto"), FakeEmbedder)
    assert "PyTorch" in capsys.readouterr().err
    with pytest.raises(ModelError, match="onnxruntime"):
        embed.load(backend="onnx-int8")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx")


@pytest.fixture(scope="module", autouse=True)
def private_user_cache(tmp_path_factory: pytest.TempPathFactory):
    """Exports copied to the user cache land in a temporary folder, shared by this module."""
    with pytest.MonkeyPatch.context() as m:
        m.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg")))
        yield


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)


@pytest.mark.slow
@pytest.mark.parametrize("quantize,floor", [(False, 0.9999), (True, 0.97)])
def test_onnx_gives_the_torch_vectors(
    real_embedder, cache: Path, quantize: bool, floor: float
) -> None:
    onnx = embed.OnnxEmbedder(batch_size=2, quantize=quantize, cache_dir=cache)
    assert onnx.dim == real_embedder.dim == 384 and onnx.backend.startswith("onnx")
    got, want = onnx.encode(TEXTS), real_embedder.encode(TEXTS)
    assert got.shape == want.shape and got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-4)
    assert cosines(got, want).min() > floor  # row order kept despite length sorting
    assert onnx.encode([]).shape == (0, 384)


@pytest.mark.slow
def test_export_runs_once_per_model(cache: Path, tmp_path: Path, monkeypatch) -> None:
    first = embed.OnnxEmbedder(cache_dir=cache).file  # exported now or by an earlier test

    def no_export(*args: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(embed, "_export", no_export)
    assert embed.OnnxEmbedder(cache_dir=cache).file == first
    # another index folder takes the copy kept in the user cache instead of exporting
    other = embed.OnnxEmbedder(cache_dir=tmp_path / "other-index" / "models").file
    assert other.is_relative_to(tmp_path) and other.read_bytes() == first.read_bytes()


@pytest.mark.slow
def test_pipeline_with_the_int8_backend_answers_like_torch(
    tmp_path: Path, seed_pipeline: Pipeline, cache: Path
) -> None:
    s = Settings.load(env={}, index_dir=tmp_path / "ix", backend="onnx-int8")
    p = Pipeline(s, embed.load(s.model, s.batch_size, s.backend, cache))
    p.build([SEEDS])
    question = "Which countries lead the work on security guarantees for Ukraine?"
    assert p.ask(question).citations
    assert p.search(question)[0].chunk.id == seed_pipeline.search(question)[0].chunk.id


def test_batches_keep_order_size_and_similar_lengths() -> None:
    class Enc:
        def __init__(self, n: int) -> None:
            self.ids = [0] * n

    lengths = [3, 4, 5, 12, 13, 14, 15, 16, 60, 61]
    got = embed.batches([Enc(n) for n in lengths], size=3)
    assert [len(e.ids) for b in got for e in b] == lengths  # nothing lost or reordered
    assert all(len(b) <= 3 for b in got)
    assert all(len(b[-1].ids) <= 1.25 * len(b[0].ids) + 4 for b in got)
    assert [len(b) for b in got] == [3, 3, 2, 2]
