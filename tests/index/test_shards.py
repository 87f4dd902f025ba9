"""Monthly shards (rag/index/shards.py, rag/index/fanout.py) against one unsharded index."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from rag import Pipeline, Settings
from rag.cli.common import report_line
from rag.cli.main import main
from rag.errors import IndexCorruptError
from rag.index import vectors as index
from rag.index.bm25 import K1, B, KeywordIndex, TermCounts, idf, tokenize
from rag.index.fanout import Host
from rag.index.shards import Group
from rag.types import BuildReport
from tests.conftest import FakeEmbedder

WORDS = (
    "mayor council budget ferry harbour storm river flood bridge tram station museum painting "
    "orchestra festival farmers harvest drought wheat prices court ruling strike union workers "
    "rocket launch crew orbit school teachers exam hospital nurses clinic forest fire rescue"
).split()
MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04"]
QUERIES = [
    "flood on the river near the bridge",
    "stolen painting at the museum",
    "council budget for the schools",
    "the of and",  # only stop words: no keyword scores at all
]
FILTERS: list[dict[str, Any]] = [
    {},
    {"as_of": date(2024, 2, 14)},
    {"date_from": date(2024, 3, 1)},
    {"date_from": date(2024, 2, 1), "date_to": date(2024, 3, 31)},
]


def records(n: int = 24, seed: int = 11) -> list[dict[str, Any]]:
    """`n` made-up articles over four months; every sixth has no date."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        paras = [
            " ".join(rng.choice(WORDS, int(rng.integers(10, 28)))).capitalize() + "."
            for _ in range(int(rng.integers(2, 6)))
        ]
        day = None if i % 6 == 5 else f"{MONTHS[i % 4]}-{1 + i:02d}"
        out.append({"doc_id": f"n{i:02d}", "title": f"Item {i}", "text": "\n\n".join(paras)})
        out[-1]["published"] = day
    return out


def write(path: Path, recs: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    return path


def pipeline(index_dir: Path, shards: str = "month", shard_host: Host | None = None) -> Pipeline:
    s = Settings.load(
        env={},
        index_dir=index_dir,
        model="fake",
        gate="off",
        chunk_size=200,
        chunk_overlap=20,
        near_duplicate=0,
        shards=shards,
    )
    return Pipeline(s, FakeEmbedder(), shard_host=shard_host)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Pipeline, Pipeline]:
    """The same articles indexed whole and by month (read only: tests must not change them)."""
    root = tmp_path_factory.mktemp("shards")
    source = write(root / "news.jsonl", records())
    whole, cut = pipeline(root / "whole", "none"), pipeline(root / "cut")
    whole.build([source])
    report = cut.build([source])
    assert (report.shards_written, report.shards_reused) == (5, 0)
    return whole, cut


def ranked(p: Pipeline, q: str, **kw: Any) -> list[tuple[int, float]]:
    return [(h.chunk.id, h.score) for h in p.search(q, **kw)]


def assert_same_hits(a: list[tuple[int, float]], b: list[tuple[int, float]]) -> None:
    assert [i for i, _ in a] == [i for i, _ in b]
    assert [s for _, s in a] == pytest.approx([s for _, s in b], rel=1e-6, abs=1e-7)


def test_the_bm25_constants_are_bm25s_defaults() -> None:
    bm25 = KeywordIndex.build(["a made-up text"]).bm25
    assert (bm25.k1, bm25.b, bm25.method, bm25.idf_method) == (K1, B, "lucene", "lucene")


def test_one_shard_scores_equal_bm25s() -> None:
    texts = [" ".join(r["text"].split()[:40]) for r in records(12)] + ["The of and.", ""]
    whole, counts = KeywordIndex.build(texts), TermCounts.build(texts)
    assert len(counts) == len(texts)
    for q in [*QUERIES, "ferry ferry harbour", "zeppelin"]:
        terms = tokenize([q])[0]
        df = counts.df(terms)
        known = [t for t, d in zip(terms, df, strict=True) if d]
        weights = idf(df[df > 0], len(counts)).astype(np.float32)
        rows, x = counts.scores(known, weights, counts.length / len(counts))
        got = np.zeros(len(texts), np.float32)
        got[rows] = x
        np.testing.assert_allclose(got, whole.scores(q), rtol=1e-6, atol=0)


def test_keyword_scores_do_not_depend_on_the_cut(pair: tuple[Pipeline, Pipeline]) -> None:
    whole, cut = (p.load().retriever.keywords for p in pair)
    for q in QUERIES:
        np.testing.assert_allclose(cut.scores(q), whole.scores(q), rtol=1e-6, atol=0)
    terms = {"flood", "museum", "zeppelin"}
    assert cut.idf(terms) == pytest.approx(whole.idf(terms), rel=1e-12)


