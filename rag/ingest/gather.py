"""Gather: a build's articles read from its sources, each text once, as the `Plan` the writer
(rag/build.py) turns into a generation; exact duplicates are counted, a doc_id used twice is
skipped."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tqdm import tqdm

from rag.config import Settings
from rag.digest import text_key
from rag.ingest import sources
from rag.names import shown
from rag.types import Article, Skipped

OnSkip = Callable[[Skipped], None]


@dataclass
class Plan:
    """One generation to write: the articles, where they came from, and what the read found."""

    articles: Sequence[Article]
    sources: list[str]  # the paths read (kept in the manifest for `update`)
    excluded: tuple[str, ...] = ()  # doc_ids removed by hand
    read: int = 0  # articles read, duplicates included
    skipped: list[Skipped] = field(default_factory=list)
    duplicates: int = 0
    started: float = field(default_factory=time.perf_counter)


def read(paths: list[str], s: Settings, progress: bool, on_skip: OnSkip | None) -> Plan:
    """Read every source; exact duplicates (same normalised text) are kept once."""
    plan = Plan([], paths)
    articles: list[Article] = []
    seen_text: set[str] = set()
    seen_id: set[str] = set()

    def skip(item: Skipped) -> None:
        plan.skipped.append(item)
        if on_skip:
            on_skip(item)

    bar = tqdm(desc="articles read", unit=" art", disable=not progress)
    for item in sources.read(
        paths, max_chars=s.index.max_article_chars, state_dir=s.index.index_dir, fetching=s.fetching
    ):
        if isinstance(item, Skipped):
            skip(item)
            continue
        plan.read += 1
        bar.update()
        key = text_key(item.text)
        if key in seen_text:
            plan.duplicates += 1
            continue
        if item.doc_id in seen_id:
            why = f"doc_id {item.doc_id!r} already used; give it a unique id"
            skip(Skipped(shown(item.path), why))
            continue
        seen_text.add(key)
        seen_id.add(item.doc_id)
        articles.append(item)
    bar.close()
    plan.articles = articles
    return plan
