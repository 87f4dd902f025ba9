"""URL sources: feeds and pages fetched from a real HTTP server on 127.0.0.1 (tests/localweb.py),
the sources list, and refreshes on a schedule. Nothing here leaves the loopback interface."""

from __future__ import annotations

import doctest
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from rag import Pipeline, Settings
from rag.errors import ConfigError, FetchError, IndexLockedError, InputError, RagError
from rag.ingest import fetch, follow, pages, webstate
from rag.ingest.records import make_id
from rag.types import Article, BuildReport, Note, Skipped
from tests.conftest import ROOT, FakeEmbedder, InFlight, write_articles
from tests.localweb import Reply, Site, Story, atom, page, publish, rss, story

# the fetch limits the tests want, by flat setting name (read by rag/ingest/fetch.py `Limits.of`)
QUICK: dict[str, Any] = {
    "fetch_host_interval": 0.0,
    "fetch_backoff": 0.01,
    "fetch_timeout": 5.0,
    "fetch_max_bytes": 200_000,
}


@pytest.fixture
def site() -> Iterator[Site]:
    with Site() as s:
        yield s


@pytest.fixture
def other() -> Iterator[Site]:
    """A second site: another host, as far as politeness and robots.txt go (host:port)."""
    with Site() as s:
        yield s


def make(tmp_path: Path, **settings: Any) -> Pipeline:
    s = Settings.load(
        env={},
        index_dir=tmp_path / "index",
        model="fake",
        min_score=0.3,
        gate="off",
        **{**QUICK, **settings},
    )
    return Pipeline(s, FakeEmbedder())


def by_title(p: Pipeline) -> dict[str, Article]:
    return {a.title: a for a, _ in p.articles()}


def run_of(p: Pipeline, source: str) -> webstate.Run:
    return webstate.runs(p.settings.index.index_dir)[source]


def log(site: Site) -> list[tuple[str, int]]:
    return [(path, status) for path, status, _ in site.log]


# --- feeds and pages ---------------------------------------------------------------------------


def test_rss_items_are_fetched_as_pages_and_extracted(tmp_path: Path, site: Site) -> None:
    a, b = story("harbour"), story("library")
    site.route(a.path, page(a, canonical=site.url(a.path) + "?utm_source=canonical"))
    site.route(b.path, page(b))  # no canonical link: the URL fetched, normalised
    b_link = site.url(b.path) + "?utm_medium=rss&x=1#comments"
    site.route("/feed.xml", rss(site, [a, replace(b, link=b_link)]))
    p = make(tmp_path)
    lines: list[Skipped] = []
    r = p.build([site.url("/feed.xml")], on_skip=lines.append)
    assert r.articles == 2 and lines == []
    got = by_title(p)
    harbour, library = got["The harbour plan passes"], got["The library plan passes"]
    assert harbour.url == site.url(a.path) and harbour.doc_id == make_id("u", harbour.url)
    assert library.url == site.url(b.path) + "?x=1"
    assert harbour.author == "Jane Roe" and harbour.published == date(2025, 6, 2)
    assert harbour.outlet == "127.0.0.1" and "harbour council met on Monday" in harbour.text
    assert "Home | World" not in harbour.text and "Copyright" not in harbour.text  # the body only
    assert site.hits(b.path) == [200]
    agents = {headers.get("user-agent", "") for _, _, headers in site.log}
    assert agents == {fetch.USER_AGENT}


def test_atom_feed(tmp_path: Path, site: Site) -> None:
    a, b = story("harbour"), story("library", author="Sam Poe")
    for s in (a, b):
        site.route(s.path, page(s))
    site.route("/atom.xml", atom(site, [a, b]))
    p = make(tmp_path)
    assert p.build([site.url("/atom.xml")]).articles == 2
    assert by_title(p)["The library plan passes"].author == "Sam Poe"
    assert run_of(p, site.url("/atom.xml")).kind == "feed"


