"""Sources: files, folders, feeds and JSONL into Articles.

    for item in read(["seeds/", "feeds/today.rss"]):   # files and folders, in sorted order
        ...                                              # an Article, or Skipped(path, reason)

One loader per format, chosen by extension (case-insensitive):

    .txt .md .markdown     plain text; optional first lines `date YYYY-MM-DD`, `outlet: NAME` (here)
    .html .htm             one article per page (rag/ingest/markup.py, trafilatura)
    .jsonl[.gz] .ndjson    one article per line, streamed in bounded pieces (rag/ingest/jsonl.py)
    .xml .rss .atom        a saved RSS/Atom feed, one article per entry (rag/ingest/markup.py)
    http(s)://...          a feed or article page by URL, fetched politely (rag/ingest/web.py);
                           given `state_dir` (the index folder), unchanged ones cost one request

Bad input never raises and never stops the rest: a file or record that cannot be read becomes
`Skipped(path, reason)`, with a short one-line reason, and reading goes on. Both are as they may be
shown (rag/names.py): control characters escaped, URLs without logins or query values. A record's
path is the file's plus ":line" (JSONL) or "#entry" (feeds). doc_ids: see rag/ingest/records.py.

Limits: files read whole (all but JSONL) up to MAX_FILE_BYTES; JSONL lines and files as
rag/ingest/jsonl.py says. An article's text longer than `max_chars`
(`Settings.index.max_article_chars`) is cut there and kept, and a `Note` says so; so does a
`published` date after today (the article is kept as it is, but a chat as of today leaves it out
until then), and so does a first line `date ...` that is not a real date (the article is kept
undated). A `Note` is a `Skipped` that skipped nothing: `tally` counts them apart.
Duplicates (two articles with one URL or doc_id) are yielded as read; the caller decides.
"""

from __future__ import annotations

import codecs
import dataclasses
import errno
import os
import re
import stat
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

from rag.config import FetchSettings, IndexSettings
from rag.ingest import jsonl, markup
from rag.ingest.records import (
    Unreadable,
    article,
    clip,
    content_hash,
    first_sentence,
    one_line,
    parse_date,
)
from rag.names import shown
from rag.types import Article, Note, Skipped

__all__ = ["MAX_FILE_BYTES", "Note", "content_hash", "is_url", "parse_date", "read", "tally"]

MAX_FILE_BYTES = 200 * 1024 * 1024  # files read whole; JSONL is streamed (rag/ingest/jsonl.py)
MAX_ARTICLE_CHARS: int = IndexSettings.max_article_chars
SUPPORTED = ".txt, .md, .html, .jsonl[.gz], .xml/.rss/.atom"

# suffix (lower case) -> loader name; longest suffixes first so ".jsonl.gz" beats ".gz"
_KINDS = (
    (".jsonl.gz", "jsonl"),
    (".ndjson.gz", "jsonl"),
    (".jsonl", "jsonl"),
    (".ndjson", "jsonl"),
    (".txt", "text"),
    (".md", "text"),
    (".markdown", "text"),
    (".html", "html"),
    (".htm", "html"),
    (".xml", "feed"),
    (".rss", "feed"),
    (".atom", "feed"),
)

_DATE_LINE = re.compile(r"[ \t]*date:?[ \t]+(\d{4}-\d{2}-\d{2})(?![\d-])[ \t]*", re.IGNORECASE)
# "outlet: Harbour Post" on a line of its own, first or after the date line (the colon is asked
# for: a first line "Outlet malls close" is text)
_OUTLET_LINE = re.compile(r"[ \t]*outlet:[ \t]*([^\n]{1,80}?)[ \t]*(?:\n|$)", re.IGNORECASE)
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
_RECORD = re.compile(r"(:\d+|#\d+)$")  # the end of a record's path: "a.jsonl:7", "f.rss#2"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def tally(items: Iterable[Skipped]) -> str:
    """What a build report says about its skips and notes.

    >>> tally([Skipped("a.pdf", "x"), Skipped("b.jsonl:3", "x"), Note("c.txt", "cut")])
    'skipped 1 file and 1 record, 1 note'
    """
    files = records = notes = 0
    for item in items:
        if isinstance(item, Note):
            notes += 1
        elif _RECORD.search(item.path):
            records += 1
        else:
            files += 1
    text = f"skipped {files} file{'s' * (files != 1)}"
    if records:
        text += f" and {records} record{'s' * (records != 1)}"
    if notes:
        text += f", {notes} note{'s' * (notes != 1)}"
    return text


