"""Shared fixtures: a fast fake embedder, sample articles, and the real packaged model."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rag import Pipeline, Settings

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
EVAL = ROOT.parent / "shared" / "eval"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class InFlight:
    """Counts the calls running at once: `with flight: ...` around each; `most` is the peak."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = self.most = 0

    def __enter__(self) -> None:
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.now -= 1


class FakeEmbedder:
    """Bag of words hashed into 64 dimensions: similar wording gives similar vectors."""

    name = "fake"
    dim = 64

    def __init__(self) -> None:
        self.calls = 0
        self.texts = 0

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"[a-z0-9]+", t.lower()):
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


ARTICLES = {
    "cats.txt": "date 2024-03-01\nCats sleep most of the day. A cat can sleep sixteen hours. "
    "Owners say their cats like warm windows.",
    "rockets.txt": "date 2024-05-10\nThe rocket launched from Florida on Tuesday. "
    "Engineers said the launch went well. The crew will dock with the station on Friday.",
    "budget.md": "# City budget passes\n\nThe council approved a budget of 12 million dollars. "
    "Schools get the largest share. The vote was seven to two.",
}


def write_articles(folder: Path, articles: dict[str, str] = ARTICLES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in articles.items():
        (folder / name).write_text(text)
    return folder


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_articles(tmp_path / "articles")


@pytest.fixture
def fake_pipeline(tmp_path: Path, corpus: Path) -> Pipeline:
    """A pipeline over the fake embedder with `corpus` built into a fresh index."""
    p = Pipeline(
        # the fake embedder's similarities are not the real model's: the legacy floor, no gate;
        # no local LLM, even where `rag llm install` put one in the default folder
        Settings.load(
            env={},
            index_dir=tmp_path / "index",
            model="fake",
            min_score=0.3,
            gate="off",
            llm_dir=tmp_path / "no-models",
        ),
        FakeEmbedder(),
    )
    p.build([corpus])
    return p


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def real_embedder():
    """The packaged all-MiniLM-L6-v2, loaded once per test session."""
    from rag.embed.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> Path:
    """An index of seeds/ built with the real model."""
    index_dir = tmp_path_factory.mktemp("seed") / "index"
    Pipeline(Settings.load(env={}, index_dir=index_dir), real_embedder).build([SEEDS])
    return index_dir


@pytest.fixture
def seed_pipeline(seed_index: Path, real_embedder) -> Pipeline:
    return Pipeline(Settings.load(env={}, index_dir=seed_index), real_embedder)


def serve_app(app: Any) -> str:
    """Launch a built app (ui.app.build_app) in this process on a free 127.0.0.1 port: its URL."""
    from bench.common import free_port
    from ui.serve import launch_options

    port = free_port()
    app.launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        quiet=True,
        **launch_options(),
    )
    return f"http://127.0.0.1:{port}/"
