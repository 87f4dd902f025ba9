"""Web state: what the last fetches of URL sources saw, kept in index/fetch-state.sqlite.

    state = State(index_dir / STATE)        # State(None): in memory, forgotten when closed
    state.items("https://example.com/feed.xml")   # item key -> Item (its Article, ...)
    state.save(validators, robots, {source: [Item, ...]}, {source: Run(...)})

Four tables: per URL the validators of its last 200 (ETag, Last-Modified, body hash); per
source the articles it gave, whole (so a 304 or an unchanged page reuses them without
extracting again, and an entry gone from its feed stays); per source its last fetch (time,
status, counts: the Index tab's table); per host its robots.txt. The state never points into
the index: a refresh that crashed before its generation was written reuses the articles next
time. A damaged file is set aside and started afresh (it is a cache: only fetches are lost).
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rag.ingest.fetch import Validators
from rag.types import Article

STATE = "fetch-state.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS http (url TEXT PRIMARY KEY, etag TEXT, modified TEXT, hash TEXT);
CREATE TABLE IF NOT EXISTS robots (origin TEXT PRIMARY KEY, body TEXT, at REAL);
CREATE TABLE IF NOT EXISTS items (source TEXT, key TEXT, pos INTEGER, article TEXT, entry TEXT,
    fallback INTEGER, tries INTEGER, in_feed INTEGER, PRIMARY KEY (source, key));
CREATE TABLE IF NOT EXISTS runs (source TEXT PRIMARY KEY, run TEXT);
"""


@dataclass(frozen=True)
class Item:
    """One article a source gave; `key` is the URL its page was fetched from (or, for an entry
    without a link, "feed URL#entry id")."""

    key: str
    article: Article
    entry: str = ""  # fingerprint of its feed entry: when it changes, the page is checked again
    fallback: bool = False  # the feed's summary stands in: the page could not be had
    tries: int = 0  # page fetches failed in a row
    in_feed: bool = True  # still in the feed (an item that left it stays indexed)


@dataclass(frozen=True)
class Run:
    """A source's last fetch, as the sources table shows it."""

    at: str  # ISO time, UTC
    status: str  # "ok", "not modified", or why it failed
    ok: bool
    kind: str = ""  # "feed" or "page" ("" when it failed before that was known)
    new: int = 0
    changed: int = 0
    removed: int = 0  # items that left the feed since the fetch before (still indexed)
    articles: int = 0  # articles it gives now
    problems: int = 0  # pages that could not be had (summary used, or the old version kept)


class State:
    """The state file, open; call `close()` (or use `with`)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        if self.path is None:
            db = sqlite3.connect(":memory:")
            db.executescript(_SCHEMA)
            return db
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = sqlite3.connect(self.path, timeout=30)
            db.executescript(_SCHEMA)
            return db
        except sqlite3.DatabaseError:  # damaged: a cache, so start afresh
            db.close()
            self.path.replace(self.path.with_name(self.path.name + ".damaged"))
            db = sqlite3.connect(self.path, timeout=30)
            db.executescript(_SCHEMA)
            return db

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def validators(self) -> dict[str, Validators]:
        rows = self._db.execute("SELECT url, etag, modified, hash FROM http")
        return {url: Validators(e or "", m or "", h or "") for url, e, m, h in rows}

    def robots(self) -> dict[str, tuple[str, float]]:
        rows = self._db.execute("SELECT origin, body, at FROM robots")
        return {origin: (body, at) for origin, body, at in rows}

    def items(self, source: str) -> dict[str, Item]:
        rows = self._db.execute(
            "SELECT key, article, entry, fallback, tries, in_feed FROM items WHERE source = ? "
            "ORDER BY pos",
            (source,),
        )
        return {
            key: Item(key, _article(raw), entry, bool(fb), tries, bool(in_feed))
            for key, raw, entry, fb, tries, in_feed in rows
        }

    def runs(self) -> dict[str, Run]:
        rows = self._db.execute("SELECT source, run FROM runs")
        return {source: Run(**json.loads(raw)) for source, raw in rows}

    def save(
        self,
        validators: dict[str, Validators],
        robots: dict[str, tuple[str, float]],
        items: dict[str, list[Item]],
        runs: dict[str, Run],
    ) -> None:
        """Write what one refresh saw, in one transaction: `items` replace each source's."""
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO http VALUES (?, ?, ?, ?)",
                [(u, v.etag, v.last_modified, v.body_hash) for u, v in validators.items()],
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO robots VALUES (?, ?, ?)",
                [(o, body, at) for o, (body, at) in robots.items()],
            )
            for source, listed in items.items():
                self._db.execute("DELETE FROM items WHERE source = ?", (source,))
                self._db.executemany(
                    "INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            source,
                            i.key,
                            n,
                            _json(i.article),
                            i.entry,
                            i.fallback,
                            i.tries,
                            i.in_feed,
                        )
                        for n, i in enumerate(listed)
                    ],
                )
            self._db.executemany(
                "INSERT OR REPLACE INTO runs VALUES (?, ?)",
                [(s, json.dumps(dataclasses.asdict(r))) for s, r in runs.items()],
            )
            self._db.execute(  # validators of URLs no source gives any more
                "DELETE FROM http WHERE url NOT IN (SELECT key FROM items) "
                "AND url NOT IN (SELECT source FROM runs)"
            )

    def forget(self, sources: list[str]) -> None:
        """Drop what the state knows of `sources` (their items and last fetch)."""
        with self._db:
            for source in sources:
                self._db.execute("DELETE FROM items WHERE source = ?", (source,))
                self._db.execute("DELETE FROM runs WHERE source = ?", (source,))


def runs(index_dir: Path) -> dict[str, Run]:
    """The last fetch of each URL source of the index in `index_dir` ({} when none yet)."""
    path = index_dir / STATE
    if not path.is_file():
        return {}
    try:
        with State(path) as state:
            return state.runs()
    except (sqlite3.Error, OSError, TypeError, ValueError):
        return {}


def _json(a: Article) -> str:
    fields = dataclasses.asdict(a)
    fields["published"] = a.published.isoformat() if a.published else None
    return json.dumps(fields, ensure_ascii=False)


def _article(raw: str) -> Article:
    fields = json.loads(raw)
    fields["published"] = date.fromisoformat(fields["published"]) if fields["published"] else None
    return Article(**fields)