def read(
    paths: Iterable[str | Path],
    *,
    max_chars: int = MAX_ARTICLE_CHARS,
    state_dir: Path | None = None,
    fetching: FetchSettings | None = None,
) -> Iterator[Article | Skipped]:
    """Yield an Article for each article in `paths` (files, folders or URLs), a Skipped for
    each file, record or URL that cannot be read, and a Note after an article kept with a
    remark. Folders are walked recursively in sorted order; hidden files and folders (".name")
    are left out. URLs are read together, after the paths (rag/ingest/web.py: `state_dir` keeps what
    their fetches saw; `fetching` gives the fetch limits)."""
    if isinstance(paths, (str, Path)):  # one path given bare: not an iterable of characters
        paths = [paths]
    given = list(paths)
    urls = [str(p) for p in given if is_url(str(p))]
    streams: list[Iterable[Article | Skipped]] = [
        _path(Path(p), max_chars) for p in given if not is_url(str(p))
    ]
    if urls:
        from rag.ingest import web  # httpx, feedparser and trafilatura: only when there are URLs

        streams.append(web.read(urls, state_dir=state_dir, fetching=fetching))
    for items in streams:
        for item in items:
            if isinstance(item, Skipped):  # as it may be shown: never a forged line or a secret
                yield dataclasses.replace(item, path=shown(item.path), reason=shown(item.reason))
                continue
            if isinstance(item, Article) and len(item.text) > max_chars:
                item = _cut(item, max_chars)
                yield item
                yield _cut_note(item.path, max_chars)
            else:
                yield item
            if isinstance(item, Article) and item.published and item.published > date.today():
                yield Note(
                    item.path,
                    f"published {item.published.isoformat()} is after today "
                    f"({date.today().isoformat()}); kept, but chats as of today leave it out",
                )


def is_url(name: str) -> bool:
    """True for "scheme://..." (only http and https are fetched; others get a clear skip).

    >>> is_url("https://example.com/feed.xml"), is_url("seeds/a.txt")
    (True, False)
    """
    return _URL.match(name) is not None


# ---------------------------------------------------------------- walking and dispatch


def _path(root: Path, max_chars: int) -> Iterator[Article | Skipped]:
    """One path given: a folder, a file, or what is wrong with it."""
    try:
        is_dir = root.is_dir()
        exists = is_dir or root.exists() or root.is_symlink()
    except OSError as err:  # e.g. no permission on a parent folder
        yield Skipped(str(root), _os_reason(err))
        return
    if is_dir:
        yield from _walk(root, root, set(), max_chars)
    elif exists:
        yield from _read_file(root, root.name, max_chars)
    else:
        yield Skipped(str(root), "no such file or folder")


def _walk(
    folder: Path, root: Path, seen: set[tuple[int, int]], max_chars: int
) -> Iterator[Article | Skipped]:
    try:
        info = folder.stat()
        if (info.st_dev, info.st_ino) in seen:
            yield Skipped(str(folder), "symlink loop (a link to a folder already read)")
            return
        seen.add((info.st_dev, info.st_ino))
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as err:
        yield Skipped(str(folder), f"cannot open folder ({_os_reason(err)})")
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if is_dir:
            yield from _walk(path, root, seen, max_chars)
        else:
            yield from _read_file(path, path.relative_to(root).as_posix(), max_chars)


def _read_file(path: Path, rel: str, max_chars: int) -> Iterator[Article | Skipped]:
    """One file: `rel` is its path relative to the folder given, the base of derived doc_ids."""
    label = str(path)
    try:
        info = path.stat()
    except OSError as err:
        yield Skipped(label, _os_reason(err))
        return
    name = path.name.lower()
    kind = next((k for suffix, k in _KINDS if name.endswith(suffix)), None)
    if kind is None:
        suffix = path.suffix.lower() or "(no extension)"
        yield Skipped(label, f"unsupported file type {suffix} (use {SUPPORTED})")
        return
    if not stat.S_ISREG(info.st_mode):
        yield Skipped(label, "not a regular file")
        return
    if info.st_size == 0:
        yield Skipped(label, "empty file")
        return
    if kind != "jsonl" and info.st_size > MAX_FILE_BYTES:
        size = info.st_size // 2**20
        yield Skipped(
            label, f"file too large ({size} MB; the limit is {MAX_FILE_BYTES // 2**20} MB)"
        )
        return
    try:
        if kind == "text":
            yield from _load_text(path, rel, info, max_chars)
        elif kind == "jsonl":
            yield from jsonl.load(path, rel, jsonl.line_limit(max_chars))
        else:
            yield from (markup.load_html if kind == "html" else markup.load_feed)(path, rel, info)
    except Unreadable as err:
        yield Skipped(label, str(err))
    except OSError as err:
        yield Skipped(label, _os_reason(err))
    except Exception as err:  # a parser choking on odd input must not stop the other files
        yield Skipped(label, f"could not read ({type(err).__name__}: {one_line(str(err))})")


