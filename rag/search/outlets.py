"""Outlets: the index's outlet names, and the words of a question that name them.

    o = outlets(("The Daily Lantern", "Harbour Post | City News", "kelp.example"))
    [n.outlets for n in o.find("Did the Daily Lantern's report come before Harbour Post's?")]
    # [('The Daily Lantern',), ('Harbour Post | City News',)]

Outlets are matched against the index's own outlet names (`Article.outlet`): case aside, with
or without a leading "The", by the name before a " | ", " - " or ": " ("Harbour Post"), a web
host without its ending ("kelp"), and possessives ("Harbour Post's").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

_SEP = re.compile(r"\s+(?:\||-|–|—)\s+|:\s+")


def key(name: str) -> str:
    """An outlet name compared: lower case, one space, no leading "the", no quotes.

    >>> key("  The  Daily Lantern's"), key("KELP.example")
    ('daily lantern', 'kelp.example')
    """
    k = " ".join(name.replace("’", "'").strip(" '\"").lower().split())
    k = k.removesuffix("'s").removeprefix("the ")
    return k.removeprefix("www.")


def aliases(name: str) -> set[str]:
    """The keys `name` is known by: whole, its head before " | ", " - " or ": ", and a web
    host without its ending.

    >>> sorted(aliases("The Harbour Post | City News"))
    ['harbour post', 'harbour post | city news']
    >>> sorted(aliases("www.kelp.example"))
    ['kelp', 'kelp.example']
    """
    out = {key(name)}
    head = _SEP.split(name.strip(), maxsplit=1)[0]
    out.add(key(head))
    if re.fullmatch(r"[\w-]+(\.[\w-]+)+", key(head)):
        out.add(key(head).rsplit(".", 1)[0])
    return {a for a in out if len(a) >= 3}


@dataclass(frozen=True)
class Outlets:
    """The index's outlet names, and the question words that name them."""

    names: tuple[str, ...]
    by_key: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, hash=False)
    pattern: re.Pattern[str] | None = field(default=None, compare=False, hash=False)

    def find(self, question: str) -> list[Named]:
        """The outlets named in `question`, in order, longest names first where they overlap."""
        if self.pattern is None:
            return []
        found = []
        for m in self.pattern.finditer(question):
            k = key(m.group("name"))
            if k in self.by_key and _cased(m.group("name"), m.group("the"), self.by_key[k]):
                found.append(Named(m.group("name"), self.by_key[k], m.start(), m.end()))
        return found

    def known(self, name: str) -> bool:
        return key(name) in self.by_key


@lru_cache(maxsize=8)
def outlets(names: tuple[str, ...]) -> Outlets:
    """The matcher for these outlet names (the index's `Article.outlet` values)."""
    by_key: dict[str, set[str]] = {}
    for name in {n for n in names if n.strip()}:
        for a in aliases(name):
            by_key.setdefault(a, set()).add(name)
    keys = sorted(by_key, key=len, reverse=True)
    if not keys:
        return Outlets(tuple(sorted(set(names))))
    words = "|".join(re.escape(k).replace(r"\ ", r"\s+") for k in keys)
    pattern = re.compile(
        rf"(?<![\w.])(?P<the>the\s+)?(?P<name>(?:{words}))(?:'s|’s)?(?![\w])", re.IGNORECASE
    )
    frozen = {k: tuple(sorted(v)) for k, v in by_key.items()}
    return Outlets(tuple(sorted(set(names))), frozen, pattern)


def _cased(written: str, the: str | None, names: tuple[str, ...]) -> bool:
    """Whether words matched without regard to case name an outlet: written with a capital,
    unless the outlet's own name has inner capitals or a dot ("techcrunch" for TechCrunch);
    a one-word name that drops its "The" ("Verge" of "The Verge") needs its "the"."""
    if not any(c.isupper() for c in written):
        odd = any(re.search(r"[a-z][A-Z]|\.\w", n) for n in names)
        if not odd:
            return False
    whole = {key(n) for n in names}
    single = " " not in key(written) and key(written) in whole
    dropped = all(n.strip().lower().startswith("the ") for n in names)
    return bool(the) or not (single and dropped)


@dataclass(frozen=True)
class Named:
    """An outlet named in a question: the words, the index's names for it, where."""

    written: str
    outlets: tuple[str, ...]  # empty: not in the index
    start: int
    end: int
