"""Embedding backends: ONNX (float32, int8) against the PyTorch model, export caching and its
integrity records, fallback, and loading a cached export without torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag import Pipeline, Settings
from rag.embed import embedder as embed
from rag.embed import onnx as export
from rag.errors import ConfigError, IndexCorruptError, ModelError
from tests.conftest import ROOT, SEEDS, FakeEmbedder

HEAVY = ("torch", "transformers", "sentence_transformers", "onnx", "onnxruntime.quantization")

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
        export.export_onnx(str(tmp_path / "nowhere"), tmp_path / "cache")
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
        export.export_onnx(str(tmp_path / "m"), tmp_path / "cache")


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

    monkeypatch.setattr(export, "_export", no_export)
    assert embed.OnnxEmbedder(cache_dir=cache).file == first
    # another index folder takes the copy kept in the user cache instead of exporting
    other = embed.OnnxEmbedder(cache_dir=tmp_path / "other-index" / "models").file
    assert other.is_relative_to(tmp_path) and other.read_bytes() == first.read_bytes()


@pytest.mark.slow
def test_pipeline_with_the_int8_backend_answers_like_torch(
    tmp_path: Path, seed_pipeline: Pipeline, cache: Path
) -> None:
    s = Settings.load(env={}, index_dir=tmp_path / "ix", backend="onnx-int8")
    p = Pipeline(s, embed.load(s.index.model, s.index.batch_size, s.index.backend, cache))
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


# A tiny stand-in for an exported model: a word-level tokenizer and an ONNX graph (token ids ->
# mean of id * w + b -> L2-normalised, 8 wide), written where an export of it would be cached.
DIM = 8


def tiny_model(folder: Path) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers

    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "modules.json").write_text(
        json.dumps(
            [
                {"idx": 0, "path": "", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                {"idx": 2, "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
            ]
        )
    )
    pooling = {"pooling_mode_mean_tokens": True}
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    words = ["[UNK]", "cats", "sleep", "rockets", "launch", "budget"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(folder / "tokenizer.json"))
    return folder


def tiny_graph(out: Path, scale: float = 1.0) -> None:
    import onnx
    from onnx import TensorProto, helper

    weights = [scale * (i + 1) for i in range(DIM)]
    w = helper.make_tensor("w", TensorProto.FLOAT, [1, 1, DIM], weights)
    b = helper.make_tensor("b", TensorProto.FLOAT, [DIM], [0.5] * DIM)
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [2])
    nodes = [
        helper.make_node("Cast", ["input_ids"], ["f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["f", "axes"], ["f3"]),
        helper.make_node("Mul", ["f3", "w"], ["m"]),
        helper.make_node("Add", ["m", "b"], ["h"]),  # batch x tokens x DIM
        helper.make_node("ReduceMean", ["h"], ["v"], axes=[1], keepdims=0),
        helper.make_node("LpNormalization", ["v"], ["embedding"], axis=1, p=2),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", DIM])],
        initializer=[w, b, axes],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(out))


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[str, Path, Path]:
    """(model folder, cache dir, export folder) with both ONNX files cached, without records."""
    model = str(tiny_model(tmp_path / "tiny-model"))
    cache = tmp_path / "index" / "models"
    folder = export.export_folder(model, cache)
    folder.mkdir(parents=True)
    tiny_graph(folder / "model.onnx")
    tiny_graph(folder / "model-int8.onnx", scale=0.9)
    return model, cache, folder


def test_a_cached_export_loads_without_torch(tiny: tuple[str, Path, Path], tmp_path) -> None:
    model, cache, _ = tiny
    code = f"""if True:
        import json, sys
        from pathlib import Path
        from rag.embed import embedder as embed
        got = {{}}
        for backend in ("onnx-int8", "onnx", "auto"):
            e = embed.load({model!r}, 4, backend, Path({str(cache)!r}))
            v = e.encode(["cats sleep", "rockets launch budget", "cats"])
            got[backend] = [e.backend, e.reason, list(v.shape)]
        heavy = [m for m in sys.modules if m in {HEAVY!r}]
        print(json.dumps({{"got": got, "heavy": heavy}}))
    """
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg"), "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["heavy"] == []
    assert out["got"]["onnx-int8"] == ["onnx-int8", "asked for", [3, DIM]]
    assert out["got"]["onnx"][:1] == ["onnx"]
    assert out["got"]["auto"][0] in ("onnx-int8", "onnx") and out["got"]["auto"][1]


def test_older_exports_are_adopted_then_verified(tiny: tuple[str, Path, Path]) -> None:
    model, cache, folder = tiny
    before = export.verify_exports(cache)
    assert before.checked == () and len(before.unrecorded) == 2  # made before records existed
    e = embed.OnnxEmbedder(model, quantize=True, cache_dir=cache)
    np.testing.assert_allclose(np.linalg.norm(e.encode(["cats sleep"]), axis=1), 1.0, atol=1e-5)
    after = export.verify_exports(cache)
    assert after.checked == (folder / "model-int8.onnx",)
    assert after.unrecorded == (folder / "model.onnx",)
    record = json.loads((folder / "model-int8.onnx.json").read_text())
    assert record["bytes"] == (folder / "model-int8.onnx").stat().st_size
    assert export.verify_exports(cache / "nowhere") == export.ExportsChecked((), ())


def test_verify_names_the_damaged_export(tiny: tuple[str, Path, Path]) -> None:
    model, cache, folder = tiny
    embed.OnnxEmbedder(model, quantize=False, cache_dir=cache)  # records model.onnx
    f = folder / "model.onnx"
    data = bytearray(f.read_bytes())
    data[-3] ^= 0xFF  # same size, one weight changed
    f.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match="model.onnx is damaged") as err:
        export.verify_exports(cache)
    assert "\n" not in str(err.value)
    (folder / "model.onnx.json").write_text("{not json")
    with pytest.raises(IndexCorruptError, match="record"):
        export.verify_exports(cache)


def test_a_truncated_export_is_exported_again(tiny: tuple[str, Path, Path], monkeypatch) -> None:
    model, cache, folder = tiny
    embed.OnnxEmbedder(model, quantize=False, cache_dir=cache)  # records model.onnx
    f = folder / "model.onnx"
    f.write_bytes(f.read_bytes()[:-10])
    exports: list[Path] = []

    def fake_export(path: Path, out: Path) -> None:
        exports.append(out)
        tiny_graph(out)

    monkeypatch.setattr(export, "_export", fake_export)
    assert export.export_onnx(model, cache, quantize=False) == f
    assert exports == [f]
    assert export.verify_exports(cache).checked == (f,)


@pytest.mark.slow
def test_the_real_int8_export_loads_without_torch(cache: Path, tmp_path: Path) -> None:
    embed.OnnxEmbedder(cache_dir=cache)  # exported now or by an earlier test
    code = f"""if True:
        import sys
        from pathlib import Path
        from rag.embed import embedder as embed
        e = embed.load(backend="onnx-int8", cache_dir=Path({str(cache)!r}))
        assert e.encode(["a question"]).shape == (1, 384)
        print([m for m in sys.modules if m in {HEAVY!r}])
    """
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
    assert export.verify_exports(cache).checked  # the export has its records
