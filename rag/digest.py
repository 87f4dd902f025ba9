"""Digest: the one place that hashes files and texts (checksums and identities)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO

BLOCK = 1 << 20


def sha256_stream(f: BinaryIO, h: hashlib._Hash | None = None) -> str:
    """SHA-256 of what `f` still holds, read a block at a time (into `h` when given)."""
    h = h or hashlib.sha256()
    while block := f.read(BLOCK):
        h.update(block)
    return h.hexdigest()


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, hex.

    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"abc")
    >>> sha256_file(Path(f.name))[:12]; os.unlink(f.name)
    'ba7816bf8f01'
    """
    with open(path, "rb") as f:
        return sha256_stream(f)


def text_key(text: str) -> str:
    """Identity of an article's text for exact-duplicate detection (case and spacing ignored).

    >>> text_key("Rain  in Oslo") == text_key("rain in oslo")
    True
    """
    return hashlib.sha1(" ".join(text.lower().split()).encode()).hexdigest()
