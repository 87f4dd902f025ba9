"""Ask: a question searched and answered against the live generation (`rag.live.Live`):
follow-ups made standalone, hybrid retrieval, the gate or the reader model, extractive or
LLM-written answers with their disagreements and stories; per-request choices in a `Query`,
LLMs picked among the configured endpoints."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

from rag.answer import disagree
from rag.answer.extractive import extractive
from rag.answer.gate import PACKAGED, Gate
from rag.answer.generated import History, is_follow_up, prompt, rewrite_llm, rewrite_rule, to_answer
from rag.config import Settings
from rag.embed.embedder import Embedder
from rag.embed.memo import Encode, Memo
from rag.errors import IndexCorruptError, InputError, LLMError
from rag.live import Live, Loaded
from rag.llm.clients import LLM
from rag.llm.endpoints import Endpoints
from rag.query import Query
from rag.read import answer as read_answer
from rag.read.export import SHIPPED
from rag.read.model import ReaderModel
from rag.search import across, when
from rag.types import Answer, Hit

NO_QUERY = Query()
DOUBT = 0.5  # a generated answer with no supported claim and a confidence below this: not shown
FALLBACK = "showing the extractive answer instead"  # the end of every note on a fallback
NO_MODEL_ANSWER = "the model gave no answer the passages back"
Read = tuple[read_answer.Reading, Gate]  # the reader model's spans, and its calibration


def unbacked(answer: Answer, base: Answer, below: float) -> bool:
    """A generated answer none of whose claims the passages back, on weak evidence (the gate's
    confidence under `below`): not shown."""
    weak = base.confidence is not None and base.confidence < below
    return weak and not any(c.supported for c in answer.citations)


class Answerer:
    """Answers from the `live` generation; `embedder` is called when first needed."""

    def __init__(
        self,
        settings: Settings,
        live: Live,
        embedder: Callable[[], Embedder],
        endpoints: Endpoints,
    ) -> None:
        self.settings = settings
        self.live = live
        self._embedder = embedder
        self.endpoints = endpoints
        self._gates: dict[str, Gate] = {}
        self._readers: dict[str, tuple[ReaderModel, Gate]] = {}  # folder -> model, calibration
        self._lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        return self._embedder()

    # --- searching -----------------------------------------------------------------------------

    def _question(self, question: str) -> str:
        q = " ".join(question.split())
        if not q:
            raise InputError("the question is empty: type a question about the articles")
        if len(q) > self.settings.answers.max_question_chars:
            raise InputError(
                f"the question has {len(q)} characters; keep it under "
                f"{self.settings.answers.max_question_chars}"
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
        # naming outlets or dates: searched part by part (rag/search/across.py)
        if s.retrieval.parts == "on":
            parted = across.search(q, qvec, loaded.retriever, s, self.embedder.encode)
            if parted is not None:
                return parted
        if s.retrieval.time_window == "filter":
            found = when.window(q, s.retrieval.as_of or date.today())
            if found:
                lo = max(found[0], s.retrieval.date_from) if s.retrieval.date_from else found[0]
                hi = min(found[1], s.retrieval.date_to) if s.retrieval.date_to else found[1]
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
        loaded = self.live.load()
        return self._retrieve(q, self._embed_query(loaded, q), loaded, s)

    # --- the models that decide (loaded once each) ---------------------------------------------

    def gate(self, s: Settings) -> Gate | None:
        """The answerability model `s.answers.gate` names (loaded once; None when "off")."""
        if s.answers.gate == "off":
            return None
        key = s.answers.gate or str(PACKAGED)
        with self._lock:
            if key not in self._gates:
                self._gates[key] = Gate.load(Path(key))
            return self._gates[key]

    def reader_model(self, s: Settings) -> tuple[ReaderModel, Gate] | None:
        """The reader model `s.answers.reader` names and its calibration (None when "off")."""
        if s.answers.reader == "off":
            return None
        key = str(SHIPPED if s.answers.reader == "shipped" else Path(s.answers.reader))
        with self._lock:
            if key not in self._readers:
                folder = Path(key)
                self._readers[key] = ReaderModel(folder), read_answer.calibration(folder)
            return self._readers[key]

    # --- extractive answers --------------------------------------------------------------------

    def _read(self, q: str, hits: list[Hit], s: Settings) -> Read | None:
        """The reader model's spans in the top passages, and its calibration (None when the
        reader is off)."""
        model = self.reader_model(s)
        if model is None:
            return None
        return read_answer.reading(q, hits, model[0], s.answers.reader_passages), model[1]

    def _across(self, q: str, qvec: np.ndarray, hits: list[Hit], s: Settings) -> Answer | None:
        """Across outlets or dates, part by part, each part read with its own words
        (rag/search/across.py); None when parts are off or the question has none. Refusals
        are the sentence scores' alone: the reader's calibration, fitted on questions with a
        span for an answer, refuses yes/no and comparison questions (MultiHop-RAG dev: 64 % of
        the answerable ones refused with it, 3 % without). With the reader on, the question as
        a whole is read by it, its span leading when it is sure (MultiHop-RAG dev, inference
        questions: strict accuracy .157 -> .265); a part's own words by sentence scores."""
        if s.retrieval.parts != "on":
            return None
        whole = s.with_(parts="off", reader="off")
        encode = Memo(self.embedder.encode)  # the parts read many of the same sentences

        def part(g: list[Hit], text: str) -> Answer:  # a part's answer, from its own words
            if text != q:
                return self._extractive(text, encode([text])[0], g, whole, None, encode)
            read = self._read(q, g, s.with_(parts="off"))
            return self._extractive(q, qvec, g, whole, read, encode, fallback=True)

        return across.answer(q, hits, s, self.live.load().store, part)

    def _extractive(
        self,
        q: str,
        qvec: np.ndarray,
        hits: list[Hit],
        s: Settings,
        read: Read | None,
        encode: Encode | None = None,
        fallback: bool = False,
    ) -> Answer:
        """The reader model's answer when it read the passages, else the best sentences,
        refused below the gate's threshold (or `s.answers.min_score` without a gate). With
        `fallback`, a reader that finds no answer leaves the question to the sentences, so
        that only their gate refuses."""
        if read is not None:
            reading, calibration = read
            sure = calibration.probability(reading.x)
            floor = calibration.threshold(s.answers.refusal_precision)
            answered = read_answer.answer(q, hits, reading, sure, floor)
            if not (fallback and answered.refused):
                return answered
        gate = self.gate(s)
        floor = gate.threshold(s.answers.refusal_precision) if gate else s.answers.min_score
        encode = encode or self.embedder.encode
        return extractive(q, qvec, hits, encode, min_score=floor, gate=gate)

    def _finish(self, answer: Answer, loaded: Loaded, s: Settings) -> Answer:
        """The answer with its disagreements, the date it is as of, and its hits' stories."""
        refs = self.live.story_refs(loaded, [h.article.doc_id for h in answer.hits])
        of = {r.doc_id: r.story for r in refs}
        own = answer.disagreements  # the reader's: different answers from different outlets
        answer = disagree.attach(answer, s.answers.disagree_passages, of)
        more = tuple(d for d in answer.disagreements if not read_answer.restates(d, own))
        answer = replace(answer, disagreements=own + more)
        cited = [c.hit.article.published for c in answer.citations if c.hit.article.published]
        as_of = max(cited, default=None)
        return replace(answer, as_of=None if answer.refused else as_of, stories=refs)

    # --- answering -----------------------------------------------------------------------------

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
            loaded = self.live.load()
            qvec = self._embed_query(loaded, q)
            hits = self._retrieve(q, qvec, loaded, s)
            answer = self._across(q, qvec, hits, s)
            if answer is None:
                answer = self._extractive(q, qvec, hits, s, self._read(q, hits, s))
            return self._finish(answer, loaded, s)
        final: Answer | None = None
        for part in self.ask_stream(question, query, settings, history):
            if isinstance(part, Answer):
                final = part
        if final is None:
            raise InputError("no answer came back; ask again")
        return final

    def _standalone(
        self, q: str, history: History, model: LLM | None, problem: str
    ) -> tuple[str, LLM | None, str]:
        """A follow-up rewritten to stand alone (by the model when there is one, else by rule),
        with the model still to use and the problem to tell (an LLM that failed is dropped)."""
        if not history or not is_follow_up(q):
            return q, model, problem
        standalone = rewrite_rule(q, history)
        if model is not None:
            try:
                standalone = self._question(rewrite_llm(model, q, history))
            except LLMError as e:
                return standalone, None, str(e)
            except InputError:
                pass
        return standalone, model, problem

    def ask_stream(
        self,
        question: str,
        query: Query = NO_QUERY,
        settings: Settings | None = None,
        history: History = (),
    ) -> Iterator[str | Answer]:
        """The answer as it is written: text pieces (str), then the checked `Answer`, last.

        The Answer is authoritative: its text replaces what was streamed (bad citation numbers
        removed; or, when the LLM fails or gives no answer the passages back, the extractive
        answer with a `note` saying why). Without an LLM only the Answer comes. `history`:
        earlier (question, answer text) turns; a follow-up is rewritten into
        `Answer.standalone` before retrieval.
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
        standalone, model, problem = self._standalone(q, history, model, problem)
        loaded = self.live.load()
        qvec = self._embed_query(loaded, standalone)
        hits = self._retrieve(standalone, qvec, loaded, s)
        read = self._read(standalone, hits, s)
        base = self._across(standalone, qvec, hits, s)
        if base is None:
            base = self._extractive(standalone, qvec, hits, s, read)
        base = replace(base, question=q, standalone=standalone)
        if read is not None:  # the model sees the windows the reader found, not whole chunks
            hits = read_answer.narrowed(hits[: s.llm.passages], read[0])
        raw, base = base, self._finish(base, loaded, s)
        fallback = f"{problem}; {FALLBACK}" if problem else ""
        if model is None or base.refused:  # nothing close enough: no need to ask the model
            yield replace(base, note=fallback)
            return
        yield from self._generate(model, hits, loaded, s, raw, base)

    def _generate(
        self, model: LLM, hits: list[Hit], loaded: Loaded, s: Settings, raw: Answer, base: Answer
    ) -> Iterator[str | Answer]:
        """The LLM's answer as it is written, then checked against the passages (`base`: the
        extractive answer it falls back to, also when the model gives no answer the passages
        back: only the gate refuses; `raw`: that answer before `_finish`)."""
        q, standalone = raw.question, raw.standalone
        text: list[str] = []
        today = s.retrieval.as_of or date.today()
        asked = (
            across.ask(standalone, hits, s, loaded.store, today)
            if s.retrieval.parts == "on"
            else None
        )
        messages, n = asked or (prompt(standalone, hits[: s.llm.passages], today), s.llm.passages)
        try:
            for delta in model.stream(
                messages,
                max_tokens=s.llm.max_tokens,
                temperature=0.0,
            ):
                text.append(delta)
                yield delta
        except LLMError as e:
            yield replace(base, note=f"{e}; {FALLBACK}")
            return
        answer = to_answer(
            q,
            "".join(text),
            hits,
            self.embedder.encode,
            threshold=s.answers.min_support,
            passages=n,
            llm=model.name,
        )
        if answer.refused or unbacked(answer, raw, DOUBT if self.gate(s) else 0.0):
            yield replace(base, note=f"{NO_MODEL_ANSWER}; {FALLBACK}")
            return
        parts = across.cited(answer, base.parts)  # each part's article as this answer cites it
        answer = replace(answer, standalone=standalone, confidence=base.confidence, parts=parts)
        answer = disagree.check_sides(answer)
        yield self._finish(answer, loaded, s)
