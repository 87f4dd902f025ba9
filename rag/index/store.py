"""Store: articles and chunk offsets in SQLite, plus the per-chunk arrays retrieval needs.

Any SQLite error while reading (a damaged page: "database disk image is malformed", text that
"could not decode to UTF-8") becomes an IndexCorruptError naming the file, mid-answer too.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path

import numpy as np

from rag.errors import IndexCorruptError, brief
from rag.index.generations import REBUILD
from rag.types import Article, Chunk

SCHEMA = """
CREATE TABLE articles (
    row INTEGER PRIMARY KEY, doc_id TEXT UNIQUE NOT NULL, title TEXT, text TEXT,
    published TEXT, source TEXT, url TEXT, path TEXT, author TEXT, content_hash TEXT,
    canonical INTEGER, signature BLOB);
CREATE TABLE chunks (id INTEGER PRIMARY KEY, article INTEGER NOT NULL, start INTEGER, end INTEGER);
"""
COLUMNS = "doc_id, title, text, published, source, url, path, author, content_hash"


def write(
    path: Path,
    articles: Sequence[Article],
    spans: Sequence[Sequence[tuple[int, int]]],
    canonical: Sequence[int],
    signatures: Sequence[np.ndarray],
) -> int:
    """Write `articles` and their chunk `spans` (one list per article); chunk ids are 0..n-1.

    `canonical[i]` is the row of article i's near-duplicate group leader (i itself if alone);
    `signatures[i]` its MinHash, kept so later builds need not recompute it.
    """
    con = sqlite3.connect(path)
    try:
        con.executescript(SCHEMA)
        con.executemany(
            f"INSERT INTO articles (row, {COLUMNS}, canonical, signature) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                (
                    i,
                    a.doc_id,
                    a.title,
                    a.text,
                    a.published.isoformat() if a.published else None,
                    a.outlet,
                    a.url,
                    a.path,
                    a.author,
                    a.content_hash,
                    int(canonical[i]),
                    np.asarray(signatures[i], dtype=np.uint64).tobytes(),
                )
                for i, a in enumerate(articles)
            ),
        )
        rows = ((row, s, e) for row, sp in enumerate(spans) for s, e in sp)
        con.executemany(
            "INSERT INTO chunks (id, article, start, end) VALUES (?,?,?,?)",
            ((cid, row, s, e) for cid, (row, s, e) in enumerate(rows)),
        )
        con.commit()
        n = con.execute("SELECT count(*) FROM chunks").fetchone()[0]
    finally:
        con.close()
    return int(n)


def _article(row: tuple) -> Article:
    doc_id, title, text, published, source, url, path, author, content_hash = row
    return Article(
        doc_id=doc_id,
        title=title or "",
        text=text or "",
        published=date.fromisoformat(published) if published else None,
        outlet=source or "",
        url=url or "",
        path=path or "",
        author=author or "",
        content_hash=content_hash or "",
    )


class Store:
    """Read-only view of one generation's `store.sqlite`.

    In memory: `chunk_article[id] -> article row`, `article_day[row] -> date ordinal (0 = unknown)`,
    `article_source[row] -> outlet`, `doc_ids[row] -> doc_id`.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        if not path.is_file():  # sqlite would fail with "unable to open database file"
            raise IndexCorruptError(f"{path} is missing; {REBUILD}")
        with self._reading():
            self.con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        try:
            self._load()
        except BaseException:
            self.con.close()
            raise

    def _load(self) -> None:
        with self._reading():
            arts = self.con.execute(
                "SELECT row, doc_id, published, source, canonical FROM articles ORDER BY row"
            ).fetchall()
            chunks = self.con.execute("SELECT id, article FROM chunks ORDER BY id").fetchall()
            self.doc_ids = [str(r[1]) for r in arts]
            self.article_day = np.array(
                [date.fromisoformat(r[2]).toordinal() if r[2] else 0 for r in arts], dtype=np.int64
            )
            self.article_source = [r[3] or "" for r in arts]
            self.chunk_article = np.array([r[1] for r in chunks], dtype=np.int64)
            # article row -> row of its near-duplicate group's canonical article
            self.canonical = np.array([r[4] for r in arts], dtype=np.int64)
        n = len(arts)
        self.row_of = {d: i for i, d in enumerate(self.doc_ids)}
        if any(r[0] != i for i, r in enumerate(arts)) or len(self.row_of) != n:
            raise IndexCorruptError(f"{self.path}: article rows are damaged; {REBUILD}")
        if any(r[0] != i for i, r in enumerate(chunks)):
            raise IndexCorruptError(f"{self.path}: chunk ids are not contiguous; {REBUILD}")
        for column in (self.canonical, self.chunk_article):
            if len(column) and (int(column.min()) < 0 or int(column.max()) >= n):
                raise IndexCorruptError(f"{self.path}: an article row is out of range; {REBUILD}")
        self.groups: dict[int, list[int]] = {}  # canonical row -> rows of its group (size > 1)
        for row in np.flatnonzero(self.canonical != np.arange(n)):
            lead = int(self.canonical[row])
            self.groups.setdefault(lead, [lead]).append(int(row))

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Turn what a damaged file makes SQLite (or a stored value) raise into our error."""
        try:
            yield
        except (sqlite3.Error, ValueError, TypeError) as e:  # ValueError: a damaged date
            detail = brief(e, 80)
            raise IndexCorruptError(
                f"{self.path}: cannot read the article store ({detail}); {REBUILD}"
            ) from e

    def __len__(self) -> int:
        return len(self.chunk_article)

    def articles(self) -> list[Article]:
        """Every article, in row order (texts included)."""
        with self._lock, self._reading():
            rows = self.con.execute(f"SELECT {COLUMNS} FROM articles ORDER BY row").fetchall()
            return [_article(r) for r in rows]

    def chunks(self, ids: Iterable[int]) -> list[tuple[Chunk, Article]]:
        """Chunks by id with their articles, in the order asked."""
        ids = [int(i) for i in ids]
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        with self._lock, self._reading():
            rows = self.con.execute(
                f"SELECT c.id, c.start, c.end, {', '.join('a.' + c for c in COLUMNS.split(', '))} "
                f"FROM chunks c JOIN articles a ON a.row = c.article WHERE c.id IN ({marks})",
                ids,
            ).fetchall()
            by_id = {}
            for cid, start, end, *art in rows:
                a = _article(tuple(art))
                by_id[cid] = (Chunk(cid, a.doc_id, int(start), int(end), a.text[start:end]), a)
        return [by_id[i] for i in ids if i in by_id]

    def signatures(self) -> dict[str, np.ndarray]:
        """MinHash signature by content hash (for reuse by the next build)."""
        with self._lock, self._reading():
            rows = self.con.execute("SELECT content_hash, signature FROM articles").fetchall()
            return {h: np.frombuffer(b, dtype=np.uint64) for h, b in rows if b}

    def also(self, doc_id: str) -> list[Article]:
        """The other articles of `doc_id`'s near-duplicate group (same story, other copies)."""
        row = self.row_of.get(doc_id)
        if row is None:
            return []
        others = [r for r in self.groups.get(int(self.canonical[row]), []) if r != row]
        if not others:
            return []
        marks = ",".join("?" * len(others))
        with self._lock, self._reading():
            rows = self.con.execute(
                f"SELECT {COLUMNS} FROM articles WHERE row IN ({marks}) ORDER BY row", others
            ).fetchall()
            return [_article(r) for r in rows]

    def rows(self, rows: Sequence[int]) -> list[Article]:
        """Articles by row, in the order asked (rows out of range are left out)."""
        wanted = [int(r) for r in rows]
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        with self._lock, self._reading():
            got = self.con.execute(
                f"SELECT row, {COLUMNS} FROM articles WHERE row IN ({marks})", wanted
            ).fetchall()
        by_row = {r[0]: _article(tuple(r[1:])) for r in got}
        return [by_row[r] for r in wanted if r in by_row]

    def counts_by_article(self) -> dict[str, int]:
        counts = np.bincount(self.chunk_article, minlength=len(self.doc_ids))
        return {d: int(counts[i]) for i, d in enumerate(self.doc_ids)}

    def close(self) -> None:
        self.con.close()
