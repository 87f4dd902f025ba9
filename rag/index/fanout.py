"""Fan-out: the shards of one generation searched as one index (rag/index/shards.py has them on
disk): each call goes to every `Group` holding a shard it needs, at once, and the results are
merged. Groups run in a thread pool here (`Threads`), or on Ray actors (rag/index/cluster.py).

Keyword scores are computed in two rounds, as Elasticsearch's DFS query-then-fetch: every shard
gives its document counts of the query's words, then the shards to search score their chunks
with idf and the mean chunk length over all of them, so a chunk scores as in one BM25 index.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag.errors import IndexCorruptError, IndexMismatchError
from rag.index.bm25 import idf, tokenize
from rag.index.generations import REBUILD
from rag.index.shards import CUTS, FOLDER, Group, Rows, chunk_ids, merge
from rag.index.vectors import cpu_count
from rag.types import Manifest


class Handle(Protocol):
    """A loaded `Group`, wherever it runs: `submit` starts a call, the result comes from
    calling what it returns."""

    keys: tuple[str, ...]

    def submit(self, method: str, *args: Any) -> Callable[[], Any]: ...


class Host(Protocol):
    """Where a generation's shards are loaded and searched: `Threads`, or Ray actors."""

    def open(self, gen: Path, sizes: dict[str, int], chunks: int, dim: int) -> list[Handle]: ...


def balance(sizes: dict[str, int], groups: int) -> list[list[str]]:
    """Shards into at most `groups` groups of about equal chunks (the largest first, each to
    the emptiest group), each group's shards in name order.

    >>> balance({"2024-01": 50, "2024-02": 30, "2024-03": 30, "undated": 5}, 2)
    [['2024-01', 'undated'], ['2024-02', '2024-03']]
    """
    n = max(1, min(groups, len(sizes)))
    loads, out = [0] * n, [list[str]() for _ in range(n)]
    for key in sorted(sizes, key=lambda k: (-sizes[k], k)):
        i = loads.index(min(loads))
        loads[i] += sizes[key]
        out[i].append(key)
    return [sorted(keys) for keys in out if keys]


class _Local:
    def __init__(self, group: Group, pool: ThreadPoolExecutor) -> None:
        self.group, self.pool, self.keys = group, pool, tuple(group.shards)

    def submit(self, method: str, *args: Any) -> Callable[[], Any]:
        call = getattr(self.group, method)
        if method in _INLINE:  # dictionary look-ups and row copies: less than a thread hand-off
            result = call(*args)
            return lambda: result
        return self.pool.submit(call, *args).result


_INLINE = ("df", "stats", "vectors")


