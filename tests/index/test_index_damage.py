"""A damaged or locked index: never a traceback, never a lost index.

Queries without keywords, damaged files of every kind (CURRENT, manifest, store, vectors,
BM25 arrays), the lock on a folder that is missing or cannot be written, rollback, and the
public search knobs that bench/ uses (issue 11).
"""

from __future__ import annotations

import doctest
import importlib
import json
import os
import random
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rag import Pipeline, Settings
from rag.cli import main as cli
from rag.errors import (
    ConfigError,
    IndexCorruptError,
    IndexMissingError,
    IndexStateError,
    RagError,
)
from rag.index.bm25 import KeywordIndex
from rag.index.generations import generation_id, rollback
from rag.index.lock import locked
from rag.index.store import Store
from rag.index.vectors import VectorIndex, current, read_manifest
from tests.conftest import ROOT, FakeEmbedder, write_articles

TEXTS = [
    "The harbour ferry resumed service after the storm.",
    "Council members voted to extend library hours on Sundays.",
    "A new bakery opened on the corner of Mill Street.",
    "The river festival drew crowds despite light rain.",
]
NO_WORDS = ["?", "the and of is a", "🤔🤔🤔", "???", "", "   ", "... !!! ,,,"]


def one_line(err: BaseException) -> str:
    text = str(err)
    assert text and "\n" not in text, text
    return text


def unit_rows(n: int, d: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# ---------------------------------------------------------------- A: queries without keywords


@pytest.mark.parametrize("query", NO_WORDS)
def test_a_query_without_keywords_scores_zero(query: str) -> None:
    scores = KeywordIndex.build(TEXTS).scores(query)
    assert scores.dtype == np.float32 and scores.shape == (len(TEXTS),)
    assert not scores.any()


def test_keyword_scores_still_rank_real_words(tmp_path: Path) -> None:
    KeywordIndex.build(TEXTS).save(tmp_path / "bm25")
    keywords = KeywordIndex.load(tmp_path / "bm25", chunks=len(TEXTS))
    scores = keywords.scores("Which ferry resumed? 🤔")
    assert int(np.argmax(scores)) == 0 and scores[0] > 0 and not scores[1:].any()
    assert not keywords.scores("zeppelin").any()  # a word no chunk has
    assert len(keywords) == len(TEXTS)


@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
def test_search_without_keywords_does_not_crash(fake_pipeline: Pipeline, mode: str) -> None:
    for query in ("?", "the and of is a", "🤔🤔🤔"):
        hits = fake_pipeline.search(query, mode=mode)
        assert isinstance(hits, list)


# ---------------------------------------------------------------- B: CURRENT


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(bytes(random.Random(1).randrange(256) for _ in range(64))),
        lambda p: p.write_bytes(b"\xff\xfe\x00garbage"),
        lambda p: p.write_text("../../etc\n"),
        lambda p: p.write_text("gen-20990101T000000-abcdef\n"),  # a generation that is not there
        lambda p: p.write_text("gen-x.partial\n"),
        lambda p: (p.unlink(), p.mkdir()),
        lambda p: (p.unlink(), p.mkdir(), (p / "x").write_text("x")),
    ],
    ids=["random", "binary", "path", "missing-gen", "partial", "folder", "full-folder"],
)
def test_damaged_current_is_one_line(fake_pipeline: Pipeline, damage) -> None:
    index_dir = fake_pipeline.settings.index.index_dir
    pointer = index_dir / "CURRENT"
    damage(pointer)
    with pytest.raises(IndexCorruptError) as err:
        current(index_dir)
    assert "CURRENT" in one_line(err.value) and "rag index" in str(err.value)
    fresh = Pipeline(fake_pipeline.settings, FakeEmbedder())
    with pytest.raises(RagError):
        fresh.search("cats")


