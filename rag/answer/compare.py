"""Compare: which sentences of different articles give different values for the same thing
(`find`): the sides of each disagreement, newest first.

    [1] "Thirty countries signed the pact in Geneva."        (2024-08-01)
    [3] "31 countries have now signed the pact in Geneva."   (2024-08-03)
    -> Disagreement("the number of countries", (Side("31 countries", (3,)),
                                                Side("thirty countries", (1,))))

Two values are about the same thing when they are of one kind (and count the same noun) and
their sentences share the words around them; they disagree when `values.same` says they differ
and neither sentence also gives the other's value (nor, for a place or name, its passage).
Sentences of one article (or of its near-duplicate copies), about other periods ("in 2022" /
"in 2023") or about other subjects (no name in common, other stories) are not set against
each other.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from rag.answer.values import NOT_NAMES, Value, same, singular, tokens, values
from rag.text import STOP, facts
from rag.types import Disagreement, Side

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
    "weekday": "the day",
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
    story: str = ""  # its article's story (rag/index/stories.py), "" when unknown


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


@functools.lru_cache(maxsize=4096)
def _words(c: Claim) -> frozenset[str]:
    """The words of a claim's sentence and passage, lower case."""
    return frozenset(re.findall(r"[\w'’.-]+", f"{c.sentence} {c.passage}".lower()))


@functools.lru_cache(maxsize=4096)
def _names(c: Claim) -> frozenset[str]:
    """The names a claim's sentence gives besides its places and names compared (numbers,
    dates, days and months aside), lower case."""
    compared = {w for v in values(c.sentence) if v.kind in ("place", "name") for w in v.key}
    named = {f for f in facts(c.sentence) if not f[0].isdigit() and " " not in f}
    return frozenset(named - NOT_NAMES - compared)


def _one_event(a: Claim, b: Claim) -> bool:
    """`a` and `b` can be about one event: they are in one story, or they name something in
    common, or one's sentence names nothing the other's passage lacks (stories can miss)."""
    if a.story and a.story == b.story:
        return True
    x, y = _names(a), _names(b)
    if x & y:
        return True
    return x <= _words(b) or y <= _words(a)


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


def _weeks_apart(a: date | None, b: date | None) -> bool:
    """Articles published a week or more apart: the weekdays they name are of other weeks."""
    return a is not None and b is not None and abs((a - b).days) >= 7


def _gives(c: Claim, v: Value, own: Sequence[Value]) -> bool:
    """`c` also states `v` (its sentence; for a place or name, its passage too)."""
    if any(same(v, w) for w in own):
        return True
    if v.kind in ("place", "name"):
        return set(v.key) - {"the"} <= _words(c)
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
        if not per[i][0]:
            continue  # states no value
        for j in range(i + 1, len(claims)):
            cj = claims[j]
            if j >= cited and i >= cited or ci.doc_id == cj.doc_id or not per[j][0]:
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
            weeks = _weeks_apart(ci.published, cj.published)  # "on Monday": of other weeks
            for a, x in enumerate(ni):
                for b, y in enumerate(nj):
                    kind = x.value.kind
                    if periods and kind not in ("year", "date") or kind == "year" and not years_too:
                        continue
                    if kind == "weekday" and weeks:
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
        members = sorted(members, key=lambda m: ordinal(claims[m[0]].published), reverse=True)
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


def ordinal(d: date | None) -> int:
    """A date as a day number for sorting (0: undated, oldest)."""
    return d.toordinal() if d else 0
