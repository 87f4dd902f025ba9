"""Text: sentence spans and content words, shared by answering, checking and the gate."""

from __future__ import annotations

import re

# a sentence ends at . ! or ? (plus closing quotes/brackets) before white space and a capital,
# digit or opening quote (after a month's abbreviation, a capital only: "on Aug. 19"); or at
# a line break
_MON = r"\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\."
_BOUNDARY = re.compile(
    rf"(?<=[.!?])(?<!{_MON})(?<!\bSept\.)([\"'”’)\]]*)\s+(?=[\"“‘(\[]?[A-Z0-9])"
    rf"|(?:(?<={_MON})|(?<=\bSept\.))\s+(?=[A-Z])|\n+"
)
_WORD = re.compile(r"[A-Za-z0-9]+")
STOP = frozenset(
    "a an the of in on at to for by with from and or is are was were be been what which who whom "
    "whose when where why how did do does that this these those it its as about into than then "
    "there their they he she his her has have had not no will would can could should".split()
)


def sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the sentences of `text[start:end]`, as offsets into `text`, trimmed.

    >>> sentences("Hi there. Bye now!")
    [(0, 9), (10, 18)]
    """
    end = len(text) if end is None else end
    out = []
    pos = start
    for m in _BOUNDARY.finditer(text, start, end):
        out.append((pos, m.end(1) if m.group(1) is not None else m.start()))
        pos = m.end()
    out.append((pos, end))
    return [(s, e) for s, e in (trim(text, s, e) for s, e in out) if e - s >= 3]


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """The span `text[start:end]` without surrounding white space.

    >>> trim("  hi  ", 0, 6)
    (2, 4)
    """
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def content_words(text: str) -> set[str]:
    """Lower-cased words of `text` that are not stop words.

    >>> sorted(content_words("When did the ferry sail?"))
    ['ferry', 'sail']
    """
    return {w for w in (m.group().lower() for m in _WORD.finditer(text)) if w not in STOP}
