"""The build on Ray (rag/embed/cluster.py) against the local build, on a real local Ray cluster."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from rag import Pipeline, Settings, build
from rag.build import Indexer
from rag.cli.main import main
from rag.embed.cluster import RayEncoder, Spec
from rag.errors import ClusterError, IndexCorruptError, RagError
from rag.index import store
from rag.index import vectors as index

WORDS = (
    "minister talks leaders resume week ceasefire geneva delegations analysts prices energy food "
    "bank interest council budget schools hospitals roads engineers launch crew station harbour "
    "storm farmers harvest river flood court ruling strike workers union museum painting stolen"
).split()
BLOCK = 8  # chunks per model call in these tests (EMBED_BLOCK is 512): several rows per build
SETTINGS = {"backend": "onnx-int8", "chunk_size": 200, "chunk_overlap": 20}
QUERIES = ["flood on the river", "stolen painting at the museum", "budget for schools"]


def made_up(n: int = 10, seed: int = 3) -> dict[str, str]:
    """`n` articles of 2 to 6 short paragraphs of made-up news, the same on every run."""
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(n):
        paras = [
            " ".join(rng.choice(WORDS, int(rng.integers(12, 30)))).capitalize() + "."
            for _ in range(int(rng.integers(2, 7)))
        ]
        out[f"a{i:02d}.txt"] = f"date 2024-04-{i + 1:02d}\n" + "\n\n".join(paras)
    return out


def write(folder: Path, articles: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in articles.items():
        (folder / name).write_text(text)
    return folder


def settings(index_dir: Path) -> Settings:
    return Settings.load(env={}, index_dir=index_dir, **SETTINGS)


def snapshot(index_dir: Path) -> dict[str, Any]:
    """What a generation holds: manifest (less its time), articles, chunks, vectors, hits."""
    gen = index.current(index_dir)
    manifest = dataclasses.asdict(index.read_manifest(gen))
    manifest.pop("built_at")
    st = store.Store(gen / index.STORE)
    try:
        articles = [(a.doc_id, a.title, a.text) for a in st.articles()]
        chunks = [(c.id, c.doc_id, c.start, c.end) for c, _ in st.chunks(range(len(st)))]
    finally:
        st.close()
    p = Pipeline(settings(index_dir))
    hits = {q: [(h.chunk.id, h.score) for h in p.search(q)] for q in QUERIES}
    vectors = index.VectorIndex.load(gen / index.VECTORS).vectors()
    return {"manifest": manifest, "articles": articles, "chunks": chunks, "v": vectors, "h": hits}


def assert_same(ray: dict[str, Any], local: dict[str, Any]) -> None:
    assert ray["manifest"] == local["manifest"]
    assert ray["articles"] == local["articles"]
    assert ray["chunks"] == local["chunks"]
    assert ray["v"].shape == local["v"].shape
    assert np.abs(ray["v"] - local["v"]).max() < 1e-4
    for q in QUERIES:
        assert [i for i, _ in ray["h"][q]] == [i for i, _ in local["h"][q]]
        assert [s for _, s in ray["h"][q]] == pytest.approx([s for _, s in local["h"][q]], abs=1e-4)


def no_local_embedder() -> Any:
    raise AssertionError("a build on Ray must not embed on the driver")


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "EMBED_BLOCK", BLOCK)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("ray") / "articles", made_up())


@pytest.fixture(scope="module")
def local(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The reference: `corpus` built locally (blocks of BLOCK chunks, as on Ray)."""
    index_dir = tmp_path_factory.mktemp("local") / "index"
    with pytest.MonkeyPatch.context() as m:
        m.setattr(build, "EMBED_BLOCK", BLOCK)
        Pipeline(settings(index_dir)).build([corpus])
    return snapshot(index_dir)


@pytest.fixture(scope="module")
def ray_lib() -> Any:
    """The ray module; the tests that need it skip, saying so, where it is not installed."""
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'rag-news[ray]'")
    pytest.importorskip("ray.data", reason="Ray Data is not installed: pip install 'ray[data]'")
    return ray


@pytest.fixture(scope="module")
def cluster(ray_lib: Any) -> Iterator[Any]:
    """One real local Ray cluster of 2 CPUs for the tests of this module."""
    ray = ray_lib
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    try:
        yield ray
    finally:
        ray.shutdown()


