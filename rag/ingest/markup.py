"""Markup: saved RSS/Atom feeds (feedparser) and HTML pages (trafilatura) -> Articles.

Both libraries are imported only when there is such a file to read. A loader raises
`Unreadable` for a file it cannot use; an entry without text becomes `Skipped`.
"""

from __future__ import annotations

import email.utils
import io
import os
import re
from collections.abc import Iterator
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from rag.ingest.records import Unreadable, article, clip, first_sentence, host, one_line, parse_date
from rag.types import Article, Skipped

MIN_HTML_WORDS = 10  # fewer words extracted from a page = navigation or a script shell, no article


def load_html(path: Path, rel: str, info: os.stat_result) -> Iterator[Article | Skipped]:
    import trafilatura  # heavy; only when there is HTML to read

    data = path.read_bytes()
    if b"\x00" in data:
        raise Unreadable("binary file, not text")
    doc = trafilatura.bare_extraction(data, with_metadata=True, include_comments=False)
    body = (getattr(doc, "text", None) or "").strip()
    if len(body.split()) < MIN_HTML_WORDS:
        raise Unreadable("no article text found in HTML")
    url = getattr(doc, "url", None) or ""
    yield article(
        rel,
        title=clip(getattr(doc, "title", None) or "") or first_sentence(body),
        text=body,
        published=parse_date(getattr(doc, "date", None)),
        outlet=host(url) or getattr(doc, "hostname", None) or getattr(doc, "sitename", None) or "",
        url=url,
        author=getattr(doc, "author", None) or "",
        path=str(path),
    )


def load_feed(path: Path, rel: str, info: os.stat_result) -> Iterator[Article | Skipped]:
    import feedparser  # type: ignore[import-untyped]

    # a stream, never a string: feedparser would fetch a string that looks like a URL
    parsed = feedparser.parse(io.BytesIO(path.read_bytes()))
    if not parsed.entries:
        error = parsed.get("bozo_exception")
        if error is not None:
            raise Unreadable(f"not a parseable feed ({one_line(str(error))})")
        raise Unreadable("no feed entries found (not an RSS or Atom feed?)")
    feed = parsed.feed
    feed_source = host(feed.get("link", "")) or html_to_text(feed.get("title", ""))
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
        yield article(
            f"{rel}#{entry.get('id') or n}",
            title=clip(_entry_title(entry)) or first_sentence(text),
            text=text,
            published=published,
            outlet=feed_source or host(url),
            url=url,
            author=_entry_author(entry),
            path=where,
        )


def _entry_title(entry: Any) -> str:
    title = entry.get("title", "")
    html = "html" in (entry.get("title_detail") or {}).get("type", "")
    return html_to_text(title) if html else title


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
    return html_to_text(value) if "html" in (best.get("type") or "html") else value.strip()


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


def html_to_text(markup: str) -> str:
    """'<p>One &amp; two</p><p>Three</p>' -> 'One & two\\n\\nThree'."""
    if "<" not in markup and "&" not in markup:
        return markup.strip()
    parser = _TextParser()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
