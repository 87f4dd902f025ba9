"""Check: does each sentence of a generated answer say only what the passages it cites say?

    result = check("Turnout was 61% [1]. It rained [7].", {1: hit1, 2: hit2}, encode, 0.45)
    result.text          # "Turnout was 61% [1]. It rained."   ([7] points at no passage)
    result.citations     # Citation(n=1, hit1, <supporting sentence span>, supported=...)
    result.unsupported   # spans of `result.text`: "It rained." (no citation left)

A sentence is supported when every number, date and name in it appears in the passages it
cites (their text, title, outlet or publication date) and it is close (cosine similarity of the
embedding model's vectors, at least `threshold`) to one of their sentences. A short answer
phrase ("40,000 [1].", at most `PHRASE` words) is too short for similarity to mean anything:
it is supported when each of its words appears in the passages it cites and, given the
`question`, when it answers it (rag/answer/asked.py: of the kind asked for, stated in a cited
sentence
about the question); a lead phrase that does not is `Checked.answered` False. The supporting
sentence of a citation is the cited passage's sentence most similar to the answer sentence.
A sentence the model left uncited is given the passage that passes this test for it, if any
(small models often forget the markers); otherwise it stays uncited and unsupported.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from rag.answer.asked import about, bare_yes_no, of_kind, stems
from rag.text import (
    CITE,
    TOKEN,
    facts,
    known,
    markers,
    norm,
    phrase_words,
    sentences,
    split,
    strip_markers,
    unbacked,
)
from rag.types import Citation, Hit

Encode = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class Sentence:
    """One answer sentence: its span in the checked text, the passages it cites, the verdict."""

    start: int
    end: int
    cited: tuple[int, ...]  # valid passage numbers, in the order written
    supported: bool
    similarity: float  # best cosine similarity to a sentence of a cited passage (0 if none)
    missing: tuple[str, ...] = ()  # numbers/names not found in the cited passages
    added: bool = False  # the model gave no citation; the check found this passage
    answers: bool = True  # False: a short phrase that does not answer the question asked


@dataclass(frozen=True)
class Checked:
    """The answer with bad citation numbers removed, its citations, and what is unsupported."""

    text: str
    citations: tuple[Citation, ...]
    sentences: tuple[Sentence, ...]
    dropped: tuple[int, ...]  # citation numbers that pointed at no passage

    @property
    def unsupported(self) -> tuple[tuple[int, int], ...]:
        return tuple((s.start, s.end) for s in self.sentences if not s.supported)

    @property
    def answered(self) -> bool:
        """False when the answer leads with a phrase that does not answer the question (it
        only repeats words of a passage, as an article's "answer 'X'" makes a model do)."""
        return not self.sentences or self.sentences[0].answers


def clean(text: str, valid: Sequence[int] | set[int]) -> tuple[str, tuple[int, ...]]:
    """Markers rewritten as "[1][2]", numbers not in `valid` removed; returns (text, dropped).

    >>> clean("Paris [1, 9]. Rome [9].", {1})
    ('Paris [1]. Rome.', (9,))
    """
    ok = set(valid)
    dropped: list[int] = []

    def repl(m: re.Match[str]) -> str:
        nums = list(dict.fromkeys(int(n) for n in re.findall(r"\d+", m.group(0))))
        dropped.extend(n for n in nums if n not in ok)
        kept = [n for n in nums if n in ok]
        return m.group(1) + "".join(f"[{n}]" for n in kept) if kept else ""

    out = CITE.sub(repl, text)
    return out.strip(), tuple(dict.fromkeys(dropped))


def _answers(question: str, claim: str, asked: set[str], said: Sequence[str]) -> bool:
    """The phrase `claim` answers `question` (stemmed: `asked`): it is of the kind asked for,
    and one of the sentences `said` that support it is about the question (shares a word with
    it; a question without content words asks nothing more)."""
    return of_kind(question, claim) and (not asked or any(about(asked, x) for x in said))


@dataclass(frozen=True)
class _Candidates:
    """The sentences of the passages that may support a claim, embedded with the claims."""

    hits: Mapping[int, Hit]
    spans: dict[int, list[tuple[int, int]]]  # passage -> its sentences (offsets in its article)
    vectors: np.ndarray  # one row per sentence, passage by passage in `spans` order
    offset: dict[int, int]  # passage -> the row of its first sentence
    asked: set[str]  # the question's stemmed content words

    def best(self, n: int, vec: np.ndarray, words: set[str] | None = None) -> tuple[float, int]:
        """(similarity, index) of passage n's sentence closest to `vec`; for a phrase, the
        sentence that holds most of its `words`, then most of the question's, then the closest."""
        cands, asked = self.spans, self.asked
        sims = self.vectors[self.offset[n] : self.offset[n] + len(cands[n])] @ vec
        order = sims
        if words:
            text = self.hits[n].article.text
            held = [len(words & {norm(t) for t in TOKEN.findall(text[s:e])}) for s, e in cands[n]]
            on = [min(about(asked, text[s:e]), 3) for s, e in cands[n]]
            order = np.asarray(held, dtype=np.float32) * 10 + np.asarray(on, np.float32) + sims
        j = int(np.argmax(order))
        return float(sims[j]), j


def _candidates(
    hits: Mapping[int, Hit], wanted: set[int], claims: list[str], encode: Encode, asked: set[str]
) -> tuple[_Candidates, np.ndarray]:
    """The candidate supporting sentences of passages `wanted`, and the claims' vectors."""
    cands: dict[int, list[tuple[int, int]]] = {}
    for n in sorted(wanted):
        h = hits[n]
        cands[n] = sentences(h.article.text, h.chunk.start, h.chunk.end) or [
            (h.chunk.start, h.chunk.end)
        ]
    cand_texts = [hits[n].article.text[s:e] for n in cands for s, e in cands[n]]
    vecs = encode(claims + cand_texts) if claims else np.zeros((0, 1), np.float32)
    claim_vecs, cand_vecs = vecs[: len(claims)], vecs[len(claims) :]
    offset, pos = {}, 0
    for n in cands:
        offset[n] = pos
        pos += len(cands[n])
    return _Candidates(hits, cands, cand_vecs, offset, asked), claim_vecs


def _attribute(
    cited: list[tuple[int, ...]],
    claims: list[str],
    phrases: list[set[str] | None],
    claim_vecs: np.ndarray,
    cands: _Candidates,
    threshold: float,
) -> set[int]:
    """Cite, for each sentence without a citation, the passage that backs it, if one does
    (`cited` is changed in place); the indices of the sentences given one."""
    hits = cands.hits
    added: set[int] = set()  # sentence indices
    for i, (nums, claim) in enumerate(zip(cited, claims, strict=True)):
        if not nums:
            words = phrases[i]
            stated = facts(claim) | (words or set())
            fits = [
                (cands.best(n, claim_vecs[i])[0], n)
                for n in cands.spans
                if not unbacked(stated, known(hits[n]))
            ]
            if fits and (words is not None or max(fits)[0] >= threshold):
                cited[i] = (max(fits)[1],)
                added.add(i)
    return added


def _insert(
    text: str, spans: list[tuple[int, int]], cited: list[tuple[int, ...]], added: set[int]
) -> str:
    """`text` with " [n]" after each sentence in `added`; `spans` are moved to match (in place)."""
    out: list[str] = []
    pos = shift = 0
    for i, (s, e) in enumerate(spans):
        start = s + shift
        if i in added:
            out += [text[pos:e], f" [{cited[i][0]}]"]
            pos = e
            shift += len(out[-1])
        spans[i] = (start, e + shift)
    out.append(text[pos:])
    return "".join(out)


def _verdicts(
    spans: list[tuple[int, int]],
    claims: list[str],
    cited: list[tuple[int, ...]],
    phrases: list[set[str] | None],
    claim_vecs: np.ndarray,
    cands: _Candidates,
    added: set[int],
    threshold: float,
    question: str,
) -> tuple[list[Citation], list[Sentence]]:
    """Each sentence's verdict against the passages it cites, and a citation per passage."""
    hits, asked = cands.hits, cands.asked
    citations: list[Citation] = []
    verdicts: list[Sentence] = []
    for i, ((s, e), claim, nums, vec) in enumerate(
        zip(spans, claims, cited, claim_vecs, strict=True)
    ):
        if not nums:
            verdicts.append(Sentence(s, e, (), False, 0.0))
            continue
        words = phrases[i]
        # a bare "No" to "Has it changed since ...?" answers it, and holds nothing to find in
        # the passages: the sentences after it say why
        bare = words is not None and bare_yes_no(question, claim)
        words = set() if bare else words
        stated = facts(claim) | (words or set())
        allowed: set[str] = set()
        for n in nums:
            allowed |= known(hits[n])
        missing = tuple(sorted(unbacked(stated, allowed)))
        closest = {n: cands.best(n, vec, words) for n in nums}  # passage -> (similarity, cand.)
        top = max(sim for sim, _ in closest.values())
        said = [hits[n].article.text[slice(*cands.spans[n][j])] for n, (_, j) in closest.items()]
        answers = words is None or not question or bare or _answers(question, claim, asked, said)
        ok = not missing and answers and (words is not None or top >= threshold)
        verdicts.append(Sentence(s, e, nums, ok, top, missing, i in added, answers))
        for n in nums:
            sim, j = closest[n]
            own = bool(stated & known(hits[n]))
            cs, ce = cands.spans[n][j]
            citations.append(
                Citation(
                    n=n,
                    hit=hits[n],
                    sentence_start=cs,
                    sentence_end=ce,
                    supported=ok and (sim >= threshold or own or words is not None),
                )
            )
    return citations, verdicts


def check(
    text: str,
    hits: Mapping[int, Hit],
    encode: Encode,
    threshold: float,
    *,
    attribute: bool = True,
    question: str = "",
) -> Checked:
    """Check every sentence of `text` against the passages `hits` (citation number -> hit).

    With `attribute`, a sentence the model left without a (valid) citation gets one, " [n]"
    after it, when passage n backs it (its facts there, similarity at least `threshold`);
    otherwise it stays uncited and unsupported. With `question`, a short phrase must also
    answer it (rag/answer/asked.py).
    """
    text, dropped = clean(text, set(hits))
    spans = split(text)
    claims = [strip_markers(text[s:e]) for s, e in spans]
    cited = [tuple(dict.fromkeys(markers(text[s:e]))) for s, e in spans]
    phrases = [phrase_words(c) for c in claims]  # None for a sentence longer than a phrase

    # candidate supporting sentences of the passages (offsets into their articles)
    wanted = set(hits) if attribute and not all(cited) else {n for c in cited for n in c}
    cands, claim_vecs = _candidates(hits, wanted, claims, encode, stems(question))
    # sentences without a citation: cite the passage that backs them, if one does
    added = _attribute(cited, claims, phrases, claim_vecs, cands, threshold) if attribute else set()
    text = _insert(text, spans, cited, added)
    citations, verdicts = _verdicts(
        spans, claims, cited, phrases, claim_vecs, cands, added, threshold, question
    )
    return Checked(text, tuple(citations), tuple(verdicts), dropped)
