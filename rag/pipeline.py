"""Pipeline: wires the stages; `build` an index from sources, `search` and `ask` against it."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from . import chunk, dedup, index, sources, store, when
from .answer import extractive
from .config import Settings
from .embed import CrossEncoderReranker, Embedder, Reranker
from .embed import load as load_embedder
from .errors import IndexCorruptError, InputError, LLMError, RagError
from .generate import History, is_follow_up, prompt, rewrite_llm, rewrite_rule, to_answer
from .keyword import KeywordIndex
from .llm import LLM, from_settings
from .retrieve import Retriever
from .types import Answer, Article, BuildReport, Hit, Manifest, Skipped

Progress = Callable[[str, int, int], None]  # (stage, done, total)
EMBED_BLOCK = 512  # chunks per model call during a build


@dataclass(frozen=True)
class Reuse:
    """What a build can take from the live generation."""

    hashes: dict[str, str]  # doc_id -> content hash
    vectors: dict[str, np.ndarray]  # content hash -> the article's chunk vectors
    signatures: dict[str, np.ndarray]  # content hash -> MinHash signature


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

    def __init__(
        self, settings: Settings, embedder: Embedder | None = None, llm: LLM | None = None
    ) -> None:
        self.settings = settings
        self._embedder = embedder
        self._llm = llm
        self._other_llms: dict[tuple[str, ...], LLM] = {}  # endpoints given per call (the chat)
        self._loaded: Loaded | None = None
        self._reranker: Reranker | None = None
        self._lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            s = self.settings
            self._embedder = load_embedder(s.model, s.batch_size, s.backend, s.index_dir / "models")
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
        reuse = self._reusable()
        old_hashes = reuse.hashes
        vectors, embedded = self._vectors(articles, spans, reuse.vectors, progress, on_progress)
        signatures = [
            reuse.signatures[a.content_hash]
            if a.content_hash in reuse.signatures
            else dedup.signature(a.text)
            for a in articles
        ]
        groups = (
            dedup.canonical(articles, signatures, s.near_duplicate, dedup.MIN_WORDS)
            if s.near_duplicate > 0
            else list(range(len(articles)))
        )
        partial = index.new_generation(s.index_dir)
        n_chunks = store.write(partial / index.STORE, articles, spans, groups, signatures)
        vector_index = index.VectorIndex.build(vectors, s.index_type)
        vector_index.save(partial / index.VECTORS)
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
            index_type=vector_index.kind,
            index_params=vector_index.params,
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

    def _reusable(self) -> Reuse:
        """What the live generation offers the next build: its content hashes by doc_id, its
        MinHash signatures, and its vectors by content hash when its model and chunk settings
        match ours (else no vectors are reused: a full re-embed)."""
        s = self.settings
        try:
            gen = index.current(s.index_dir)
            m = index.read_manifest(gen)
            st = store.Store(gen / index.STORE)
        except RagError:  # no index yet, or a damaged one: nothing to reuse
            return Reuse({}, {}, {})
        try:
            signatures = st.signatures()
            if (m.model, m.chunk_size, m.chunk_overlap) != (
                s.model,
                s.chunk_size,
                s.chunk_overlap,
            ):
                return Reuse(m.hashes, {}, signatures)
            try:
                vecs = index.VectorIndex.load(gen / index.VECTORS).vectors()
            except RagError:
                return Reuse(m.hashes, {}, signatures)
            out: dict[str, np.ndarray] = {}
            order = np.argsort(st.chunk_article, kind="stable")
            bounds = np.searchsorted(st.chunk_article[order], np.arange(len(st.doc_ids) + 1))
            for row, doc_id in enumerate(st.doc_ids):
                out[m.hashes.get(doc_id, "")] = vecs[order[bounds[row] : bounds[row + 1]]]
            out.pop("", None)
            return Reuse(m.hashes, out, signatures)
        finally:
            st.close()

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
        """The live generation, (re)loaded when a build has switched to a new one.

        A build that switches generations while this loads (and removes the one being read)
        makes it try again with the new one; the previous load keeps serving meanwhile.
        """
        name = index.generation_id(self.settings.index_dir)
        loaded = self._loaded
        if loaded is not None and loaded.name == name:
            return loaded
        with self._lock:
            for attempt in range(3):
                name = index.generation_id(self.settings.index_dir)
                if self._loaded is not None and self._loaded.name == name:
                    return self._loaded
                try:
                    self._loaded = self._open()
                    return self._loaded
                except RagError:
                    if attempt == 2 or index.generation_id(self.settings.index_dir) == name:
                        raise  # not a race with a build: the index really is unusable
        raise AssertionError("unreachable")

    def _open(self) -> Loaded:
        s = self.settings
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
        return Loaded(gen.name, gen, manifest, st, Retriever(st, vectors, keywords, self.reranker))

    @property
    def reranker(self) -> Reranker | None:
        """The configured cross-encoder, loaded once (None when off)."""
        if self.settings.reranker and self._reranker is None:
            self._reranker = CrossEncoderReranker(self.settings.reranker)
        return self._reranker

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

    def _retrieve(self, q: str, qvec: np.ndarray, loaded: Loaded, s: Settings) -> list[Hit]:
        """Search within the question's time window ("last week", "in June") when it names one
        that holds matches; otherwise search as asked."""
        if s.time_window == "filter":
            found = when.window(q, s.as_of or date.today())
            if found:
                lo = max(found[0], s.date_from) if s.date_from else found[0]
                hi = min(found[1], s.date_to) if s.date_to else found[1]
                hits = loaded.retriever.search(q, qvec, s.with_(date_from=lo, date_to=hi))
                if hits:
                    return hits
        return loaded.retriever.search(q, qvec, s)

    def search(self, query: str, **overrides: Any) -> list[Hit]:
        """Ranked hits for `query`; keyword overrides change settings for this call only."""
        s = self.settings.with_(**overrides)
        q = self._question(query)
        loaded = self.load()
        return self._retrieve(q, self._embed_query(loaded, q), loaded, s)

    def ask(
        self,
        question: str,
        *,
        history: History = (),
        llm: bool | None = None,
        **overrides: Any,
    ) -> Answer:
        """An extractive answer with citations, or a refusal with the closest passages.

        With `llm` (default: settings.answer_mode == "llm") the configured LLM writes it, and
        its citations are checked; with `history` a follow-up is made standalone first.
        """
        s = self.settings.with_(**overrides)
        if history or self._generating(s, llm):
            *_, last = self.ask_stream(question, history=history, llm=llm, **overrides)
            assert isinstance(last, Answer)
            return last
        q = self._question(question)
        loaded = self.load()
        qvec = self._embed_query(loaded, q)
        hits = self._retrieve(q, qvec, loaded, s)
        return extractive(q, qvec, hits, self.embedder.encode, min_score=s.min_score)

    # --- generated answers (rag/generate.py, rag/llm.py, rag/check.py) -------------------------

    def _generating(self, s: Settings, llm: bool | None) -> bool:
        return s.answer_mode == "llm" if llm is None else llm

    @property
    def llm(self) -> LLM:
        """The configured LLM (made on first use; LLMError when none is configured)."""
        if self._llm is None:
            self._llm = from_settings(self.settings)
        return self._llm

    def _model(self, s: Settings) -> LLM:
        """The LLM for this call's settings: the configured one, or one made (once) for an
        endpoint given per call, e.g. in the chat's settings panel."""

        def endpoint(x: Settings) -> tuple[str, ...]:
            return (x.llm_url, x.llm_model, x.llm_key, x.llm_path)

        key = endpoint(s)
        if key == endpoint(self.settings):
            return self.llm
        with self._lock:
            if key not in self._other_llms:
                self._other_llms[key] = from_settings(s)
            return self._other_llms[key]

    def ask_stream(
        self,
        question: str,
        *,
        history: History = (),
        llm: bool | None = None,
        **overrides: Any,
    ) -> Iterator[str | Answer]:
        """The answer as it is written: text pieces (str), then the checked `Answer`, last.

        The Answer is authoritative: its text replaces what was streamed (bad citation numbers
        removed; or, when the LLM fails midway, the extractive answer with a `note` saying
        why). Without an LLM only the Answer comes. `history`: earlier (question, answer text)
        turns; a follow-up is rewritten into `Answer.standalone` before retrieval.
        """
        s = self.settings.with_(**overrides)
        q = self._question(question)
        model: LLM | None = None
        problem = ""
        if self._generating(s, llm):
            try:
                model = self._model(s)
            except LLMError as e:
                problem = str(e)
        standalone = q
        if history and is_follow_up(q):
            standalone = rewrite_rule(q, history)
            if model is not None:
                try:
                    standalone = self._question(rewrite_llm(model, q, history))
                except (LLMError, InputError) as e:
                    problem = str(e) if isinstance(e, LLMError) else problem
                    model = None if isinstance(e, LLMError) else model
        loaded = self.load()
        qvec = self._embed_query(loaded, standalone)
        hits = self._retrieve(standalone, qvec, loaded, s)
        base = extractive(standalone, qvec, hits, self.embedder.encode, min_score=s.min_score)
        base = replace(base, question=q, standalone=standalone)
        fallback = f"{problem}; showing the extractive answer instead" if problem else ""
        if model is None or base.refused:  # nothing close enough: no need to ask the model
            yield replace(base, note=fallback)
            return
        text: list[str] = []
        try:
            for delta in model.stream(
                prompt(standalone, hits[: s.llm_passages]),
                max_tokens=s.llm_max_tokens,
                temperature=0.0,
            ):
                text.append(delta)
                yield delta
        except LLMError as e:
            yield replace(base, note=f"{e}; showing the extractive answer instead")
            return
        answer = to_answer(
            q,
            "".join(text),
            hits,
            self.embedder.encode,
            threshold=s.min_support,
            passages=s.llm_passages,
            llm=model.name,
        )
        yield replace(answer, standalone=standalone)

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