def test_dense_search_equals_the_flat_index(pair: tuple[Pipeline, Pipeline]) -> None:
    whole, cut = (p.load().retriever.vectors for p in pair)
    q = FakeEmbedder().encode(["flood on the river"])[0]
    for allowed in (None, np.arange(0, len(pair[0].load().store), 3)):
        a, b = whole.search(q, 20, allowed), cut.search(q, 20, allowed)
        np.testing.assert_array_equal(a[1], b[1])
        np.testing.assert_allclose(a[0], b[0], rtol=1e-6)
    np.testing.assert_array_equal(cut.vectors([7, 0, 3]), whole.vectors([7, 0, 3]))
    np.testing.assert_array_equal(cut.vectors(), whole.vectors())


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
@pytest.mark.parametrize("filters", FILTERS, ids=["all", "as_of", "from", "range"])
def test_sharded_search_equals_unsharded(
    pair: tuple[Pipeline, Pipeline], mode: str, filters: dict[str, Any]
) -> None:
    whole, cut = pair
    for q in QUERIES:
        assert_same_hits(
            ranked(cut, q, mode=mode, k=8, **filters), ranked(whole, q, mode=mode, k=8, **filters)
        )


def spy(monkeypatch: pytest.MonkeyPatch) -> dict[str, set[str]]:
    """Shards each `Group` method was asked to search, by method."""
    seen: dict[str, set[str]] = {}
    for name in ("search", "scores", "vectors"):
        real: Callable[..., Any] = getattr(Group, name)

        def wrapped(self: Group, *args: Any, _name: str = name, _real: Any = real) -> Any:
            seen.setdefault(_name, set()).update(args[-1])  # the last argument: rows by shard
            return _real(self, *args)

        monkeypatch.setattr(Group, name, wrapped)
    return seen


@pytest.mark.parametrize(
    ("filters", "searched"),
    [
        ({"as_of": date(2024, 2, 14)}, {"2024-01", "2024-02", "undated"}),
        ({"date_from": date(2024, 3, 1)}, {"2024-03", "2024-04"}),
        ({"date_from": date(2024, 2, 1), "date_to": date(2024, 2, 28)}, {"2024-02"}),
    ],
)
def test_a_date_filter_skips_whole_shards(
    pair: tuple[Pipeline, Pipeline],
    monkeypatch: pytest.MonkeyPatch,
    filters: dict[str, Any],
    searched: set[str],
) -> None:
    seen = spy(monkeypatch)
    hits = pair[1].search("flood on the river near the bridge", **filters)
    assert (
        hits
        and {
            h.article.published.strftime("%Y-%m") if h.article.published else "undated"
            for h in hits
        }
        <= searched
    )
    assert seen["search"] == seen["scores"] == searched
    assert seen.get("vectors", set()) <= searched
    seen.clear()
    pair[1].search("flood on the river near the bridge")
    assert seen["search"] == seen["scores"] == {*MONTHS, "undated"}


def files(gen: Path) -> dict[str, int]:
    """Every shard file of a generation -> its inode."""
    return {
        str(p.relative_to(gen)): p.stat().st_ino
        for p in sorted((gen / "shards").rglob("*"))
        if p.is_file()
    }


def test_an_update_rewrites_only_the_shards_that_changed(tmp_path: Path) -> None:
    recs = records()
    source = write(tmp_path / "news.jsonl", recs)
    p = pipeline(tmp_path / "index")
    p.build([source])
    before = files(index.current(p.settings.index.index_dir))
    # a new article in a new month, read first: every chunk id after it shifts
    new = {"doc_id": "late", "title": "Tram", "text": "The new tram line opened by the harbour."}
    write(source, [{**new, "published": "2024-07-02"}, *recs])
    report = p.update()
    assert (report.added, report.unchanged, report.embedded) == (1, 24, 1)
    assert (report.shards_written, report.shards_reused) == (1, 5)
    assert "1 of 6 shards written, the rest linked" in report_line(report)
    after = files(index.current(p.settings.index.index_dir))
    assert {k.split("/")[1] for k in after.keys() - before.keys()} == {"2024-07"}
    for name, inode in before.items():  # the same files, linked; only ids.npy written again
        assert (after[name] == inode) == (not name.endswith("ids.npy")), name
    # an article changed in February: that shard alone is written again
    recs[1] = {**recs[1], "text": recs[1]["text"] + " The ferry was late again."}
    write(source, [{**new, "published": "2024-07-02"}, *recs])
    report = p.update()
    assert (report.changed, report.shards_written, report.shards_reused) == (1, 1, 5)
    again = files(index.current(p.settings.index.index_dir))
    changed = {k for k in after if not k.endswith("ids.npy") and again[k] != after[k]}
    assert {k.split("/")[1] for k in changed} == {"2024-02"}
    # and it searches as a fresh unsharded build of the same articles
    whole = pipeline(tmp_path / "whole", "none")
    whole.build([source])
    assert p.verify().startswith("ok")
    for q in QUERIES:
        assert_same_hits(ranked(p, q, k=8), ranked(whole, q, k=8))


