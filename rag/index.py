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

import faiss
import numpy as np

from .errors import IndexCorruptError, IndexLockedError, IndexMismatchError, IndexMissingError
from .types import Manifest

FORMAT_VERSION = 1
VECTORS = "vectors.faiss"
MANIFEST = "manifest.json"
STORE = "store.sqlite"
KEYWORDS = "bm25"
CURRENT = "CURRENT"
REBUILD = "run `rag index build` to rebuild it"


class VectorIndex:
    """Exact inner-product search over normalised vectors; FAISS ids are chunk ids."""

    def __init__(self, index: faiss.Index) -> None:
        self.index = index
        self.dim = int(index.d)

    @classmethod
    def build(cls, vectors: np.ndarray) -> VectorIndex:
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(vectors.shape[1]))
        index.add_with_ids(vectors, np.arange(len(vectors), dtype=np.int64))
        return cls(index)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top `k` (scores, ids) for one query vector; `allowed` restricts to those chunk ids."""
        k = min(k, len(self))
        if k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        params = None
        if allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed.astype(np.int64)))  # type: ignore[call-arg]
        scores, ids = self.index.search(query.reshape(1, -1), k, params=params)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

    def vectors(self, ids: list[int] | None = None) -> np.ndarray:
        """Vectors of chunk `ids` (all of them, row i = chunk i, when None)."""
        if ids is None:
            return self.index.reconstruct_n(0, len(self))
        return (
            np.stack([self.index.reconstruct(int(i)) for i in ids])
            if ids
            else np.zeros((0, self.dim), np.float32)
        )

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        try:
            return cls(faiss.read_index(str(path)))
        except RuntimeError as e:
            raise IndexCorruptError(f"{path}: cannot read the vector index; {REBUILD}") from e


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