def test_unchanged_feed_costs_one_conditional_request(tmp_path: Path, site: Site) -> None:
    feed = publish(site, [story("harbour"), story("library")])
    p = make(tmp_path)
    p.build([feed])
    live = p.status()[0].name
    site.clear()
    r = p.update()
    assert log(site) == [("/feed.xml", 304)]  # robots.txt is kept a day: not asked again
    assert site.log[0][2]["if-none-match"]
    assert (r.added, r.changed, r.removed, r.unchanged, r.embedded) == (0, 0, 0, 2, 0)
    assert p.status()[0].name == live  # nothing changed: no new generation
    run = run_of(p, feed)
    assert run.ok and run.status == "not modified" and run.articles == 2


def test_last_modified_and_same_body_count_as_unchanged(tmp_path: Path, site: Site) -> None:
    stories = [story("harbour")]
    publish(site, stories)
    stamp = "Mon, 02 Jun 2025 09:00:00 GMT"
    feed = rss(site, stories, etag=False)
    site.route("/lm.xml", replace(feed, headers={"Last-Modified": stamp}))
    site.route("/plain.xml", feed)  # no validators at all: the body's hash tells
    p = make(tmp_path)
    p.build([site.url("/lm.xml"), site.url("/plain.xml")])
    site.clear()
    p.update()
    assert site.hits("/lm.xml") == [304] and site.hits("/plain.xml") == [200]
    assert site.hits("/news/harbour") == []  # an unchanged feed: no page fetched
    assert [h["if-modified-since"] for path, _, h in site.log if path == "/lm.xml"] == [stamp]


