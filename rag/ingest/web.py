"""Web sources: feed and article URLs -> Articles (feedparser, trafilatura), fetched politely.

    for item in read(["https://example.com/feed.xml"], state_dir=Path("index")):
        ...  # an Article, a Skipped(url, why), or a Note(url, what to know)

A feed's entries are fetched as article pages and extracted (title, outlet, author, date, canonical
URL, body: rag/ingest/pages.py); the feed's own summary stands in only when the page cannot be had,
and a Note says so. A URL that is not a feed is one article page. One story reached by two URLs
(tracking parameters, AMP) is one article: its URL is the canonical one, normalised.

Each refresh costs as little as it can (state in index/fetch-state.sqlite, rag/ingest/webstate.py):
a feed not modified (304, or the same body) gives its articles as before and no page is
fetched; in a changed feed only new entries and changed ones (title, summary, dates) have their
page fetched, conditionally, and an unchanged page reuses its article without extracting it
again. An entry gone from its feed stays indexed. A source or page that fails (whatever the
error, an extractor's crash included) is one line and never stops the rest; the articles it
gave before are kept. Fetching rules: rag/ingest/fetch.py; the hosts of `urls` may be private ones
(the owner typed them), the pages their feeds link to may not (rag/ingest/reach.py).
"""

from __future__ import annotations

import io
import itertools
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from rag.config import FetchSettings
from rag.errors import FetchError
from rag.ingest import domains, markup, pages
from rag.ingest.fetch import PAGE, SOURCE, Fetcher, Limits, Response, Validators
from rag.ingest.reach import host_of
from rag.ingest.records import Unreadable, host, one_line
from rag.ingest.webstate import STATE, Item, Run, State
from rag.types import Article, Note, Skipped

MAX_ENTRIES = 500  # entries read from one feed (the newest first, as feeds list them)
MAX_TRIES = 3  # a page that failed is tried again on this many refreshes, then on entry changes


def read(
    urls: Sequence[str], *, state_dir: Path | None = None, fetching: FetchSettings | None = None
) -> Iterator[Article | Skipped]:
    """Articles of every URL source in `urls` (feeds or pages); see the module docstring.
    `state_dir`: where the fetch state is kept (the index folder; None: nothing kept);
    `fetching`: the fetch limits (rag/ingest/fetch.py `Limits.of`)."""
    with State(state_dir / STATE if state_dir else None) as state:
        refresh = _Refresh(state, Limits.of(fetching))
        out = refresh.run(list(dict.fromkeys(urls)))
    seen: set[str] = set()  # one story reached by two URLs or two feeds: yielded once
    for item in out:
        if isinstance(item, Article):
            if item.doc_id in seen:
                continue
            seen.add(item.doc_id)
        yield item


# --- one refresh -------------------------------------------------------------------------------


@dataclass
class _Task:
    """A page to fetch for an entry (or a stand-in being tried again)."""

    key: str  # the URL fetched
    old: Item | None
    entry: Any = None  # the feed entry (None: a stand-in retried while its feed is unchanged)
    stand_in: Article | None = None  # the feed's summary, if the page cannot be had
    fingerprint: str = ""
    trusted: tuple[str, ...] = ()  # domains the feed declares: canonical links there are kept


@dataclass
class _Page:
    """What fetching a task's page gave: an article, or why not."""

    article: Article | None = None
    why: str = ""
    note: str = ""  # something to know about the article (a canonical link ignored)


@dataclass
class _Source:
    """What one source gives this time, in order."""

    name: str
    kind: str = ""
    items: list[Item] = field(default_factory=list)
    lines: list[Skipped] = field(default_factory=list)  # Skipped and Notes to yield
    status: str = "ok"
    ok: bool = True
    problems: int = 0


