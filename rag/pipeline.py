"""Pipeline: the public facade; one object that writes the index (`rag.build.Indexer`), holds
the live generation (`rag.live.Live`) and answers from it (`rag.ask.Answerer`) over the same
settings and embedding model."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

from rag.answer.generated import History
from rag.ask import Answerer
from rag.build import Indexer
from rag.config import Settings
from rag.embed import tune
from rag.embed.corpus import EncodeMany, Progress
from rag.embed.embedder import Embedder, Reranker
from rag.embed.embedder import load as load_embedder
from rag.errors import RagError
from rag.index import vectors as index
from rag.index.fanout import Host
from rag.index.stories import Story
from rag.ingest.gather import OnSkip
from rag.live import Live, Loaded
from rag.llm.clients import LLM
from rag.llm.endpoints import Endpoints
from rag.query import Query
from rag.types import Answer, Article, BuildReport, Hit, Manifest

__all__ = ["Pipeline"]


class Keep(Enum):
    """The default of a per-call setting: as the pipeline's settings say (None is a value:
    `as_of=None` searches every date, whatever the settings' `as_of`)."""

    KEEP = "keep"


KEEP = Keep.KEEP


class Pipeline:
    """The product in one object.

    Keyword settings of `search`/`ask` change `Settings` for that call (for library callers,
    who own the settings); a `Query` carries what a chat visitor may choose. `encoder` embeds
    builds instead of the local model (`rag.embed.cluster.RayEncoder`); `shard_host` is where
    the shards of an index cut by month are searched (`rag.index.cluster.RayHost`; default:
    threads here).

    >>> p = Pipeline(Settings.load(index_dir=Path("index")))  # doctest: +SKIP
    >>> p.build(["seeds"]); p.ask("Who leads the talks?").text  # doctest: +SKIP
    """

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        llm: LLM | None = None,
        *,
        encoder: EncodeMany | None = None,
        shard_host: Host | None = None,
    ) -> None:
        settings = tune.follow(settings, _live_manifest(settings.index.index_dir))
        self.settings = settings
        self._embedder = embedder
        self.endpoints = Endpoints(settings, llm)
        self.indexer = Indexer(settings, lambda: self.embedder, encoder)
        self.live = Live(settings, shard_host)
        self.answerer = Answerer(settings, self.live, lambda: self.embedder, self.endpoints)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            s = self.settings
            self._embedder = load_embedder(
                s.index.model, s.index.batch_size, s.index.backend, s.index.index_dir / "models"
            )
        return self._embedder

    @property
    def reranker(self) -> Reranker | None:
        """The configured cross-encoder (None when off): `Live.reranker`."""
        return self.live.reranker

    @property
    def llm(self) -> LLM:
        """The default LLM (made on first use; LLMError when none is configured)."""
        return self.endpoints.get()

    @llm.setter
    def llm(self, model: LLM) -> None:
        """Use `model` as the default endpoint from now on."""
        self.endpoints.set_default(model)

    # --- writing (rag/build.py) ------------------------------------------------------------------

    def build(
        self,
        paths: Iterable[str | Path],
        *,
        progress: bool = False,
        on_progress: Progress | None = None,
        on_skip: OnSkip | None = None,
    ) -> BuildReport:
        """`Indexer.build`: index exactly `paths` into a new generation."""
        return self.indexer.build(
            paths, progress=progress, on_progress=on_progress, on_skip=on_skip
        )

    def update(
        self,
        paths: Iterable[str | Path] = (),
        *,
        progress: bool = False,
        on_progress: Progress | None = None,
        on_skip: OnSkip | None = None,
        prune: bool = False,
    ) -> BuildReport:
        """`Indexer.update`: bring the index in step with `paths` (default: its sources)."""
        return self.indexer.update(
            paths, progress=progress, on_progress=on_progress, on_skip=on_skip, prune=prune
        )

    def remove(self, keys: Iterable[str]) -> BuildReport:
        return self.indexer.remove(keys)

    def rollback(self) -> tuple[str, str]:
        return self.indexer.rollback()

    def tune(
        self,
        *,
        epochs: int = 1,
        batch_size: int = 32,
        held_out: float = 0.1,
        max_steps: int = 0,
        seed: int = 0,
        progress: bool = False,
    ) -> tuple[tune.TuneReport, BuildReport]:
        """Fine-tune the model on the live index's articles (`rag.embed.tune.tune`), then embed
        the index again with it; later pipelines use it (`tune.follow`)."""
        articles = self.indexer.live()[1]
        report = tune.tune(
            self.settings,
            articles,
            epochs=epochs,
            batch_size=batch_size,
            held_out=held_out,
            max_steps=max_steps,
            seed=seed,
            progress=progress,
        )
        tuned = Pipeline(self.settings.with_(model=report.model))
        return report, tuned.indexer.rewrite(progress=progress)

    def stale(self, paths: Iterable[str | Path]) -> bool:
        return self.indexer.stale(paths)

    # --- reading (rag/live.py, rag/ask.py) -------------------------------------------------------

    def load(self) -> Loaded:
        return self.live.load()

    def _settings(self, **changes: Any) -> Settings | None:
        """The settings for one call: the changes given (not KEEP) over the pipeline's; None
        when there are none."""
        given = {name: value for name, value in changes.items() if value is not KEEP}
        return self.settings.with_(**given) if given else None

    def search(
        self,
        query: str,
        request: Query | None = None,
        *,
        k: int | Keep = KEEP,
        mode: str | Keep = KEEP,
        as_of: date | None | Keep = KEEP,
        date_from: date | None | Keep = KEEP,
        date_to: date | None | Keep = KEEP,
        outlets: tuple[str, ...] | Keep = KEEP,
        per_article: int | Keep = KEEP,
        recency_days: float | Keep = KEEP,
        recency_weight: float | Keep = KEEP,
        time_window: str | Keep = KEEP,
        parts: str | Keep = KEEP,
        rescore: str | Keep = KEEP,
    ) -> list[Hit]:
        """Ranked hits for `query`; the keywords change those settings for this call only."""
        s = self._settings(
            k=k,
            mode=mode,
            as_of=as_of,
            date_from=date_from,
            date_to=date_to,
            outlets=outlets,
            per_article=per_article,
            recency_days=recency_days,
            recency_weight=recency_weight,
            time_window=time_window,
            parts=parts,
            rescore=rescore,
        )
        return self.answerer.search(query, request or Query(), s)

    def ask(
        self,
        question: str,
        request: Query | None = None,
        *,
        history: History = (),
        llm: bool | None = None,
        as_of: date | None | Keep = KEEP,
    ) -> Answer:
        """An extractive answer with citations, or a refusal with the closest passages.

        One request's choices (k, mode, dates, outlets, answer mode) come in `request`. With
        `llm` (default: the request's or the settings' answer mode) the LLM writes the answer,
        and its citations are checked; with `history` a follow-up is made standalone first;
        `as_of` replaces the settings' date for this call (None clears it).
        """
        s = self._settings(as_of=as_of)
        return self.answerer.ask(question, _with_llm(request, llm), s, history)

    def ask_stream(
        self,
        question: str,
        request: Query | None = None,
        *,
        history: History = (),
        llm: bool | None = None,
        as_of: date | None | Keep = KEEP,
    ) -> Iterator[str | Answer]:
        """The answer as it is written: text pieces (str), then the checked `Answer`, last
        (arguments as for `ask`)."""
        s = self._settings(as_of=as_of)
        return self.answerer.ask_stream(question, _with_llm(request, llm), s, history)

    def story(self, key: str) -> Story:
        """The story of article or story `key`, its articles oldest first."""
        return self.live.story(key)

    def articles(self) -> list[tuple[Article, int]]:
        return self.live.articles()

    def verify(self) -> str:
        return self.live.verify()

    def status(self) -> tuple[Path, Manifest, int]:
        return self.live.status()


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
