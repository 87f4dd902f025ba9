"""Keep: a source that cannot be read this time removes nothing of what it gave before.

    articles = kept(index_dir, articles, skipped, on_skip)  # before a build writes its generation

A skip (not a note) names what gave nothing this time: a folder that is gone or cannot be
opened, a file that cannot be read or extracted, a feed or page that failed. The live
generation's articles read from under that name, and not read again this time, stay as they
were, and one note per source says how many. An article goes only when its source says so:
a file deleted from a folder that is still there (no skip names it), `rag index remove`, a
source taken off the list, or `rag index update --prune` (which does not call this).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from . import generation, store
from .errors import RagError
from .follow import stored
from .names import shown
from .sources import Note
from .types import Article, Skipped


def kept(
    index_dir: Path,
    articles: Sequence[Article],
    skipped: list[Skipped],
    on_note: Callable[[Skipped], object] | None = None,
) -> list[Article]:
    """`articles` plus the live ones that unreadable sources gave before; a note per source
    is added to `skipped` (and given to `on_note`)."""
    gaps = {s.path: 0 for s in skipped if not isinstance(s, Note)}
    if not gaps:
        return list(articles)
    have = {a.doc_id for a in articles}
    out = list(articles)
    for a in _live(index_dir):
        if a.doc_id in have or not a.path:
            continue
        where = shown(stored(a.path, index_dir))  # skips are named as shown (rag/sources.py)
        gap = next((g for g in gaps if _under(where, g)), None)
        if gap is not None:
            gaps[gap] += 1
            have.add(a.doc_id)
            out.append(a)
    notes = [
        Note(
            gap,
            f"cannot be read this time, so the {n} article{'s' * (n != 1)} it gave before "
            f"{'are' if n != 1 else 'is'} kept (`rag index update --prune` or `rag index "
            "remove` takes them out)",
        )
        for gap, n in gaps.items()
        if n
    ]
    for note in notes:
        skipped.append(note)
        if on_note:
            on_note(note)
    return out


def _under(path: str, gap: str) -> bool:
    """True when `path` (an article's) is `gap` or read from inside it: a folder's file, a
    JSONL file's record ("a.jsonl:7"), a saved feed's entry ("f.rss#2").

    >>> _under("/n/seeds/a.txt", "/n/seeds"), _under("/n/a.jsonl:7", "/n/a.jsonl")
    (True, True)
    >>> _under("/n/seeds2/a.txt", "/n/seeds")
    False
    """
    if path == gap:
        return True
    return any(path.startswith(gap.rstrip("/") + sep) for sep in ("/", ":", "#"))


def _live(index_dir: Path) -> list[Article]:
    """The live generation's articles ([] when there is none or it cannot be read)."""
    try:
        st = store.Store(generation.current(index_dir) / generation.STORE)
    except RagError:
        return []
    try:
        return st.articles()
    except RagError:
        return []
    finally:
        st.close()
