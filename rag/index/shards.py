"""Shards: one generation cut by publication month, written reusing unchanged shards; `Group`
loads and searches some of them (in a thread, or on a Ray actor: rag/index/fanout.py fans out).

Layout of a sharded generation (`Settings.index.shards = "month"`; the store stays whole, with the
global chunk ids)::

    gen-.../shards/2024-08/vectors.faiss  (+ vectors.npy)   # local row -> vector
                          keywords/                         # rag.index.bm25.TermCounts
                          ids.npy                           # local row -> chunk id, ascending
                   undated/...                              # articles without a date

An update writes only the shards whose articles changed (`signature`); the files of the others
are hard-linked from the live generation (copied where links fail), and only their `ids.npy`
is written again, since chunk ids shift when articles before them change. Keyword scores use
document counts and the mean chunk length over every shard, so a hit scores as in one
unsharded BM25 index (tests/test_shards.py); a date or outlet filter that keeps none of a
shard's chunks skips that shard.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.config import Settings
from rag.errors import IndexCorruptError, RagError
from rag.index.bm25 import KeywordIndex, TermCounts
from rag.index.generations import FORMAT_VERSION, KEYWORDS, REBUILD, VECTORS, current, read_manifest
from rag.index.kinds import choose
from rag.index.vectors import VectorIndex
from rag.ingest import chunk
from rag.types import Article, Manifest

CUTS = ("none", "month")  # Settings.index.shards also takes "auto": as the live index is cut
FOLDER = "shards"
UNDATED = "undated"
IDS = "ids.npy"
TERMS = "keywords"


def month(a: Article) -> str:
    """The shard of article `a`: its publication month, "YYYY-MM", or "undated"."""
    return a.published.strftime("%Y-%m") if a.published else UNDATED


def cut(s: Settings, live: Manifest | None) -> str:
    """How a build cuts the index: `s.index.shards`, or with "auto" as the live index is cut."""
    if s.index.shards != "auto":
        return s.index.shards
    return live.shards if live is not None and live.shards in CUTS else "none"


def signature(s: Settings, hashes: Sequence[str]) -> str:
    """What a shard's vector and keyword files depend on: the model and chunk settings, the
    index kind asked for, and its articles' content hashes in chunk order."""
    what = [
        FORMAT_VERSION,
        s.index.model,
        s.index.chunk_size,
        s.index.chunk_overlap,
        s.index.index_type,
        list(hashes),
    ]
    return hashlib.sha256(json.dumps(what).encode()).hexdigest()


@dataclass(frozen=True)
class Written:
    """What `write` put in a generation, for its manifest and build report."""

    cut: str  # "none" or "month"
    kind: str  # vector index kind; shards of several kinds: "flat+ivf"
    params: dict[str, int]
    sets: dict[str, str]  # shard -> `signature` ({} unsharded)
    digests: dict[str, str]  # file -> sha256, for the files linked from the live generation
    written: int = 0  # shards built
    reused: int = 0  # shards linked from the live generation


def write(
    partial: Path,
    articles: Sequence[Article],
    spans: Sequence[Sequence[tuple[int, int]]],
    vectors: np.ndarray,  # chunk id -> vector
    s: Settings,
) -> Written:
    """Write the vector and keyword indexes of a generation being built in `partial`."""
    live: tuple[Path, Manifest] | None = None
    with contextlib.suppress(RagError):
        gen = current(s.index.index_dir)
        live = gen, read_manifest(gen)
    how = cut(s, live[1] if live else None)

    def texts(rows: Sequence[int]) -> list[str]:
        return [chunk.embed_text(articles[i], b, e) for i in rows for b, e in spans[i]]

    if how == "none":
        vi = VectorIndex.build(vectors, s.index.index_type)
        vi.save(partial / VECTORS)
        KeywordIndex.build(texts(range(len(articles)))).save(partial / KEYWORDS)
        return Written(how, vi.kind, vi.params, {}, {})
    starts = np.cumsum([0, *(len(sp) for sp in spans)])
    rows: dict[str, list[int]] = {}
    for i, a in enumerate(articles):
        if len(spans[i]):
            rows.setdefault(month(a), []).append(i)
    sets, digests, kinds, written = {}, {}, set(), 0
    for key, members in sorted(rows.items()):
        ids = np.concatenate([np.arange(starts[i], starts[i + 1]) for i in members])
        sets[key] = signature(s, [articles[i].content_hash for i in members])
        folder = partial / FOLDER / key
        linked = _link(live, key, sets[key], folder)
        if linked is None:
            vi = VectorIndex.build(vectors[ids], s.index.index_type)
            folder.mkdir(parents=True)
            vi.save(folder / VECTORS)
            TermCounts.build(texts(members)).save(folder / TERMS)
            written += 1
        digests.update(linked or {})
        kinds.add(choose(len(ids), s.index.index_type))
        np.save(folder / IDS, ids.astype(np.int64))
    return Written(how, "+".join(sorted(kinds)), {}, sets, digests, written, len(sets) - written)