def test_a_changed_feed_fetches_only_new_and_changed_pages(
    tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, c = story("harbour"), story("library"), story("museum")
    feed = publish(site, [a, b, c])
    p = make(tmp_path)
    p.build([feed])
    fixed = replace(
        b,
        text=b.text + " Correction: the vote was eight to one, not seven to two.",
        updated=datetime(2025, 6, 3, 8, 0, tzinfo=timezone.utc),
    )
    touched = replace(c, updated=datetime(2025, 6, 3, 9, 0, tzinfo=timezone.utc))  # page same
    site.route(c.path, page(c))
    publish(site, [story("bridge"), a, fixed])
    site.route("/feed.xml", rss(site, [story("bridge"), a, fixed, touched]))
    extracted: list[str] = []
    real = pages.extract
    monkeypatch.setattr(
        pages, "extract", lambda r, key, **kw: extracted.append(key) or real(r, key, **kw)
    )
    site.clear()
    r = p.update()
    assert site.hits(a.path) == []  # its entry did not change: not asked for
    assert site.hits(b.path) == [200] and site.hits("/news/bridge") == [200]
    assert site.hits(c.path) == [304]  # asked, conditionally: not modified, not extracted again
    assert sorted(extracted) == sorted([site.url(b.path), site.url("/news/bridge")])
    assert (r.added, r.changed, r.removed, r.unchanged) == (1, 1, 0, 2) and r.embedded > 0
    assert "eight to one" in by_title(p)["The library plan passes"].text
    run = run_of(p, feed)
    assert (run.new, run.changed, run.removed, run.articles) == (1, 1, 0, 4)


def test_each_failure_is_one_line_and_the_rest_is_indexed(tmp_path: Path, site: Site) -> None:
    good, flaky = story("harbour"), story("flaky")
    bad = {name: story(name) for name in ("missing", "slow", "huge", "loop", "pdf")}
    private = Story("/private/memo", "The private memo", good.text.replace("harbour", "memo"))
    stories = [good, flaky, *bad.values(), private]
    publish(site, stories)
    site.route("/robots.txt", Reply(b"User-agent: *\nDisallow: /private/\n", type="text/plain"))
    del site.routes[bad["missing"].path]  # a 404
    tries = iter([Reply(b"oops", 500, "text/plain")])
    site.route(flaky.path, lambda _: next(tries, page(flaky)))  # a 500, then the page
    site.route(bad["slow"].path, replace(page(bad["slow"]), delay=2.0))
    site.route(bad["huge"].path, Reply(b"<html><body>" + b"x" * 300_000 + b"</body></html>"))
    site.route(bad["loop"].path, Reply(status=302, headers={"Location": "/loop/b"}))
    site.route("/loop/b", Reply(status=302, headers={"Location": bad["loop"].path}))
    site.route(bad["pdf"].path, Reply(b"%PDF-1.7 ...", type="application/pdf"))
    p = make(tmp_path, fetch_timeout=0.5)
    lines: list[Skipped] = []
    r = p.build([site.url("/feed.xml")], on_skip=lines.append)

    why = {line.path.removeprefix(site.url("")): line.reason for line in lines}
    robots = site.url("/robots.txt")
    assert why == {
        "/news/missing": "HTTP 404 Not Found; indexed the feed's summary instead",
        "/news/slow": "timed out after 0.5 s; indexed the feed's summary instead",
        "/news/huge": "too large (0.3 MB; the limit is 0.2 MB); indexed the feed's summary instead",
        "/news/loop": f"redirect loop (back to {site.url('/news/loop')}); indexed the feed's "
        "summary instead",
        "/news/pdf": "not an HTML page (application/pdf); indexed the feed's summary instead",
        "/private/memo": f"disallowed by {robots.removesuffix('/robots.txt')}/robots.txt; "
        "indexed the feed's summary instead",
    }
    assert all(isinstance(line, Note) and "\n" not in line.reason for line in lines)
    assert r.articles == len(stories)  # each failed page stands in as its feed summary
    got = by_title(p)
    assert got["The missing plan passes"].text == bad["missing"].text.split(". ")[0] + "."
    assert "Critics said" in got["The flaky plan passes"].text  # the page, after one retry
    assert site.hits(flaky.path) == [500, 200] and site.hits("/private/memo") == []
    assert run_of(p, site.url("/feed.xml")).problems == 6

    site.clear()  # the stand-ins are tried again at the next refresh, the feed unchanged
    site.route(bad["missing"].path, page(bad["missing"]))
    r = p.update()
    assert site.hits("/feed.xml") == [304] and site.hits(bad["missing"].path) == [200]
    assert "Critics said" in by_title(p)["The missing plan passes"].text and r.changed == 1


def test_a_failing_feed_keeps_what_it_gave(tmp_path: Path, site: Site, corpus: Path) -> None:
    feed = publish(site, [story("harbour"), story("library")])
    p = make(tmp_path)
    p.build([corpus, feed])
    site.route("/feed.xml", Reply(b"down", 500, "text/plain"))
    lines: list[Skipped] = []
    r = p.update(on_skip=lines.append)
    assert lines == [
        Skipped(
            feed,
            "HTTP 500 Internal Server Error after 3 tries; the 2 articles it gave before are kept",
        )
    ]
    assert r.articles == 5 and r.removed == 0
    run = run_of(p, feed)
    assert not run.ok and run.status.startswith("failed: HTTP 500") and run.articles == 2


def test_entries_that_leave_the_feed_stay_until_removed(
    tmp_path: Path, site: Site, corpus: Path
) -> None:
    a, b = story("harbour"), story("library")
    feed = publish(site, [a, b])
    p = make(tmp_path)
    p.build([corpus, feed])
    publish(site, [b])
    r = p.update()
    assert r.removed == 0 and "The harbour plan passes" in by_title(p)
    assert run_of(p, feed).removed == 1  # it left the feed; it is still indexed
    # removed by hand: later refreshes keep it out
    p.remove([by_title(p)["The harbour plan passes"].doc_id])
    publish(site, [a, b])
    assert "The harbour plan passes" not in by_title(p) and p.update().articles == 4
    # the source taken off the list: its articles go at the next update, its state with it
    assert follow.remove(p.settings.index.index_dir, [feed]) == [str(corpus)]
    assert p.update().removed == 1 and feed not in webstate.runs(p.settings.index.index_dir)
    assert len(p.articles()) == 3


def test_one_story_reached_by_two_urls_is_one_article(
    tmp_path: Path, site: Site, other: Site
) -> None:
    s = story("harbour")
    amp = replace(s, text=s.text + " Read more stories on the AMP edition.")
    other.route(s.path, page(s))  # no canonical link: its URL, normalised
    other.route(s.path + "/amp", page(amp, canonical=other.url(s.path)))
    # two feeds on this site, linking pages on the other host: with tracking, and the AMP page
    site.route("/one.xml", rss(site, [replace(s, link=other.url(s.path) + "?utm_source=rss")]))
    site.route("/two.xml", rss(site, [replace(s, link=other.url(s.path + "/amp"))]))
    p = make(tmp_path)
    r = p.build([site.url("/one.xml"), site.url("/two.xml")])
    assert r.articles == 1 and r.duplicates == 0  # one by its URL, not by its text
    (only,) = [a for a, _ in p.articles()]
    assert only.url == other.url(s.path) and only.doc_id == make_id("u", other.url(s.path))
    assert other.hits("/robots.txt") == [404] and site.hits("/robots.txt") == [404]
    assert other.hits(s.path) == [200] and other.hits(s.path + "/amp") == [200]


def test_a_page_url_is_one_article_and_not_extracted_again_unchanged(
    tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = story("harbour")
    site.route(s.path, page(s, canonical=site.url(s.path)))
    p = make(tmp_path)
    url = site.url(s.path + "?utm_campaign=spring")
    assert p.build([url]).articles == 1
    assert p.articles()[0][0].url == site.url(s.path)
    monkeypatch.setattr(pages, "extract", lambda *a, **k: pytest.fail("extracted again"))
    assert p.update().unchanged == 1 and site.hits(s.path) == [200, 304]
    assert run_of(p, url).kind == "page"


def test_only_http_and_only_feeds_or_pages(tmp_path: Path, site: Site, corpus: Path) -> None:
    site.route("/to-file", Reply(status=301, headers={"Location": "file:///etc/passwd"}))
    site.route("/data.json", Reply(b'{"a": 1}', type="application/json"))
    site.route("/bad.xml", Reply(b"<?xml version='1.0'?><rss><channel>", type="text/xml"))
    hops = {f"/hop/{n}": Reply(status=302, headers={"Location": f"/hop/{n + 1}"}) for n in range(9)}
    site.routes.update(hops)
    p = make(tmp_path)
    lines: list[Skipped] = []
    names = ["ftp://127.0.0.1/feed.xml", *(site.url(x) for x in ("/to-file", "/data.json"))]
    names += [site.url("/bad.xml"), site.url("/hop/0"), "http://127.0.0.1:1/nothing"]
    r = p.build([corpus, *names], on_skip=lines.append)
    assert r.articles == 3
    why = {line.path: line.reason for line in lines}
    assert why[names[0]] == "only http and https URLs are fetched, not ftp:"
    assert why[names[1]] == "only http and https URLs are fetched, not file:"
    assert why[names[2]] == "not an HTML page or an RSS/Atom feed (application/json)"
    assert why[names[3]].startswith("no entries in the feed")
    assert why[names[4]] == "too many redirects (more than 5)"
    assert why[names[5]].startswith("connection failed") and why[names[5]].endswith("3 tries")
    assert len(lines) == 6 and all("\n" not in line.reason for line in lines)


# --- fetching rules, one at a time ---------------------------------------------------------------


def test_retry_after_and_the_per_host_cap(site: Site) -> None:
    replies = iter([Reply(status=429, headers={"Retry-After": "0"})])
    site.route("/busy", lambda _: next(replies, Reply(b"ok", type="text/plain")))
    flight = InFlight()

    def slow(_: dict[str, str]) -> Reply:
        with flight:
            time.sleep(0.2)
        return Reply(b"ok", type="text/plain")

    site.route("/slow", slow)
    with fetch.Fetcher(
        fetch.Limits(allow_private=True, host_interval=0, backoff=0.01, per_host=2)
    ) as f:
        assert f.get(site.url("/busy")).body == b"ok" and site.hits("/busy") == [429, 200]
        threads = [threading.Thread(target=f.get, args=(site.url("/slow"),)) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert flight.most <= 2 and site.hits("/slow") == [200] * 6
        site.route("/away", Reply(status=503, headers={"Retry-After": "3600"}))
        with pytest.raises(FetchError, match="asks to wait 3600 s"):
            f.get(site.url("/away"))
        assert f.requests == 2 + 6 + 1 + 1  # robots.txt once


def test_the_size_cap_holds_without_a_content_length(site: Site) -> None:
    site.route("/endless", Reply(b"<html>" + b"x" * 300_000, length=False))
    site.route("/small", Reply(b"<html>small</html>", length=False))
    with fetch.Fetcher(fetch.Limits(allow_private=True, host_interval=0, max_bytes=200_000)) as f:
        with pytest.raises(FetchError, match=r"too large \(over 0.2 MB, the limit\)"):
            f.get(site.url("/endless"), kind=fetch.PAGE)
        assert f.get(site.url("/small"), kind=fetch.PAGE).body == b"<html>small</html>"


def test_robots_txt_that_cannot_be_read_means_not_now(site: Site) -> None:
    site.route("/robots.txt", Reply(b"down", 503, "text/plain"))
    site.route("/page", Reply(b"<html>hi</html>"))
    with fetch.Fetcher(fetch.Limits(allow_private=True, host_interval=0, backoff=0.01)) as f:
        with pytest.raises(FetchError, match="robots.txt cannot be read"):
            f.get(site.url("/page"))
    assert site.hits("/page") == []
    robots = {site.url(""): ("User-agent: rag-news\nDisallow: /\n", time.time())}
    with fetch.Fetcher(
        fetch.Limits(allow_private=True, host_interval=0), robots
    ) as f:  # kept from before
        with pytest.raises(FetchError, match="disallowed"):
            f.get(site.url("/page"))


def test_limits_come_from_fetch_settings() -> None:
    limits = fetch.Limits.of(Settings.load(env={}, **QUICK).fetching)
    assert limits.host_interval == 0 and limits.max_bytes == 200_000
    assert fetch.Limits.of(Settings().fetching) == fetch.Limits() == fetch.Limits.of(None)


def test_urls_are_normalised() -> None:
    n = pages.normal_url
    assert n("http://A.example:80/x/?utm_source=a&fbclid=1&b=2") == "http://a.example/x/?b=2"
    assert (
        n("https://a.example/story/amp")
        == n("https://a.example/story?amp=1")
        == ("https://a.example/story")
    )
    assert n("https://a.example/story?outputType=amp#top") == "https://a.example/story"
    assert (
        pages.strip_tracking("https://a.example/s?q=a%20b&utm_x=1") == "https://a.example/s?q=a+b"
    )
    assert pages.strip_tracking("https://a.example/s?q=a%20b") == "https://a.example/s?q=a%20b"
    html = b'<head><link rel="canonical" href="/"></head>'
    assert pages.canonical(html, "https://a.example/story") == ""  # the front page: a mistake


def test_a_damaged_state_file_is_started_afresh(tmp_path: Path, site: Site) -> None:
    feed = publish(site, [story("harbour")])
    p = make(tmp_path)
    p.build([feed])
    (p.settings.index.index_dir / webstate.STATE).write_bytes(b"not a database" * 100)
    site.clear()
    assert p.update().unchanged == 1 and site.hits("/feed.xml") == [200]  # not conditional


# --- the sources list, schedules, the CLI --------------------------------------------------------


def test_sources_list_follows_builds_and_updates(tmp_path: Path, site: Site, corpus: Path) -> None:
    feed = publish(site, [story("harbour")])
    p = make(tmp_path)
    idx = p.settings.index.index_dir
    p.build([corpus])
    assert follow.listed(idx) == [str(corpus)]
    assert follow.add(idx, [feed, str(corpus)]) == [str(corpus), feed]
    assert [s.kind for s in follow.table(idx)] == ["folder", "URL"]
    assert p.update().added == 1  # the list is what update refreshes
    assert [s.kind for s in follow.table(idx)] == ["folder", "feed"]
    with pytest.raises(InputError, match="only http and https"):
        follow.add(idx, ["ftp://x.example/feed"])
    with pytest.raises(InputError, match="not in the sources list"):
        follow.remove(idx, ["https://nowhere.example/feed"])
    (idx / follow.SOURCES).unlink()  # an index from before the list: the manifest's sources
    assert follow.listed(idx) == [str(corpus), feed]
    (idx / follow.SOURCES).write_text("{")
    with pytest.raises(RagError, match="sources.json"):
        p.update()


def test_cli_sources_and_update_every(tmp_path: Path, site: Site, corpus: Path) -> None:
    from rag.cli.main import main

    feed = publish(site, [story("harbour")])
    ix = tmp_path / "index"
    make(tmp_path).build([corpus])
    runner = CliRunner()
    base = ["--index", str(ix), "--model", "fake"]
    added = runner.invoke(main, ["index", "sources", "add", feed, *base])
    assert added.exit_code == 0 and "2 sources" in added.output, added.output
    listed = runner.invoke(main, ["index", "sources", "list", "--json", *base])
    rows = [json.loads(line) for line in listed.output.splitlines()]
    assert [(r["source"], r["kind"], r["last"]) for r in rows] == [
        (str(corpus), "folder", None),
        (feed, "URL", None),
    ]
    make(tmp_path).update()  # indexes the feed (the fake embedder; the CLI's would be real)
    every = runner.invoke(main, ["index", "update", "--every", "1s", "--rounds", "2", *base])
    assert every.exit_code == 0, every.output
    assert every.output.count("added 0, changed 0, removed 0, unchanged 4") == 2
    listed = runner.invoke(main, ["index", "sources", "list", *base])
    assert f"{feed}\tfeed\t" in listed.output and "not modified" in listed.output
    bad = runner.invoke(main, ["index", "update", "--every", "soon", *base])
    assert bad.exit_code == 1 and "not a duration" in bad.output
    gone = runner.invoke(main, ["index", "sources", "remove", feed, *base])
    assert gone.exit_code == 0 and "1 sources left" in gone.output
    missing = runner.invoke(main, ["index", "sources", "remove", feed, *base])
    assert missing.exit_code == 1 and missing.output.count("\n") == 1


@pytest.mark.parametrize(
    "cmd",
    [["index", "sources"], ["index", "sources", "add"], ["index", "sources", "remove"]]
    + [["index", "sources", "list"], ["index", "update"], ["serve"]],
    ids=" ".join,
)
def test_help(cmd: list[str]) -> None:
    from rag.cli.main import main

    out = CliRunner().invoke(main, [*cmd, "--help"])
    assert out.exit_code == 0 and "Usage:" in out.output
    if cmd == ["index", "update"]:
        assert "--every" in out.output and "--rounds" in out.output
    if cmd == ["serve"]:
        assert "--refresh" in out.output


def test_durations() -> None:
    assert follow.parse_every("30s") == 30 and follow.parse_every("15m") == 900
    assert follow.parse_every("1h30m") == 5400 and follow.parse_every(" 1 d ") == 86400
    assert follow.parse_every("off") is None and follow.parse_every("") is None
    for bad in ("soon", "15", "0.5s", "-1m", "m"):
        with pytest.raises(ConfigError):
            follow.parse_every(bad)
    assert [follow.every_text(x) for x in (900, 5400, 45, None)] == ["15m", "1h30m", "45s", "off"]


def test_run_every_sleeps_between_rounds() -> None:
    calls: list[int] = []
    sleeps: list[float] = []
    assert follow.run_every(lambda: calls.append(1), 60.0, rounds=3, sleep=sleeps.append) == 3
    assert len(calls) == 3 and len(sleeps) == 2 and all(50 < s <= 60 for s in sleeps)


def test_refresher_reports_and_keeps_its_schedule() -> None:
    outcomes: list[Any] = [IndexLockedError("busy"), InputError("nothing to index"), None]
    lines: list[str] = []

    def update(on_skip: Any = None) -> BuildReport:
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome
        on_skip(Skipped("http://127.0.0.1:1/feed.xml", "connection failed"))
        return BuildReport(1, (), 0, 1, 1, 1, 0, 0.1, "gen-x", added=1)

    r = follow.Refresher(update, 3600.0, log=lines.append)
    first = r.run_once()
    assert not first.ok and "another update" in first.line
    assert r.next_at is not None and r.next_at - time.time() <= follow.RETRY_LOCKED
    assert "nothing to index" in r.run_once().line
    assert (
        r.run_once().line == "refreshed: 1 added, 0 changed, 0 removed, 0 unchanged; skipped 1 file"
    )
    assert lines[-2] == "refresh: http://127.0.0.1:1/feed.xml: connection failed"
    assert r.refreshes == 3 and r.next_at - time.time() > 3000
    r.set_every(None)
    assert r.next_at is None and r.every is None
    r.stop()


def test_refresher_runs_in_the_background(tmp_path: Path, site: Site) -> None:
    stories = [story("harbour")]
    feed = publish(site, stories)
    p = make(tmp_path)
    p.build([feed])
    r = follow.Refresher(p.update, log=lambda line: None).start()
    try:
        stories.append(story("library"))
        publish(site, stories)
        r.refresh_now()
        wait_for(lambda: r.refreshes == 1)
        assert r.last is not None and r.last.ok and "1 added" in r.last.line
        assert r.next_at is None  # no schedule: only when asked
    finally:
        r.stop()


def wait_for(done: Any, seconds: float = 60.0) -> None:
    """Wait until `done()` (bounded: a generous limit, never a measurement)."""
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.02)


def test_refresh_while_serving_loses_no_answer(
    tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gradio_client import Client

    from bench.common import free_port
    from ui.serve import launch

    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    stories = [story("harbour")]
    feed = publish(site, stories)
    p = make(tmp_path)
    p.build([feed])
    port = free_port()
    app = launch(p, port=port, prevent_thread_lock=True, quiet=True)
    refresher: follow.Refresher = app.refresher
    answers: list[str] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def ask() -> None:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        while not stop.is_set():
            try:
                history, _, _ = client.predict(
                    "What did the harbour council approve?", [], api_name="/ask"
                )
                content = history[-1]["content"]
                answers.append(content if isinstance(content, str) else str(content))
            except Exception as e:  # noqa: BLE001  (any lost answer fails the test below)
                errors.append(e)

    asker = threading.Thread(target=ask)
    asker.start()
    try:
        for n, slug in enumerate(["library", "bridge", "museum"], 1):
            wait_for(lambda n=n: len(answers) >= 2 * n or bool(errors))
            stories.append(story(slug))
            publish(site, stories)
            refresher.refresh_now()  # on its own thread, as the schedule would
            wait_for(lambda n=n: refresher.refreshes == n)
            assert refresher.last is not None and refresher.last.ok, refresher.last
        wait_for(lambda: len(answers) >= 8 or bool(errors))
    finally:
        stop.set()
        asker.join(60)
        refresher.stop()
        app.close()
    assert errors == [] and len(answers) >= 8
    assert all(a.strip() and "⚠" not in a for a in answers)
    assert len(p.articles()) == 4


# --- the rest ----------------------------------------------------------------------------------


def test_import_rag_loads_no_fetching_library() -> None:
    code = (
        "import sys, rag, rag.cli.main, rag.ingest.follow, rag.ingest.sources, rag.build\n"
        "from click.testing import CliRunner\n"
        "CliRunner().invoke(rag.cli.main.main, ['--help'])\n"
        "print([m for m in ('httpx', 'trafilatura', 'feedparser') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr


@pytest.mark.parametrize("module", [pages, follow])
def test_docstring_examples(module: Any) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_index_tab_sources_table_and_setting(tmp_path: Path, site: Site) -> None:
    gr = pytest.importorskip("gradio")
    from ui.handlers import set_refresh, sources_panel

    feed = publish(site, [story("harbour")])
    folder = write_articles(tmp_path / "articles")
    p = make(tmp_path)
    p.build([folder, feed])
    r = follow.Refresher(p.update, log=lambda line: None)
    html = sources_panel(p.settings.index.index_dir, r)
    assert "Scheduled refresh is off" in html and feed in html and "folder" in html
    assert '<td class="n">1</td>' in html  # one new article from the feed
    html = set_refresh(p.settings.index.index_dir, r, "15m")
    assert "Refreshes every 15m; next at" in html and r.every == 900
    with pytest.raises(gr.Error, match="not a duration"):
        set_refresh(p.settings.index.index_dir, r, "whenever")
    r.stop()
