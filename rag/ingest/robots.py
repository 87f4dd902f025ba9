"""Robots: robots.txt per origin for the fetcher: read once, kept a day, Crawl-delay honoured.

    robots = Robots(cache, read=lambda origin: "User-agent: *\\nDisallow: /private/")
    robots.check(url, current, origin)     # FetchError(url, why) when it may not be fetched
    robots.delay(origin)                   # its Crawl-delay in seconds (None: none given)

`cache` is origin -> (text, time.time() read), kept by the caller (the fetch state) and
updated in place; `read(origin)` gets the text ("" when there is none) or raises FetchError.
One that cannot be read (5xx, the host down) means "not now" (RFC 9309, 2.3.1.4).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from urllib.robotparser import RobotFileParser

from rag.errors import FetchError
from rag.names import shown

AGENT = "rag-news"  # the name robots.txt groups are matched against
ROBOTS_TTL = 24 * 3600.0  # seconds a robots.txt is trusted
ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309 asks crawlers to read at least 500 KiB


class Robots:
    """The robots.txt rules of every origin a fetcher meets; thread-safe."""

    def __init__(self, cache: dict[str, tuple[str, float]], read: Callable[[str], str]) -> None:
        self.cache = cache
        self._read = read
        self._lock = threading.Lock()
        self._parsers: dict[str, RobotFileParser] = {}
        self._unreadable: dict[str, str] = {}  # origin -> why its robots.txt could not be read
        self._locks: dict[str, threading.Lock] = {}

    def check(self, url: str, current: str, origin: str) -> None:
        """FetchError(url, why) unless `current` (reached from `url`) may be fetched."""
        parser = self._parser(origin)
        if origin in self._unreadable:  # the host is down: say so; else robots.txt is
            why = self._unreadable[origin]
            down = not why.startswith("HTTP")
            raise FetchError(url, why if down else f"{origin}/robots.txt cannot be read ({why})")
        if not parser.can_fetch(AGENT, current):
            where = "" if current == url else f" (redirected to {shown(current)})"
            raise FetchError(url, f"disallowed by {origin}/robots.txt{where}")

    def delay(self, origin: str) -> float | None:
        parser = self._parsers.get(origin)
        delay = parser.crawl_delay(AGENT) if parser is not None else None
        return float(delay) if delay else None

    def _parser(self, origin: str) -> RobotFileParser:
        with self._lock:
            parser = self._parsers.get(origin)
            lock = self._locks.setdefault(origin, threading.Lock())
        if parser is not None:
            return parser
        with lock:  # one read per host, however many threads ask
            if origin in self._parsers:
                return self._parsers[origin]
            cached = self.cache.get(origin)
            text = cached[0] if cached else ""
            if not cached or time.time() - cached[1] > ROBOTS_TTL:
                try:
                    text = self._read(origin)[:ROBOTS_MAX_BYTES]
                    self.cache[origin] = (text, time.time())
                except FetchError as e:
                    if not cached:  # never read: wait until it can be
                        self._unreadable[origin] = e.reason
            parser = RobotFileParser()
            parser.parse(text.splitlines())
            with self._lock:
                self._parsers[origin] = parser
            return parser
