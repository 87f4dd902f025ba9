"""Generations: the index folder on disk and its generations, switched atomically.

Layout of an index folder::

    index/
      CURRENT            name of the live generation, e.g. "gen-20261130T131500-3f2a9c"
      gen-.../           manifest.json, vectors.faiss (+ vectors.npy), store.sqlite, bm25/
                         (sharded: shards/<month>/ instead of vectors and bm25: rag/index/shards.py)
      gen-....partial/   a generation being written (removed at the next build if it crashed)
      .lock              held by the one build running (rag/index/lock.py)

What is checked when, against damage on disk (tests/test_harden_index.py flips bytes):

- at every load, cheap (only what loading reads anyway): `CURRENT` is a readable name of a
  folder that exists; the manifest parses and its fields have the right types; each part
  checks its own structure when it opens, and its count against the manifest's when given it
  (`VectorIndex.load(path, chunks, dim)`, `KeywordIndex.load(folder, chunks)`):
  rag/index/faissfile.py: the faiss header and metric, the vector count and dimension, a flat file's
  size, IVF cells and list ids in range, HNSW graph sizes, `vectors.npy`'s header and size;
  rag/index/bm25.py: BM25 array types, shapes, lengths, finite scores, document ids and
  vocabulary ids in range; rag/index/store.py: article rows, chunk ids and row references, dates,
  and any SQLite error at any later read (text that is no longer UTF-8, a damaged page);
  sharded (rag/index/shards.py): each shard's `ids.npy` (ascending, in range, together every chunk
  once) and its term counts' types, lengths and row ids (`TermCounts.load`). The manifest
  records no file sizes (only sha256), so sizes are checked where the format fixes them
  (flat vectors, `vectors.npy`).
- only `rag index verify` (`verify` below: a sha256 of every file against the manifest):
  changed vector values, changed BM25 scores or vocabulary words, changed HNSW neighbour
  lists, and changed article text that is still valid UTF-8; reading them needs whole files.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import re
import shutil
import stat
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rag.digest import sha256_file
from rag.errors import (
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    IndexStateError,
)
from rag.types import Manifest

FORMAT_VERSION = 2
VECTORS = "vectors.faiss"
MANIFEST = "manifest.json"
STORE = "store.sqlite"
KEYWORDS = "bm25"
CURRENT = "CURRENT"
REBUILD = "run `rag index build` to rebuild it, or `rag index rollback` to use the previous one"
_NAME = re.compile(r"gen-[0-9A-Za-z-]{1,80}")  # a generation's folder name (no ".partial")


def current(index_dir: Path) -> Path:
    """The live generation's folder, or IndexMissingError / IndexCorruptError."""
    pointer = index_dir / CURRENT
    name = _pointer(index_dir)
    if name is None:
        raise IndexMissingError(f"no index in {index_dir}/: run `rag index build [PATH...]` first")
    gen = index_dir / name
    if not _NAME.fullmatch(name):
        raise IndexCorruptError(f"{pointer} is damaged (not a generation name); {REBUILD}")
    if not gen.is_dir():
        raise IndexCorruptError(f"{pointer} points at a missing generation {name!r}; {REBUILD}")
    return gen


def _pointer(index_dir: Path) -> str | None:
    """What `CURRENT` says (None: there is no index), or IndexCorruptError if it is unreadable."""
    pointer = index_dir / CURRENT
    try:
        raw = read_pointer(pointer)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        raise IndexStateError(f"cannot read {pointer} ({reason(e)}); check its permissions") from e
    try:
        return raw.decode("ascii").strip()
    except UnicodeDecodeError:
        raise IndexCorruptError(
            f"{pointer} is damaged (not a generation name); {REBUILD}"
        ) from None


POINTER_MAX = 256  # bytes: a generation's name and a line break fit many times over


