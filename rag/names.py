"""Names: how a file or source name is shown to people (lines, the page, the API), never raw.

    shown("http://user:pw@news.example/feed.xml?token=abc&page=2")
    # 'http://news.example/feed.xml?token=…&page=…'   (no login, no query values)
    shown("evil\\nFAKE-LINE.txt")
    # 'evil\\\\nFAKE-LINE.txt'                          (one line, whatever the file is called)

Two rules, applied to any text that may hold a name (a path, a URL, a whole message):
control characters (and Unicode line breaks and bidi overrides) are escaped the way `repr`
writes them, so a name can never forge a line or reorder what follows; every URL in it loses
its user:password@ and the values of its query (only the keys stay, to tell sources apart).
The full URL is kept only where fetching needs it: the sources list and the fetch state.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit, urlunsplit

__all__ = ["escape", "redact_url", "same_source", "shown"]

HIDDEN = "…"  # what a query value is shown as
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s<>\"'`]+")
_TRAILING = ".,;:!?)]}"  # punctuation after a URL in a sentence, not part of it
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape(text: str) -> str:
    """`text` with control characters, line and paragraph separators and bidi controls
    written as escapes; everything else (accents, other scripts) stays as it is.

    >>> escape("évil\\nFAKE\\x1b[31m\\u2028ok")
    'évil\\\\nFAKE\\\\x1b[31m\\\\u2028ok'
    """
    if text.isprintable():
        return text
    return "".join(_escape_char(c) for c in text)


def _escape_char(c: str) -> str:
    if c in _ESCAPES:
        return _ESCAPES[c]
    if c == " " or not (unicodedata.category(c) in ("Cc", "Zl", "Zp") or c in _BIDI):
        return c
    code = ord(c)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def redact_url(url: str) -> str:
    """`url` without its user:password@, query values or fragment: scheme://host[:port]/path
    plus the query's keys.

    >>> redact_url("https://me:s3cret@feeds.example:8443/rss?key=k1&sig=abc#x")
    'https://feeds.example:8443/rss?key=…&sig=…'
    >>> redact_url("https://feeds.example/rss")
    'https://feeds.example/rss'
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # not even a URL: keep the scheme, hide the rest
        return url.split("://", 1)[0] + "://" + HIDDEN
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    # "key=value" -> "key=…"; a part without "=" ("?opaque-token") may be the secret: "…"
    shown_parts = (
        f"{part.split('=', 1)[0]}={HIDDEN}" if "=" in part else HIDDEN
        for part in parts.query.replace(";", "&").split("&")
        if part
    )
    query = "&".join(dict.fromkeys(shown_parts))
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def shown(text: str) -> str:
    """`text` as it may be shown: every URL in it redacted, control characters escaped.

    >>> shown("skipped http://u:p@x.example/f?t=1: HTTP 404")
    'skipped http://x.example/f?t=…: HTTP 404'
    """
    if "://" in text:
        text = _URL.sub(_redact_match, text)
    return escape(text)


def _redact_match(m: re.Match[str]) -> str:
    url = m.group(0)
    tail = ""
    while url and url[-1] in _TRAILING:
        url, tail = url[:-1], url[-1] + tail
    return redact_url(url) + tail


def same_source(given: str, name: str) -> bool:
    """True when `given` names the source `name`: the name itself, or how it is shown (so a
    line copied from `rag index sources list` works in `rag index sources remove`)."""
    return given == name or given == shown(name)
