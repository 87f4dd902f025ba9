"""Pages: a fetched page or feed entry -> an Article, and the URL that names it.

    normal_url("https://x.example/story/amp?utm_source=rss")   # 'https://x.example/story'
    canonical(html, base)        # the page's <link rel="canonical"> (or og:url), absolute
    extract(response, key)       # (the article on a fetched page, a note), or Unreadable

An article's URL, and so its doc_id, is its page's canonical link, else the URL it was fetched from,
normalised: one story reached by two URLs (tracking parameters, an AMP page) is one article. A
canonical link is trusted only on the page's own registrable domain (rag/ingest/domains.py) or one
the linking feed declares: a page on one site naming another site's article would take its place and
its outlet, so it keeps the URL it was fetched from, and a note says so. Query parameters that look
like secrets (token, key, sig...) are not part of an article's URL. feedparser and trafilatura are
imported only when there is something to parse.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import date
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from rag.ingest import domains, markup
from rag.ingest.fetch import Response
from rag.ingest.records import Unreadable, article, clip, first_sentence, host, parse_date
from rag.types import Article

_TRACKING = re.compile(
    r"utm_\w*|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_[ce]id|igshid|yclid|_ga|_gl|ocid|"
    r"cmpid|smid|at_medium|at_campaign",
    re.IGNORECASE,
)
_AMP = re.compile(r"(?:amp|outputtype)", re.IGNORECASE)  # ?amp, ?amp=1, ?outputType=amp
# query keys whose values are credentials: never part of an article's URL (it is shown)
_SECRET = re.compile(
    r"(?:.*[_-])?(?:token|key|apikey|sig|signature|secret|password|passwd|pwd|auth|"
    r"credential|credentials|jwt)|x-amz-.*|x-goog-.*",
    re.IGNORECASE,
)


def normal_url(url: str) -> str:
    """One spelling per page: lower-case scheme and host, no user:password@, no default port,
    no fragment, no tracking, AMP or secret parameters, the rest sorted, no trailing "/amp".

    >>> normal_url("HTTPS://me:pw@News.example:443/a/story/amp/?utm_source=rss&b=2&a=1&token=x")
    'https://news.example/a/story?a=1&b=2'
    """
    parts = urlsplit(strip_tracking(url))
    name = (parts.hostname or "").lower()
    netloc = f"[{name}]" if ":" in name else name
    if parts.port and parts.port != {"http": 80, "https": 443}.get(parts.scheme.lower()):
        netloc += f":{parts.port}"
    path = re.sub(r"/amp/?$", "", parts.path) or "/"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not (_AMP.fullmatch(k) and v.lower() in ("", "1", "true", "amp"))
        and not _SECRET.fullmatch(k)
    ]
    return urlunsplit((parts.scheme.lower(), netloc, path, urlencode(sorted(query)), ""))


def strip_tracking(url: str) -> str:
    """`url` without its fragment and tracking parameters: what is fetched."""
    parts = urlsplit(url.strip())
    given = parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, v) for k, v in given if not _TRACKING.fullmatch(k)]
    kept = parts.query if len(query) == len(given) else urlencode(query)  # as written, if it can
    return urlunsplit(parts._replace(query=kept, fragment=""))


def is_feed(r: Response) -> bool:
    ctype = r.content_type
    if "rss" in ctype or "atom" in ctype:
        return True
    head = r.body[:8192].lstrip().lower()
    xml = ("xml" in ctype and "html" not in ctype) or head.startswith(b"<?xml")
    return xml and any(tag in head for tag in (b"<rss", b"<feed", b"<rdf:rdf", b"<channel"))


def looks_html(body: bytes) -> bool:
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


def fingerprint(entry: Any, link: str) -> str:
    """What of an entry, changed, means its page may have changed (a correction)."""
    fields = [link, entry.get("title", ""), entry.get("summary", ""), entry.get("updated", "")]
    fields.append(entry.get("published", ""))
    fields += [c.get("value", "") for c in entry.get("content", [])]
    return hashlib.sha1(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()[:16]


def _entry_date(entry: Any) -> date | None:
    published = parse_date(entry.get("published") or entry.get("updated"))
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    if published is None and stamp:
        published = date(stamp.tm_year, stamp.tm_mon, stamp.tm_mday)
    return published


def entry_article(entry: Any, key: str, url: str, outlet: str) -> Article | None:
    """The feed's own version of an entry (its summary or content), or None without text."""
    text = markup._entry_text(entry)
    if not text:
        return None
    return article(
        key,
        title=clip(markup._entry_title(entry)) or first_sentence(text),
        text=text,
        published=_entry_date(entry),
        outlet=host(url) or outlet,
        url=url,
        author=markup._entry_author(entry),
        path=key,
    )


