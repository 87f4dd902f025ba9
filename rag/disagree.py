"""Disagree: where the cited sentences of different articles give different values for the same
thing, found (`find`), said plainly in the answer (`attach`), and checked when a model said it.

    [1] "Thirty countries signed the pact in Geneva."        (2024-08-01)
    [3] "31 countries have now signed the pact in Geneva."   (2024-08-03)
    -> Disagreement("the number of countries", (Side("31 countries", (3,)),
                                                Side("thirty countries", (1,))))
    -> "Sources disagree on the number of countries: [3] (2024-08-03, the latest) says 31
        countries; [1] (2024-08-01) says thirty countries."

Two values are about the same thing when they are of one kind (and count the same noun) and
their sentences share the words around them; they disagree when `values.same` says they differ
and neither sentence also gives the other's value (nor, for a place or name, its passage).
Sentences of one article (or of its near-duplicate copies) are never set against each other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from .check import facts, known, markers, split, unbacked
from .text import STOP, sentences
from .types import Answer, Citation, Disagreement, Hit, Side
from .values import NOT_NAMES, Value, same, singular, tokens, values

WINDOW = (5, 4)  # content words looked at left and right of a value
NEAR = 0.45  # share of content words two sentences must share when only one word is around both
_QUIET = STOP | frozenset(
    "said says say told according also more than least about nearly some just over up down "
    "now new would will could may might one last".split()
)
_NUMERIC = ("number", "money", "percent", "year")
_ABOUT = {
    "money": "the amount",
    "percent": "the percentage",
    "year": "the year",
    "date": "the date",
    "place": "the place",
    "name": "the name",
}


@dataclass(frozen=True)
class Claim:
    """A sentence an answer cites (or could cite): citation number, article, text."""

    n: int
    doc_id: str
    published: date | None
    sentence: str
    passage: str = ""  # the passage it is from: a place or name given there is no conflict
    copies: frozenset[str] = frozenset()  # doc_ids of the article's near-duplicate copies
    start: int = -1  # the sentence's span in its article (to cite it), -1 when unknown
    end: int = -1
    story: str = ""  # its article's story (rag/stories.py), "" when unknown


@dataclass(frozen=True)
class _Node:
    claim: int
    value: Value
    window: frozenset[str]


def stem(word: str) -> str:
    """A word's rough stem, so that "cancelled", "cancels" and "cancel" meet.

    >>> [stem(w) for w in ("cancelled", "cancel", "countries", "signed", "signing")]
    ['cancel', 'cancel', 'country', 'sign', 'sign']
    """
    w = singular(word)
    for tail in ("ing", "ed"):
        if len(w) > len(tail) + 3 and w.endswith(tail):
            w = w[: -len(tail)]
            if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiou":
                w = w[:-1]  # "cancell" -> "cancel"
            break
    return w


def _content(sentence: str, vals: Sequence[Value]) -> tuple[list[str], list[int]]:
    """Content words (singular, lower case) outside the values, and their token positions."""
    words, where = [], []
    for i, (t, s, _) in enumerate(tokens(sentence)):
        w = t.lower()
        inside = any(v.start <= s < v.end for v in vals)
        if not inside and w.isalpha() and w not in _QUIET and len(w) > 1:
            words.append(stem(w))
            where.append(i)
    return words, where


def _nodes(c: Claim, index: int) -> tuple[list[_Node], set[str]]:
    vals = values(c.sentence)
    words, where = _content(c.sentence, vals)
    toks = tokens(c.sentence)
    out = []
    for v in vals:
        first = next((i for i, (_, s, e) in enumerate(toks) if e > v.start), 0)
        last = max((i for i, (_, s, _e) in enumerate(toks) if s < v.end), default=first)
        lo, hi = first - WINDOW[0], last + WINDOW[1]
        near = {w for w, i in zip(words, where, strict=True) if lo <= i <= hi}
        out.append(_Node(index, v, frozenset(near | ({stem(v.unit)} if v.unit else set()))))
    return out, set(words)


def _names(c: Claim) -> set[str]:
    """The names a claim's sentence gives besides its places and names compared (numbers,
    dates, days and months aside), lower case."""
    compared = {w for v in values(c.sentence) if v.kind in ("place", "name") for w in v.key}
    named = {f for f in facts(c.sentence) if not f[0].isdigit() and " " not in f}
    return named - NOT_NAMES - compared


def _one_event(a: Claim, b: Claim) -> bool:
    """`a` and `b` can be about one event: they are in one story, or they name something in
    common, or one's sentence names nothing the other's passage lacks (stories can miss)."""
    if a.story and a.story == b.story:
        return True
    x, y = _names(a), _names(b)
    if x & y:
        return True
    other_a = set(re.findall(r"[\w'’.-]+", f"{b.sentence} {b.passage}".lower()))
    other_b = set(re.findall(r"[\w'’.-]+", f"{a.sentence} {a.passage}".lower()))
    return x <= other_a or y <= other_b


def _about_same(a: _Node, b: _Node, overlap: float) -> bool:
    """`a` and `b` state the same thing: same kind and unit, and the words around them agree."""
    x, y = a.value, b.value
    if x.kind != y.kind or x.key != y.key and x.kind in ("money", "percent"):
        return False
    local = len(a.window & b.window)
    if x.kind == "number" and x.unit != y.unit:
        # "killed 14 people" / "the toll has risen to 21": one counts no noun; the words around
        # them must then agree the more
        return bool(x.unit) != bool(y.unit) and local >= 3
    return local >= 2 or (local >= 1 and overlap >= NEAR)


def _when(vals: Sequence[Value], published: date | None) -> tuple[set[str], set[tuple[str, ...]]]:
    """The years a sentence is about (those it names, else its article's), and the days it
    names ("the week of Feb. 3-10")."""
    years = {v.text for v in vals if v.kind == "year"}
    if not years and published:
        years = {str(published.year)}
    return years, {v.key[:2] for v in vals if v.kind == "date"}


def _gives(c: Claim, v: Value, own: Sequence[Value]) -> bool:
    """`c` also states `v` (its sentence; for a place or name, its passage too)."""
    if any(same(v, w) for w in own):
        return True
    if v.kind in ("place", "name"):
        text = set(re.findall(r"[\w'’.-]+", f"{c.sentence} {c.passage}".lower()))
        return set(v.key) - {"the"} <= text
    return False


def _about(nodes: Sequence[_Node]) -> str:
    v = nodes[0].value
    if v.kind == "number":
        noun = next((n.value.text.split()[-1] for n in nodes if n.value.unit), "")
        return f"the number of {noun.lower()}" if noun else "the figure"
    return _ABOUT[v.kind]


def find(claims: Sequence[Claim], cited: int | None = None) -> list[tuple[Disagreement, set[int]]]:
    """Disagreements among `claims`, sides newest first, each with the claims it rests on.

    Only the first `cited` claims (default: all) are the answer's; the others are candidates,
    set against those only, and kept only where they disagree with one.
    """
    cited = len(claims) if cited is None else cited
    per: list[tuple[list[_Node], set[str]]] = [_nodes(c, i) for i, c in enumerate(claims)]
    parent: dict[tuple[int, int], tuple[int, int]] = {}

    def root(x: tuple[int, int]) -> tuple[int, int]:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    linked: set[tuple[int, int]] = set()  # (claim, value) nodes about something another states
    pairs: list[tuple[int, int]] = []  # nodes whose values differ from one they are linked to
    for i, ci in enumerate(claims):
        for j in range(i + 1, len(claims)):
            cj = claims[j]
            if j >= cited and i >= cited or ci.doc_id == cj.doc_id:
                continue
            if ci.doc_id in cj.copies or cj.doc_id in ci.copies or not _one_event(ci, cj):
                continue
            (ni, wi), (nj, wj) = per[i], per[j]
            overlap = len(wi & wj) / max(1, len(wi | wj))
            vi, vj = [n.value for n in ni], [n.value for n in nj]
            (yi, di), (yj, dj) = _when(vi, ci.published), _when(vj, cj.published)
            # "rose 12% in 2022" / "8% in 2023", "the week of Feb. 3-10" / "of Feb. 10-17"
            periods = bool(yi and yj and not yi & yj) or bool(di and dj and not di & dj)
            # with other figures on both sides, the differing years are periods, not a claim
            years_too = not (
                any(v.kind != "year" for v in vi) and any(v.kind != "year" for v in vj)
            )
            for a, x in enumerate(ni):
                for b, y in enumerate(nj):
                    kind = x.value.kind
                    if periods and kind not in ("year", "date") or kind == "year" and not years_too:
                        continue
                    if not _about_same(x, y, overlap):
                        continue
                    linked |= {(i, a), (j, b)}
                    parent[root((j, b))] = root((i, a))
                    if not same(x.value, y.value) and not (
                        _gives(cj, x.value, vj) or _gives(ci, y.value, vi)
                    ):
                        pairs.append((i, a))
    conflicts = {root(p) for p in pairs}
    groups: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for member in sorted(linked):
        groups.setdefault(root(member), []).append(member)
    out: list[tuple[Disagreement, set[int]]] = []
    for r, members in groups.items():
        if r not in conflicts:
            continue
        members = sorted(members, key=lambda m: _newest(claims[m[0]].published), reverse=True)
        nodes = [per[i][0][a] for i, a in members]
        sides: list[tuple[Value, list[int]]] = []  # (the newest value as said, claim indices)
        for (i, _), node in zip(members, nodes, strict=True):
            for value, who in sides:
                if same(value, node.value):
                    who.append(i)
                    break
            else:
                sides.append((node.value, [i]))
        cites = [claims[i].n for _, who in sides for i in set(who)]
        if len(sides) < 2 or len(cites) != len(set(cites)):
            continue  # one value only, or a source giving several: no clear disagreement
        made = tuple(Side(_said(v), tuple(sorted({claims[i].n for i in who}))) for v, who in sides)
        used = {i for _, who in sides for i in who}
        d = Disagreement(_about(nodes), made)
        if all(d != e for e, _ in out):
            out.append((d, used))
    return out


def _said(v: Value) -> str:
    """The value as written, a number that opened its sentence in lower case ("thirty")."""
    if v.kind in _NUMERIC and v.text[:1].isupper():
        return v.text[:1].lower() + v.text[1:]
    return v.text


def _newest(d: date | None) -> int:
    return d.toordinal() if d else 0


def say(d: Disagreement, dates: dict[int, date | None]) -> str:
    """The sentence for the answer: "Sources disagree on X: [3] (2024-08-03, the latest) says
    …; [1] (2024-08-01) says …." (`dates`: citation number -> its article's date)."""
    when = [max((_newest(dates.get(n)) for n in s.citations), default=0) for s in d.sides]
    parts = []
    for k, (side, day) in enumerate(zip(d.sides, when, strict=True)):
        cites = "".join(f"[{n}]" for n in side.citations)
        tag = date.fromordinal(day).isoformat() if day else "undated"
        if k == 0 and day and all(day > w for w in when[1:]):
            tag += ", the latest"
        verb = "says" if len(side.citations) == 1 else "say"
        parts.append(f"{cites} ({tag}) {verb} {side.value}")
    return f"Sources disagree on {d.about}: " + "; ".join(parts) + "."


def _claim(n: int, hit: Hit, start: int, end: int, story: str) -> Claim:
    a = hit.article
    copies = frozenset(o.doc_id for o in hit.also)
    return Claim(
        n, a.doc_id, a.published, a.text[start:end], hit.chunk.text, copies, start, end, story
    )


def attach(answer: Answer, passages: int = 5, story: Mapping[str, str] | None = None) -> Answer:
    """`answer` with its disagreements: found among its cited sentences and, against those, the
    sentences of the first `passages` hits it does not cite (cited where they disagree), and
    said in a paragraph after the answer for each one the text does not already state.
    `story`: doc_id -> story id (sentences in one story are compared whatever names they give).
    """
    story = story or {}
    if answer.refused or not answer.citations:
        return replace(answer, disagreements=())
    seen: set[tuple[int, int, int]] = set()
    claims: list[Claim] = []
    for c in answer.citations:
        if (c.n, c.sentence_start, c.sentence_end) not in seen:
            seen.add((c.n, c.sentence_start, c.sentence_end))
            doc = c.hit.article.doc_id
            claims.append(_claim(c.n, c.hit, c.sentence_start, c.sentence_end, story.get(doc, "")))
    asked = {f for f in facts(answer.standalone or answer.question) if not f[0].isdigit()}

    def on_topic(c: Claim) -> bool:  # the passage names something the question names
        return not asked or bool(asked & set(re.findall(r"[\w'’.-]+", c.passage.lower())))

    claims = [c for c in claims if on_topic(c)]
    cited = len(claims)
    docs = {c.doc_id for c in claims}
    for h in answer.hits[:passages]:
        if h.article.doc_id not in docs:
            for s, e in sentences(h.article.text, h.chunk.start, h.chunk.end):
                claims.append(_claim(h.rank, h, s, e, story.get(h.article.doc_id, "")))
    claims[cited:] = [c for c in claims[cited:] if on_topic(c)]
    found = find(claims, cited)
    if not found:
        return replace(answer, disagreements=())
    citations = list(answer.citations)
    hits = {h.rank: h for h in answer.hits}
    for _, used in found:
        for i in sorted(used):
            cl = claims[i]
            if i >= cited and (cl.n, cl.start, cl.end) not in seen and cl.n in hits:
                seen.add((cl.n, cl.start, cl.end))
                citations.append(Citation(cl.n, hits[cl.n], cl.start, cl.end))
    dates = {h.rank: h.article.published for h in answer.hits}
    text = answer.text
    for d, _ in found:
        if not stated(text, d):
            text = f"{text.rstrip()}\n\n{say(d, dates)}"  # a paragraph of its own
    return replace(
        answer,
        text=text,
        citations=tuple(citations),
        disagreements=tuple(d for d, _ in found),
    )


# ------------------------------------------------------------- a model's account, checked

_DIFFER = re.compile(r"\b(disagree|differ|conflict|contradict|while|whereas|but)", re.I)
_SAYS = re.compile(
    r"((?:\[\d+\]\s*)+)(?:\([^)]*\)\s*)?(?:says?|reports?|gives?|puts? it at|states?|puts?)\s+"
    r"([^;\[]+)",
    re.I,
)


def stated(text: str, d: Disagreement) -> bool:
    """`text` already says disagreement `d`: one sentence cites every side, with its value."""
    for s, e in split(text):
        sentence = text[s:e]
        cited = set(markers(sentence))
        have = facts(sentence) | {w.lower() for w in re.findall(r"[\w'’.-]+", sentence)}
        if all(
            set(side.citations) & cited and (facts(side.value) or {side.value.lower()}) <= have
            for side in d.sides
        ):
            return True
    return False


def check_sides(answer: Answer) -> Answer:
    """A generated answer whose sentence reports a disagreement ("[1] says 30; [3] says 31")
    gets that sentence marked unsupported when a side's value is not in the passage it cites."""
    hits = {h.rank: h for h in answer.hits}
    bad: list[tuple[int, int]] = []
    for s, e in split(answer.text):
        sentence = answer.text[s:e]
        if not _DIFFER.search(sentence):
            continue
        for m in _SAYS.finditer(sentence):
            stated_ = facts(m.group(2).strip(" .,"))
            for n in markers(m.group(1)):
                if n in hits and unbacked(stated_, known(hits[n])):
                    bad.append((s, e))
    if not bad:
        return answer
    spans = tuple(sorted({*answer.unsupported, *bad}))
    note = "a side of the disagreement the model reported is not in the passage it cites"
    return replace(answer, unsupported=spans, note="; ".join(x for x in (answer.note, note) if x))
