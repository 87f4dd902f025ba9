"""Fetch: polite HTTP GETs with httpx: conditional, capped, robots.txt-aware, rate-limited per host.

    with Fetcher(Limits(), robots={}) as f:
        r = f.get("https://example.com/feed.xml", Validators(etag='"abc"'))
        r.status, r.unchanged   # (304, True): not modified since; the body is empty
        r.validators            # ETag / Last-Modified / body hash: keep them for the next GET

The rules, each a `Limits` field: only http(s); one timeout for the whole response; a size cap
(checked while the body streams); redirects followed by hand, at most `max_redirects`, each hop
checked again (scheme, robots.txt); at most `per_host` requests to one host (scheme://host:port) at
a time, starts `host_interval` s apart (robots.txt's Crawl-delay when longer, up to 10 s); `retries`
more tries after 429 / 5xx / a dropped connection, `backoff` s apart, doubled each time (Retry-After
when given, up to 60 s); every connection, each hop's too, only to a public address unless
`allow_private` or the host is one of `allowed_hosts` (rag/ingest/reach.py). robots.txt is read once
per host and kept a day in `robots` (the caller keeps it; rag/ingest/robots.py); one that cannot be
read (5xx) means "not now" (RFC 9309). Every failure raises FetchError(url, why). Thread-safe. httpx
is imported by the first Fetcher.
"""

from __future__ import annotations

import email.utils
import hashlib
import http
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from rag.config import FetchSettings
from rag.errors import FetchError, brief
from rag.ingest.reach import Reach, Refused, transport
from rag.ingest.robots import AGENT, ROBOTS_MAX_BYTES, ROBOTS_TTL, Robots  # noqa: F401  (re-exported)
from rag.names import shown

USER_AGENT = "rag-news/0.1 (news question answering; fetches the feeds its owner follows)"
MAX_CRAWL_DELAY = 10.0
MAX_RETRY_AFTER = 60.0  # a longer Retry-After: give up now and say so
RETRY = frozenset({429, 500, 502, 503, 504})
REDIRECT = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class Limits:
    """How politely and how far to fetch; `Limits.of(settings.fetching)` takes the owner's."""

    timeout: float = 10.0  # seconds for a whole response (connect, headers and body)
    max_bytes: int = 5 * 2**20  # a larger body is refused
    max_redirects: int = 5
    host_interval: float = 0.5  # seconds between request starts to one host
    per_host: int = 2  # requests to one host at a time
    workers: int = 8  # requests at a time in all
    retries: int = 2  # more tries after 429 / 5xx / a dropped connection
    backoff: float = 1.0  # seconds before the first retry; doubled for each next one
    user_agent: str = USER_AGENT
    allow_private: bool = False  # connect to loopback / private / link-local hosts too

    @classmethod
    def of(cls, fetching: FetchSettings | None) -> Limits:
        """The limits the fetching settings give (RAG_FETCH_TIMEOUT, ...,
        RAG_ALLOW_PRIVATE_HOSTS); None: the defaults."""
        if fetching is None:
            return cls()
        f = fetching
        return cls(
            timeout=f.timeout,
            max_bytes=f.max_bytes,
            host_interval=f.host_interval,
            per_host=f.per_host,
            workers=f.workers,
            retries=f.retries,
            backoff=f.backoff,
            allow_private=f.allow_private_hosts,
        )


@dataclass(frozen=True)
class Kind:
    """What a GET accepts: content types (substrings), and how to name them in an error."""

    name: str
    types: tuple[str, ...]
    accept: str  # the Accept header


PAGE = Kind("an HTML page", ("html",), "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1")
SOURCE = Kind(
    "an HTML page or an RSS/Atom feed",
    ("html", "xml", "rss", "atom"),
    "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,"
    "text/html;q=0.8,*/*;q=0.1",
)
ANY = Kind("anything", (), "*/*")


@dataclass(frozen=True)
class Validators:
    """What the last 200 of a URL said, for a conditional GET next time."""

    etag: str = ""
    last_modified: str = ""
    body_hash: str = ""  # sha256 of the body: the same body counts as unchanged, 304 or not


@dataclass(frozen=True)
class Response:
    """A 200 (with its body) or a 304 (body empty) after redirects."""

    url: str  # as asked for
    final_url: str  # after redirects
    status: int
    body: bytes
    content_type: str  # lower case, without parameters: "text/html"
    validators: Validators
    unchanged: bool  # 304, or the same body as `previous` said


