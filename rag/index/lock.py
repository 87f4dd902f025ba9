"""Lock: one build, update or remove at a time on an index folder (`.lock`, flock)."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from rag.errors import IndexLockedError, IndexStateError
from rag.index.generations import reason

LOCK = ".lock"


@contextlib.contextmanager
def locked(index_dir: Path) -> Iterator[None]:
    """Hold the index's build lock; a second holder fails at once with a clear message.

    A folder the lock had to create is removed again if nothing but the lock was written in it
    (an `update` of an index that does not exist leaves nothing behind).
    """
    created = [p for p in (index_dir, *index_dir.parents) if not p.exists()]
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        f = open(index_dir / LOCK, "w")  # noqa: SIM115  (closed below)
    except OSError as e:
        raise IndexStateError(
            f"cannot lock {index_dir}/ for writing ({reason(e)}); check its permissions, "
            "or give another folder with --index or RAG_INDEX_DIR"
        ) from e
    try:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexLockedError(
                f"another build or update of {index_dir}/ is running; wait for it to finish"
            ) from None
        except OSError as e:
            raise IndexStateError(f"cannot lock {index_dir / LOCK} ({reason(e)})") from e
        if not _same_file(f.fileno(), index_dir / LOCK):  # removed by a holder that just left
            raise IndexLockedError(f"another build of {index_dir}/ just finished; try again")
        try:
            yield
        finally:
            if created:
                _remove_if_unused(index_dir, created)
            fcntl.flock(f, fcntl.LOCK_UN)
    finally:
        f.close()


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), path.stat())
    except OSError:
        return False


def _remove_if_unused(index_dir: Path, created: list[Path]) -> None:
    """Remove the folders the lock created (innermost first) if they hold only the lock."""
    with contextlib.suppress(OSError):
        if [p.name for p in index_dir.iterdir()] != [LOCK]:
            return
        (index_dir / LOCK).unlink()
        for folder in created:  # index_dir first, then the parents made for it
            folder.rmdir()  # fails (and stops) at the first one that is not empty
