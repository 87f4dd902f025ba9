"""Pipeline: the public facade; one object that writes the index (`rag.build.Indexer`) and
reads it (`rag.reader.Reader`) over the same settings and embedding model."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from rag.answer.generated import History
from rag.build import Indexer
from rag.config import Settings
from rag.embed import tune
from rag.embed.embedder import Embedder
from rag.embed.embedder import load as load_embedder
from rag.errors import RagError
from rag.index import vectors as index
from rag.llm.clients import LLM
from rag.llm.endpoints import Endpoints
from rag.query import Query
from rag.reader import Loaded, Reader
from rag.types import Answer, Article, BuildReport, Hit, Manifest

__all__ = ["Pipeline"]


class Pipeline:
    """The product in one object.

    Keyword overrides of `search`/`ask` change `Settings` for that call (for library callers,
    who own the settings); a `Query` carries what a chat visitor may choose.

    >>> p = Pipeline(Settings.load(index_dir=Path("index")))  # doctest: +SKIP
    >>> p.build(["seeds"]); p.ask("Who leads the talks?").text  # doctest: +SKIP
    """

    def __init__(
        self, settings: Settings, embedder: Embedder | None = None, llm: LLM | None = None
    ) -> None:
        settings = tune.follow(settings, _live_manifest(settings.index_dir))
        self.settings = settings
        self._embedder = embedder
        self.endpoints = Endpoints(settings, llm)
        self.indexer = Indexer(settings, lambda: self.embedder)
        self.reader = Reader(settings, lambda: self.embedder, self.endpoints)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            s = self.settings
            self._embedder = load_embedder(s.model, s.batch_size, s.backend, s.index_dir / "models")
        return self._embedder

    @property
    def reranker(self) -> Any:
        """The configured cross-encoder (None when off): `Reader.reranker`."""
        return self.reader.reranker

    @property
    def llm(self) -> LLM:
        """The default LLM (made on first use; LLMError when none is configured)."""
        return self.endpoints.get()

    @llm.setter
    def llm(self, model: LLM) -> None:
        """Use `model` as the default endpoint from now on."""
        self.endpoints.set_default(model)

    # --- writing (rag/build.py) ------------------------------------------------------------------

    def build(self, paths: Iterable[str | Path], **options: Any) -> BuildReport:
        """`Indexer.build`: index exactly `paths` into a new generation (progress=,
        on_progress=, on_skip=)."""
        return self.indexer.build(paths, **options)

    def update(self, paths: Iterable[str | Path] = (), **options: Any) -> BuildReport:
        """`Indexer.update`: bring the index in step with `paths` (default: its sources)."""
        return self.indexer.update(paths, **options)

    def remove(self, keys: Iterable[str]) -> BuildReport:
        return self.indexer.remove(keys)

    def rollback(self) -> tuple[str, str]:
        return self.indexer.rollback()

    def tune(self, **options: Any) -> tuple[tune.TuneReport, BuildReport]:
        """Fine-tune the model on the live index's articles (`rag.embed.tune.tune`, options passed
        on), then embed the index again with it; later pipelines use it (`tune.follow`)."""
        progress = bool(options.get("progress"))
        articles = self.indexer.live()[1]
        report = tune.tune(self.settings, articles, **options)
        tuned = Pipeline(self.settings.with_(model=report.model))
        return report, tuned.indexer.rewrite(progress=progress)

    def stale(self, paths: Iterable[str | Path]) -> bool:
        return self.indexer.stale(paths)

    # --- reading (rag/reader.py) -----------------------------------------------------------------

    def load(self) -> Loaded:
        return self.reader.load()

    def _settings(self, overrides: dict[str, Any]) -> Settings | None:
        return self.settings.with_(**overrides) if overrides else None

    def search(self, query: str, request: Query | None = None, **overrides: Any) -> list[Hit]:
        """Ranked hits for `query`; keyword overrides change settings for this call only."""
        return self.reader.search(query, request or Query(), self._settings(overrides))

    def ask(
        self,
        question: str,
        request: Query | None = None,
        *,
        history: History = (),
        llm: bool | None = None,
        **overrides: Any,
    ) -> Answer:
        """An extractive answer with citations, or a refusal with the closest passages.

        With `llm` (default: the request's or the settings' answer mode) the LLM writes it, and
        its citations are checked; with `history` a follow-up is made standalone first.
        """
        q = _with_llm(request, llm)
        return self.reader.ask(question, q, self._settings(overrides), history)

    def ask_stream(
        self,
        question: str,
        request: Query | None = None,
        *,
        history: History = (),
        llm: bool | None = None,
        **overrides: Any,
    ) -> Iterator[str | Answer]:
        """The answer as it is written: text pieces (str), then the checked `Answer`, last."""
        q = _with_llm(request, llm)
        return self.reader.ask_stream(question, q, self._settings(overrides), history)

    def articles(self) -> list[tuple[Article, int]]:
        return self.reader.articles()

    def verify(self) -> str:
        return self.reader.verify()

    def status(self) -> tuple[Path, Manifest, int]:
        return self.reader.status()


def _live_manifest(index_dir: Path) -> Manifest | None:
    """The live generation's manifest, or None when there is none (or it cannot be read:
    loading says why)."""
    try:
        return index.read_manifest(index.current(index_dir))
    except RagError:
        return None


def _with_llm(request: Query | None, llm: bool | None) -> Query:
    """The request, with `llm=True/False` forcing the answer mode."""
    q = request or Query()
    if llm is None:
        return q
    return replace(q, answer_mode="llm" if llm else "extractive")