def read_pointer(pointer: Path) -> bytes:
    """The bytes of `CURRENT`, read only from a regular file (a symlink to one is followed) of
    at most POINTER_MAX bytes: a device (`/dev/zero`), a FIFO, a folder or a huge file is
    IndexCorruptError, never an endless read or a hang. OSError if it cannot be opened."""
    kind = ""
    st = os.stat(pointer)  # follows a symlink: FileNotFoundError for a dangling one
    if stat.S_ISDIR(st.st_mode):
        kind = "a folder"
    elif not stat.S_ISREG(st.st_mode):
        kind = "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a device or special file"
    elif st.st_size > POINTER_MAX:
        kind = f"{st.st_size} bytes long"
    if not kind:  # O_NONBLOCK: a FIFO swapped in since the stat opens at once, then is refused
        fd = os.open(pointer, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                raw = os.read(fd, POINTER_MAX + 1)
                if len(raw) <= POINTER_MAX:
                    return raw
                kind = f"over {POINTER_MAX} bytes long"
            else:
                kind = "not a regular file"
        finally:
            os.close(fd)
    link = " (a symlink)" if pointer.is_symlink() else ""
    raise IndexCorruptError(
        f"{pointer}{link} is {kind}, not the name of a generation; remove it, then "
        "`rag index rollback` (or `rag index build` to rebuild)"
    )


def generation_id(index_dir: Path) -> str | None:
    """Name of the live generation (cheap: one small file read), None if there is none."""
    try:
        return read_pointer(index_dir / CURRENT).decode("ascii").strip() or None
    except (OSError, ValueError, IndexCorruptError):
        return None


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


def commit(partial: Path, manifest: Manifest, known: dict[str, str] | None = None) -> Path:
    """Write the manifest, then make `partial` the live generation atomically.

    `known`: the checksums of files linked unchanged from the live generation (rag/index/shards.py),
    from its manifest; every other file is hashed here.
    """
    known = known or {}
    files = {
        str(p.relative_to(partial)): known.get(str(p.relative_to(partial))) or sha256_file(p)
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
    previous = generation_id(index_dir)
    _switch(index_dir, gen.name)
    for old in index_dir.glob("gen-*"):  # keep the live one and the one before it
        if old.name not in (gen.name, previous) and not old.name.endswith(".partial"):
            shutil.rmtree(old, ignore_errors=True)
    return gen


def _switch(index_dir: Path, name: str) -> None:
    """Point `CURRENT` at generation `name`: readers see the old one or the new one, never half."""
    pointer = index_dir / CURRENT
    if pointer.is_dir() and not pointer.is_symlink():
        try:
            pointer.rmdir()  # an empty folder in its place (damage): make way
        except OSError:
            raise IndexCorruptError(
                f"{pointer} is a folder, not the name of a generation; remove it and try again"
            ) from None
    tmp = index_dir / f"{CURRENT}.tmp"
    tmp.write_text(name + "\n")
    _fsync(tmp)
    os.replace(tmp, pointer)
    _fsync(index_dir)


def rollback(index_dir: Path) -> tuple[str, str]:
    """Make the newest whole generation older than the live one live: (from, to) names.

    With `CURRENT` damaged or pointing at a missing folder, the newest whole generation
    ("from" is then "a damaged CURRENT"). Call it holding the lock.
    """
    try:
        live: str | None = current(index_dir).name
    except IndexCorruptError:
        live = None
    except IndexMissingError:
        if not _generations(index_dir):
            raise
        live = None
    gens = _generations(index_dir)
    if live is not None:
        gens = gens[: gens.index(live)] if live in gens else []
    for name in reversed(gens):
        try:
            read_manifest(index_dir / name)
        except IndexStateError:
            continue
        _switch(index_dir, name)
        return live or "a damaged CURRENT", name
    raise IndexStateError(
        f"{index_dir}/ holds no whole generation before {live or 'the live one'}; "
        "run `rag index build` to rebuild it"
    )


def _generations(index_dir: Path) -> list[str]:
    """Names of the whole generations in `index_dir`, oldest first."""

    def age(gen: Path) -> tuple[str, int]:  # the name's time stamp, then the manifest's mtime
        return gen.name[:19], (gen / MANIFEST).stat().st_mtime_ns

    try:
        gens = [
            g
            for g in index_dir.glob("gen-*")
            if _NAME.fullmatch(g.name) and (g / MANIFEST).is_file()
        ]
        return [g.name for g in sorted(gens, key=age)]
    except OSError:
        return []


_TYPES = {"model": str, "dim": int, "chunk_size": int, "chunk_overlap": int, "articles": int}
_TYPES.update(chunks=int, built_at=str, index_type=str, index_params=dict, hashes=dict, files=dict)
_TYPES.update(tuned_from=str, model_digest=str, shards=str, shard_sets=dict)


def read_manifest(gen: Path) -> Manifest:
    path = gen / MANIFEST
    try:
        raw = json.loads(path.read_bytes())
        raw["sources"] = tuple(raw.get("sources", ()))
        raw["excluded"] = tuple(raw.get("excluded", ()))
        manifest = Manifest(**raw)
    except FileNotFoundError:
        raise IndexCorruptError(f"{path} is missing; {REBUILD}") from None
    except OSError as e:
        raise IndexCorruptError(f"{path} cannot be read ({reason(e)}); {REBUILD}") from e
    except (ValueError, TypeError, AttributeError) as e:
        raise IndexCorruptError(f"{path} is damaged ({type(e).__name__}); {REBUILD}") from e
    if manifest.format_version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"{gen.parent}/ has index format {manifest.format_version}, this version reads "
            f"{FORMAT_VERSION}; run `rag index build` to rebuild it"
        )
    for name, kind in _TYPES.items():
        value: Any = getattr(manifest, name)
        negative = kind is int and isinstance(value, int) and value < 0
        if not isinstance(value, kind) or isinstance(value, bool) or negative:
            raise IndexCorruptError(f"{path} is damaged (field {name!r}); {REBUILD}")
    return manifest


def check_model(manifest: Manifest, model: str, index_dir: Path) -> None:
    """Refuse to query an index with another model than the one it was built with."""
    if manifest.model != model:
        raise IndexMismatchError(
            f"{index_dir}/ was built with model {manifest.model!r} but {model!r} is configured; "
            f"run `rag index build` to rebuild, or use --model {manifest.model}"
        )


def verify(gen: Path) -> Manifest:
    """Check every file against the manifest's checksums (the counts are checked on load)."""
    manifest = read_manifest(gen)
    for name, digest in manifest.files.items():
        path = gen / name
        if not path.is_file():
            raise IndexCorruptError(f"{path} is missing; {REBUILD}")
        try:
            same = sha256_file(path) == digest
        except OSError as e:
            raise IndexCorruptError(f"{path} cannot be read ({reason(e)}); {REBUILD}") from e
        if not same:
            raise IndexCorruptError(f"{path} is damaged (checksum differs); {REBUILD}")
    return manifest


def reason(err: OSError) -> str:
    """An OSError in a few words for a message: "permission denied", "read-only file system"."""
    if err.errno == errno.EROFS:
        return "read-only file system"
    return (err.strerror or type(err).__name__).lower()