def test_without_ray_the_flag_fails_in_one_line(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    index_dir = tmp_path / "index"
    args = ["index", "build", str(corpus), "--index", str(index_dir), "--ray"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert result.output.strip() == "Error: --ray needs Ray Data: pip install 'rag-news[ray]'"
    assert not index_dir.exists()


@pytest.mark.parametrize("address", ["news/", "seeds"])
def test_a_path_after_the_flag_is_not_taken_for_an_address(address: str, tmp_path: Path) -> None:
    args = ["index", "build", "--ray", address, "--index", str(tmp_path / "ix")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and "give the paths before --ray" in result.output
    with pytest.raises(ClusterError, match="not 'x'"):
        RayEncoder(settings(tmp_path), "x")


@pytest.mark.slow
def test_a_build_on_a_cluster_it_starts_equals_the_local_one(
    ray_lib: Any, corpus: Path, local: dict[str, Any], tmp_path: Path
) -> None:
    """`--ray local` starts a cluster for the build and stops it afterwards."""
    ray = ray_lib
    if ray.is_initialized():
        pytest.skip("a Ray cluster is already running in this process")
    s = settings(tmp_path / "index")
    encoder = RayEncoder(s, "local", workers=2)
    report = Indexer(s, no_local_embedder, encoder).build([corpus])
    assert not ray.is_initialized()
    assert report.embedded == report.chunks == len(local["chunks"]) and encoder.used == 2
    assert_same(snapshot(s.index.index_dir), local)


@pytest.mark.slow
def test_the_cli_build_on_ray_equals_the_local_build(
    cluster: Any, corpus: Path, local: dict[str, Any], tmp_path: Path
) -> None:
    index_dir = tmp_path / "index"
    env = {f"RAG_{k.upper()}": str(v) for k, v in SETTINGS.items()} | {"RAG_RAY_ADDRESS": "auto"}
    args = ["index", "build", str(corpus), "--index", str(index_dir), "--ray-workers", "2"]
    result = CliRunner().invoke(main, [*args, "--quiet"], env=env)
    assert result.exit_code == 0, result.output
    assert f"{len(local['chunks'])} embedded, 0 reused" in result.output
    assert_same(snapshot(index_dir), local)


@pytest.mark.slow
def test_an_update_on_ray_reuses_unchanged_vectors(cluster: Any, tmp_path: Path) -> None:
    texts = made_up(6, seed=5)
    folder = write(tmp_path / "articles", texts)
    ray_s, local_s = settings(tmp_path / "ray"), settings(tmp_path / "local")
    writers = {"ray": Indexer(ray_s, no_local_embedder, RayEncoder(ray_s, workers=2))}
    writers["local"] = Pipeline(local_s).indexer
    before = {}
    for where, writer in writers.items():
        writer.build([folder])
        before[where] = snapshot(writer.settings.index.index_dir)
    (folder / "a01.txt").write_text(texts["a01.txt"] + "\n\nThe storm reached the harbour.")
    (folder / "a02.txt").unlink()
    (folder / "new.txt").write_text("date 2024-05-01\nThe museum got the stolen painting back.")
    after = {}
    for where, writer in writers.items():
        report = writer.update()
        assert (report.added, report.changed, report.removed, report.unchanged) == (1, 1, 1, 4)
        was, now = before[where], after.setdefault(where, snapshot(writer.settings.index.index_dir))
        same = {a[0] for a in set(now["articles"]) & set(was["articles"])}
        kept = [i for i, (_, d, _, _) in enumerate(now["chunks"]) if d in same]
        old = {c[1:]: was["v"][c[0]] for c in was["chunks"]}  # (doc_id, start, end) -> vector
        assert report.reused == len(kept) and report.embedded == report.chunks - len(kept) > 0
        assert all(np.array_equal(now["v"][i], old[now["chunks"][i][1:]]) for i in kept)
    assert_same(after["ray"], after["local"])


@pytest.mark.slow
def test_a_worker_that_dies_is_restarted_and_its_rows_retried(
    cluster: Any, corpus: Path, local: dict[str, Any], tmp_path: Path
) -> None:
    marker = tmp_path / "died"
    s = settings(tmp_path / "index")
    report = Indexer(s, no_local_embedder, RayEncoder(s, workers=2, fail_once=marker)).build(
        [corpus]
    )
    assert marker.exists()  # a worker did die (os._exit) on its first call
    assert report.embedded == len(local["chunks"])
    assert_same(snapshot(s.index.index_dir), local)


@pytest.mark.slow
def test_a_worker_that_cannot_load_the_model_fails_the_build_in_one_line(
    cluster: Any, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = settings(tmp_path / "index")
    encoder = RayEncoder(s, workers=1)
    spec = Spec(s.index.model, "onnx-int8", s.index.batch_size, 1)
    monkeypatch.setattr(encoder, "_prepare", lambda: (spec, b"not an onnx file", "{}"))
    with pytest.raises(ClusterError) as e:
        Indexer(s, no_local_embedder, encoder).build([corpus])
    assert str(e.value).startswith("the build on Ray failed (a Ray worker cannot load")
    assert "\n" not in str(e.value) and str(e.value).endswith("; the index is unchanged")
    with pytest.raises(RagError):
        index.current(s.index.index_dir)


def test_serve_on_ray_without_ray_fails_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    result = CliRunner().invoke(main, ["serve", "--index", str(tmp_path / "index"), "--ray"])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: --ray needs Ray: pip install 'rag-news[ray]'"
    assert not (tmp_path / "index").exists()


@pytest.mark.slow
def test_shard_search_on_ray_actors_equals_the_threads(cluster: Any, tmp_path: Path) -> None:
    """`rag serve --ray`: the shards of a monthly index on two actors, as searched locally."""
    from rag.index.cluster import RayHost, _Remote
    from tests.index.test_shards import (
        FILTERS,
        MONTHS,
        assert_same_hits,
        damage,
        pipeline,
        ranked,
        records,
    )
    from tests.index.test_shards import QUERIES as ASKED
    from tests.index.test_shards import write as write_jsonl

    source = write_jsonl(tmp_path / "news.jsonl", records())
    local = pipeline(tmp_path / "index")
    local.build([source])
    remote = pipeline(tmp_path / "index", shard_host=RayHost("auto", actors=2))
    handles = remote.load().retriever.vectors.handles  # type: ignore[attr-defined]
    assert len(handles) == 2 and all(isinstance(h, _Remote) for h in handles)
    assert sorted(k for h in handles for k in h.keys) == [*MONTHS, "undated"]
    for filters in FILTERS:
        for q in ASKED:
            assert_same_hits(ranked(remote, q, k=8, **filters), ranked(local, q, k=8, **filters))
    damage(index.current(tmp_path / "index") / "shards" / "2024-03" / "keywords" / "tf.npy", 12)
    again = pipeline(tmp_path / "index", shard_host=RayHost("auto", actors=2))
    with pytest.raises(IndexCorruptError) as e:
        again.search(ASKED[0])
    assert "\n" not in str(e.value) and "2024-03" in str(e.value)
