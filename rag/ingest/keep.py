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

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from rag.errors import RagError
from rag.index import generations as generation
from rag.index import store
from rag.ingest.follow import stored
from rag.names import shown
from rag.types import Article, Note, Skipped

BATCH = 10_000  # rows read at once (SQLite's limit on query parameters is higher)


def kept(
    index_dir: Path,
    articles: Sequence[Article],
    skipped: list[Skipped],
    on_note: Callable[[Skipped], object] | None = None,
) -> list[Article]:
    """`articles` plus the live ones that unreadable sources gave before; a note per source
    is added to `skipped` (and given to `on_note`). Only the paths of the live articles are
    read, and the articles kept."""
    gaps = {s.path: 0 for s in skipped if not isinstance(s, Note)}
    if not gaps:
        return list(articles)
    have = {a.doc_id for a in articles}
    try:
        st = store.Store(generation.current(index_dir) / generation.STORE)
    except RagError:  # no live generation (a first build), or a damaged one: nothing to keep
        return list(articles)
    try:
        rows = []  # live article rows to keep
        for row, doc_id, path in st.con.execute("SELECT row, doc_id, path FROM articles"):
            if doc_id in have or not path:
                continue
            where = shown(
                stored(path, index_dir)
            )  # skips are named as shown (rag/ingest/sources.py)
            gap = next((g for g in gaps if _under(where, g)), None)
            if gap is not None:
                gaps[gap] += 1
                have.add(doc_id)
                rows.append(row)
        extra = [a for n in range(0, len(rows), BATCH) for a in st.rows(rows[n : n + BATCH])]
    except (RagError, sqlite3.Error):
        return list(articles)
    finally:
        st.close()
    for gap, n in gaps.items():
        if n:
            note = Note(
                gap,
                f"cannot be read this time, so the {n} article{'s' * (n != 1)} it gave before "
                f"{'are' if n != 1 else 'is'} kept (`rag index update --prune` or `rag index "
                "remove` takes them out)",
            )
            skipped.append(note)
            if on_note:
                on_note(note)
    return [*articles, *extra]


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
