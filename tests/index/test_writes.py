"""A full disk during `rag index update` (issue 25, item 12): one line naming the file, the live
index unchanged and loadable, nothing half written left behind. Two real ways to run out of room:
a 2 MB tmpfs (needs root and mount; skipped where not allowed) and a file size limit
(RLIMIT_FSIZE, writes then fail with EFBIG), each with the real `rag` command in a process."""

from __future__ import annotations

import doctest
import errno
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import rag.index.writes
from rag import Pipeline, Settings
from rag.errors import IndexWriteError
from rag.index.vectors import VectorIndex, current, read_manifest
from rag.index.writes import writing
from tests.conftest import ROOT, FakeEmbedder, write_articles
from tests.test_lifecycle import make_corpus

CLI = """
import resource, signal, sys
sys.path.insert(0, {root!r})
from rag import Pipeline, Settings
from rag.cli import main as cli
from tests.conftest import FakeEmbedder

def fake(**opts):
    opts = {{k: v for k, v in opts.items() if v is not None}}
    return Pipeline(Settings.load(env={{}}, **{{**opts, "model": "fake"}}), FakeEmbedder())

cli.pipeline = fake
if {limit}:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
cli.main(["index", "update", "--quiet", "--index", {index!r}, {corpus!r}])
"""


def update(index_dir: Path, corpus: Path, limit: int = 0) -> subprocess.CompletedProcess[str]:
    code = CLI.format(root=str(ROOT), index=str(index_dir), corpus=str(corpus), limit=limit)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def built(index_dir: Path, folder: Path) -> tuple[Pipeline, str]:
    p = Pipeline(Settings.load(env={}, index_dir=index_dir, model="fake"), FakeEmbedder())
    return p, p.build([write_articles(folder)]).generation


def assert_unchanged(p: Pipeline, gen: str, result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert "the live index is unchanged" in result.stderr
    index_dir = p.settings.index.index_dir
    assert current(index_dir).name == gen and not list(index_dir.glob("gen-*.partial"))
    assert [g.name for g in index_dir.glob("gen-*")] == [gen]  # the half-written one is gone
    fresh = Pipeline(p.settings, FakeEmbedder())
    assert fresh.verify().startswith("ok:") and read_manifest(current(index_dir)).articles == 3
    assert fresh.ask("How big is the city budget?").citations


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs mounted for the test, or a skip where mounting is not allowed."""
    where = tmp_path / "small"
    where.mkdir()
    try:
        mount = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)],
            capture_output=True,
            timeout=30,
        )
    except OSError:
        pytest.skip("no mount command")
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mount.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(
            ["umount", "-l", str(where)], check=False, timeout=30
        )  # -l: files still open


def test_disk_full_on_a_tmpfs_is_one_line_and_keeps_the_index(tmpfs: Path, tmp_path: Path) -> None:
    p, gen = built(tmpfs / "index", tmp_path / "small-corpus")
    big = make_corpus(tmp_path / "big", 400, seed=5)  # a few MB of index: more than is left
    result = update(tmpfs / "index", big)
    assert "disk full writing" in result.stderr, result.stderr
    assert_unchanged(p, gen, result)


def test_a_file_over_the_size_limit_is_one_line_and_keeps_the_index(tmp_path: Path) -> None:
    p, gen = built(tmp_path / "index", tmp_path / "small-corpus")
    biggest = max(f.stat().st_size for f in (tmp_path / "index").rglob("*") if f.is_file())
    big = make_corpus(tmp_path / "big", 400, seed=5)
    result = update(tmp_path / "index", big, limit=max(biggest, 1 << 18))
    assert " writing " in result.stderr and str(tmp_path / "index") in result.stderr
    assert_unchanged(p, gen, result)


def test_faiss_write_errors_are_named(tmpfs: Path) -> None:
    import numpy as np

    vectors = VectorIndex.build(np.eye(64, dtype=np.float32)[np.arange(20_000) % 64], "flat")
    with pytest.raises(IndexWriteError) as err, writing(tmpfs):
        (tmpfs / "gen-x").mkdir()
        vectors.save(tmpfs / "gen-x" / "vectors.faiss")
    assert str(err.value).startswith(f"disk full writing {tmpfs}/gen-x/vectors.faiss; the live")
    assert not (tmpfs / "gen-x").exists()  # made inside the block: removed


def test_other_errors_pass_through(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError), writing(tmp_path):
        (tmp_path / "missing" / "x").read_text()
    with pytest.raises(RuntimeError, match="not a write"), writing(tmp_path):
        raise RuntimeError("not a write")


def test_doctests() -> None:
    assert doctest.testmod(rag.index.writes).failed == 0


def test_a_full_disk_outside_a_generation_is_one_line_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """E.g. the sources list or a feed's fetch state, written beside the index: the CLI's edge."""
    from click.testing import CliRunner

    from rag.cli import main as cli

    def full(**opts: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "/ix/sources.json")

    monkeypatch.setattr(cli, "pipeline", full)
    result = CliRunner().invoke(cli.main, ["index", "update", "--index", "/ix"])
    assert result.exit_code == 1 and result.output == "Error: disk full writing /ix/sources.json\n"
