"""Index: the FAISS vectors, the manifest, and generations on disk switched atomically.

Layout of an index folder::

    index/
      CURRENT            name of the live generation, e.g. "gen-20261130T131500-3f2a"
      gen-.../           manifest.json, vectors.faiss, store.sqlite, bm25/
      gen-....partial/   a generation being written (removed at the next build if it crashed)
      .lock              held by the one build running
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from .config import INDEX_TYPES
from .errors import (
    ConfigError,
    IndexCorruptError,
    IndexLockedError,
    IndexMismatchError,
    IndexMissingError,
)
from .types import Manifest

FORMAT_VERSION = 2
VECTORS = "vectors.faiss"
MANIFEST = "manifest.json"
STORE = "store.sqlite"
KEYWORDS = "bm25"
CURRENT = "CURRENT"
REBUILD = "run `rag index build` to rebuild it"


EXACT_MAX = 50_000  # "auto": exact search up to this many vectors, IVF above (bench/README.md)
HNSW_M = 32  # graph neighbours per node (2 * M on the bottom level)
HNSW_EF_CONSTRUCTION = 64
HNSW_EF_SEARCH = 64
IVF_NPROBE = 32  # cells searched: at least this, and at least 1/128 of them (1M: 32 of 4,000)
RERANK = 50  # approximate kinds fetch at least this many candidates, then re-score them exactly
SCAN_SHARE = 0.1  # approximate kinds under a filter keeping at most this share: linear scan
MAX_EF = 1024  # cap on the widened HNSW search under a filter


def choose(n: int, kind: str = "auto") -> str:
    """The index kind for `n` vectors: `kind` itself unless it is "auto".

    >>> choose(50_000), choose(5_000_000), choose(10, "hnsw")
    ('flat', 'ivf', 'hnsw')
    """
    if kind not in INDEX_TYPES:
        raise ConfigError(f"index type {kind!r} is not one of {', '.join(INDEX_TYPES)}")
    if kind != "auto":
        return kind
    return "flat" if n <= EXACT_MAX else "ivf"


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


def _dot(rows: np.ndarray | Rows, ids: np.ndarray, q: np.ndarray) -> np.ndarray:
    """`rows[ids] @ q` (float32), 1,024 rows at a time.

    Small products stay on one thread: a large one wakes OpenBLAS's threads, and on a busy
    2-core machine 3,000 rows then took 16 ms instead of 0.9 ms.
    """
    out = np.empty(len(ids), dtype=np.float32)
    for lo in range(0, len(ids), 1024):
        out[lo : lo + 1024] = np.asarray(rows[ids[lo : lo + 1024]]) @ q
    return out


class Rows:
    """The float vectors saved beside an approximate index (`vectors.npy`), read by position
    with `pread`: re-scoring reads ~50 scattered rows a query, and a memory map would pull
    64 kB around each into the process (at 1M vectors, 1.5 GB of RSS after 1,000 queries).
    Behaves as a read-only float32 array for `rows[ids]`, `len()` and `np.asarray(rows)`."""

    SCAN = 4096  # above this many rows in one read, map the file for that read only

    def __init__(self, path: Path) -> None:
        self.path = path
        with open(path, "rb") as f:
            major, _ = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0
            if major != 1:
                read = np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read(f)
            self.offset = f.tell()
            size = os.fstat(f.fileno()).st_size
        if len(shape) != 2 or fortran or dtype != np.float32:
            raise ValueError("not a C-ordered float32 matrix")
        self.shape: tuple[int, int] = (int(shape[0]), int(shape[1]))
        self.dtype = np.dtype(np.float32)
        self.row_bytes = 4 * self.shape[1]
        if size < self.offset + self.shape[0] * self.row_bytes:
            raise ValueError(f"{size} bytes, too short for {self.shape[0]} rows")
        self.fd = os.open(path, os.O_RDONLY)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, ids: Any) -> np.ndarray:
        rows = np.asarray(ids, dtype=np.int64).ravel()
        if len(rows) > self.SCAN:
            return np.array(np.load(self.path, mmap_mode="r")[rows], dtype=np.float32)
        size = self.row_bytes
        buf = bytearray(len(rows) * size)
        view = memoryview(buf)
        for i, r in enumerate(rows.tolist()):
            if not 0 <= r < self.shape[0]:
                raise IndexError(f"row {r} of {self.shape[0]}")
            os.preadv(self.fd, [view[i * size : (i + 1) * size]], self.offset + r * size)
        return np.frombuffer(buf, dtype=np.float32).reshape(len(rows), self.shape[1])

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(np.load(self.path), dtype=dtype or np.float32)

    def __del__(self) -> None:
        with contextlib.suppress(AttributeError, OSError):
            os.close(self.fd)


def ivf_lists(n: int) -> int:
    """k-means cells for `n` vectors: about 4 sqrt(n), with at least 39 training points each."""
    return max(1, min(int(4 * n**0.5), n // 39))


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

    Kinds (`Settings.index_type`; the manifest records the one built and its parameters):

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
                "rerank": RERANK,
            }
        if self.kind == "ivf":
            ivf = faiss.extract_index_ivf(self.index)
            return {"nlist": int(ivf.nlist), "nprobe": int(ivf.nprobe), "rerank": RERANK}
        return {}

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
        fetch = k if self.kind == "flat" else min(n, max(k, RERANK))
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
        if self.kind == "flat":
            return scores, ids
        if allowed is not None and len(ids) < min(k, len(allowed)):  # the filter starved it
            return self._exact(q[0], k, allowed)
        if self.stored is not None:
            scores = _dot(self.stored, ids, q[0])  # exact scores for the codes' approximations
        top = np.argsort(-scores, kind="stable")[:k]
        return scores[top], ids[top]

    def _exact(self, q: np.ndarray, k: int, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Brute force over the vectors of `ids` only."""
        if self.stored is not None:
            scores = _dot(self.stored, ids, q)
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
    def load(cls, path: Path) -> VectorIndex:
        """Open a saved index; flat codes are memory-mapped (read on first use, shared)."""
        try:
            index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
        except RuntimeError as e:
            raise IndexCorruptError(f"{path}: cannot read the vector index; {REBUILD}") from e
        if _kind(index) in ("flat", "hnsw-flat"):
            return cls(index)
        npy = path.with_suffix(".npy")
        try:
            stored = Rows(npy)
        except (OSError, ValueError) as e:
            raise IndexCorruptError(f"{npy}: cannot read the stored vectors; {REBUILD}") from e
        if stored.shape != (index.ntotal, index.d):
            raise IndexCorruptError(f"{npy} does not match {path.name}; {REBUILD}")
        return cls(index, stored)


