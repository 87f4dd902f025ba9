"""Sources: files, folders, feeds and JSONL into Articles.

    for item in read(["seeds/", "feeds/today.rss"]):   # files and folders, in sorted order
        ...                                              # an Article, or Skipped(path, reason)

One loader per format, chosen by extension (case-insensitive):

    .txt .md .markdown     plain text; an optional first line `date YYYY-MM-DD`
    .html .htm             one article per page (trafilatura: text, title, author, date, URL)
    .jsonl[.gz] .ndjson    one article per line: {"text": ..., "title", "published", "url",
                           "source", "author", "doc_id"} (all but text optional); streamed
    .xml .rss .atom        a saved RSS/Atom feed (feedparser): one article per entry

Bad input never raises and never stops the rest: a file or record that cannot be read becomes
`Skipped(path, reason)`, with a short one-line reason, and reading goes on.

doc_id: a JSONL record's own `doc_id`; else "u" + sha1(url)[:16] when there is a URL; else
"f" + sha1(relative path [+ "#" + line or entry])[:16], the path taken relative to the folder
given (or the file name, for a file given directly), so ids survive moving the folder.
Duplicates (two articles with one URL or doc_id) are yielded as read; the caller decides.
"""

from __future__ import annotations

import codecs
import email.utils
import gzip
import hashlib
import io
import json
import os
import re
import stat
import zlib
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .types import Article, Skipped

MAX_FILE_BYTES = 200 * 1024 * 1024  # files read whole; JSONL is streamed, so it has no limit
MIN_HTML_WORDS = 10  # fewer words extracted from a page = navigation or a script shell, no article
TITLE_CHARS = 200
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
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?!\d)")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
# end of a sentence: . ! or ? (plus closing quotes) then whitespace, not after an initial or a
# common abbreviation ("U.S. officials", "Mr. Smith")
_SENTENCE_END = re.compile(
    r"(?<!\b[A-Za-z])(?<!\bMr)(?<!\bMs)(?<!\bDr)(?<!\bSt)(?<!\bMrs)(?<!\bGov)(?<!\bSen)"
    r"(?<!\bRep)(?<!\bGen)(?<!\bNo)(?<!\bvs)[.!?]['\"”’)]*(?=\s)"
)


class _Unreadable(Exception):
    """A whole file cannot be used; `args[0]` is the reason shown in its Skipped."""


def read(paths: Iterable[str | Path]) -> Iterator[Article | Skipped]:
    """Yield an Article for each article in `paths` (files or folders) and a Skipped for each
    file or record that cannot be read. Folders are walked recursively in sorted order;
    hidden files and folders (".name") are left out."""
    if isinstance(paths, (str, Path)):  # one path given bare: not an iterable of characters
        paths = [paths]
    for given in paths:
        root = Path(given)
        try:
            is_dir = root.is_dir()
            exists = is_dir or root.exists() or root.is_symlink()
        except OSError as err:  # e.g. no permission on a parent folder
            yield Skipped(str(root), _os_reason(err))
            continue
        if is_dir:
            yield from _walk(root, root, set())
        elif exists:
            yield from _read_file(root, root.name)
        else:
            yield Skipped(str(root), "no such file or folder")


def content_hash(title: str, text: str, published: date | None, source: str, url: str) -> str:
    """sha256 hex of an article's content and metadata: it changes when the article does."""
    fields = [title, text, published.isoformat() if published else "", source, url]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


