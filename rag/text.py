"""Text: sentence spans, content words, the facts (numbers, names, dates) a sentence states and
the citation markers of an answer: shared by retrieval, answering, checking and the gate."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.types import Hit

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


# "[1]", "[1, 2]", "[1][3]", "[1], [2] and [3]" (one run), with the white space before it
CITE = re.compile(
    r"(\s*)\[(\d+(?:\s*[,;]\s*\d+)*)\](?:(?:\s*(?:,|;|and|&)?\s*)\[\d+(?:\s*[,;]\s*\d+)*\])*"
)
# a sentence ends at . ! or ? (closing quotes allowed) and the citations right after it
_END = re.compile(r"[.!?]+[\"'”’)]*((?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])*)(?=\s|$)")
_ABBREV = frozenset(
    "mr mrs ms dr st jr sr gen gov sen rep prof no vs etc inc co corp lt col".split()
)
PHRASE = 6  # words: up to this long, an answer is a phrase ("Ban on assault weapons")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
TOKEN = re.compile(r"[^\W_][\w'’.-]*")
WORDS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
WORDS |= {
    w: str(10 * i)
    for i, w in enumerate("thirty forty fifty sixty seventy eighty ninety".split(), 3)
}
ORDINALS = {
    w: str(i)
    for i, w in enumerate(
        "first second third fourth fifth sixth seventh eighth ninth tenth".split(), 1
    )
}
# capitalised words that start sentences without naming anything
_STARTERS = STOP | frozenset(
    "according however also yes both after before while but so because although since during "
    "despite other some many most all each several one officials experts critics researchers "
    "authorities in on at approximately about nearly almost around more less over under only "
    "just yet still now today yesterday recently last next first finally meanwhile instead "
    "overall specifically currently previously later earlier here sources".split()
)
_MONTHS = (
    "january february march april may june july august september october november december".split()
)
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
# "June 5", "5 June", "Jun. 5th" -> a fact "june 5" (so a wrong day is caught, not just a month)
_DATE = re.compile(
    rf"\b{_MONTH}\s+(\d{{1,2}})(?!\d)|\b(\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH}\b", re.I
)


def numbers(text: str) -> list[str]:
    return [m.group().replace(",", "") for m in _NUMBER.finditer(text)]


def dates(text: str) -> set[str]:
    """Month-and-day mentions as "june 5"."""
    out = set()
    for m in _DATE.finditer(text):
        month, day = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        name = next(x for x in _MONTHS if x.startswith(month.lower()[:3]))
        out.add(f"{name} {int(day)}")
    return out


def markers(text: str) -> list[int]:
    """Every citation number in `text`, in order: "a [1, 2]. b [3]" -> [1, 2, 3]."""
    return [int(n) for m in CITE.finditer(text) for n in re.findall(r"\d+", m.group(0))]


def strip_markers(text: str) -> str:
    return CITE.sub("", text).strip()


def split(text: str) -> list[tuple[int, int]]:
    """Sentence spans of an answer; the citations after a sentence's full stop belong to it.

    >>> t = "Mr. Macron spoke. [1] He left [2]."
    >>> [t[s:e] for s, e in split(t)]
    ['Mr. Macron spoke. [1]', 'He left [2].']
    """
    spans = []
    for line in re.finditer(r"[^\n]+", text):  # a line break ends a sentence too
        pos, end = line.start(), line.end()
        for m in _END.finditer(text, pos, end):
            before = re.search(r"(\w+)$", text[pos : m.start()])
            word = before.group(1) if before else ""
            if not m.group(1) and (word.lower() in _ABBREV or (len(word) == 1 and word.isupper())):
                continue  # "Mr." or an initial, not the end of a sentence
            spans.append((pos, m.end()))
            pos = m.end()
        spans.append((pos, end))
    trimmed = (trim(text, s, e) for s, e in spans)
    # words, not just markers/punctuation
    return [(s, e) for s, e in trimmed if re.search(r"\w", strip_markers(text[s:e]))]


def facts(sentence: str) -> set[str]:
    """The numbers and names a sentence states, normalised (lower case, possessive dropped).

    >>> sorted(facts("In June, Macron's team spent 1,200 euros on two cars."))
    ['1200', '2', 'june', 'macron']
    """
    out = set(numbers(sentence)) | dates(sentence)
    for i, m in enumerate(TOKEN.finditer(sentence)):
        tok = norm(m.group())
        if tok in WORDS:
            out.add(WORDS[tok])
        elif m.group()[0].isupper() and not tok.isdigit() and tok and tok not in STOP:
            if i == 0 and tok in _STARTERS:
                continue
            out.add(tok)
    return out


def norm(tok: str) -> str:
    tok = tok.lower().rstrip(".-'’")
    for tail in ("'s", "’s"):
        if tok.endswith(tail):
            tok = tok[: -len(tail)]
    return tok.replace(".", "") if re.fullmatch(r"([a-z]\.)+[a-z]?", tok) else tok  # U.S. = US


def phrase_words(claim: str) -> set[str] | None:
    """The words a short answer phrase states (stop words aside); None for a longer sentence.

    >>> sorted(phrase_words("The “Blue Harbour” series"))
    ['blue', 'harbour', 'series']
    """
    tokens = [norm(m.group()) for m in TOKEN.finditer(claim)]
    if len(tokens) > PHRASE:
        return None
    return {t for t in tokens if t and t not in STOP} | set(numbers(claim))


def unbacked(stated: set[str], allowed: set[str]) -> set[str]:
    """The stated facts `allowed` lacks; a name also counts when a word there starts with it
    ("Europe" in "European", "Iran" in "Iranian")."""
    out = stated - allowed
    return {
        f for f in out if len(f) < 4 or f[0].isdigit() or not any(w.startswith(f) for w in allowed)
    }


def known(hit: Hit) -> set[str]:
    """Everything a passage vouches for: its words and numbers (spelled-out ones too), and its
    article's title, outlet and publication date."""
    a = hit.article
    text = " ".join([hit.chunk.text, a.title, a.outlet])
    out = set(numbers(text)) | dates(text)
    for m in TOKEN.finditer(text):
        tok = norm(m.group())
        out.add(tok)
        out.update(p for p in re.split(r"[-.'’]", tok) if p)
        if tok in WORDS:
            out.add(WORDS[tok])
        if tok in ORDINALS:
            out.add(ORDINALS[tok])
    if a.published:
        d = a.published
        month = _MONTHS[d.month - 1]
        out |= {str(d.year), str(d.day), str(d.month), month, f"{month} {d.day}"}
    return out
