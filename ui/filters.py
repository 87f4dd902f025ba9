"""Filters: the settings in plain words, the line that says which filters and mode an answer
was made with, and the server's notes told in a reader's words (details go to the log).

    >>> date_range(date(2022, 6, 1), date(2022, 6, 30))
    '1–30 June 2022'
    >>> filters_text(Query(outlets=("CNN",), date_from=date(2022, 6, 1), date_to=date(2022, 6, 30)))
    'Only CNN · 1–30 June 2022 · answers copied from the articles'
"""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING

from rag.ask import FALLBACK, NO_MODEL_ANSWER
from rag.query import Query

from .overview import day
from .render import esc

if TYPE_CHECKING:
    from rag.pipeline import Pipeline
    from rag.types import Answer

log = logging.getLogger("rag.ui")

# (label, value): the values are what the API and `Query` take
MODE_CHOICES = [
    ("Both (recommended)", "hybrid"),
    ("Match by meaning", "dense"),
    ("Match exact words", "bm25"),
]
MODE_WORDS = {"dense": "matched by meaning", "bm25": "matched by exact words"}
ANSWER_CHOICES = [
    ("Copied from the articles", "extractive"),
    ("Written by the model from the articles (every citation checked)", "LLM"),
]
COPIED = "answers copied from the articles"
UNREACHABLE = "The writing model could not be reached, so this answer is copied from the articles."
NOT_BACKED = "The writing model gave no answer the articles back, so this one is copied from them."


def date_range(start: date | None, end: date | None) -> str:
    """A date filter in words: '1–30 June 2022', '28 May – 3 June 2022', 'from 1 June 2022'."""
    if start and end:
        if start == end:
            return day(start)
        if (start.year, start.month) == (end.year, end.month):
            return f"{start.day}–{day(end)}"
        if start.year == end.year:
            return f"{start.day} {start:%B} – {day(end)}"
        return f"{day(start)} – {day(end)}"
    if start:
        return f"from {day(start)}"
    if end:
        return f"until {day(end)}"
    return ""


def filtered(q: Query) -> bool:
    """Whether the request narrows the articles (outlets or dates)."""
    return bool(q.outlets or q.date_from or q.date_to)


def mode_words(q: Query, answer: Answer | None = None) -> str:
    """How the answer is made: written by a model, or copied from the articles."""
    if answer is not None and answer.llm and not answer.refused:
        return f"answer written by {answer.llm} from the articles, every citation checked"
    return COPIED


def filters_text(q: Query, answer: Answer | None = None) -> str:
    """'Only CNN · 1–30 June 2022 · answers copied from the articles' (plain text)."""
    outlets = " and ".join(q.outlets) if len(q.outlets) < 3 else f"{len(q.outlets)} outlets"
    parts = [
        f"Only {outlets}" if q.outlets else "All outlets",
        date_range(q.date_from, q.date_to) or "any date",
    ]
    if q.mode in MODE_WORDS:
        parts.append(MODE_WORDS[q.mode])
    parts.append(mode_words(q, answer))
    return " · ".join(parts)


def filters_html(q: Query, answer: Answer | None = None) -> str:
    """The filters line under an answer, with a link that clears the filters when any apply
    (the page's script presses the #clear-filters button for it)."""
    clear = (
        ' <a href="#clear-filters" class="clear-filters" role="button">Clear filters</a>'
        if filtered(q)
        else ""
    )
    cls = "filters on" if filtered(q) else "filters"
    return f'<span class="{cls}">{esc(filters_text(q, answer))}</span>{clear}'


def filters_now(values: dict) -> str:
    """The line above the question box: the filters that the next question will use."""
    try:
        q = Query.from_panel(values)
    except Exception as e:  # noqa: BLE001 - a half-typed date: say so, the answer explains
        return f'<div class="filters-now" id="filters-now">{esc(str(e))}</div>'
    if not filtered(q):
        return '<div class="filters-now" id="filters-now"></div>'
    text = esc(" · ".join(filters_text(q).split(" · ")[:2]))
    return f'<div class="filters-now on" id="filters-now">Filters on: {text}</div>'


def reader_note(note: str) -> str:
    """The pipeline's note on an answer, in a reader's words; the details go to the server log.

    >>> reader_note("LLM server at http://x failed; check RAG_LLM_URL; " + FALLBACK)
    'The writing model could not be reached, so this answer is copied from the articles.'
    """
    if not note:
        return ""
    if FALLBACK in note:
        log.warning("answer note: %s", note)
        return NOT_BACKED if NO_MODEL_ANSWER in note else UNREACHABLE
    return note[:1].upper() + note[1:] + ("" if note.endswith(".") else ".")


def llm_configured(pipeline: Pipeline) -> bool:
    """Whether the server's owner configured a model that can write answers (an endpoint URL,
    a model file, extra endpoints, a model `rag llm install` put in place, or one given in
    code); the LLM choice is offered only then."""
    from rag.llm.install import installed

    s = pipeline.settings
    if s.llm.url or s.llm.path or s.llm.endpoints:
        return True
    if "default" in getattr(pipeline.endpoints, "_clients", {}):
        return True
    try:
        return installed(s.llm.dir.expanduser()) is not None
    except OSError:
        return False