# --- generations -----------------------------------------------------------------------------


def current(index_dir: Path) -> Path:
    """The live generation's folder, or IndexMissingError."""
    pointer = index_dir / CURRENT
    try:
        name = pointer.read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        raise IndexMissingError(
            f"no index in {index_dir}/: run `rag index build [PATH...]` first"
        ) from None
    gen = index_dir / name
    if not name.startswith("gen-") or not gen.is_dir():
        raise IndexCorruptError(f"{pointer} points at a missing generation {name!r}; {REBUILD}")
    return gen


def generation_id(index_dir: Path) -> str | None:
    """Name of the live generation (cheap: one small file read), None if there is none."""
    try:
        return (index_dir / CURRENT).read_text().strip() or None
    except OSError:
        return None


@contextlib.contextmanager
def locked(index_dir: Path) -> Iterator[None]:
    """Hold the index's build lock; a second holder fails at once with a clear message."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexLockedError(
                f"another build or update of {index_dir}/ is running; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def new_generation(index_dir: Path) -> Path:
    """A fresh `.partial` folder to write a generation into (call while holding the lock)."""
    for stale in index_dir.glob("gen-*.partial"):
        shutil.rmtree(stale, ignore_errors=True)  # left by a build that crashed
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    gen = index_dir / f"gen-{stamp}-{uuid.uuid4().hex[:6]}.partial"
    gen.mkdir(parents=True)
    return gen


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit(partial: Path, manifest: Manifest) -> Path:
    """Write the manifest, then make `partial` the live generation atomically."""
    files = {
        str(p.relative_to(partial)): sha256(p)
        for p in sorted(partial.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    manifest = dataclasses.replace(manifest, files=files)
    (partial / MANIFEST).write_text(json.dumps(dataclasses.asdict(manifest), indent=1))
    for p in partial.rglob("*"):
        if p.is_file():
            _fsync(p)
    index_dir = partial.parent
    gen = partial.with_name(partial.name.removesuffix(".partial"))
    partial.rename(gen)
    tmp = index_dir / f"{CURRENT}.tmp"
    tmp.write_text(gen.name + "\n")
    _fsync(tmp)
    previous = generation_id(index_dir)
    os.replace(tmp, index_dir / CURRENT)  # the switch: readers see old or new, never half
    _fsync(index_dir)
    for old in index_dir.glob("gen-*"):  # keep the live one and the one before it
        if old.name not in (gen.name, previous) and not old.name.endswith(".partial"):
            shutil.rmtree(old, ignore_errors=True)
    return gen


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_manifest(gen: Path) -> Manifest:
    path = gen / MANIFEST
    try:
        raw = json.loads(path.read_text())
        raw["sources"] = tuple(raw.get("sources", ()))
        raw["excluded"] = tuple(raw.get("excluded", ()))
        manifest = Manifest(**raw)
    except FileNotFoundError:
        raise IndexCorruptError(f"{path} is missing; {REBUILD}") from None
    except (ValueError, TypeError) as e:
        raise IndexCorruptError(f"{path} is damaged ({type(e).__name__}); {REBUILD}") from e
    if manifest.format_version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"{gen.parent}/ has index format {manifest.format_version}, this version reads "
            f"{FORMAT_VERSION}; {REBUILD}"
        )
    return manifest


def check_model(manifest: Manifest, model: str, index_dir: Path) -> None:
    """Refuse to query an index with another model than the one it was built with."""
    if manifest.model != model:
        raise IndexMismatchError(
            f"{index_dir}/ was built with model {manifest.model!r} but {model!r} is configured; "
            f"run `rag index build` to rebuild, or use --model {manifest.model}"
        )


def verify(gen: Path) -> Manifest:
    """Check every file against the manifest's checksums and the counts against each other."""
    manifest = read_manifest(gen)
    for name, digest in manifest.files.items():
        path = gen / name
        if not path.is_file():
            raise IndexCorruptError(f"{path} is missing; {REBUILD}")
        if sha256(path) != digest:
            raise IndexCorruptError(f"{path} is damaged (checksum differs); {REBUILD}")
    return manifest