def parse_date(value: object) -> date | None:
    """A date from ISO text, an RFC 822 date (feeds), or anything dateparser reads; else None.

    >>> parse_date("2022-06-12T10:00:00-04:00"), parse_date("Tue, 10 Jun 2003 04:00:00 GMT")
    (datetime.date(2022, 6, 12), datetime.date(2003, 6, 10))
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        return None
    text = value.strip()
    if _ISO_DATE.match(text):  # the common case, and fast: no dateparser
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            return None
    try:
        return email.utils.parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        pass
    import dateparser  # type: ignore[import-untyped]  # slow; only for the odd formats

    # absolute dates only: "yesterday" must not depend on the day the index is built
    settings = {"PARSERS": ["timestamp", "custom-formats", "absolute-time"]}
    try:
        parsed = dateparser.parse(text, settings=settings)
    except (ValueError, OverflowError):
        return None
    return parsed.date() if parsed else None


# ---------------------------------------------------------------- walking and dispatch


def _walk(folder: Path, root: Path, seen: set[tuple[int, int]]) -> Iterator[Article | Skipped]:
    try:
        info = folder.stat()
        if (info.st_dev, info.st_ino) in seen:  # a symlink loop
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
            yield from _walk(path, root, seen)
        else:
            yield from _read_file(path, path.relative_to(root).as_posix())


def _read_file(path: Path, rel: str) -> Iterator[Article | Skipped]:
    """One file: `rel` is its path relative to the folder given, the base of derived doc_ids."""
    label = str(path)
    name = path.name.lower()
    kind = next((k for suffix, k in _KINDS if name.endswith(suffix)), None)
    if kind is None:
        suffix = path.suffix.lower() or "(no extension)"
        yield Skipped(label, f"unsupported file type {suffix} (use {SUPPORTED})")
        return
    try:
        info = path.stat()
    except OSError as err:
        yield Skipped(label, _os_reason(err))
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
    loader = {"text": _load_text, "html": _load_html, "jsonl": _load_jsonl, "feed": _load_feed}
    try:
        yield from loader[kind](path, rel, info)
    except _Unreadable as err:
        yield Skipped(label, str(err))
    except OSError as err:
        yield Skipped(label, _os_reason(err))
    except Exception as err:  # a parser choking on odd input must not stop the other files
        yield Skipped(label, f"could not read ({type(err).__name__}: {_one_line(str(err))})")


# ---------------------------------------------------------------- the loaders, one per format


def _load_text(path: Path, rel: str, info: os.stat_result) -> Iterator[Article | Skipped]:
    """Plain text or Markdown; `published` falls back to the file's modification date only
    when the file has no `date YYYY-MM-DD` first line."""
    text = _decode(path.read_bytes()).replace("\r\n", "\n").replace("\r", "\n")
    published = None
    match = _DATE_LINE.match(text)
    if match and (published := parse_date(match.group(1))):
        text = text[match.end() :]
    text = text.strip()
    if not text:
        raise _Unreadable("no text after the date line")
    if published is None:
        published = date.fromtimestamp(info.st_mtime)
    heading = _HEADING.search(text)
    title = _clip(heading.group(1)) if heading else _first_sentence(text)
    yield _article(rel, title=title, text=text, published=published, path=str(path))


def _load_html(path: Path, rel: str, info: os.stat_result) -> Iterator[Article | Skipped]:
    import trafilatura  # heavy; only when there is HTML to read

    data = path.read_bytes()
    if b"\x00" in data:
        raise _Unreadable("binary file, not text")
    doc = trafilatura.bare_extraction(data, with_metadata=True, include_comments=False)
    body = (getattr(doc, "text", None) or "").strip()
    if len(body.split()) < MIN_HTML_WORDS:
        raise _Unreadable("no article text found in HTML")
    url = getattr(doc, "url", None) or ""
    yield _article(
        rel,
        title=_clip(getattr(doc, "title", None) or "") or _first_sentence(body),
        text=body,
        published=parse_date(getattr(doc, "date", None)),
        source=_host(url) or getattr(doc, "hostname", None) or getattr(doc, "sitename", None) or "",
        url=url,
        author=getattr(doc, "author", None) or "",
        path=str(path),
    )


def _load_jsonl(path: Path, rel: str, info: os.stat_result) -> Iterator[Article | Skipped]:
    """Streamed line by line, gzipped or not (by magic bytes, whatever the extension says)."""
    label = str(path)
    lines = 0
    with open(path, "rb") as raw:
        zipped = raw.peek(2)[:2] == b"\x1f\x8b"
        if path.name.lower().endswith(".gz") and not zipped:
            raise _Unreadable("not a gzip file")
        stream: Any = gzip.GzipFile(fileobj=raw) if zipped else raw
        try:
            if b"\x00" in stream.peek(8192)[:8192]:
                raise _Unreadable("binary file, not text")
            for lineno, line in enumerate(stream, 1):
                if line.strip():
                    lines += 1
                    yield _record(line, lineno, path, rel)
        except EOFError:  # the gzip stream stops early: keep what was read before the damage
            yield Skipped(label, "truncated gzip")
            return
        except (gzip.BadGzipFile, zlib.error) as err:
            yield Skipped(label, f"damaged gzip ({_one_line(str(err))})")
            return
    if not lines:
        raise _Unreadable("empty file" if zipped else "only whitespace, no records")


def _record(line: bytes, lineno: int, path: Path, rel: str) -> Article | Skipped:
    where = f"{path}:{lineno}"
    try:
        raw = line.decode("utf-8").lstrip("\ufeff")
        obj = json.loads(raw)
    except UnicodeDecodeError:
        return Skipped(where, f"line {lineno}: not valid UTF-8")
    except json.JSONDecodeError as err:
        return Skipped(where, f"line {lineno}: not valid JSON ({err.msg} at column {err.colno})")
    if not isinstance(obj, dict):
        return Skipped(where, f"line {lineno}: not a JSON object")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        return Skipped(where, f"line {lineno}: no text")
    url = _field(obj, "url")
    return _article(
        f"{rel}#{lineno}",
        doc_id=_field(obj, "doc_id"),
        title=_clip(_field(obj, "title")) or _first_sentence(text),
        text=text,  # as given: offsets computed elsewhere may point into it
        published=parse_date(obj.get("published") or obj.get("date")),
        source=_field(obj, "source") or _host(url),
        url=url,
        author=_field(obj, "author"),
        path=where,
    )


def _load_feed(path: Path, rel: str, info: os.stat_result) -> Iterator[Article | Skipped]:
    import feedparser  # type: ignore[import-untyped]

    # a stream, never a string: feedparser would fetch a string that looks like a URL
    parsed = feedparser.parse(io.BytesIO(path.read_bytes()))
    if not parsed.entries:
        error = parsed.get("bozo_exception")
        if error is not None:
            raise _Unreadable(f"not a parseable feed ({_one_line(str(error))})")
        raise _Unreadable("no feed entries found (not an RSS or Atom feed?)")
    feed = parsed.feed
    feed_source = _host(feed.get("link", "")) or _html_to_text(feed.get("title", ""))
    for n, entry in enumerate(parsed.entries, 1):
        where = f"{path}#{n}"
        text = _entry_text(entry)
        if not text:
            yield Skipped(where, f"entry {n}: no text")
            continue
        url = entry.get("link", "")
        published = parse_date(entry.get("published") or entry.get("updated"))
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        if published is None and stamp:
            published = date(stamp.tm_year, stamp.tm_mon, stamp.tm_mday)
        yield _article(
            f"{rel}#{entry.get('id') or n}",
            title=_clip(_entry_title(entry)) or _first_sentence(text),
            text=text,
            published=published,
            source=feed_source or _host(url),
            url=url,
            author=_entry_author(entry),
            path=where,
        )


def _entry_title(entry: Any) -> str:
    title = entry.get("title", "")
    html = "html" in (entry.get("title_detail") or {}).get("type", "")
    return _html_to_text(title) if html else title


def _entry_author(entry: Any) -> str:
    """The author's name: "jane@x.example (Jane Doe)" -> "Jane Doe" (feedparser's own
    author_detail mangles addresses whose top-level domain is over 4 letters)."""
    raw = entry.get("author", "")
    if "@" not in raw:
        return raw
    name = email.utils.parseaddr(raw)[0]
    if name and "@" not in name:
        return name
    name = (entry.get("author_detail") or {}).get("name", "")
    return name if name and "@" not in name else raw


def _entry_text(entry: Any) -> str:
    """The longest content of a feed entry (or its summary), as plain text."""
    parts = [c for c in entry.get("content", []) if c.get("value")] or [
        entry.get("summary_detail") or {"value": entry.get("summary", ""), "type": "text/html"}
    ]
    best = max(parts, key=lambda part: len(part.get("value") or ""))
    value = best.get("value") or ""
    return _html_to_text(value) if "html" in (best.get("type") or "html") else value.strip()


# ---------------------------------------------------------------- helpers


def _article(key: str, *, doc_id: str = "", **fields: Any) -> Article:
    """An Article with its doc_id (given, from the URL, or from `key`) and content hash."""
    if not doc_id:
        doc_id = _id("u", fields["url"]) if fields.get("url") else _id("f", key)
    fields.setdefault("source", "")
    fields.setdefault("url", "")
    digest = content_hash(
        fields["title"], fields["text"], fields["published"], fields["source"], fields["url"]
    )
    return Article(doc_id=doc_id, content_hash=digest, **fields)


def _id(prefix: str, key: str) -> str:
    return prefix + hashlib.sha1(key.encode()).hexdigest()[:16]


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise _Unreadable("not valid UTF-16") from err
    elif b"\x00" in data:
        raise _Unreadable("binary file, not text")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            bad = data[err.start]
            raise _Unreadable(f"not valid UTF-8 (byte 0x{bad:02x} at offset {err.start})") from err
    if not text.strip():
        raise _Unreadable("only whitespace, no text")
    return text


def _first_sentence(text: str) -> str:
    """The first sentence of the first non-empty line, clipped to a title's length."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    end = _SENTENCE_END.search(line)
    return _clip(line[: end.end()] if end else line)


def _clip(text: str, limit: int = TITLE_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:-–— ")
    return cut + "…"


def _field(obj: dict[str, Any], name: str) -> str:
    value = obj.get(name)
    return str(value).strip() if isinstance(value, (str, int, float)) else ""


def _host(url: str) -> str:
    """The URL's host without "www.", as trafilatura names a page's host: cnn.com."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def _os_reason(err: OSError) -> str:
    if isinstance(err, FileNotFoundError):
        return "no such file or folder"
    if isinstance(err, PermissionError):
        return "permission denied"
    return (err.strerror or type(err).__name__).lower()


def _one_line(text: str, limit: int = 120) -> str:
    return _clip(text, limit) or "no details"


class _TextParser(HTMLParser):
    """HTML -> text: block elements become paragraph breaks, <br> a line break."""

    BLOCKS = frozenset(
        "address article aside blockquote dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 "
        "h6 header hr li main ol p pre section table td th tr ul".split()
    )
    HIDDEN = frozenset({"script", "style", "template", "noscript"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def _html_to_text(markup: str) -> str:
    """'<p>One &amp; two</p><p>Three</p>' -> 'One & two\\n\\nThree'."""
    if "<" not in markup and "&" not in markup:
        return markup.strip()
    parser = _TextParser()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
