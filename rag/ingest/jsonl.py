"""JSONL: one article per line, gzipped or not, read in bounded pieces.

Memory stays bounded whatever the file holds: a line is read at most `max_line` bytes at a
time, and a longer one is passed over in 1 MiB pieces and skipped; reading stops after
MAX_BYTES decompressed bytes (a gzip "bomb"), keeping the records before. Each over-long line
or file gives one `Skipped`.

    {"text": ..., "title", "published" (or "date"), "url", "outlet" (or "source"), "author",
     "doc_id"}
    (all but text optional; other fields are ignored)
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from rag.ingest.records import (
    Unreadable,
    article,
    clip,
    field,
    first_sentence,
    host,
    one_line,
    parse_date,
)
from rag.types import Article, Skipped

MAX_BYTES = 4 * 2**30  # decompressed bytes read from one file (split bigger exports)
MIN_LINE_BYTES = 2**20  # the line limit is 8 bytes per allowed character, and at least this
PIECE = 2**20  # bytes read at a time while passing over an over-long line


def line_limit(max_chars: int) -> int:
    """Bytes one record's line may have for a text of `max_chars` characters: JSON escapes
    take up to 12 bytes for one character, but rarely more than 8 on average, with the other
    fields.

    >>> line_limit(1_000_000)
    8000000
    """
    return max(MIN_LINE_BYTES, 8 * max_chars)


def load(path: Path, rel: str, max_line: int) -> Iterator[Article | Skipped]:
    """Records of `path` (gzip by magic bytes, whatever the extension says); `rel` is the base
    of derived doc_ids, `max_line` the longest line read (bytes, decompressed)."""
    label = str(path)
    lines = 0
    with open(path, "rb") as raw:
        zipped = raw.peek(2)[:2] == b"\x1f\x8b"
        if path.name.lower().endswith(".gz") and not zipped:
            raise Unreadable("not a gzip file")
        if not zipped and path.stat().st_size > MAX_BYTES:
            raise Unreadable(f"file too large (over {_size(MAX_BYTES)}; split it)")
        stream: IO[bytes] = gzip.GzipFile(fileobj=raw) if zipped else raw  # type: ignore[assignment]
        try:
            if b"\x00" in stream.peek(8192)[:8192]:  # type: ignore[attr-defined]
                raise Unreadable("binary file, not text")
            for lineno, line in _lines(stream, max_line):
                if line is None:
                    lines += 1
                    yield Skipped(
                        f"{path}:{lineno}",
                        f"line {lineno}: longer than {_size(max_line)} (the limit for one "
                        "record, 8 bytes per character of max_article_chars)",
                    )
                elif line.strip():
                    lines += 1
                    yield _record(line, lineno, path, rel)
        except _TooBig:
            yield Skipped(
                label,
                f"decompresses to over {_size(MAX_BYTES)}; the records after that were not read "
                "(split the file)",
            )
            return
        except EOFError:  # the gzip stream stops early: keep what was read before the damage
            yield Skipped(label, "truncated gzip")
            return
        except (gzip.BadGzipFile, zlib.error) as err:
            yield Skipped(label, f"damaged gzip ({one_line(str(err))})")
            return
    if not lines:
        raise Unreadable("empty file" if zipped else "only whitespace, no records")


class _TooBig(Exception):
    """More than MAX_BYTES were read from one file."""


def _lines(stream: IO[bytes], max_line: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) for each line of `stream`; the line is None when it is longer
    than `max_line` bytes (it was read in pieces and dropped). _TooBig past MAX_BYTES."""
    total = 0
    lineno = 0
    while True:
        line = stream.readline(max_line + 1)
        if not line:
            return
        lineno += 1
        total += len(line)
        if len(line) <= max_line or line.endswith(b"\n"):  # whole: at most max_line + "\n"
            if total > MAX_BYTES:
                raise _TooBig
            yield lineno, line
            continue
        del line
        while True:  # pass over the rest of the line without keeping it
            piece = stream.readline(PIECE)
            total += len(piece)
            if total > MAX_BYTES:
                raise _TooBig
            if not piece or piece.endswith(b"\n"):
                break
        yield lineno, None


def _record(line: bytes, lineno: int, path: Path, rel: str) -> Article | Skipped:
    where = f"{path}:{lineno}"
    try:
        raw = line.decode("utf-8").lstrip("\ufeff")
        obj = json.loads(raw)
    except UnicodeDecodeError:
        return Skipped(where, f"line {lineno}: not valid UTF-8")
    except json.JSONDecodeError as err:
        msg = err.msg.removesuffix(" at")  # "Invalid control character at": no "at at column"
        return Skipped(where, f"line {lineno}: not valid JSON ({msg} at column {err.colno})")
    if not isinstance(obj, dict):
        return Skipped(where, f"line {lineno}: not a JSON object")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        return Skipped(where, f"line {lineno}: no text")
    url = field(obj, "url")
    return article(
        f"{rel}#{lineno}",
        doc_id=field(obj, "doc_id"),
        title=clip(field(obj, "title")) or first_sentence(text),
        text=text,  # as given: offsets computed elsewhere may point into it
        published=parse_date(obj.get("published") or obj.get("date")),
        outlet=field(obj, "outlet") or field(obj, "source") or host(url),
        url=url,
        author=field(obj, "author"),
        path=where,
    )


def _size(n: int) -> str:
    """A size for a message.

    >>> _size(8_000_000), _size(4 * 2**30), _size(20_000)
    ('8 MB', '4 GB', '20,000 bytes')
    """
    if n >= 2**30:
        return f"{n / 2**30:.0f} GB"
    return f"{n / 1e6:.0f} MB" if n >= 1e6 else f"{n:,} bytes"
