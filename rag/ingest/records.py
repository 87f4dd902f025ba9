"""Records: the fields one loader read -> an Article (doc_id, content hash, title, date).

Shared by every format's loader (rag/ingest/sources.py, rag/ingest/jsonl.py, rag/feeds.py).

doc_id: a JSONL record's own `doc_id`; else "u" + sha1(url)[:16] when there is a URL; else
"f" + sha1(relative path [+ "#" + line or entry])[:16], the path taken relative to the folder
given (or the file name, for a file given directly), so ids survive moving the folder.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import re
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from rag.types import Article

TITLE_CHARS = 200
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?!\d)")
# end of a sentence: . ! or ? (plus closing quotes) then whitespace, not after an initial or a
# common abbreviation ("U.S. officials", "Mr. Smith")
_SENTENCE_END = re.compile(
    r"(?<!\b[A-Za-z])(?<!\bMr)(?<!\bMs)(?<!\bDr)(?<!\bSt)(?<!\bMrs)(?<!\bGov)(?<!\bSen)"
    r"(?<!\bRep)(?<!\bGen)(?<!\bNo)(?<!\bvs)[.!?]['\"”’)]*(?=\s)"
)


class Unreadable(Exception):
    """A whole file cannot be used; `args[0]` is the reason shown in its Skipped."""


def article(key: str, *, doc_id: str = "", **fields: Any) -> Article:
    """An Article with its doc_id (given, from the URL, or from `key`) and content hash."""
    if not doc_id:
        doc_id = make_id("u", fields["url"]) if fields.get("url") else make_id("f", key)
    fields.setdefault("outlet", "")
    fields.setdefault("url", "")
    digest = content_hash(
        fields["title"], fields["text"], fields["published"], fields["outlet"], fields["url"]
    )
    return Article(doc_id=doc_id, content_hash=digest, **fields)


def make_id(prefix: str, key: str) -> str:
    """`prefix` + the first 16 hex digits of sha1(`key`).

    >>> make_id("u", "https://example.com/a")
    'uc4ed1c218d14a0f1'
    """
    return prefix + hashlib.sha1(key.encode()).hexdigest()[:16]


def content_hash(title: str, text: str, published: date | None, outlet: str, url: str) -> str:
    """sha256 hex of an article's content and metadata: it changes when the article does."""
    fields = [title, text, published.isoformat() if published else "", outlet, url]
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


def first_sentence(text: str) -> str:
    """The first sentence of the first non-empty line, clipped to a title's length."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    end = _SENTENCE_END.search(line)
    return clip(line[: end.end()] if end else line)


def clip(text: str, limit: int = TITLE_CHARS) -> str:
    """Whitespace folded, cut at a word before `limit` characters with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:-–— ")
    return cut + "…"


def field(obj: dict[str, Any], name: str) -> str:
    value = obj.get(name)
    return str(value).strip() if isinstance(value, (str, int, float)) else ""


def host(url: str) -> str:
    """The URL's host without "www.", as trafilatura names a page's host: cnn.com."""
    try:
        name = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return name.removeprefix("www.")


def outlet(a: Article) -> str:
    """The outlet to show for an article: its own, else its URL's host; "" when neither.

    >>> outlet(Article("d", "t", "x", url="https://www.example.org/a?b=1"))
    'example.org'
    """
    return a.outlet or host(a.url)


def one_line(text: str, limit: int = 120) -> str:
    return clip(text, limit) or "no details"
