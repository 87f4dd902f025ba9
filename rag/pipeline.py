"""Pipeline: wires the stages; `build` an index from sources, `search` and `ask` against it."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from . import chunk, index, sources, store
from .answer import extractive
from .config import Settings
from .embed import Embedder, SentenceTransformerEmbedder
from .errors import IndexCorruptError, InputError, RagError
from .keyword import KeywordIndex
from .retrieve import Retriever
from .types import Answer, Article, BuildReport, Hit, Manifest, Skipped

Progress = Callable[[str, int, int], None]  # (stage, done, total)
EMBED_BLOCK = 512  # chunks per model call during a build


@dataclass
class Loaded:
    """One generation in memory."""

    name: str
    path: Path
    manifest: Manifest
    store: store.Store
    retriever: Retriever


def text_key(text: str) -> str:
    """Identity of an article's text for exact-duplicate detection (case and spacing ignored)."""
    return hashlib.sha1(" ".join(text.lower().split()).encode()).hexdigest()


class Pipeline:
    """The product in one object.

    >>> p = Pipeline(Settings.load(index_dir=Path("index")))  # doctest: +SKIP
    >>> p.build(["seeds"]); p.ask("Who leads the talks?").text  # doctest: +SKIP
    """

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._loaded: Loaded | None = None
        self._lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = SentenceTransformerEmbedder(
                self.settings.model, self.settings.batch_size
            )
        return self._embedder

    # --- building ----------------------------------------------------------------------------

    def build(
        self,
        paths: Iterable[str | Path],
        *,
        progress: bool = False,
        on_progress: Progress | None = None,
        on_skip: Callable[[Skipped], None] | None = None,
    ) -> BuildReport:
        """Index exactly the articles in `paths` into a new generation, then switch to it.

        Vectors of articles unchanged since the live generation (same content hash, same model
        and chunk settings) are reused, not re-embedded.
        """
        names = [str(p) for p in paths]
        with index.locked(self.settings.index_dir):
            return self._index(names, (), progress, on_progress, on_skip)

    def update(
        self,
        paths: Iterable[str | Path] = (),
        *,
        progress: bool = False,
        on_progress: Progress | None = None,
        on_skip: Callable[[Skipped], None] | None = None,
    ) -> BuildReport:
        """Bring the index in step with `paths` (default: the paths it was built from).

        New articles are embedded and added, changed ones replaced, vanished ones dropped;
        articles removed with `remove` stay out.
        """
        with index.locked(self.settings.index_dir):
            m = index.read_manifest(index.current(self.settings.index_dir))
            names = [str(p) for p in paths] or list(m.sources)
            return self._index(names, m.excluded, progress, on_progress, on_skip)

    def remove(self, keys: Iterable[str]) -> BuildReport:
        """Drop articles by doc_id or by the path they were read from; updates keep them out."""
        wanted = {str(k) for k in keys}
        t0 = time.perf_counter()
        with index.locked(self.settings.index_dir):
            gen = index.current(self.settings.index_dir)
            m = index.read_manifest(gen)
            st = store.Store(gen / index.STORE)
            try:
                articles = st.articles()
            finally:
                st.close()

            def hit(a: Article) -> bool:
                return a.doc_id in wanted or a.path in wanted or a.path.split(":")[0] in wanted

            gone = [a.doc_id for a in articles if hit(a)]
            if not gone:
                raise InputError(
                    f"no article with id or path {', '.join(sorted(wanted))}; "
                    "see `rag index list` for ids"
                )
            kept = [a for a in articles if not hit(a)]
            if not kept:
                raise InputError("removing these would leave the index empty; nothing was changed")
            excluded = tuple(sorted({*m.excluded, *gone}))
            return self._generation(
                kept, list(m.sources), excluded, t0, len(kept), [], 0, False, None
            )

    def _index(
        self,
        names: list[str],
        excluded: Sequence[str],
        progress: bool,
        on_progress: Progress | None,
        on_skip: Callable[[Skipped], None] | None,
    ) -> BuildReport:
        t0 = time.perf_counter()
        articles, skipped, duplicates, read = self._read(names, progress, on_skip)
        out = set(excluded)
        articles = [a for a in articles if a.doc_id not in out]
        if not articles:
            raise InputError(
                f"no readable articles in {', '.join(names) or 'the given paths'}; "
                "nothing was indexed and the current index is unchanged"
            )
        return self._generation(
            articles, names, tuple(excluded), t0, read, skipped, duplicates, progress, on_progress
        )

    def _generation(
        self,
        articles: Sequence[Article],
        names: list[str],
        excluded: tuple[str, ...],
        t0: float,
        read: int,
        skipped: list[Skipped],
        duplicates: int,
        progress: bool,
        on_progress: Progress | None,
    ) -> BuildReport:
        """Chunk, embed (reusing what it can), write and switch to a new generation."""
        s = self.settings
        spans = [chunk.spans(a.text, s.chunk_size, s.chunk_overlap) for a in articles]
        old_hashes, old = self._reusable()
        vectors, embedded = self._vectors(articles, spans, old, progress, on_progress)
        partial = index.new_generation(s.index_dir)
        n_chunks = store.write(partial / index.STORE, articles, spans)
        index.VectorIndex.build(vectors).save(partial / index.VECTORS)
        KeywordIndex.build(
            [
                chunk.embed_text(a, b, e)
                for a, sp in zip(articles, spans, strict=True)
                for b, e in sp
            ]
        ).save(partial / index.KEYWORDS)
        hashes = {a.doc_id: a.content_hash for a in articles}
        manifest = Manifest(
            format_version=index.FORMAT_VERSION,
            model=s.model,
            dim=int(vectors.shape[1]),
            chunk_size=s.chunk_size,
            chunk_overlap=s.chunk_overlap,
            articles=len(articles),
            chunks=n_chunks,
            built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            hashes=hashes,
            sources=tuple(names),
            excluded=excluded,
        )
        gen = index.commit(partial, manifest)
        return BuildReport(
            read=read,
            skipped=tuple(skipped),
            duplicates=duplicates,
            articles=len(articles),
            chunks=n_chunks,
            embedded=embedded,
            reused=n_chunks - embedded,
            seconds=time.perf_counter() - t0,
            generation=gen.name,
            added=sum(d not in old_hashes for d in hashes),
            changed=sum(d in old_hashes and old_hashes[d] != h for d, h in hashes.items()),
            removed=sum(d not in hashes for d in old_hashes),
            unchanged=sum(old_hashes.get(d) == h for d, h in hashes.items()),
        )

    def _read(
        self, paths: list[str], progress: bool, on_skip: Callable[[Skipped], None] | None
    ) -> tuple[list[Article], list[Skipped], int, int]:
        articles: list[Article] = []
        skipped: list[Skipped] = []
        seen_text: set[str] = set()
        seen_id: set[str] = set()
        duplicates = read = 0
        bar = tqdm(desc="articles read", unit=" art", disable=not progress)
        for item in sources.read(paths):
            if isinstance(item, Skipped):
                skipped.append(item)
                if on_skip:
                    on_skip(item)
                continue
            read += 1
            bar.update()
            key = text_key(item.text)
            if key in seen_text:
                duplicates += 1
                continue
            if item.doc_id in seen_id:
                problem = Skipped(
                    item.path, f"doc_id {item.doc_id!r} already used; give it a unique id"
                )
                skipped.append(problem)
                if on_skip:
                    on_skip(problem)
                continue
            seen_text.add(key)
            seen_id.add(item.doc_id)
            articles.append(item)
        bar.close()
        return articles, skipped, duplicates, read

    def _reusable(self) -> tuple[dict[str, str], dict[str, np.ndarray]]:
        """The live generation's hashes by doc_id, and its vectors by content hash when its
        model and chunk settings match ours (else nothing is reused: a full re-embed)."""
        s = self.settings
        try:
            gen = index.current(s.index_dir)
            m = index.read_manifest(gen)
        except RagError:  # no index yet, or a damaged one: nothing to reuse
            return {}, {}
        if (m.model, m.chunk_size, m.chunk_overlap) != (s.model, s.chunk_size, s.chunk_overlap):
            return m.hashes, {}
        try:
            st = store.Store(gen / index.STORE)
            vecs = index.VectorIndex.load(gen / index.VECTORS).vectors()
        except RagError:
            return m.hashes, {}
        out: dict[str, np.ndarray] = {}
        order = np.argsort(st.chunk_article, kind="stable")
        bounds = np.searchsorted(st.chunk_article[order], np.arange(len(st.doc_ids) + 1))
        for row, doc_id in enumerate(st.doc_ids):
            out[m.hashes.get(doc_id, "")] = vecs[order[bounds[row] : bounds[row + 1]]]
        st.close()
        out.pop("", None)
        return m.hashes, out

    def _vectors(
        self,
        articles: Sequence[Article],
        spans: Sequence[Sequence[tuple[int, int]]],
        old: dict[str, np.ndarray],
        progress: bool,
        on_progress: Progress | None,
    ) -> tuple[np.ndarray, int]:
        """One vector per chunk, in chunk-id order; returns (vectors, how many were embedded)."""
        parts: list[np.ndarray | None] = []  # chunk id -> vector (None until embedded)
        todo: list[tuple[int, str]] = []  # (chunk id, text to embed)
        for a, sp in zip(articles, spans, strict=True):
            reused = old.get(a.content_hash)
            if reused is not None and len(reused) == len(sp):
                parts.extend(reused)
                continue
            for b, e in sp:
                todo.append((len(parts), chunk.embed_text(a, b, e)))
                parts.append(None)
        todo.sort(key=lambda t: len(t[1]))  # similar lengths together: less padding
        bar = tqdm(total=len(todo), desc="chunks embedded", unit=" chunk", disable=not progress)
        for lo in range(0, len(todo), EMBED_BLOCK):
            block = todo[lo : lo + EMBED_BLOCK]
            vecs = self.embedder.encode([t for _, t in block])
            for (i, _), v in zip(block, vecs, strict=True):
                parts[i] = v
            bar.update(len(block))
            if on_progress:
                on_progress("embed", lo + len(block), len(todo))
        bar.close()
        return np.ascontiguousarray(np.stack(parts), dtype=np.float32), len(todo)  # type: ignore[arg-type]

    def stale(self, paths: Iterable[str | Path]) -> bool:
        """True when there is no usable index or `paths` hold other articles than it does."""
        s = self.settings
        try:
            m = index.read_manifest(index.current(s.index_dir))
        except RagError:
            return True
        if (m.model, m.chunk_size, m.chunk_overlap) != (s.model, s.chunk_size, s.chunk_overlap):
            return True
        articles = self._read([str(p) for p in paths], False, None)[0]
        return {a.doc_id: a.content_hash for a in articles} != m.hashes

    # --- querying ----------------------------------------------------------------------------

    def load(self) -> Loaded:
        """The live generation, (re)loaded when a build has switched to a new one."""
        s = self.settings
        name = index.generation_id(s.index_dir)
        loaded = self._loaded
        if loaded is not None and loaded.name == name:
            return loaded
        with self._lock:
            if self._loaded is not None and self._loaded.name == name:
                return self._loaded
            gen = index.current(s.index_dir)
            manifest = index.read_manifest(gen)
            index.check_model(manifest, s.model, s.index_dir)
            st = store.Store(gen / index.STORE)
            vectors = index.VectorIndex.load(gen / index.VECTORS)
            keywords = KeywordIndex.load(gen / index.KEYWORDS)
            if not (len(st) == len(vectors) == manifest.chunks):
                raise IndexCorruptError(
                    f"{gen}: store, vectors and manifest disagree on the chunk count; "
                    "run `rag index build` to rebuild"
                )
            self._loaded = Loaded(gen.name, gen, manifest, st, Retriever(st, vectors, keywords))
            return self._loaded

    def _question(self, question: str) -> str:
        q = " ".join(question.split())
        if not q:
            raise InputError("the question is empty: type a question about the articles")
        if len(q) > self.settings.max_question_chars:
            raise InputError(
                f"the question has {len(q)} characters; keep it under "
                f"{self.settings.max_question_chars}"
            )
        return q

    def _embed_query(self, loaded: Loaded, q: str) -> np.ndarray:
        qvec = self.embedder.encode([q])[0]
        if qvec.shape[0] != loaded.manifest.dim:
            raise IndexCorruptError(
                f"the model gives {qvec.shape[0]}-dim vectors, the index holds "
                f"{loaded.manifest.dim}-dim ones; run `rag index build` to rebuild"
            )
        return qvec

    def search(self, query: str, **overrides: Any) -> list[Hit]:
        """Ranked hits for `query`; keyword overrides change settings for this call only."""
        s = self.settings.with_(**overrides)
        q = self._question(query)
        loaded = self.load()
        return loaded.retriever.search(q, self._embed_query(loaded, q), s)

    def ask(self, question: str, **overrides: Any) -> Answer:
        """An extractive answer with citations, or a refusal with the closest passages."""
        s = self.settings.with_(**overrides)
        q = self._question(question)
        loaded = self.load()
        qvec = self._embed_query(loaded, q)
        hits = loaded.retriever.search(q, qvec, s)
        return extractive(q, qvec, hits, self.embedder.encode, min_score=s.min_score)

    def articles(self) -> list[tuple[Article, int]]:
        """Every indexed article with its number of chunks."""
        loaded = self.load()
        counts = loaded.store.counts_by_article()
        return [(a, counts.get(a.doc_id, 0)) for a in loaded.store.articles()]

    def verify(self) -> str:
        """Checksums, then load and cross-check counts; a one-line summary, or an IndexError."""
        gen = index.current(self.settings.index_dir)
        m = index.verify(gen)
        self._loaded = None
        loaded = self.load()
        if set(loaded.store.doc_ids) != set(m.hashes):
            raise IndexCorruptError(
                f"{gen}: store and manifest list different articles; run `rag index build`"
            )
        return f"ok: {gen.name}, {m.articles} articles, {m.chunks} chunks, {len(m.files)} files"

    def status(self) -> tuple[Path, Manifest, int]:
        """The live generation's folder, manifest and size on disk in bytes."""
        gen = index.current(self.settings.index_dir)
        size = sum(p.stat().st_size for p in gen.rglob("*") if p.is_file())
        return gen, index.read_manifest(gen), size
