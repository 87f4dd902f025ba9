"""Reader: searching and answering against the live generation (hot-reloaded when a build
switches), with per-request choices in a `Query` and LLMs picked among configured endpoints."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np

from rag.answer import disagree
from rag.answer.extractive import REFUSAL, extractive
from rag.answer.gate import PACKAGED, Gate
from rag.answer.generated import History, is_follow_up, prompt, rewrite_llm, rewrite_rule, to_answer
from rag.config import Settings
from rag.embed import tune
from rag.embed.embedder import CrossEncoderReranker, Embedder, Reranker
from rag.errors import IndexCorruptError, InputError, LLMError, RagError
from rag.index import fanout, store, stories
from rag.index import vectors as index
from rag.index.bm25 import KeywordIndex
from rag.llm.clients import LLM
from rag.llm.endpoints import Endpoints
from rag.query import Query
from rag.read import answer as read_answer
from rag.read.export import SHIPPED
from rag.read.model import ReaderModel
from rag.search import across, when
from rag.search.retrieve import Keywords, Retriever, Vectors
from rag.types import Answer, Article, Hit, Manifest

NO_QUERY = Query()
DOUBT = 0.5  # a generated answer with no supported claim and a confidence below this: refused


def doubted(answer: Answer, base: Answer, below: float) -> Answer:
    """A generated answer none of whose claims the passages back, on weak evidence (the gate's
    confidence under `below`), becomes a refusal showing the closest passages."""
    weak = base.confidence is not None and base.confidence < below
    if answer.refused or not weak or any(c.supported for c in answer.citations):
        return answer
    return replace(
        base,
        text=REFUSAL,
        refused=True,
        citations=(),
        llm=answer.llm,
        note="the model's answer was not backed by the passages, so it is not shown",
    )


@dataclass
class Loaded:
    """One generation in memory."""

    name: str
    path: Path
    manifest: Manifest
    store: store.Store
    retriever: Retriever


class Reader:
    """Answers from `settings.index_dir`; `embedder` is called when first needed."""

    def __init__(
        self, settings: Settings, embedder: Callable[[], Embedder], endpoints: Endpoints
    ) -> None:
        self.settings = settings
        self._embedder = embedder
        self.endpoints = endpoints
        self._loaded: Loaded | None = None
        self._reranker: Reranker | None = None
        self._gates: dict[str, Gate] = {}
        self._readers: dict[str, tuple[ReaderModel, Gate]] = {}  # folder -> model, calibration
        self._lock = threading.Lock()
        self.host: fanout.Host | None = None  # where shards are searched (None: threads here)

    @property
    def embedder(self) -> Embedder:
        return self._embedder()

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
            attempt = 0
            while True:
                name = index.generation_id(self.settings.index_dir)
                if self._loaded is not None and self._loaded.name == name:
                    return self._loaded
                try:
                    self._loaded = self._open()
                    return self._loaded
                except RagError:
                    attempt += 1
                    if attempt == 3 or index.generation_id(self.settings.index_dir) == name:
                        raise  # not a race with a build: the index really is unusable

    def reload(self) -> Loaded:
        """Load the live generation afresh (after `verify`, say)."""
        self._loaded = None
        return self.load()

    def _open(self) -> Loaded:
        s = self.settings
        gen = index.current(s.index_dir)
        manifest = index.read_manifest(gen)
        index.check_model(manifest, s.model, s.index_dir)
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
        if self.settings.reranker and self._reranker is None:
            self._reranker = CrossEncoderReranker(self.settings.reranker)
        return self._reranker

    # --- searching -----------------------------------------------------------------------------

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
        if s.parts == "on":  # naming outlets or dates: searched part by part (rag/search/across.py)
            parted = across.search(q, qvec, loaded.retriever, s, self.embedder.encode)
            if parted is not None:
                return parted
        if s.time_window == "filter":
            found = when.window(q, s.as_of or date.today())
            if found:
                lo = max(found[0], s.date_from) if s.date_from else found[0]
                hi = min(found[1], s.date_to) if s.date_to else found[1]
                hits = loaded.retriever.search(q, qvec, s.with_(date_from=lo, date_to=hi))
                if hits:
                    return hits
        return loaded.retriever.search(q, qvec, s)

    def search(
        self, text: str, query: Query = NO_QUERY, settings: Settings | None = None
    ) -> list[Hit]:
        """Ranked hits for `text`, with the request's choices laid over `settings`."""
        s = query.apply(settings or self.settings)
        q = self._question(text)
        loaded = self.load()
        return self._retrieve(q, self._embed_query(loaded, q), loaded, s)

    # --- answering -----------------------------------------------------------------------------

    def gate(self, s: Settings) -> Gate | None:
        """The answerability model `s.gate` names (loaded once; None when "off")."""
        if s.gate == "off":
            return None
        key = s.gate or str(PACKAGED)
        with self._lock:
            if key not in self._gates:
                self._gates[key] = Gate.load(Path(key))
            return self._gates[key]

    def _finish(self, answer: Answer, loaded: Loaded, s: Settings) -> Answer:
        """The answer with its disagreements, the date it is as of, and its hits' stories."""
        refs = stories.refs(loaded.path, loaded.store, [h.article.doc_id for h in answer.hits])
        of = {r.doc_id: r.story for r in refs}
        own = answer.disagreements  # the reader's: different answers from different outlets
        answer = disagree.attach(answer, s.disagree_passages, of)
        more = tuple(d for d in answer.disagreements if not read_answer.restates(d, own))
        answer = replace(answer, disagreements=own + more)
        cited = [c.hit.article.published for c in answer.citations if c.hit.article.published]
        as_of = max(cited, default=None)
        return replace(answer, as_of=None if answer.refused else as_of, stories=refs)

    def story(self, key: str) -> stories.Story:
        """The story of article or story `key`, its articles oldest first (rag/index/stories.py)."""
        loaded = self.load()
        return stories.timeline(loaded.path, loaded.store, key)

    def reader_model(self, s: Settings) -> tuple[ReaderModel, Gate] | None:
        """The reader model `s.reader` names and its calibration (None when "off")."""
        if s.reader == "off":
            return None
        key = str(SHIPPED if s.reader == "shipped" else Path(s.reader))
        with self._lock:
            if key not in self._readers:
                folder = Path(key)
                self._readers[key] = ReaderModel(folder), read_answer.calibration(folder)
            return self._readers[key]

    def _read(self, q: str, hits: list[Hit], s: Settings) -> read_answer.Reading | None:
        """The reader's spans in the top passages (None when the reader is off)."""
        read = self.reader_model(s)
        return read_answer.reading(q, hits, read[0], s.reader_passages) if read else None

    def _extractive(
        self,
        q: str,
        qvec: np.ndarray,
        hits: list[Hit],
        s: Settings,
        reading: read_answer.Reading | None = None,
    ) -> Answer:
        if s.parts == "on":  # across outlets: part by part (rag/search/across.py)

            def part(g: list[Hit], text: str) -> Answer:  # a part's answer, from its own words
                vec = qvec if text == q else self.embedder.encode([text])[0]
                return self._extractive(text, vec, g, s.with_(parts="off"))

            compared = across.answer(q, hits, s, self.load().store, part)
            if compared is not None:
                return compared
        read = self.reader_model(s)
        if read is not None:
            r = reading or read_answer.reading(q, hits, read[0], s.reader_passages)
            sure = read[1].probability(r.x)
            return read_answer.answer(q, hits, r, sure, read[1].threshold(s.refusal_precision))
        gate = self.gate(s)
        floor = gate.threshold(s.refusal_precision) if gate else s.min_score
        return extractive(q, qvec, hits, self.embedder.encode, min_score=floor, gate=gate)

    def ask(
        self,
        question: str,
        query: Query = NO_QUERY,
        settings: Settings | None = None,
        history: History = (),
    ) -> Answer:
        """The checked answer, all at once (see `ask_stream`)."""
        base = settings or self.settings
        if not history and not query.generating(base):  # extractive: no stream to follow
            s = query.apply(base)
            q = self._question(question)
            loaded = self.load()
            qvec = self._embed_query(loaded, q)
            hits = self._retrieve(q, qvec, loaded, s)
            return self._finish(self._extractive(q, qvec, hits, s), loaded, s)
        answer: Answer | None = None
        for part in self.ask_stream(question, query, settings, history):
            if isinstance(part, Answer):
                answer = part
        if answer is None:
            raise InputError("no answer came back; ask again")
        return answer

    def ask_stream(
        self,
        question: str,
        query: Query = NO_QUERY,
        settings: Settings | None = None,
        history: History = (),
    ) -> Iterator[str | Answer]:
        """The answer as it is written: text pieces (str), then the checked `Answer`, last.

        The Answer is authoritative: its text replaces what was streamed (bad citation numbers
        removed; or, when the LLM fails midway, the extractive answer with a `note` saying
        why). Without an LLM only the Answer comes. `history`: earlier (question, answer text)
        turns; a follow-up is rewritten into `Answer.standalone` before retrieval.
        """
        base_settings = settings or self.settings
        s = query.apply(base_settings)
        q = self._question(question)
        model: LLM | None = None
        problem = ""
        if query.generating(base_settings):
            try:
                model = self.endpoints.get(query.endpoint)
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
        reading = self._read(standalone, hits, s)
        base = self._extractive(standalone, qvec, hits, s, reading)
        base = replace(base, question=q, standalone=standalone)
        if reading is not None:  # the model sees the windows the reader found, not whole chunks
            hits = read_answer.narrowed(hits[: s.llm_passages], reading)
        raw, base = base, self._finish(base, loaded, s)
        fallback = f"{problem}; showing the extractive answer instead" if problem else ""
        if model is None or base.refused:  # nothing close enough: no need to ask the model
            yield replace(base, note=fallback)
            return
        text: list[str] = []
        today = s.as_of or date.today()
        asked = across.ask(standalone, hits, s, loaded.store, today) if s.parts == "on" else None
        messages, n = asked or (prompt(standalone, hits[: s.llm_passages], today), s.llm_passages)
        try:
            for delta in model.stream(
                messages,
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
            passages=n,
            llm=model.name,
        )
        parts = across.cited(answer, base.parts)  # each part's article as this answer cites it
        answer = replace(answer, standalone=standalone, confidence=base.confidence, parts=parts)
        answer = disagree.check_sides(answer)
        yield self._finish(doubted(answer, raw, DOUBT if self.gate(s) else 0.0), loaded, s)

    # --- what the index holds ------------------------------------------------------------------

    def articles(self) -> list[tuple[Article, int]]:
        """Every indexed article with its number of chunks."""
        loaded = self.load()
        counts = loaded.store.counts_by_article()
        return [(a, counts.get(a.doc_id, 0)) for a in loaded.store.articles()]

    def verify(self) -> str:
        """Checksums, then load and cross-check counts; a one-line summary, or an IndexError."""
        from rag.embed.onnx import verify_exports

        gen = index.current(self.settings.index_dir)
        m = index.verify(gen)
        loaded = self.reload()
        if set(loaded.store.doc_ids) != set(m.hashes):
            raise IndexCorruptError(
                f"{gen}: store and manifest list different articles; run `rag index build`"
            )
        models = verify_exports(self.settings.index_dir / "models")
        exported = f", {len(models.checked)} exported model files"
        if models.unrecorded:
            exported += f" ({len(models.unrecorded)} older ones without a checksum record)"
        return (
            f"ok: {gen.name}, {m.articles} articles, {m.chunks} chunks, {len(m.files)} files"
            f"{exported}"
        )

    def status(self) -> tuple[Path, Manifest, int]:
        """The live generation's folder, manifest and size on disk in bytes."""
        gen = index.current(self.settings.index_dir)
        size = sum(p.stat().st_size for p in gen.rglob("*") if p.is_file())
        return gen, index.read_manifest(gen), size
