"""Writes: a new generation that cannot be written (disk full, a quota, a file over the size
limit, an I/O error) becomes one line naming the file, and what was half written is removed.

    with writing(index_dir):          # around chunk -> embed -> store, vectors, BM25 -> commit
        ...                           # sqlite3 "database or disk is full", faiss "write error",
                                      # OSError ENOSPC/EFBIG -> IndexWriteError

`CURRENT` switches last (rag/index/generations.py), so the live generation is untouched.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from rag.errors import IndexWriteError
from rag.index.generations import CURRENT, STORE, generation_id

_ROOM = {  # errno -> what the user is told
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large (over the file size limit)",
    errno.EIO: "I/O error",
    errno.EROFS: "read-only file system",
}
_SQLITE_FULL, _SQLITE_IOERR = 13, 10  # primary result codes


@contextlib.contextmanager
def writing(index_dir: Path) -> Iterator[None]:
    """Turn a failed write inside the block into IndexWriteError; remove the generation
    folders the block made that are not live. Other errors pass through unchanged."""
    before = {p.name for p in index_dir.glob("gen-*")}
    try:
        yield
    except (OSError, sqlite3.Error, RuntimeError) as e:
        why = failure(e)
        if why is None:
            raise
        live = generation_id(index_dir)
        made = sorted(p for p in index_dir.glob("gen-*") if p.name not in before)
        where = written(e, made[-1] if made else index_dir)
        for folder in made:
            if folder.name != live:
                shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            (index_dir / f"{CURRENT}.tmp").unlink(missing_ok=True)
        if live is not None and live not in before:  # it failed after the switch (syncing)
            raise IndexWriteError(f"{why} writing {where}; the new index {live} is live") from e
        raise IndexWriteError(
            f"{why} writing {where}; the live index is unchanged: free some space (or raise "
            "the file size limit) and run it again"
        ) from e


def failure(e: BaseException) -> str | None:
    """What a failed write says, in a few words; None when `e` is no failed write.

    >>> failure(sqlite3.OperationalError("database or disk is full"))
    'disk full'
    >>> failure(RuntimeError("write error in /ix/v.faiss: 5 != 9 (File too large)"))
    'file too large (over the file size limit)'
    >>> failure(OSError(errno.ENOENT, "No such file or directory")) is None
    True
    """
    if isinstance(e, OSError):
        return _ROOM.get(e.errno or 0)
    text = str(e)
    if isinstance(e, sqlite3.Error):
        code = getattr(e, "sqlite_errorcode", 0) & 0xFF
        if code == _SQLITE_FULL or "disk is full" in text:
            return "disk full"
        if code == _SQLITE_IOERR or "disk I/O error" in text:  # EFBIG and quotas end up here
            return "I/O error (the disk may be full, or a file over the size limit)"
        return None
    if "write error" not in text:  # faiss: "... write error in PATH: 5 != 9 (strerror)"
        return None
    return next((w for n, w in _ROOM.items() if f"({os.strerror(n)})" in text), "write error")


def written(e: BaseException, folder: Path) -> str:
    """The file a failed write names; for SQLite, the store of `folder`; else `folder`."""
    name = getattr(e, "filename", None)
    if name:
        return str(name)
    if isinstance(e, sqlite3.Error) and folder.name.startswith("gen-"):
        return str(folder / STORE)
    m = re.search(r"write error in (\S+?):? ", str(e))
    return m.group(1) if m else f"{folder}/"