def placeholder(key: str) -> Article:
    return Article(doc_id="", title="", text="", path=key)


def extract(
    r: Response,
    key: str,
    entry: Any = None,
    stand_in: Article | None = None,
    trusted: Iterable[str] = (),
) -> tuple[Article, str]:
    """The article on page `r` (Unreadable when there is none), and a note ("" or why its
    canonical link was ignored); its URL is the canonical one when `identity` trusts it."""
    import trafilatura  # heavy; only when there is a page to read

    if b"\x00" in r.body[:4096]:
        raise Unreadable(f"not an HTML page (binary, {r.content_type or 'no content type'})")
    doc = trafilatura.bare_extraction(
        r.body, url=r.final_url, with_metadata=True, include_comments=False
    )
    body = (getattr(doc, "text", None) or "").strip()
    if len(body.split()) < markup.MIN_HTML_WORDS:
        raise Unreadable("no article text found in the page")
    url, note = identity(r.body, r.final_url, trusted)
    title = clip(getattr(doc, "title", None) or "")
    art = article(
        url,
        title=title or (stand_in.title if stand_in else "") or first_sentence(body),
        text=body,
        published=(_entry_date(entry) if entry is not None else None)
        or parse_date(getattr(doc, "date", None)),
        outlet=host(url) or getattr(doc, "sitename", None) or "",
        url=url,
        author=getattr(doc, "author", None) or (stand_in.author if stand_in else ""),
        path=key,
    )
    return art, note


def identity(body: bytes, final_url: str, trusted: Iterable[str] = ()) -> tuple[str, str]:
    """The URL that names a page (normalised) and a note: its canonical link when that is on
    the page's own registrable domain or one of `trusted` (domains a linking feed declares),
    else the URL it was fetched from, and the note says why.

    >>> identity(b'<link rel="canonical" href="https://www.a.example/s">', "http://m.a.example/s")
    ('https://www.a.example/s', '')
    >>> identity(b'<link rel="canonical" href="https://b.example/s">', "http://a.example/s")[0]
    'http://a.example/s'
    """
    link = canonical(body, final_url)
    if not link or domains.same_site(link, final_url) or domains.site(link) in set(trusted):
        return normal_url(link or final_url), ""
    note = (
        f"its canonical link {link} is on another site; kept under the URL it was fetched "
        "from (a page cannot stand in for another site's article)"
    )
    return normal_url(final_url), note


class _Links(HTMLParser):
    """<link rel="canonical" href> and <meta property="og:url" content>, up to <body>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.canonical = self.og = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "").strip() for k, v in attrs}
        if tag == "link" and "canonical" in a.get("rel", "").lower().split():
            self.canonical = self.canonical or a.get("href", "")
        elif tag == "meta" and a.get("property", "").lower() == "og:url":
            self.og = self.og or a.get("content", "")
        elif tag == "body":
            raise _Done


class _Done(Exception):
    pass


def canonical(body: bytes, base: str) -> str:
    """The page's canonical URL (absolute), "" when it names none usable: not http(s), or the
    site's front page for an article that is not (a common mistake).

    >>> canonical(b'<head><link rel="canonical" href="/a/story"></head>', "http://x.example/amp/1")
    'http://x.example/a/story'
    """
    parser = _Links()
    try:
        parser.feed(body[:262144].decode("utf-8", "replace"))
    except _Done:
        pass
    for candidate in (parser.canonical, parser.og):
        if not candidate:
            continue
        url = urljoin(base, candidate)
        parts = urlsplit(url)
        front = parts.path in ("", "/") and urlsplit(base).path not in ("", "/")
        if parts.scheme in ("http", "https") and parts.hostname and not front:
            return url
    return ""