def _cut(art: Article, max_chars: int) -> Article:
    """`art` with its text cut to `max_chars` characters (and the content hash to match)."""
    text = art.text[:max_chars]
    digest = content_hash(art.title, text, art.published, art.outlet, art.url)
    return dataclasses.replace(art, text=text, content_hash=digest)


def _cut_note(path: str, max_chars: int) -> Note:
    return Note(
        path,
        f"text longer than {max_chars:,} characters (max_article_chars): only that much is kept",
    )


# ---------------------------------------------------------------- plain text


def _load_text(
    path: Path, rel: str, info: os.stat_result, max_chars: int
) -> Iterator[Article | Skipped]:
    """Plain text or Markdown, with optional first lines `outlet: NAME` and `date YYYY-MM-DD`
    (either order); `published` falls back to the file's modification date only
    when the file has no `date YYYY-MM-DD` line (one that is not a real date is taken
    off, and the article is undated, with a note). At most 4 bytes per allowed character
    (the most UTF-8 and UTF-16 take) are read."""
    limit = 4 * (max_chars + 2)  # + a date line's and a BOM's worth
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    whole = len(data) <= limit
    text = _decode(data if whole else data[:limit], whole)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    published = None
    outlet, text = _outlet_line(text)
    match = _DATE_LINE.match(text)
    bad = ""  # a date line that names no real date
    if match:
        published = parse_date(match.group(1))
        bad = "" if published else match.group(1)
        text = text[match.end() :]
    if not outlet:
        outlet, text = _outlet_line(text.lstrip(" \t\n"))
    text = text.strip()
    if not text:
        raise Unreadable("no text after the date line")
    if published is None and not bad:
        published = date.fromtimestamp(info.st_mtime)
    cut = not whole or len(text) > max_chars
    text = text[:max_chars]
    heading = _HEADING.search(text)
    title = clip(heading.group(1)) if heading else first_sentence(text)
    yield article(rel, title=title, text=text, published=published, outlet=outlet, path=str(path))
    if bad:
        yield Note(
            str(path),
            f"first line 'date {bad}' is not a real date (YYYY-MM-DD); kept undated: fix the line",
        )
    if cut:
        yield _cut_note(str(path), max_chars)


def _outlet_line(text: str) -> tuple[str, str]:
    """The outlet an `outlet: NAME` first line names ("" when none), and the text after it."""
    m = _OUTLET_LINE.match(text)
    return (m.group(1).strip(), text[m.end() :]) if m and m.group(1).strip() else ("", text)


def _decode(data: bytes, whole: bool = True) -> str:
    """Text of a file's bytes; `whole=False`: `data` is the start of the file (a character
    cut in two at the end is dropped)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = codecs.getincrementaldecoder("utf-16")().decode(data, final=whole)
        except UnicodeDecodeError as err:
            raise Unreadable("not valid UTF-16") from err
    elif b"\x00" in data:
        raise Unreadable("binary file, not text")
    else:
        try:
            text = codecs.getincrementaldecoder("utf-8-sig")().decode(data, final=whole)
        except UnicodeDecodeError as err:
            bad = data[err.start]
            raise Unreadable(f"not valid UTF-8 (byte 0x{bad:02x} at offset {err.start})") from err
    if not text.strip():
        raise Unreadable("only whitespace, no text")
    return text


def _os_reason(err: OSError) -> str:
    if err.errno == errno.ELOOP:
        return "symlink loop (the link leads back to itself)"
    if isinstance(err, FileNotFoundError):
        return "no such file or folder"
    if isinstance(err, PermissionError):
        return "permission denied"
    return (err.strerror or type(err).__name__).lower()
