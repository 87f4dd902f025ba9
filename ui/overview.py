"""Overview: the chat's first screen (what is in the index, example questions made from it,
hints that match the layout at each width); pure HTML, all article text escaped.

    >>> subject("Harbour council approves new ferry route on Monday")
    ''
    >>> subject("The Elwin Harbour council approves a new ferry route")
    'Elwin Harbour'
    >>> question_for(Article("d", "Mayor Ana Ruiz said the bridge reopens", "x"))
    'What did Mayor Ana Ruiz say?'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from rag.answer.phrase import candidates
from rag.ingest.records import outlet
from rag.types import Article, Manifest

from .render import esc

SAYS = re.compile(
    r"\s*(?:has |have |had )?(?:said|says|say|stated|states|told|tells|warned|warns|announced|"
    r"announces|claimed|claims|confirmed|confirms|denied|denies|argued|argues|insisted|insists|"
    r"urged|urges|added|adds)\b"
)
MAX_SUBJECT_WORDS = 6  # a longer name is skipped, never cut
# the hint under the question box: one text per layout, the other hidden by the page's CSS
HINTS = (
    '<div class="hints" id="hints">'
    '<p class="hint-wide">Each answer cites its sources as [n]: point at one to read the '
    "sentence it comes from; click it to see the whole passage in the sources beside the chat. "
    "Settings (dates, outlets) are under the question box.</p>"
    '<p class="hint-narrow">Each answer cites its sources as [n]: tap one to read the sentence '
    "it comes from; “All sources” opens every passage, with a way back to the answer. "
    "Settings (dates, outlets) are under the question box.</p></div>"
)


def day(d: date) -> str:
    """`day(date(2022, 6, 1))` -> '1 June 2022'."""
    return f"{d.day} {d:%B %Y}"


def outlets_of(articles: Iterable[Article]) -> list[str]:
    """The outlets of `articles` (each article's own, else its URL's host), most articles first."""
    counts: dict[str, int] = {}
    for a in articles:
        name = outlet(a)
        if name:
            counts[name] = counts.get(name, 0) + 1
    return sorted(counts, key=lambda o: (-counts[o], o))


def refreshed(built_at: str) -> str:
    """The manifest's build time for people: '6 December 2025, 21:51 UTC' ("" if unreadable)."""
    try:
        t = datetime.fromisoformat(built_at)
    except ValueError:
        return ""
    return f"{day(t.date())}, {t:%H:%M} UTC"


def overview_html(articles: Sequence[Article], manifest: Manifest | None, problem: str = "") -> str:
    """One line on what the chat answers from: articles, outlets, dates, last refresh.

    >>> a = Article("d", "T", "x", published=date(2024, 5, 1), outlet="cnn.com")
    >>> overview_html([a], None)
    '<div class="overview" id="overview">Answers come from <b>1 article</b> from 1 outlet ...'
    """
    if not articles:
        why = esc(problem) if problem else "There are no articles in the index yet."
        return f'<div class="overview empty" id="overview">{why}</div>'
    n = len(articles)
    names = outlets_of(articles)
    shown = ", ".join(esc(o) for o in names[:3])
    shown += f" and {len(names) - 3} more" if len(names) > 3 else ""
    parts = [f"Answers come from <b>{n:,} article{'s' * (n != 1)}</b>"]
    if names:
        parts[0] += f" from {len(names)} outlet{'s' * (len(names) != 1)} ({shown})"
    dates = sorted(a.published for a in articles if a.published)
    if dates:
        span = day(dates[0]) if dates[0] == dates[-1] else f"{day(dates[0])} – {day(dates[-1])}"
        undated = n - len(dates)
        parts.append(f"published {span}" + (f" ({undated} undated)" if undated else ""))
    when = refreshed(manifest.built_at) if manifest else ""
    if when:
        parts.append(f"last refreshed {when}")
    return f'<div class="overview" id="overview">{" · ".join(parts)}</div>'


def _title_case(title: str) -> bool:
    words = [w for w in title.split() if w[:1].isalpha() and len(w) > 3]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) > 0.6 * len(words)


def subject(title: str) -> str:
    """The first name in a headline (a person, place or body); "" when it has none, when the
    name is longer than MAX_SUBJECT_WORDS words, or when every word is capitalised anyway.
    A lone capitalised word that starts a sentence counts only when it is an acronym or when
    words said follow it ("Rutte says ...")."""
    if _title_case(title):
        return ""
    for s, e in candidates("name", title):
        name = title[s:e].strip(" '’-")
        if not name or len(name.split()) > MAX_SUBJECT_WORDS or name.isdigit():
            continue
        before = title[:s].rstrip()
        lone_first = " " not in name and (not before or before[-1] in ".!?:")
        if lone_first and not (name.isupper() and len(name) > 1) and not SAYS.match(title[e:]):
            continue
        return name
    return ""


def question_for(a: Article, by_outlet: bool = False) -> str:
    """An example question about article `a`, made from its title; "" when none fits.

    A short headline that is a question is asked as it is; otherwise the headline's subject
    is asked about: "What did <name> say?" when the headline reports words,
    "What did <outlet> report about <name>?" (`by_outlet`), else "What happened with <name>?".
    """
    title = " ".join(a.title.split())
    if title.endswith("?") and len(title.split()) <= 14:
        return title
    name = subject(title)
    if not name:
        return ""
    after = title[title.find(name) + len(name) :]
    if SAYS.match(after):
        return f"What did {name} say?"
    source = outlet(a)
    if by_outlet and source:
        return f"What did {source} report about {name}?"
    return f"What happened with {name}?"


def example_questions(articles: Iterable[Article], n: int = 4) -> list[str]:
    """Up to `n` example questions from the newest articles' headlines, one per subject,
    whole (never cut), every other one naming its outlet when it has one."""
    newest = sorted(
        (a for a in articles if a.title.strip()),
        key=lambda a: (a.published or date.min, a.doc_id),
        reverse=True,
    )
    out: list[str] = []
    seen: set[str] = set()
    for a in newest:
        q = question_for(a, by_outlet=len(out) % 2 == 1)
        key = subject(a.title).lower() or q.lower()
        if not q or key in seen:
            continue
        seen.add(key)
        out.append(q)
        if len(out) == n:
            break
    return out
