"""Domains: the registrable domain of a host (tldextract's bundled Public Suffix List, offline).

    registrable("news.bbc.co.uk")      # 'bbc.co.uk'
    registrable("a.b.example.com")     # 'example.com'
    same_site("http://x.example.com/a", "https://www.example.com/b")   # True

The suffix list is the snapshot tldextract ships: it is never fetched (`suffix_list_urls=()`)
and nothing is cached on disk. Private suffixes count (user.github.io is its own domain, not
github.io's). A host under no known suffix (a made-up ".example", "localhost") is its last two
labels; an IP address is itself.
"""

from __future__ import annotations

import ipaddress
import threading
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _extractor() -> Any:
    import tldextract  # type: ignore[import-untyped,unused-ignore]

    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )


@lru_cache(maxsize=4096)
def registrable(host: str) -> str:
    """The domain a person or company registers for `host` ("" for no host).

    >>> registrable("WWW.News.Example.co.uk."), registrable("127.0.0.1"), registrable("a.b.test")
    ('example.co.uk', '127.0.0.1', 'b.test')
    """
    host = host.strip().strip("[]").rstrip(".").lower()
    if not host:
        return ""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    with _lock:  # the extractor builds its suffix trie on first use
        parts = _extractor()(host)
    if parts.suffix and parts.domain:
        return f"{parts.domain}.{parts.suffix}"
    return ".".join(host.split(".")[-2:])


def site(url: str) -> str:
    """The registrable domain of `url`'s host ("" when it has none)."""
    try:
        return registrable(urlsplit(url).hostname or "")
    except ValueError:
        return ""


def same_site(a: str, b: str) -> bool:
    """True when URLs `a` and `b` are on one registrable domain.

    >>> same_site("http://x.example.com/a", "https://www.example.com/b")
    True
    >>> same_site("http://example.com/a", "http://example.org/a")
    False
    """
    first = site(a)
    return bool(first) and first == site(b)