def test_the_cut_follows_the_index_unless_asked(tmp_path: Path) -> None:
    source = write(tmp_path / "news.jsonl", records(8))
    pipeline(tmp_path / "index", "none").build([source])
    report = pipeline(tmp_path / "index").update()  # cut by month: the vectors are reused
    assert (report.embedded, report.shards_written, report.shards_reused) == (0, 5, 0)
    write(source, records(9))
    follows = pipeline(tmp_path / "index", "auto")  # the default: as the index is cut
    assert follows.update().shards_written == 1
    assert index.read_manifest(index.current(tmp_path / "index")).shards == "month"
    reads = pipeline(tmp_path / "index", "none")  # reading follows the manifest
    assert_same_hits(ranked(reads, QUERIES[0]), ranked(follows, QUERIES[0]))
    report = reads.update()  # asked for one index: the whole generation is written again
    gen = index.current(tmp_path / "index")
    assert index.read_manifest(gen).shards == "none" and not (gen / "shards").exists()
    assert (report.shards_written, report.embedded) == (0, 0)
    assert_same_hits(ranked(reads, QUERIES[0]), ranked(follows, QUERIES[0]))


def test_the_report_line_names_shards_only_when_cut() -> None:
    r = BuildReport(10, (), 0, 10, 40, 4, 36, 1.0, "gen-x")
    assert "shards" not in report_line(r)


def damage(path: Path, at: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    if at is None:
        path.write_bytes(bytes(data[: len(data) // 2]))  # cut short
    else:
        data[at] ^= 0xFF
        path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("name", "at"),
    [
        ("vectors.faiss", None),
        ("keywords/tf.npy", 12),
        ("keywords/words.json", 0),
        ("ids.npy", None),
    ],
)
def test_a_damaged_shard_file_is_one_line(tmp_path: Path, name: str, at: int | None) -> None:
    source = write(tmp_path / "news.jsonl", records(8))
    pipeline(tmp_path / "index").build([source])
    damage(index.current(tmp_path / "index") / "shards" / "2024-02" / name, at)
    with pytest.raises(IndexCorruptError) as e:
        pipeline(tmp_path / "index").search(QUERIES[0])
    assert "\n" not in str(e.value) and "rag index build" in str(e.value)
    assert "2024-02" in str(e.value)


def test_verify_checks_the_shard_files(tmp_path: Path) -> None:
    source = write(tmp_path / "news.jsonl", records(8))
    p = pipeline(tmp_path / "index")
    p.build([source])
    gen = index.current(tmp_path / "index")
    m = index.read_manifest(gen)
    assert {n for n in m.files if n.startswith("shards/2024-03/")} >= {
        "shards/2024-03/vectors.faiss",
        "shards/2024-03/ids.npy",
        "shards/2024-03/keywords/tf.npy",
    }
    args = ["index", "verify", "--index", str(tmp_path / "index"), "--model", "fake"]
    assert CliRunner().invoke(main, args).exit_code == 0
    path = gen / "shards" / "2024-03" / "vectors.faiss"
    damage(path, path.stat().st_size - 3)  # a vector's value: only the checksum sees it
    assert pipeline(tmp_path / "index").search(QUERIES[0])
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: {path} is damaged (checksum differs); run `rag index build` to rebuild it, "
        "or `rag index rollback` to use the previous one"
    )


@pytest.mark.slow
def test_the_cli_builds_updates_and_searches_a_monthly_index(tmp_path: Path) -> None:
    """`rag index build --shards month`, `status`, `search --as-of`, `update`, with the model."""
    folder = tmp_path / "articles"
    folder.mkdir()
    for i, r in enumerate(records(9)):
        (folder / f"{r['doc_id']}.txt").write_text(f"date 2024-0{1 + i % 3}-1{i}\n{r['text']}")
    env = {"RAG_BACKEND": "torch", "RAG_CHUNK_SIZE": "300", "RAG_CHUNK_OVERLAP": "30"}

    def run(*args: str) -> str:
        result = CliRunner().invoke(main, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result.output

    cut, whole = str(tmp_path / "cut"), str(tmp_path / "whole")
    assert "3 of 3 shards written" in run(
        "index", "build", str(folder), "--index", cut, "--shards", "month", "--quiet"
    )
    assert "shards" not in run("index", "build", str(folder), "--index", whole, "--quiet")
    assert "shards:   3 by month (2024-01 .. 2024-03)" in run("index", "status", "--index", cut)
    for q in QUERIES[:3]:
        for extra in ([], ["--as-of", "2024-02-28"]):
            got = [
                json.loads(run("search", q, "--index", x, "--json", *extra)) for x in (cut, whole)
            ]
            hits = [[(h["doc_id"], h["chunk_start"], h["score"]) for h in g["hits"]] for g in got]
            assert [h[:2] for h in hits[0]] == [h[:2] for h in hits[1]]
            assert [h[2] for h in hits[0]] == pytest.approx([h[2] for h in hits[1]], abs=1e-6)
    (folder / "late.txt").write_text("date 2024-04-02\nThe tram line opened by the harbour.")
    assert "1 of 4 shards written, the rest linked" in run(
        "index", "update", "--index", cut, "--quiet"
    )