class Threads:
    """The shards loaded in this process, searched by a pool of one thread per CPU (FAISS
    releases the GIL while it searches), a group of shards per thread: with a group per
    shard, the ~100 hand-offs of one search cost more than the searches of small shards
    (12k chunks in 24 shards, 2 busy cores: 9 ms a search, 5 ms in groups, 3 ms unsharded)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or cpu_count()
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="shard")

    def open(self, gen: Path, sizes: dict[str, int], chunks: int, dim: int) -> list[Handle]:
        keys = balance(sizes, self.workers)
        groups = self.pool.map(lambda some: Group(gen, some, chunks, dim), keys)
        return [_Local(g, self.pool) for g in groups]


class _Default:
    """The host of shards nobody placed elsewhere: one `Threads` for the process, made on
    first use under a lock (two first searches at once make one pool, not two)."""

    def __init__(self) -> None:
        self._host: Threads | None = None
        self._lock = threading.Lock()

    def get(self) -> Threads:
        with self._lock:
            if self._host is None:
                self._host = Threads()
            return self._host


_DEFAULT = _Default()


def load(gen: Path, m: Manifest, host: Host | None = None) -> ShardSet:
    """The shards of generation `gen` on `host` (default: threads in this process)."""
    if m.shards not in CUTS:
        raise IndexMismatchError(
            f"{gen} is cut into {m.shards!r} shards, which this version cannot read; "
            "run `rag index build` to rebuild it"
        )
    if not m.shard_sets:
        raise IndexCorruptError(f"{gen}: the manifest lists no shards; {REBUILD}")
    ids = {key: chunk_ids(gen / FOLDER / key, m.chunks) for key in sorted(m.shard_sets)}
    if host is None:
        host = _DEFAULT.get()
    sizes = {key: len(x) for key, x in ids.items()}
    shards = ShardSet(host.open(gen, sizes, m.chunks, m.dim), ids, m.chunks, m.dim)
    shards.kind = m.index_type  # the shards' vector index kinds, e.g. "flat" or "flat+ivf"
    return shards


class ShardSet:
    """The shards of one generation as one index of chunk ids: what `Retriever` needs of a
    `VectorIndex` (`search`, `vectors`) and of a `KeywordIndex` (`scores`, `idf`)."""

    def __init__(
        self, handles: Sequence[Handle], ids: dict[str, np.ndarray], chunks: int, dim: int
    ) -> None:
        self.handles, self.ids, self.chunks, self.dim = list(handles), ids, chunks, dim
        self.keys = list(ids)
        self.shard_of = np.full(chunks, -1, np.int32)  # chunk id -> shard number
        self.row_of = np.zeros(chunks, np.int64)  # chunk id -> its row in that shard
        for n, x in enumerate(ids.values()):
            self.shard_of[x], self.row_of[x] = n, np.arange(len(x))
        if np.any(self.shard_of < 0) or sum(map(len, ids.values())) != chunks:
            raise IndexCorruptError(f"the shards' chunk ids do not cover the chunks; {REBUILD}")
        stats = {st.key: st for part in self._all("stats") for st in part}
        if any(stats[k].chunks != len(x) for k, x in ids.items()):
            raise IndexCorruptError(f"a shard's files disagree on its chunks; {REBUILD}")
        self.length = sum(st.length for st in stats.values())
        self.kind, self.params = "flat", dict[str, int]()  # as VectorIndex's (bench/query.py)

    def __len__(self) -> int:
        return self.chunks

    def _all(self, method: str, *args: Any) -> list[Any]:
        """`method` called on every group at once: their results."""
        waits = [h.submit(method, *args) for h in self.handles]
        return [w() for w in waits]

    def _some(self, method: str, rows: Rows, *args: Any) -> list[Any]:
        """`method(*args, rows)` on the groups holding shards in `rows`, only for those."""
        waits = []
        for h in self.handles:
            mine = {k: rows[k] for k in h.keys if k in rows}
            if mine:
                waits.append(h.submit(method, *args, mine))
        return [w() for w in waits]

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top `k` (scores, chunk ids), as `VectorIndex.search` over every chunk would give."""
        rows: Rows = {key: None for key in self.keys}
        if allowed is not None:
            rows = {}
            allowed = np.asarray(allowed, np.int64)
            for key, at in self._split(allowed).items():
                mine = allowed[at]
                rows[key] = None if len(mine) == len(self.ids[key]) else self.row_of[mine]
        q = np.ascontiguousarray(query, np.float32)
        return merge(self._some("search", rows, q, k), k)

    def vectors(self, ids: list[int] | np.ndarray | None = None) -> np.ndarray:
        """Vectors of chunk `ids` (all, row i = chunk i, when None)."""
        want = np.arange(self.chunks) if ids is None else np.asarray(ids, np.int64)
        out = np.zeros((len(want), self.dim), np.float32)
        at = self._split(want)
        rows = {key: self.row_of[want[i]] for key, i in at.items()}
        for got in self._some("vectors", rows):
            for key, x in got.items():
                out[at[key]] = x
        return out

    def _split(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        """Positions in `ids` by shard (ascending), for the shards holding any of them."""
        which = self.shard_of[ids]
        order = np.argsort(which, kind="stable")
        bounds = np.searchsorted(which[order], np.arange(len(self.keys) + 1))
        return {
            key: order[bounds[n] : bounds[n + 1]]
            for n, key in enumerate(self.keys)
            if bounds[n + 1] > bounds[n]
        }

    def _df(self, terms: Sequence[str]) -> np.ndarray:
        """Chunks holding each term, over every shard (the DFS phase: all shards answer)."""
        return np.sum(self._all("df", list(terms)), axis=0)

    def scores(self, query: str, allowed: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every chunk for `query` (0 outside the mask `allowed`), from
        statistics over every shard: the scores of one `KeywordIndex` of all chunks."""
        out = np.zeros(self.chunks, np.float32)
        terms = tokenize([query])[0]
        if not terms:
            return out
        df = self._df(terms)
        terms = [t for t, d in zip(terms, df, strict=True) if d > 0]
        if not terms:
            return out
        weights = idf(df[df > 0], self.chunks).astype(np.float32)
        rows: Rows = {key: None for key in self.keys}
        if allowed is not None:
            rows = {}
            for key, x in self.ids.items():
                keep = allowed[x]
                if keep.any():
                    rows[key] = None if keep.all() else np.flatnonzero(keep)
        for ids, x in self._some("scores", rows, terms, weights, self.length / self.chunks):
            out[ids] = x
        return out

    def idf(self, terms: set[str]) -> dict[str, float]:
        """`KeywordIndex.idf` over every shard."""
        order = sorted(terms)
        if not order:
            return {}
        return dict(zip(order, idf(self._df(order), self.chunks).tolist(), strict=True))
