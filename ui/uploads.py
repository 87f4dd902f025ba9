"""Uploads: files a browser sent, checked (type, size) and saved under safe names.

The name the browser gave is never used as a path: the saved file is called
`<sanitised stem>-<sha256 prefix><allowed extension>` inside `<index_dir>/uploads/`.

    save(Path("/tmp/gradio/abc/My Feed!.rss"), "My Feed!.rss", Path("index/uploads"))
    # -> index/uploads/My_Feed-3f2a9c0d1b2e.rss
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path, PurePath

from rag.digest import sha256_file
from rag.errors import InputError

UPLOADS = "uploads"  # folder inside the index folder
MAX_BYTES = 20 * 1024 * 1024  # per file
# what rag/ingest/sources.py reads; longest first so ".jsonl.gz" wins over ".gz"
EXTENSIONS = (
    ".jsonl.gz",
    ".ndjson.gz",
    ".markdown",
    ".jsonl",
    ".ndjson",
    ".atom",
    ".html",
    ".txt",
    ".htm",
    ".xml",
    ".rss",
    ".md",
)
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def extension(name: str) -> str:
    """The allowed extension `name` ends with (lower case), or InputError."""
    low = name.lower()
    for ext in EXTENSIONS:
        if low.endswith(ext) and len(low) > len(ext):
            return ext
    raise InputError(
        f"{PurePath(name).name!r}: not an article file; upload {', '.join(sorted(EXTENSIONS))}"
    )


def safe_name(name: str, digest: str) -> str:
    """A file name made only of [A-Za-z0-9_-] plus the allowed extension.

    >>> safe_name("../../etc/passwd.txt", "ab12")
    'passwd-ab12.txt'
    >>> safe_name("<script>.html", "ab12")
    'script-ab12.html'
    """
    ext = extension(name)
    base = PurePath(name.replace("\\", "/")).name  # drop any folders the browser sent
    stem = _UNSAFE.sub("_", base[: len(base) - len(ext)]).strip("_-")[:60] or "upload"
    return f"{stem}-{digest}{ext}"


def save(src: Path, original_name: str, folder: Path, max_bytes: int = MAX_BYTES) -> Path:
    """Copy the uploaded file `src` into `folder` under a safe name; returns the new path."""
    extension(original_name)  # first: reject a wrong type before reading anything
    size = src.stat().st_size
    if size > max_bytes:
        raise InputError(
            f"{PurePath(original_name).name!r} is {size / 2**20:.1f} MB; "
            f"the limit is {max_bytes / 2**20:.0f} MB per file: split it"
        )
    if size == 0:
        raise InputError(f"{PurePath(original_name).name!r} is empty")
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / safe_name(original_name, sha256_file(src)[:12])
    if not dest.exists():
        tmp = dest.with_name(dest.name + ".part")
        shutil.copyfile(src, tmp)
        tmp.replace(dest)
    return dest