class _Refresh:
    """One refresh of URL sources: fetch them, plan their pages, fetch those, put it together."""

    def __init__(self, state: State, limits: Limits) -> None:
        self.state = state
        self.limits = limits
        self.validators = state.validators()  # url -> the last 200's validators
        self.new_validators: dict[str, Validators] = {}
        self.lock = threading.Lock()

    def run(self, sources: list[str]) -> list[Article | Skipped]:
        old = {s: self.state.items(s) for s in sources}
        self.kinds = {s: r.kind for s, r in self.state.runs().items()}
        robots = self.state.robots()
        with (
            Fetcher(self.limits, robots, allowed_hosts=map(host_of, sources)) as fetcher,
            ThreadPoolExecutor(self.limits.workers, thread_name_prefix="fetch") as pool,
        ):
            self.fetcher = fetcher
            responses = list(pool.map(lambda s: self._source(s, bool(old[s])), sources))
            plans = [self._plan(s, r, old[s]) for s, r in zip(sources, responses, strict=True)]
            tasks = _by_turns({t.key: t for _, todo in plans for t in todo}.values())
            fetched = dict(zip([t.key for t in tasks], pool.map(self._page, tasks), strict=True))
        results = [self._finish(src, todo, fetched, old[src.name]) for src, todo in plans]
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        runs = {r.name: self._run(r, old[r.name], now) for r in results}
        items = {r.name: r.items for r in results if r.ok or r.items}
        self.state.save(self.new_validators, robots, items, runs)
        out: list[Article | Skipped] = []
        for r in results:
            out.extend(i.article for i in r.items)
            out.extend(r.lines)
        return out

    def _get(self, url: str, kind: Any, conditional: bool) -> Response:
        previous = self.validators.get(url) if conditional else None
        r = self.fetcher.get(url, previous, kind)
        with self.lock:
            self.new_validators[url] = r.validators
        return r

    def _source(self, url: str, known: bool) -> Response | FetchError:
        try:
            return self._get(url, SOURCE, known)
        except FetchError as e:
            return FetchError(url, e.reason)
        except Exception as e:  # noqa: BLE001  (never a traceback for one source)
            return FetchError(url, _crash(e))

    def _plan(
        self, url: str, r: Response | FetchError, old: dict[str, Item]
    ) -> tuple[_Source, list[_Task]]:
        """The source's items so far, and the pages still to fetch for it."""
        src = _Source(url)
        if isinstance(r, FetchError):
            return self._failed(src, old, r.reason), []
        if r.unchanged:  # not modified: as before; stand-ins are tried again (a few times)
            src.kind, src.status = self.kinds.get(url, ""), "not modified"
            src.items = list(old.values())
            retry = [i for i in old.values() if i.fallback and i.tries < MAX_TRIES and i.in_feed]
            return src, [_Task(i.key, i, None, i.article, i.entry) for i in retry]
        try:
            if pages.is_feed(r):
                return self._feed(src, r, old)
            if "html" in r.content_type or pages.looks_html(r.body):
                src.kind = "page"
                art, note = pages.extract(r, url)
                src.items = [Item(url, art)]
                src.lines += [Note(url, note)] if note else []
                return src, []
        except Unreadable as e:
            return self._failed(_Source(url, src.kind), old, str(e)), []
        except Exception as e:  # noqa: BLE001  (a parser's crash: this source only)
            return self._failed(_Source(url, src.kind), old, _crash(e)), []
        what = r.content_type or "no content type"
        return self._failed(src, old, f"not an HTML page or an RSS/Atom feed ({what})"), []

    def _failed(self, src: _Source, old: dict[str, Item], why: str) -> _Source:
        src.ok, src.status, src.items = False, why, list(old.values())
        n = len(old)
        kept = f"; the {n} article{'s' * (n != 1)} it gave before {'are' if n != 1 else 'is'} kept"
        kept = kept if old else ""
        src.lines.append(Skipped(src.name, why + kept))
        return src

    def _feed(self, src: _Source, r: Response, old: dict[str, Item]) -> tuple[_Source, list[_Task]]:
        import feedparser  # type: ignore[import-untyped]

        src.kind = "feed"
        parsed = feedparser.parse(io.BytesIO(r.body))  # a stream: never let it fetch a URL
        if not parsed.entries:
            return self._failed(src, old, "no entries in the feed (not an RSS or Atom feed?)"), []
        feed = parsed.feed
        outlet = host(feed.get("link", "")) or markup.html_to_text(feed.get("title", ""))
        trusted = tuple(
            filter(None, (domains.site(feed.get("link", "")), domains.site(r.final_url)))
        )
        todo: list[_Task] = []
        seen: set[str] = set()
        for n, entry in enumerate(parsed.entries[:MAX_ENTRIES], 1):
            link = urljoin(r.final_url, entry.get("link", "").strip())
            web = urlsplit(link).scheme in ("http", "https") and bool(entry.get("link"))
            key = pages.strip_tracking(link) if web else f"{src.name}#{entry.get('id') or n}"
            if key in seen:
                continue
            seen.add(key)
            stand_in = pages.entry_article(
                entry, key, pages.normal_url(link) if web else "", outlet
            )
            mark = pages.fingerprint(entry, link)
            was = old.get(key)
            if not web:  # nothing to fetch: the entry is the article
                if stand_in is None:
                    src.lines.append(Skipped(key, f"entry {n}: no text"))
                else:
                    src.items.append(Item(key, stand_in, mark))
            elif was and was.entry == mark and not (was.fallback and was.tries < MAX_TRIES):
                src.items.append(Item(key, was.article, mark, was.fallback, was.tries))
            else:
                todo.append(_Task(key, was, entry, stand_in, mark, trusted))
                src.items.append(Item(key, stand_in or pages.placeholder(key), mark))
        if len(parsed.entries) > MAX_ENTRIES:
            src.lines.append(Note(src.name, f"only the first {MAX_ENTRIES} entries are read"))
        return src, todo

    def _page(self, task: _Task) -> _Page:
        had = task.old is not None and not task.old.fallback
        try:
            r = self._get(task.key, PAGE, conditional=had)
        except FetchError as e:
            return _Page(why=e.reason)
        except Exception as e:  # noqa: BLE001
            return _Page(why=_crash(e))
        if r.unchanged and had and task.old is not None:
            return _Page(task.old.article)  # not modified: not extracted again
        try:
            art, note = pages.extract(
                r, task.key, entry=task.entry, stand_in=task.stand_in, trusted=task.trusted
            )
        except Unreadable as e:
            return _Page(why=str(e))
        except Exception as e:  # noqa: BLE001  (one page's crash must not stop the others)
            return _Page(why=_crash(e))
        return _Page(art, note=note)

    def _finish(
        self, src: _Source, todo: list[_Task], fetched: dict[str, _Page], old: dict[str, Item]
    ) -> _Source:
        """Put each fetched page (or its stand-in) in its place; keep items that left the feed."""
        tasks = {t.key: t for t in todo}
        items: list[Item] = []
        for item in src.items:
            task = tasks.get(item.key)
            if task is None:
                items.append(item)
                continue
            page, was = fetched[item.key], task.old
            if page.article is not None:
                items.append(Item(item.key, page.article, task.fingerprint))
                src.lines += [Note(item.key, page.note)] if page.note else []
                continue
            src.problems += 1
            tries = (was.tries if was else 0) + 1
            if was is not None and not was.fallback:  # keep what was indexed; retry later
                mark = task.fingerprint if tries >= MAX_TRIES else was.entry
                items.append(Item(item.key, was.article, mark, False, tries))
                src.lines.append(Note(item.key, f"{page.why}; the version indexed before is kept"))
            elif task.stand_in is not None:
                items.append(Item(item.key, task.stand_in, task.fingerprint, True, tries))
                src.lines.append(Note(item.key, f"{page.why}; indexed the feed's summary instead"))
            else:
                src.lines.append(Skipped(item.key, f"{page.why}, and the feed has no summary"))
        if src.kind == "feed" and src.status == "ok":  # entries gone from the feed stay
            listed = {i.key for i in items}
            items += [
                Item(i.key, i.article, i.entry, i.fallback, i.tries, in_feed=False)
                for i in old.values()
                if i.key not in listed
            ]
        src.items = items
        return src

    def _run(self, src: _Source, old: dict[str, Item], now: str) -> Run:
        was = {k: i.article.content_hash for k, i in old.items()}
        now_in = {i.key for i in src.items if i.in_feed}
        return Run(
            at=now,
            status=src.status if src.ok else f"failed: {src.status}",
            ok=src.ok,
            kind=src.kind,
            new=sum(i.key not in was for i in src.items),
            changed=sum(i.key in was and was[i.key] != i.article.content_hash for i in src.items),
            removed=sum(1 for k, i in old.items() if i.in_feed and k not in now_in)
            if src.ok and src.kind == "feed"
            else 0,
            articles=len(src.items),
            problems=src.problems,
        )


def _crash(e: Exception) -> str:
    """A line for an unexpected error while reading a page or a feed."""
    return f"could not be read ({type(e).__name__}: {one_line(str(e))})"


def _by_turns(tasks: Iterable[_Task]) -> list[_Task]:
    """One page per host in turn (a, b, c, a, b, c, ...): the workers spread over the hosts
    instead of queueing behind one host's rate limit."""
    hosts: dict[str, list[_Task]] = {}
    for t in tasks:
        hosts.setdefault(urlsplit(t.key).netloc, []).append(t)
    rounds = itertools.zip_longest(*hosts.values())
    return [t for turn in rounds for t in turn if t is not None]
