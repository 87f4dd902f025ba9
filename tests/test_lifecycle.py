"""Index lifecycle with real processes: SIGKILL at any moment, queries during updates."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag import Pipeline, Settings
from rag.index.vectors import current, read_manifest
from tests.conftest import ROOT, FakeEmbedder

pytestmark = pytest.mark.slow

WORKER = """
import sys
sys.path.insert(0, {root!r})
from pathlib import Path
from rag import Pipeline, Settings
from tests.conftest import FakeEmbedder
p = Pipeline(Settings.load(env={{}}, index_dir=Path({index!r}), model="fake"), FakeEmbedder())
for _ in range({rounds}):
    if {update}:
        p.update([{corpus!r}])
    else:
        p.build([{corpus!r}])
"""

WORDS = (
    "market river council vote storm rocket school budget court player film virus "
    "bridge election strike harvest museum festival drought tariff"
).split()


def make_corpus(folder: Path, n: int, seed: int) -> Path:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        words = " ".join(rng.choice(WORDS) for _ in range(300))
        (folder / f"a{i:04d}.txt").write_text(f"date 2024-01-{1 + i % 28:02d}\nStory {i}. {words}.")
    return folder


def settings(index_dir: Path) -> Settings:
    return Settings.load(env={}, index_dir=index_dir, model="fake")


def worker(index_dir: Path, corpus: Path, update: bool, rounds: int = 1) -> subprocess.Popen:
    code = WORKER.format(
        root=str(ROOT), index=str(index_dir), corpus=str(corpus), update=update, rounds=rounds
    )
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def test_sigkill_at_any_moment_leaves_old_or_new_generation(tmp_path: Path) -> None:
    old_corpus = make_corpus(tmp_path / "old", 150, seed=1)
    new_corpus = make_corpus(tmp_path / "new", 150, seed=2)
    index_dir = tmp_path / "index"
    p = Pipeline(settings(index_dir), FakeEmbedder())
    old = p.build([old_corpus])
    old_hashes = read_manifest(current(index_dir)).hashes

    t0 = time.perf_counter()  # one full run, to spread the kills across its phases
    full = worker(index_dir, new_corpus, update=False)
    assert full.wait(timeout=300) == 0, full.stderr.read() if full.stderr else ""
    duration = time.perf_counter() - t0
    new_hashes = read_manifest(current(index_dir)).hashes
    assert new_hashes != old_hashes

    outcomes = []
    for i in range(1, 21):
        p.build([old_corpus])  # back to the old generation
        proc = worker(index_dir, new_corpus, update=i % 2 == 1)
        time.sleep(duration * i / 21)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        fresh = Pipeline(settings(index_dir), FakeEmbedder())
        assert fresh.verify().startswith("ok:")
        hashes = read_manifest(current(index_dir)).hashes
        assert hashes in (old_hashes, new_hashes)
        assert fresh.search("market river")
        outcomes.append("new" if hashes == new_hashes else "old")
    # the next build cleans up what the killed ones left
    p.build([old_corpus])
    assert not list(index_dir.glob("gen-*.partial"))
    assert len(list(index_dir.glob("gen-*"))) == 2
    assert "old" in outcomes, outcomes  # some kills landed before the switch
    assert old.articles == 150


def test_queries_keep_succeeding_while_another_process_updates(tmp_path: Path) -> None:
    a = make_corpus(tmp_path / "a", 60, seed=3)
    index_dir = tmp_path / "index"
    p = Pipeline(settings(index_dir), FakeEmbedder())
    p.build([a])
    b = make_corpus(tmp_path / "b", 60, seed=4)
    proc = worker(index_dir, b, update=False, rounds=6)
    seen = set()
    done = 0
    try:  # at least 500 queries, and keep querying until the updates are over
        while (done < 500 or proc.poll() is None) and done < 100_000:
            hits = p.search(f"{WORDS[done % len(WORDS)]} election", k=3)
            assert hits
            seen.add(p.load().name)
            done += 1
    finally:
        assert proc.wait(timeout=300) == 0
    assert done >= 500
    assert len(seen) >= 2, "the serving pipeline never saw a new generation"
