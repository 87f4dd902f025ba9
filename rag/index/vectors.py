"""Vectors: the FAISS vector index of one generation (faiss is imported here and in faissfile.py).

The generations on disk and the manifest are rag/index/generations.py's, the build lock
rag/index/lock.py's; their names are re-exported here (`index.current`, `index.commit`, ...).
What `VectorIndex.load` checks against damage, and what only `rag index verify` sees, is listed
in rag/index/generations.py.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from rag.errors import ConfigError, IndexCorruptError
from rag.index import faissfile
from rag.index.generations import (
    CURRENT,
    FORMAT_VERSION,
    KEYWORDS,
    MANIFEST,
    REBUILD,
    STORE,
    VECTORS,
    check_model,
    commit,
    current,
    generation_id,
    new_generation,
    read_manifest,
    rollback,
    verify,
)
from rag.index.kinds import (
    HNSW_EF_CONSTRUCTION,
    HNSW_EF_SEARCH,
    HNSW_M,
    IVF_NPROBE,
    MAX_EF,
    RERANK,
    SCAN_SHARE,
    choose,
    ivf_lists,
)
from rag.index.lock import locked
from rag.index.rows import Rows, dot

__all__ = [
    "CURRENT",
    "FORMAT_VERSION",
    "KEYWORDS",
    "MANIFEST",
    "REBUILD",
    "STORE",
    "VECTORS",
    "VectorIndex",
    "check_model",
    "commit",
    "current",
    "generation_id",
    "locked",
    "new_generation",
    "read_manifest",
    "rollback",
    "verify",
]


@contextlib.contextmanager
def threads(n: int) -> Iterator[None]:
    """Run this thread's FAISS calls on `n` OpenMP threads, then restore the previous number.

    One query runs on one thread: on a busy 2-core machine, OpenMP threads waiting for each
    other made one 10k-vector search 60 times slower than a single thread (bench/README.md).
    """
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(n)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def cpu_count() -> int:
    """CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _graph(index: faiss.Index) -> Any:
    """The HNSW graph of an HNSW index (its tunables: efSearch, efConstruction)."""
    return faiss.downcast_index(index).hnsw  # type: ignore[attr-defined]


def _kind(index: faiss.Index) -> str:
    inner = faiss.downcast_index(index)
    if isinstance(inner, faiss.IndexHNSWSQ):
        return "hnsw"
    if isinstance(inner, faiss.IndexHNSWFlat):
        return "hnsw-flat"
    if isinstance(inner, faiss.IndexIVF):
        return "ivf"
    return "flat"  # IndexFlatIP, or IndexIDMap2 over one (format 1 before index kinds)


