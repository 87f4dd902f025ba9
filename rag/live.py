"""Live: the generation a build switched to last, loaded and hot-reloaded when a build switches
again, with what hangs on it (the reranker, its stories) and what it holds (articles, status,
verify). `rag.ask.Answerer` searches and answers against it."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.config import Settings
from rag.embed import tune
from rag.embed.embedder import CrossEncoderReranker, Reranker
from rag.errors import IndexCorruptError, RagError
from rag.index import fanout, store, stories
from rag.index import vectors as index
from rag.index.bm25 import KeywordIndex
from rag.search.retrieve import Keywords, Retriever, Vectors
from rag.types import Article, Manifest, StoryRef


@dataclass
class Loaded:
    """One generation in memory."""

    name: str
    path: Path
    manifest: Manifest
    store: store.Store
    retriever: Retriever


class Live:
    """The live generation of `settings.index.index_dir`; `host` is where the shards of an index
    cut into them are searched (None: threads in this process, rag/index/fanout.py)."""

    def __init__(self, settings: Settings, host: fanout.Host | None = None) -> None:
        self.settings = settings
        self.host = host
        self.stories = stories.Cache()  # the stories of the generations loaded
        self._loaded: Loaded | None = None
        self._reranker: Reranker | None = None
        self._lock = threading.Lock()

    def load(self) -> Loaded:
        """The live generation, (re)loaded when a build has switched to a new one.

        A build that switches generations while this loads (and removes the one being read)
        makes it try again with the new one; the previous load keeps serving meanwhile.
        """
        name = index.generation_id(self.settings.index.index_dir)
        loaded = self._loaded
        if loaded is not None and loaded.name == name:
            return loaded
        with self._lock:
            attempt = 0
            while True:
                name = index.generation_id(self.settings.index.index_dir)
                if self._loaded is not None and self._loaded.name == name:
                    return self._loaded
                try:
                    self._loaded = self._open()
                    return self._loaded
                except RagError:
                    attempt += 1
                    if attempt == 3 or index.generation_id(self.settings.index.index_dir) == name:
                        raise  # not a race with a build: the index really is unusable

    def reload(self) -> Loaded:
        """Load the live generation afresh (after `verify`, say)."""
        self._loaded = None
        return self.load()

    def _open(self) -> Loaded:
        s = self.settings
        gen = index.current(s.index.index_dir)
        manifest = index.read_manifest(gen)
        index.check_model(manifest, s.index.model, s.index.index_dir)
        tune.check_digest(manifest)
        st = store.Store(gen / index.STORE)
        vectors: Vectors
        keywords: Keywords
        try:
            if manifest.shards == "none":
                vectors = index.VectorIndex.load(gen / index.VECTORS, manifest.chunks, manifest.dim)
                keywords = KeywordIndex.load(gen / index.KEYWORDS, manifest.chunks)
            else:  # by month: one index over the shards, searched in parallel (rag/index/fanout.py)
                vectors = keywords = fanout.load(gen, manifest, self.host)
        except RagError:
            st.close()
            raise
        if not (len(st) == len(vectors) == manifest.chunks):
            raise IndexCorruptError(
                f"{gen}: store, vectors and manifest disagree on the chunk count; "
                "run `rag index build` to rebuild"
            )
        return Loaded(gen.name, gen, manifest, st, Retriever(st, vectors, keywords, self.reranker))

    @property
    def reranker(self) -> Reranker | None:
        """The configured cross-encoder, loaded once (None when off)."""
        if self.settings.retrieval.reranker and self._reranker is None:
            self._reranker = CrossEncoderReranker(self.settings.retrieval.reranker)
        return self._reranker

    # --- stories (rag/index/stories.py) --------------------------------------------------------

    def story(self, key: str) -> stories.Story:
        """The story of article or story `key`, its articles oldest first."""
        loaded = self.load()
        return stories.timeline(self.stories.get(loaded.path, loaded.store), loaded.store, key)

    def story_refs(self, loaded: Loaded, doc_ids: Sequence[str]) -> tuple[StoryRef, ...]:
        """The stories of `doc_ids` in generation `loaded` (each once)."""
        return stories.refs(self.stories.get(loaded.path, loaded.store), doc_ids)

    # --- what the index holds ------------------------------------------------------------------

    def articles(self) -> list[tuple[Article, int]]:
        """Every indexed article with its number of chunks."""
        loaded = self.load()
        counts = loaded.store.counts_by_article()
        return [(a, counts.get(a.doc_id, 0)) for a in loaded.store.articles()]

    def verify(self) -> str:
        """Checksums, then load and cross-check counts; a one-line summary, or an IndexError."""
        from rag.embed.onnx import verify_exports

        gen = index.current(self.settings.index.index_dir)
        m = index.verify(gen)
        loaded = self.reload()
        if set(loaded.store.doc_ids) != set(m.hashes):
            raise IndexCorruptError(
                f"{gen}: store and manifest list different articles; run `rag index build`"
            )
        models = verify_exports(self.settings.index.index_dir / "models")
        exported = f", {len(models.checked)} exported model files"
        if models.unrecorded:
            exported += f" ({len(models.unrecorded)} older ones without a checksum record)"
        return (
            f"ok: {gen.name}, {m.articles} articles, {m.chunks} chunks, {len(m.files)} files"
            f"{exported}"
        )

    def status(self) -> tuple[Path, Manifest, int]:
        """The live generation's folder, manifest and size on disk in bytes."""
        gen = index.current(self.settings.index.index_dir)
        size = sum(p.stat().st_size for p in gen.rglob("*") if p.is_file())
        return gen, index.read_manifest(gen), size
