"""A small web site on 127.0.0.1 for the tests and benchmarks of URL sources: routes -> replies,
every request recorded. Nothing here reaches beyond the loopback interface.

    with Site() as site:
        site.route("/feed.xml", rss(site, [story("a"), story("b")]))
        site.url("/feed.xml")          # 'http://127.0.0.1:PORT/feed.xml'
        site.hits("/feed.xml")         # [200, 304]: the statuses sent for that path, in order
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """What a route answers; an `etag` (or a Last-Modified header) makes it answer a matching
    If-None-Match (If-Modified-Since) with a 304."""

    body: bytes = b""
    status: int = 200
    type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str = ""
    delay: float = 0.0  # seconds before the headers are sent
    length: bool = True  # False: no Content-Length, the body ends when the connection closes


Route = Reply | Callable[[dict[str, str]], Reply]  # a reply, or request headers -> a reply


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that hung up: fine
            super().handle_error(request, client_address)


class Site:
    """A threaded HTTP server on 127.0.0.1 (port chosen by the system)."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.log: list[tuple[str, int, dict[str, str]]] = []  # (path, status, request headers)
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                headers = {k.lower(): v for k, v in self.headers.items()}
                route = site.routes.get(self.path) or site.routes.get(self.path.split("?")[0])
                if route is None:
                    reply = Reply(b"not found", 404, "text/plain")
                else:
                    reply = route(headers) if callable(route) else route
                modified = reply.headers.get("Last-Modified")
                if (reply.etag and headers.get("if-none-match") == reply.etag) or (
                    modified and headers.get("if-modified-since") == modified
                ):
                    reply = replace(reply, status=304, body=b"")
                with site._lock:
                    site.log.append((self.path, reply.status, headers))
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.type)
                    if reply.length:
                        self.send_header("Content-Length", str(len(reply.body)))
                    else:
                        self.close_connection = True
                        self.send_header("Connection", "close")
                    if reply.etag:
                        self.send_header("ETag", reply.etag)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout, a size cap): fine

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def __enter__(self) -> Site:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, path: str, route: Route) -> None:
        self.routes[path] = route

    def hits(self, path: str | None = None) -> list[int]:
        """The statuses sent for `path` (the query string ignored), or for every request."""
        with self._lock:
            return [s for p, s, _ in self.log if path is None or p.split("?")[0] == path]

    def clear(self) -> None:
        with self._lock:
            self.log.clear()


# --- content -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Story:
    """A news story: its page at `path` on some site, and its entry in a feed."""

    path: str
    title: str
    text: str
    published: datetime = datetime(2025, 6, 2, 9, 0, tzinfo=timezone.utc)
    author: str = "Jane Roe"
    summary: str = ""  # the feed's summary ("" = the first sentence of the text)
    link: str = ""  # the link the feed gives ("" = the page's URL)
    updated: datetime | None = None


def story(slug: str, words: str = "", **kw: Any) -> Story:
    """A story about `slug`, long enough for trafilatura to call it an article."""
    body = words or (
        f"The {slug} council met on Monday and approved the new {slug} plan by seven votes to "
        f"two. Residents of the {slug} district said the plan would bring new schools, roads "
        f"and parks. Critics said the {slug} plan was too costly and would raise taxes."
    )
    return Story(f"/news/{slug}", kw.pop("title", f"The {slug} plan passes"), body, **kw)


def page(s: Story, canonical: str | None = None, outlet: str = "Local News") -> Reply:
    """The story's HTML page, with a `<link rel=canonical>` when `canonical` is given."""
    link = f'<link rel="canonical" href="{escape(canonical)}">' if canonical else ""
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in s.text.split("\n\n"))
    html = (
        f"<!doctype html><html><head><title>{escape(s.title)} | {outlet}</title>{link}"
        f'<meta name="author" content="{escape(s.author)}">'
        f'<meta property="article:published_time" content="{s.published.isoformat()}">'
        f'<meta property="og:site_name" content="{outlet}"></head><body><nav>Home | World</nav>'
        f"<article><h1>{escape(s.title)}</h1>{paragraphs}</article>"
        "<footer>Copyright Local News</footer></body></html>"
    )
    return Reply(html.encode(), etag=f'"{abs(hash(html))}"')


def rss(
    site: Site, stories: Sequence[Story], etag: bool = True, title: str = "Local News"
) -> Reply:
    items = "".join(
        "<item>"
        f"<title>{escape(s.title)}</title><link>{escape(s.link or site.url(s.path))}</link>"
        f"<guid>{escape(site.url(s.path))}</guid>"
        f"<description>{escape(s.summary or s.text.split('. ')[0] + '.')}</description>"
        f"<pubDate>{format_datetime(s.published)}</pubDate>"
        f"<author>news@local.example ({escape(s.author)})</author>"
        + (f"<atom:updated>{s.updated.isoformat()}</atom:updated>" if s.updated else "")
        + "</item>"
        for s in stories
    )
    xml = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
        f"<title>{escape(title)}</title><link>{site.url('/')}</link>"
        f"<description>News</description>{items}</channel></rss>"
    )
    tag = f'"rss-{abs(hash(xml))}"' if etag else ""
    return Reply(xml.encode(), type="application/rss+xml", etag=tag)


def atom(site: Site, stories: Sequence[Story]) -> Reply:
    entries = "".join(
        "<entry>"
        f'<title>{escape(s.title)}</title><link href="{escape(s.link or site.url(s.path))}"/>'
        f"<id>{escape(site.url(s.path))}</id>"
        f"<updated>{(s.updated or s.published).isoformat()}</updated>"
        f"<published>{s.published.isoformat()}</published>"
        f"<author><name>{escape(s.author)}</name></author>"
        f"<summary>{escape(s.summary or s.text.split('. ')[0] + '.')}</summary>"
        "</entry>"
        for s in stories
    )
    xml = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f'<title>Atom News</title><link href="{site.url("/")}"/><id>{site.url("/atom")}</id>'
        f"<updated>2025-06-02T09:00:00Z</updated>{entries}</feed>"
    )
    return Reply(xml.encode(), type="application/atom+xml")


def publish(site: Site, stories: Sequence[Story], feed: str = "/feed.xml", **kw: Any) -> str:
    """Serve each story's page and an RSS feed of them at `feed`; the feed's URL."""
    for s in stories:
        site.route(s.path, page(s, **kw))
    site.route(feed, rss(site, stories))
    return site.url(feed)