class _Retry(Exception):
    """A try failed in a way worth another: the connection was refused or dropped."""


class _Host:
    """One host's share: `slots` requests at a time, starts spaced by an interval."""

    def __init__(self, slots: int) -> None:
        self.slots = threading.BoundedSemaphore(max(1, slots))
        self.lock = threading.Lock()
        self.next = 0.0  # time.monotonic() of the earliest next start

    def wait_turn(self, interval: float) -> None:
        with self.lock:
            now = time.monotonic()
            start = max(now, self.next)
            self.next = start + interval
        if start > now:
            time.sleep(start - now)


class Fetcher:
    """GETs under `limits`; `robots`: origin -> (robots.txt text, time.time() read), updated in
    place; `allowed_hosts`: hosts that may be private (those the owner typed). `requests`
    counts the HTTP requests sent (robots.txt, redirects and retries too)."""

    def __init__(
        self,
        limits: Limits | None = None,
        robots: dict[str, tuple[str, float]] | None = None,
        allowed_hosts: Iterable[str] = (),
    ) -> None:
        import httpx  # only where there is something to fetch

        self.limits = limits or Limits()
        self.robots = robots if robots is not None else {}
        self.requests = 0
        self._httpx: Any = httpx
        reach = Reach(frozenset(allowed_hosts), self.limits.allow_private)
        self._client = httpx.Client(
            timeout=httpx.Timeout(self.limits.timeout),
            follow_redirects=False,
            headers={"User-Agent": self.limits.user_agent},
            transport=transport(reach, max_connections=max(4, 2 * self.limits.workers)),
        )
        self._lock = threading.Lock()
        self._hosts: dict[str, _Host] = {}
        self._robots = Robots(self.robots, self._read_robots)

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def get(self, url: str, previous: Validators | None = None, kind: Kind = ANY) -> Response:
        """GET `url`, conditionally when `previous` is given; FetchError(url, why) if it fails."""
        return self._get(url, previous, kind, robots=True)

    # --- one GET, redirects followed ---------------------------------------------------------

    def _get(self, url: str, previous: Validators | None, kind: Kind, robots: bool) -> Response:
        current, seen = url, {url}
        for _ in range(self.limits.max_redirects + 1):
            origin = _origin(url, current)
            if robots:
                self._robots.check(url, current, origin)
            status, headers, body, tries = self._send(url, current, origin, previous, kind)
            if status in REDIRECT:
                location = headers.get("location", "").strip()
                if not location:
                    raise FetchError(url, f"HTTP {status} redirect without a Location")
                current = urljoin(current, location).split("#")[0]
                if current in seen:
                    raise FetchError(url, f"redirect loop (back to {shown(current)})")
                seen.add(current)
                continue
            ctype = headers.get("content-type", "").split(";")[0].strip().lower()
            if status == 304 and previous is not None:
                etag = headers.get("etag") or previous.etag
                kept = Validators(etag, previous.last_modified, previous.body_hash)
                return Response(url, current, 304, b"", ctype, kept, unchanged=True)
            if status == 200 or not robots:
                digest = hashlib.sha256(body).hexdigest()
                got = Validators(headers.get("etag", ""), headers.get("last-modified", ""), digest)
                same = previous is not None and previous.body_hash == digest
                return Response(url, current, status, body, ctype, got, unchanged=same)
            more = f" after {tries} tries" if tries > 1 else ""
            raise FetchError(url, f"HTTP {status} {_phrase(status)}{more}".replace("  ", " "))
        raise FetchError(url, f"too many redirects (more than {self.limits.max_redirects})")

    def _send(
        self, url: str, current: str, origin: str, previous: Validators | None, kind: Kind
    ) -> tuple[int, Any, bytes, int]:
        """(status, headers, body, tries): retried after 429 / 5xx / a dropped connection."""
        wait = self.limits.backoff
        tries = self.limits.retries + 1
        for n in range(1, tries + 1):
            try:
                status, headers, body = self._once(url, current, origin, previous, kind)
            except _Retry as e:
                if n == tries:
                    raise FetchError(url, f"{e}{f' after {n} tries' if n > 1 else ''}") from None
                delay = wait
            else:
                if status not in RETRY or n == tries:
                    return status, headers, body, n
                asked = _retry_after(headers.get("retry-after", ""))
                if asked > MAX_RETRY_AFTER:
                    raise FetchError(url, f"HTTP {status}: the server asks to wait {asked:.0f} s")
                delay = max(wait, asked)
            time.sleep(delay)
            wait *= 2
        raise AssertionError("unreachable")

    def _once(
        self, url: str, current: str, origin: str, previous: Validators | None, kind: Kind
    ) -> tuple[int, Any, bytes]:
        httpx = self._httpx
        headers = {"Accept": kind.accept}
        if previous is not None and previous.etag:
            headers["If-None-Match"] = previous.etag
        if previous is not None and previous.last_modified:
            headers["If-Modified-Since"] = previous.last_modified
        host = self._host(origin)
        limit, timeout = self.limits.max_bytes, self.limits.timeout
        with host.slots:
            host.wait_turn(self._interval(origin))
            with self._lock:
                self.requests += 1
            deadline = time.monotonic() + timeout
            try:
                with self._client.stream("GET", current, headers=headers) as r:
                    if r.status_code != 200:  # redirects, 304s and errors: no body wanted
                        return r.status_code, r.headers, b""
                    ctype = r.headers.get("content-type", "").split(";")[0].strip().lower()
                    if kind.types and ctype and not any(t in ctype for t in kind.types):
                        raise FetchError(url, f"not {kind.name} ({ctype})")
                    size = r.headers.get("content-length", "")
                    if size.isdigit() and int(size) > limit:
                        raise FetchError(
                            url, f"too large ({_mb(int(size))}; the limit is {_mb(limit)})"
                        )
                    parts, total = [], 0
                    for part in r.iter_bytes():
                        total += len(part)
                        if total > limit:
                            raise FetchError(url, f"too large (over {_mb(limit)}, the limit)")
                        if time.monotonic() > deadline:
                            raise FetchError(url, f"timed out after {timeout:g} s")
                        parts.append(part)
                    return 200, r.headers, b"".join(parts)
            except Refused as e:
                raise FetchError(url, str(e)) from None
            except httpx.TimeoutException:
                raise FetchError(url, f"timed out after {timeout:g} s") from None
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as e:
                raise _Retry(f"connection failed ({_first_line(e) or type(e).__name__})") from None
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as e:
                raise FetchError(url, f"not a valid URL ({_first_line(e)})") from None
            except httpx.HTTPError as e:
                raise FetchError(url, f"{type(e).__name__}: {_first_line(e)}") from None

    def _host(self, origin: str) -> _Host:
        with self._lock:
            if origin not in self._hosts:
                self._hosts[origin] = _Host(self.limits.per_host)
            return self._hosts[origin]

    def _interval(self, origin: str) -> float:
        delay = self._robots.delay(origin) or 0.0
        return max(self.limits.host_interval, min(MAX_CRAWL_DELAY, delay))

    def _read_robots(self, origin: str) -> str:
        """robots.txt's text; "" (everything allowed) when there is none (4xx)."""
        r = self._get(f"{origin}/robots.txt", None, ANY, robots=False)
        if r.status >= 500:
            raise FetchError(origin, f"HTTP {r.status}")
        if r.status != 200:
            return ""
        return r.body[:ROBOTS_MAX_BYTES].decode("utf-8", "replace")


def _origin(url: str, current: str) -> str:
    """scheme://host[:port] of `current`; FetchError (naming `url`) unless it is http(s)."""
    try:
        parts = urlsplit(current)
        port = parts.port
    except ValueError:
        raise FetchError(url, f"not a valid URL ({shown(current)})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        what = f"{scheme}:" if scheme else "a URL without a scheme"
        raise FetchError(url, f"only http and https URLs are fetched, not {what}")
    if not parts.hostname:
        raise FetchError(url, "no host in the URL")
    if len(parts.hostname) > 253 or any(len(x) > 63 for x in parts.hostname.split(".")):
        raise FetchError(url, "not a valid host name (over 253 characters, or a part over 63)")
    name = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    netloc = name if port in (None, {"http": 80, "https": 443}[scheme]) else f"{name}:{port}"
    return f"{scheme}://{netloc}"


def _retry_after(value: str) -> float:
    """Seconds a Retry-After header asks for (a number or an HTTP date); 0 when unreadable."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return 0.0
    return max(0.0, when.timestamp() - time.time())


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


def _first_line(e: BaseException) -> str:
    return shown(brief(e, 160))