def test_current_unreadable_names_the_file(fake_pipeline: Pipeline, monkeypatch) -> None:
    index_dir = fake_pipeline.settings.index.index_dir

    def denied(*args: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("rag.index.generations.os.open", denied)
    with pytest.raises(IndexStateError, match="CURRENT") as err:
        current(index_dir)
    assert "permission denied" in one_line(err.value)


@pytest.mark.parametrize("kind", ["symlink-to-dev-zero", "fifo", "huge", "symlink-to-fifo"])
def test_current_that_is_no_small_regular_file_is_refused_at_once(
    fake_pipeline: Pipeline, kind: str
) -> None:
    """Issue 25, item 13: a pointer to /dev/zero read without limit, a FIFO hung."""
    index_dir = fake_pipeline.settings.index.index_dir
    pointer = index_dir / "CURRENT"
    name = pointer.read_text().strip()
    pointer.unlink()
    if kind == "symlink-to-dev-zero":
        pointer.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(pointer)
    elif kind == "symlink-to-fifo":
        os.mkfifo(index_dir / "pipe")
        pointer.symlink_to(index_dir / "pipe")
    else:  # a sparse 2 GB file that starts with the right name
        with open(pointer, "wb") as f:
            f.write(name.encode() + b"\n")
            f.truncate(2 << 30)
    with pytest.raises(IndexCorruptError) as err:
        current(index_dir)
    message = one_line(err.value)
    assert str(pointer) in message and "rag index rollback" in message
    assert generation_id(index_dir) is None  # the reader's cheap poll: no index to switch to
    result = CliRunner().invoke(cli.main, ["index", "verify", "--index", str(index_dir)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.count("\n") == 1 and "CURRENT" in result.output
    assert rollback(index_dir)[1] == name  # rollback mends it
    assert current(index_dir).name == name


def test_current_may_be_a_symlink_to_a_small_file(fake_pipeline: Pipeline) -> None:
    index_dir = fake_pipeline.settings.index.index_dir
    pointer = index_dir / "CURRENT"
    (index_dir / "CURRENT.real").write_text(pointer.read_text())
    name = pointer.read_text().strip()
    pointer.unlink()
    pointer.symlink_to(index_dir / "CURRENT.real")
    assert current(index_dir).name == name and generation_id(index_dir) == name


def test_no_index_is_missing_not_corrupt(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError, match="rag index build"):
        current(tmp_path / "nothing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(IndexMissingError):
        current(tmp_path / "file")  # the index folder is a file: there is no index in it


# ---------------------------------------------------------------- B: manifest


@pytest.mark.parametrize(
    "change",
    [
        lambda m: m.update(chunks="three"),
        lambda m: m.update(dim=-1),
        lambda m: m.update(files=[1, 2]),
        lambda m: m.update(model=None),
        lambda m: m.update(unknown_field=1),
        lambda m: m.clear(),
    ],
)
def test_manifest_with_wrong_fields_is_corrupt(fake_pipeline: Pipeline, change) -> None:
    gen = current(fake_pipeline.settings.index.index_dir)
    path = gen / "manifest.json"
    raw = json.loads(path.read_text())
    change(raw)
    path.write_text(json.dumps(raw))
    with pytest.raises(IndexCorruptError, match="manifest.json") as err:
        read_manifest(gen)
    one_line(err.value)


def test_manifest_that_is_a_folder_or_a_list(fake_pipeline: Pipeline) -> None:
    gen = current(fake_pipeline.settings.index.index_dir)
    path = gen / "manifest.json"
    path.write_text("[1, 2]")
    with pytest.raises(IndexCorruptError, match="manifest.json"):
        read_manifest(gen)
    path.unlink()
    path.mkdir()
    with pytest.raises(IndexCorruptError, match="manifest.json"):
        read_manifest(gen)


# ---------------------------------------------------------------- B: store.sqlite


def test_flipped_byte_in_article_text_is_corrupt_mid_answer(fake_pipeline: Pipeline) -> None:
    gen = current(fake_pipeline.settings.index.index_dir)
    path = gen / "store.sqlite"
    data = bytearray(path.read_bytes())
    at = data.find(b"Cats sleep most of the day")
    assert at > 0
    data[at] = 0xFF  # no longer UTF-8: SQLite fails when the text is read, not when opened
    path.write_bytes(bytes(data))
    store = Store(path)  # opening reads ids and dates only
    try:
        with pytest.raises(IndexCorruptError) as err:
            store.articles()
        assert "store.sqlite" in one_line(err.value) and "rag index build" in str(err.value)
    finally:
        store.close()
    fresh = Pipeline(fake_pipeline.settings, FakeEmbedder())
    with pytest.raises(IndexCorruptError, match="store.sqlite"):
        fresh.search("cats sleep")


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE articles SET published = 'not a date' WHERE row = 0",
        "UPDATE articles SET canonical = 99 WHERE row = 0",
        "UPDATE chunks SET article = 42 WHERE id = 0",
        "UPDATE chunks SET id = 7 WHERE id = 0",
        "DROP TABLE chunks",
    ],
)
def test_damaged_store_rows_are_corrupt(fake_pipeline: Pipeline, sql: str) -> None:
    path = current(fake_pipeline.settings.index.index_dir) / "store.sqlite"
    con = sqlite3.connect(path)
    con.execute(sql)
    con.commit()
    con.close()
    with pytest.raises(IndexCorruptError, match="store.sqlite") as err:
        Store(path).close()
    one_line(err.value)


def test_missing_store_is_corrupt(tmp_path: Path) -> None:
    with pytest.raises(IndexCorruptError, match="is missing"):
        Store(tmp_path / "store.sqlite")
    assert not (tmp_path / "store.sqlite").exists()  # not created by trying to open it


# ---------------------------------------------------------------- B: vectors


@pytest.mark.parametrize("kind", ["flat", "hnsw", "hnsw-flat", "ivf"])
def test_vector_header_damage_is_caught_at_load(tmp_path: Path, kind: str) -> None:
    data = unit_rows(400, 16, 1)
    path = tmp_path / "vectors.faiss"
    VectorIndex.build(data, kind).save(path)
    original = path.read_bytes()
    VectorIndex.load(path, chunks=400, dim=16)
    with pytest.raises(IndexCorruptError, match="400 vectors for 401 chunks"):
        VectorIndex.load(path, chunks=401)
    with pytest.raises(IndexCorruptError, match="dimensions"):
        VectorIndex.load(path, dim=384)
    for pos in [*range(16), *range(32, 45)]:  # kind, d, count, is_trained, metric, sizes
        flipped = bytearray(original)
        flipped[pos] ^= 0xFF
        path.write_bytes(bytes(flipped))
        with pytest.raises(IndexCorruptError, match="vectors") as err:
            VectorIndex.load(path, chunks=400, dim=16).search(data[0], 5)
        one_line(err.value)
    path.write_bytes(original + b"\0" * 64)
    if kind == "flat":  # a flat file's size follows from its count
        with pytest.raises(IndexCorruptError, match="size"):
            VectorIndex.load(path)


def test_ivf_list_id_out_of_range_is_caught_at_load(tmp_path: Path) -> None:
    import faiss  # reaches inside to damage the lists (rag uses faiss in index/vectors, faissfile)

    vi = VectorIndex.build(unit_rows(400, 16, 2), "ivf")
    ivf = faiss.extract_index_ivf(vi.index)
    cell = next(c for c in range(ivf.nlist) if ivf.invlists.list_size(c))
    faiss.rev_swig_ptr(ivf.invlists.get_ids(cell), 1)[0] = 10**9
    vi.save(tmp_path / "v.faiss")
    with pytest.raises(IndexCorruptError, match="id out of range"):
        VectorIndex.load(tmp_path / "v.faiss")


@pytest.mark.parametrize("damage", ["append", "truncate", "version", "dtype"])
def test_stored_vectors_damage_is_caught_at_load(tmp_path: Path, damage: str) -> None:
    VectorIndex.build(unit_rows(400, 16, 3), "hnsw").save(tmp_path / "v.faiss")
    npy = tmp_path / "v.npy"
    data = npy.read_bytes()
    if damage == "append":
        data += b"\0" * 64
    elif damage == "truncate":
        data = data[:-64]
    elif damage == "version":
        data = data[:7] + b"\xff" + data[8:]
    else:
        data = data.replace(b"'<f4'", b"'<f8'")
    npy.write_bytes(data)
    with pytest.raises(IndexCorruptError, match="v.npy"):
        VectorIndex.load(tmp_path / "v.faiss")


# ---------------------------------------------------------------- B: BM25 arrays


@pytest.mark.parametrize(
    "file, change",
    [
        ("indices.csc.index.npy", lambda a: a + 1000),
        ("indices.csc.index.npy", lambda a: -a - 1),
        ("indptr.csc.index.npy", lambda a: a[::-1].copy()),
        ("indptr.csc.index.npy", lambda a: a[:-1].copy()),
        ("data.csc.index.npy", lambda a: np.full_like(a, np.nan)),
        ("data.csc.index.npy", lambda a: a.astype(np.int64)),
        ("data.csc.index.npy", lambda a: a.reshape(1, -1)),
    ],
)
def test_damaged_bm25_arrays_are_caught_at_load(tmp_path: Path, file: str, change) -> None:
    folder = tmp_path / "bm25"
    KeywordIndex.build(TEXTS).save(folder)
    np.save(folder / file, change(np.load(folder / file)))
    with pytest.raises(IndexCorruptError, match="keyword index") as err:
        KeywordIndex.load(folder)
    assert "bm25" in one_line(err.value)


def test_bm25_document_count_must_match_the_chunks(tmp_path: Path) -> None:
    KeywordIndex.build(TEXTS).save(tmp_path / "bm25")
    with pytest.raises(IndexCorruptError, match="4 documents for 5 chunks"):
        KeywordIndex.load(tmp_path / "bm25", chunks=5)


def test_random_byte_flips_never_escape_as_tracebacks(fake_pipeline: Pipeline) -> None:
    """Every file of a generation, 25 flips each: loading and searching either work (the
    damage is in data only `rag index verify` sees) or fail with our one-line error."""
    gen = current(fake_pipeline.settings.index.index_dir)
    rng = random.Random(13)
    files = sorted(p for p in gen.rglob("*") if p.is_file() and p.name != "manifest.json")
    assert len(files) >= 6
    for path in files:
        original = path.read_bytes()
        for pos in sorted(rng.sample(range(len(original)), min(25, len(original)))):
            flipped = bytearray(original)
            flipped[pos] ^= 0xFF
            path.write_bytes(bytes(flipped))
            fresh = Pipeline(fake_pipeline.settings, FakeEmbedder())
            try:
                fresh.search("cats sleep in warm windows")
                fresh.search("rocket launch", mode="bm25")
            except RagError as e:
                one_line(e)
        path.write_bytes(original)


# ---------------------------------------------------------------- C: the lock


def test_update_of_a_missing_index_leaves_no_folder(tmp_path: Path, corpus: Path) -> None:
    index_dir = tmp_path / "deep" / "index"
    p = Pipeline(Settings.load(env={}, index_dir=index_dir, model="fake"), FakeEmbedder())
    with pytest.raises(IndexMissingError):
        p.update([corpus])
    with pytest.raises(IndexMissingError):
        with locked(index_dir):
            current(index_dir)
    assert not index_dir.exists() and not index_dir.parent.exists()
    assert tmp_path.exists()


def test_lock_keeps_folders_that_hold_something(tmp_path: Path, corpus: Path) -> None:
    index_dir = tmp_path / "index"
    with locked(index_dir):
        (index_dir / "keep.txt").write_text("x")
    assert (index_dir / "keep.txt").exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    with locked(existing):
        pass
    assert existing.is_dir()  # made by someone else: never removed
    p = Pipeline(Settings.load(env={}, index_dir=tmp_path / "built", model="fake"), FakeEmbedder())
    p.build([corpus])
    assert current(tmp_path / "built").is_dir()


def test_lock_on_an_unwritable_folder_is_one_line(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(IndexStateError, match="a-file") as err:
        with locked(tmp_path / "a-file" / "index"):
            pass
    assert "cannot lock" in one_line(err.value)
    from rag.index import lock

    def read_only(*args: object, **kwargs: object) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(lock, "open", read_only, raising=False)
    (tmp_path / "ro").mkdir()
    with pytest.raises(IndexStateError, match="ro/") as err:
        with locked(tmp_path / "ro"):
            pass
    assert "read-only file system" in one_line(err.value)


# ---------------------------------------------------------------- rollback


def test_rollback_goes_back_one_generation(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    p = Pipeline(Settings.load(env={}, index_dir=index_dir, model="fake"), FakeEmbedder())
    p.build([write_articles(tmp_path / "one", {"a.txt": "The ferry sails at noon."})])
    first = current(index_dir).name
    p.build([write_articles(tmp_path / "two", {"b.txt": "The bakery opens at dawn."})])
    second = current(index_dir).name
    with locked(index_dir):
        assert rollback(index_dir) == (second, first)
    assert current(index_dir).name == first
    with pytest.raises(IndexStateError, match="no whole generation before") as err:
        rollback(index_dir)
    one_line(err.value)
    (index_dir / "CURRENT").write_bytes(b"\xff\xfe")  # damaged: the newest whole one
    assert rollback(index_dir) == ("a damaged CURRENT", second)
    (index_dir / "CURRENT").unlink()
    (index_dir / "CURRENT").mkdir()  # an empty folder in its place
    assert rollback(index_dir) == ("a damaged CURRENT", second)
    assert current(index_dir).name == second


def test_rollback_without_any_index(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError):
        rollback(tmp_path)


# ---------------------------------------------------------------- E: search knobs (issue 11)


@pytest.mark.parametrize("kind", ["flat", "hnsw", "hnsw-flat", "ivf"])
def test_set_search_validates_and_applies(kind: str) -> None:
    data, queries = unit_rows(500, 16, 4), unit_rows(10, 16, 5)
    vi = VectorIndex.build(data, kind)
    if kind == "ivf":
        nlist = vi.params["nlist"]
        vi.set_search(nprobe=nlist, rerank=500)  # every cell, every candidate: exact
        assert (vi.params["nprobe"], vi.params["rerank"]) == (nlist, 500)
        for bad in (0, nlist + 1):
            with pytest.raises(ConfigError, match="nprobe"):
                vi.set_search(nprobe=bad)
        with pytest.raises(ConfigError, match="ef_search"):
            vi.set_search(ef_search=32)
    elif kind.startswith("hnsw"):
        vi.set_search(ef_search=512, rerank=500)
        assert (vi.params["ef_search"], vi.params["rerank"]) == (512, 500)
        with pytest.raises(ConfigError, match="ef_search"):
            vi.set_search(ef_search=0)
        with pytest.raises(ConfigError, match="nprobe"):
            vi.set_search(nprobe=4)
    else:
        with pytest.raises(ConfigError):
            vi.set_search(rerank=10)
        with pytest.raises(ConfigError):
            vi.set_search(nprobe=1)
    for bad in ({"rerank": 0}, {"rerank": 2.5}, {"rerank": True}):
        with pytest.raises(ConfigError):
            vi.set_search(**bad)  # type: ignore[arg-type]
    for q in queries:
        _, ids = vi.search(q, 10)
        assert list(ids) == list(np.argsort(-(data @ q), kind="stable")[:10])


def test_bench_uses_no_private_index_internals() -> None:
    for path in sorted((ROOT / "bench").glob("*.py")):
        text = path.read_text()
        for private in ("_graph", ".nprobe =", ".efSearch", "RERANK ="):
            assert private not in text, f"{path.name} uses {private}"


@pytest.mark.parametrize("name", ["rag.index.vectors", "rag.index.bm25", "rag.index.rows"])
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