def _link(
    live: tuple[Path, Manifest] | None, key: str, sig: str, folder: Path
) -> dict[str, str] | None:
    """Hard-link (else copy) the live generation's files of shard `key` into `folder` when it
    was built from the same articles: {file: sha256} from its manifest; None to build it."""
    if live is None or live[1].shards != "month" or live[1].shard_sets.get(key) != sig:
        return None
    gen, m = live
    prefix = f"{FOLDER}/{key}/"
    names = {n: d for n, d in m.files.items() if n.startswith(prefix) and n != prefix + IDS}
    if not names:
        return None
    try:
        for name in names:
            target = folder.parent.parent / name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(gen / name, target)
            except OSError:  # another file system, or links not allowed: a copy
                shutil.copyfile(gen / name, target)
    except OSError:  # the live generation lost a file: build this shard afresh
        shutil.rmtree(folder, ignore_errors=True)
        return None
    return names  # the same names in the new generation


def all_vectors(gen: Path, m: Manifest) -> np.ndarray:
    """Every vector of a generation, row i = chunk i (what a build may reuse)."""
    if m.shards != "month":
        return VectorIndex.load(gen / VECTORS).vectors()
    out = np.zeros((m.chunks, m.dim), np.float32)
    for key in m.shard_sets:
        folder = gen / FOLDER / key
        ids = chunk_ids(folder, m.chunks)
        out[ids] = VectorIndex.load(folder / VECTORS, len(ids), m.dim).vectors()
    return out


def chunk_ids(folder: Path, chunks: int) -> np.ndarray:
    """A shard's chunk ids (ascending, each below `chunks`), or IndexCorruptError."""
    path = folder / IDS
    try:
        ids = np.load(path, allow_pickle=False)
    except Exception as e:  # numpy's header parser raises several kinds on damage
        raise IndexCorruptError(f"{path}: cannot read the shard's chunk ids; {REBUILD}") from e
    ok = ids.ndim == 1 and ids.dtype.kind in "iu" and len(ids) > 0
    if not ok or int(ids[0]) < 0 or int(ids[-1]) >= chunks or np.any(np.diff(ids) <= 0):
        raise IndexCorruptError(f"{path} is damaged (chunk ids); {REBUILD}")
    return ids.astype(np.int64)


@dataclass(frozen=True)
class Stats:
    """One shard's size, for the statistics over every shard."""

    key: str
    chunks: int
    length: int  # tokens in all its chunks, as BM25 counts them


Rows = dict[str, np.ndarray | None]  # shard -> its local rows to consider (None: all)


class Group:
    """Some shards of one generation, loaded from its folder: what runs in one thread, or on
    one Ray actor (every argument and result is plain data)."""

    def __init__(self, gen: Path, keys: Sequence[str], chunks: int, dim: int) -> None:
        self.shards: dict[str, tuple[VectorIndex, TermCounts, np.ndarray]] = {}
        for key in keys:
            folder = Path(gen) / FOLDER / key
            ids = chunk_ids(folder, chunks)
            vi = VectorIndex.load(folder / VECTORS, len(ids), dim)
            self.shards[key] = vi, TermCounts.load(folder / TERMS, len(ids)), ids

    def stats(self) -> list[Stats]:
        return [Stats(k, len(ids), t.length) for k, (_, t, ids) in self.shards.items()]

    def search(self, q: np.ndarray, k: int, rows: Rows) -> tuple[np.ndarray, np.ndarray]:
        """Top `k` (scores, chunk ids) over the shards in `rows`."""
        parts = []
        for key, allowed in rows.items():
            vi, _, ids = self.shards[key]
            scores, local = vi.search(q, k, allowed)
            parts.append((scores, ids[local]))
        return merge(parts, k)

    def df(self, terms: Sequence[str]) -> np.ndarray:
        """Chunks holding each term, summed over this group's shards."""
        return np.sum([t.df(terms) for _, t, _ in self.shards.values()], axis=0)

    def scores(
        self, terms: Sequence[str], weights: np.ndarray, avgdl: float, rows: Rows
    ) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, BM25 scores) of the chunks holding a term, in the shards of `rows`."""
        ids_, scores = [], []
        for key, allowed in rows.items():
            _, terms_, ids = self.shards[key]
            local, x = terms_.scores(terms, weights, avgdl, allowed)
            ids_.append(ids[local])
            scores.append(x)
        return np.concatenate(ids_), np.concatenate(scores)

    def vectors(self, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {key: self.shards[key][0].vectors(r) for key, r in rows.items()}


def merge(parts: Sequence[tuple[np.ndarray, np.ndarray]], k: int) -> tuple[np.ndarray, np.ndarray]:
    """The top `k` of several (scores, ids) lists, best first, with ties as a flat FAISS index
    has them: of equal scores the lowest ids are kept, then listed highest id first.

    >>> merge([(np.array([.9, .5, .5]), np.array([4, 7, 1])), (np.array([.5]), np.array([2]))], 3)
    (array([0.9, 0.5, 0.5]), array([4, 2, 1]))
    """
    if not parts:
        return np.zeros(0, np.float32), np.zeros(0, np.int64)
    scores = np.concatenate([p[0] for p in parts])
    ids = np.concatenate([p[1] for p in parts]).astype(np.int64)
    top = np.lexsort((ids, -scores))[:k]
    top = top[np.lexsort((-ids[top], -scores[top]))]
    return scores[top], ids[top]