class VectorIndex:
    """Inner-product search over normalised vectors; FAISS ids are chunk ids (row i = chunk i).

    Kinds (`Settings.index.index_type`; the manifest records the one built and its parameters):

    - ``flat``: exact; ``vectors.faiss`` is memory-mapped, not copied into memory.
    - ``hnsw``: an HNSW graph over 8-bit scalar-quantised codes (a quarter of the float size).
      The float vectors are kept beside it in ``vectors.npy``, read by position (`Rows`):
      candidates are re-scored exactly from them, and `vectors()` returns them unchanged.
    - ``hnsw-flat``: an HNSW graph over the float vectors, all in memory.
    - ``ivf`` ("auto" above EXACT_MAX): inverted lists of 8-bit codes over about 4 sqrt(n)
      k-means cells, a few percent of them searched; float vectors beside it as for ``hnsw``.
      At 1M vectors: recall@10 1.0, p50 0.8 ms, 0.4 GB in memory (bench/README.md).

    >>> x = np.eye(3, dtype=np.float32)
    >>> VectorIndex.build(x).search(x[2], 1)
    (array([1.], dtype=float32), array([2]))
    """

    def __init__(self, index: faiss.Index, stored: np.ndarray | Rows | None = None) -> None:
        self.index = index
        self.dim = int(index.d)
        self.kind = _kind(index)
        self.stored = stored  # chunk id -> float32 vector, for kinds whose codes are lossy
        self.rerank = RERANK  # approximate kinds: candidates re-scored exactly (`set_search`)

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str = "auto") -> VectorIndex:
        """An index of `vectors` (row i gets id i) of `kind`; "auto" chooses by size."""
        x = np.ascontiguousarray(vectors, dtype=np.float32)
        n, d = x.shape
        kind = choose(n, kind)
        with threads(cpu_count()):
            index: faiss.Index
            if kind == "flat":
                index = faiss.IndexFlatIP(d)
            elif kind == "ivf":
                nlist = ivf_lists(n)
                index = faiss.index_factory(d, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
                faiss.extract_index_ivf(index).nprobe = min(nlist, max(IVF_NPROBE, nlist // 128))
            else:
                codes = "SQ8" if kind == "hnsw" else "Flat"
                index = faiss.index_factory(d, f"HNSW{HNSW_M},{codes}", faiss.METRIC_INNER_PRODUCT)
                graph = _graph(index)
                graph.efConstruction = HNSW_EF_CONSTRUCTION
                graph.efSearch = HNSW_EF_SEARCH
            if not index.is_trained:  # SQ8 ranges, IVF cells: learnt on (a sample of) the data
                sample = x
                if n > 100_000:
                    rows = np.random.default_rng(0).choice(n, 100_000, replace=False)
                    sample = x[np.sort(rows)]
                index.train(sample)
            index.add(x)
        return cls(index, None if kind in ("flat", "hnsw-flat") else x)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    @property
    def params(self) -> dict[str, int]:
        """What shapes this index besides its kind (recorded in the manifest)."""
        if self.kind in ("hnsw", "hnsw-flat"):
            graph = _graph(self.index)
            return {
                "M": int(graph.nb_neighbors(1)),
                "ef_construction": int(graph.efConstruction),
                "ef_search": int(graph.efSearch),
                "rerank": self.rerank,
            }
        if self.kind == "ivf":
            ivf = faiss.extract_index_ivf(self.index)
            return {"nlist": int(ivf.nlist), "nprobe": int(ivf.nprobe), "rerank": self.rerank}
        return {}

    def set_search(
        self, *, nprobe: int | None = None, ef_search: int | None = None, rerank: int | None = None
    ) -> None:
        """Change how this index searches (not how it was built); None leaves a knob as it is.

        `nprobe`: IVF cells searched (1 .. nlist); `ef_search`: HNSW candidate list length;
        `rerank`: candidates approximate kinds re-score exactly. A knob the kind has not got,
        or a value out of range, is a ConfigError.

        >>> vi = VectorIndex.build(np.eye(4, dtype=np.float32), "hnsw")
        >>> vi.set_search(ef_search=16, rerank=10); vi.params["ef_search"], vi.params["rerank"]
        (16, 10)
        """
        for name, value in (("nprobe", nprobe), ("ef_search", ef_search), ("rerank", rerank)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise ConfigError(f"{name} must be a whole number, not {value!r}")
        hnsw = self.kind in ("hnsw", "hnsw-flat")
        if nprobe is not None:
            if self.kind != "ivf":
                raise ConfigError(f"nprobe applies to an ivf index; this one is {self.kind}")
            ivf = faiss.extract_index_ivf(self.index)
            if not 1 <= nprobe <= ivf.nlist:
                raise ConfigError(f"nprobe must be between 1 and {ivf.nlist} (the cells)")
        if ef_search is not None:
            if not hnsw:
                raise ConfigError(f"ef_search applies to an hnsw index; this one is {self.kind}")
            if not 1 <= ef_search <= MAX_EF:
                raise ConfigError(f"ef_search must be between 1 and {MAX_EF}")
        if rerank is not None:
            if self.kind == "flat":
                raise ConfigError("rerank applies to approximate indexes; this one is flat")
            if rerank < 1:
                raise ConfigError("rerank must be at least 1")
        if nprobe is not None:
            faiss.extract_index_ivf(self.index).nprobe = nprobe
        if ef_search is not None:
            _graph(self.index).efSearch = ef_search
        if rerank is not None:
            self.rerank = rerank

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top `k` (scores, ids) for one query vector; `allowed` restricts to those chunk ids.

        Scores are exact inner products for every kind; approximate kinds may miss a few of
        the true top `k` (recall@10 >= 0.95 on the scaling benchmark). Under a filter that
        keeps few chunks, approximate kinds scan their codes linearly (a graph walk would
        find too few allowed neighbours); if a search still comes back short, brute force.
        """
        n = len(self)
        k = min(k, n)
        none = np.zeros(0, np.float32), np.zeros(0, np.int64)
        if k <= 0:
            return none
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        sel = bitmap = None
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=np.int64)
            if len(allowed) == 0:
                return none
            mask = np.zeros(n, dtype=bool)
            mask[allowed] = True
            bitmap = np.packbits(mask, bitorder="little")  # bit i (little-endian) = chunk i
            sel = faiss.IDSelectorBitmap(n, faiss.swig_ptr(bitmap))
        fetch = k if self.kind == "flat" else min(n, max(k, self.rerank))
        target, params = self.index, None
        share = 1.0 if allowed is None else len(allowed) / n
        if self.kind == "flat":
            params = None if sel is None else faiss.SearchParameters(sel=sel)  # type: ignore[call-arg]
        elif self.kind == "ivf":
            ivf = faiss.extract_index_ivf(self.index)
            nprobe = int(ivf.nlist) if share <= SCAN_SHARE else int(ivf.nprobe / share)
            nprobe = max(1, min(int(ivf.nlist), nprobe))
            params = faiss.SearchParametersIVF(sel=sel, nprobe=nprobe)  # type: ignore[call-arg]
        elif share <= SCAN_SHARE:  # few chunks allowed: scan the graph's codes, no walk
            target = faiss.downcast_index(self.index.storage)  # type: ignore[attr-defined]
            params = faiss.SearchParameters(sel=sel)  # type: ignore[call-arg]
        else:
            ef = int(max(int(_graph(self.index).efSearch), fetch) / share)
            params = faiss.SearchParametersHNSW(  # type: ignore[attr-defined]
                sel=sel, efSearch=max(fetch, min(MAX_EF, ef))
            )
        with threads(1):
            scores, ids = target.search(q, fetch, params=params)
        keep = ids[0] >= 0
        scores, ids = scores[0][keep], ids[0][keep]
        if len(ids) and int(ids.max()) >= n:  # a damaged id list in the file
            raise IndexCorruptError(f"the vector index has an id out of range; {REBUILD}")
        if self.kind == "flat":
            return scores, ids
        if allowed is not None and len(ids) < min(k, len(allowed)):  # the filter starved it
            return self._exact(q[0], k, allowed)
        if self.stored is not None:
            scores = dot(self.stored, ids, q[0])  # exact scores for the codes' approximations
        top = np.argsort(-scores, kind="stable")[:k]
        return scores[top], ids[top]

    def _exact(self, q: np.ndarray, k: int, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Brute force over the vectors of `ids` only."""
        if self.stored is not None:
            scores = dot(self.stored, ids, q)
        else:
            scores = np.concatenate(
                [self.vectors(ids[lo : lo + 1024]) @ q for lo in range(0, len(ids), 1024)]
            )
        k = min(k, len(ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return scores[top], ids[top]

    def vectors(self, ids: list[int] | np.ndarray | None = None) -> np.ndarray:
        """Vectors of chunk `ids` (all of them, row i = chunk i, when None), as a copy."""
        if ids is None:
            if self.stored is not None:
                return np.array(self.stored, dtype=np.float32)
            return self.index.reconstruct_n(0, len(self))
        rows = np.asarray(ids, dtype=np.int64)
        if len(rows) == 0:
            return np.zeros((0, self.dim), np.float32)
        if self.stored is not None:
            return np.asarray(self.stored[rows], dtype=np.float32)
        return self.index.reconstruct_batch(rows)

    def save(self, path: Path) -> None:
        """Write the index to `path`, and the float vectors beside it where they are needed."""
        faiss.write_index(self.index, str(path))
        if self.stored is not None:
            np.save(path.with_suffix(".npy"), np.asarray(self.stored))

    @classmethod
    def load(cls, path: Path, chunks: int | None = None, dim: int | None = None) -> VectorIndex:
        """Open a saved index; flat codes are memory-mapped (read on first use, shared).

        What is cheap to check is checked (rag/index/faissfile.py; rag/index/generations.py
        lists it): the header, the metric, `chunks` vectors of `dim` dimensions when given, the
        file sizes, the IVF list ids.
        """
        index = faissfile.read(path, chunks, dim)
        if _kind(index) in ("flat", "hnsw-flat"):
            return cls(index)
        return cls(index, faissfile.stored(path, index))
