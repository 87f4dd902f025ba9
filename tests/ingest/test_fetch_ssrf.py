"""Issue 25, items 6, 10 and 11: what a feed may make us fetch (no loopback, private or
link-local address unless the owner allows it, checked on the resolved address at every hop),
a host name that cannot be encoded, and a page whose extraction crashes. Real HTTP servers on
127.0.0.1 (tests/localweb.py); nothing here leaves the loopback interface."""

from __future__ import annotations

import doctest
import ipaddress
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from rag import Pipeline, Settings, addresses
from rag.errors import FetchError
from rag.ingest import fetch, follow, reach
from rag.types import Skipped
from tests.conftest import FakeEmbedder, write_articles
from tests.fakecli import FAKE, fake_cli
from tests.localweb import Reply, Site, page, publish, rss, story


@pytest.fixture
def site() -> Iterator[Site]:
    with Site() as s:
        yield s


def make(tmp_path: Path, **settings: Any) -> Pipeline:
    s = Settings.load(env={}, index_dir=tmp_path / "index", **{**FAKE, **settings})
    return Pipeline(s, FakeEmbedder())


def local(site: Site, path: str) -> str:
    """The site's URL by the name "localhost": the same server, a host nobody typed."""
    return site.url(path).replace("127.0.0.1", "localhost")


def hostile_feed(site: Site, metadata: bool = True) -> str:
    """A feed the owner follows (on 127.0.0.1, typed) whose items lead elsewhere: the cloud
    metadata address (never asked for when it is allowed: it may answer), this machine by
    another name, and a redirect to it."""
    good = story("harbour")
    meta = replace(story("metadata"), link="http://169.254.169.254/latest/meta-data/")
    inside = replace(story("inside"), link=local(site, "/news/inside"))
    hop = replace(story("hop"), link=site.url("/go"))
    for s in (good, story("inside"), story("hop")):
        site.route(s.path, page(s))
    site.route("/go", Reply(status=302, headers={"Location": local(site, "/news/hop")}))
    site.route("/feed.xml", rss(site, [good, *[meta] * metadata, inside, hop]))
    return site.url("/feed.xml")


def test_feed_links_to_private_hosts_are_refused_and_the_rest_goes_on(
    tmp_path: Path, site: Site
) -> None:
    feed = hostile_feed(site)
    lines: list[Skipped] = []
    r = make(tmp_path).build([feed], on_skip=lines.append)
    assert r.articles == 4  # the page that was allowed, and three feed summaries
    why = {line.path.rstrip("/").rsplit("/", 1)[-1]: line.reason for line in lines}
    assert "a link-local address" in why["meta-data"] and "refused to connect" in why["meta-data"]
    assert "localhost (127.0.0.1): a loopback address" in why["inside"]
    assert "a loopback address" in why["go"]  # the redirect's hop, not the link, was private
    assert all("\n" not in line.reason and "--allow-private-hosts" in line.reason for line in lines)
    assert site.hits("/news/inside") == [] and site.hits("/news/hop") == []  # never reached
    assert site.hits("/go") == [302] and site.hits("/news/harbour") == [200]


def test_the_owner_can_allow_private_hosts(
    tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = hostile_feed(site, metadata=False)
    monkeypatch.setenv("RAG_ALLOW_PRIVATE_HOSTS", "1")
    assert Settings.load().fetching.allow_private_hosts is True
    lines: list[Skipped] = []
    r = make(tmp_path, allow_private_hosts=True).build([feed], on_skip=lines.append)
    assert r.articles == 3 and lines == []
    assert site.hits("/news/inside") == [200] and site.hits("/news/hop") == [200]
    rag = fake_cli(monkeypatch)
    for cmd in (["index", "build"], ["index", "update"], ["serve"]):
        assert "--allow-private-hosts" in rag(*cmd, "--help").output


def test_the_resolved_address_is_checked_not_the_name(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def resolve(host: str, port: Any, *args: Any, **kw: Any) -> Any:
        if host == "news.example":  # a public-looking name that resolves inside
            return real("10.1.2.3", port, *args, **kw)
        return real(host, port, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with fetch.Fetcher(fetch.Limits(host_interval=0, retries=0)) as f:
        with pytest.raises(FetchError, match=r"news.example \(10.1.2.3\): a private address"):
            f.get("http://news.example/feed.xml")
        assert f.requests == 1  # robots.txt asked for, refused before connecting
    guard = reach.Reach.of(["http://news.example/feed.xml"])  # the owner typed it: allowed
    assert guard.addresses("news.example", 80) == ["10.1.2.3"]


def test_a_typed_loopback_source_is_allowed_for_its_host_only(site: Site) -> None:
    site.route("/a", Reply(b"<html><body>ok</body></html>"))
    site.route("/jump", Reply(status=301, headers={"Location": local(site, "/a")}))
    with fetch.Fetcher(fetch.Limits(host_interval=0), allowed_hosts=["127.0.0.1"]) as f:
        assert f.get(site.url("/a")).status == 200
        with pytest.raises(FetchError, match="localhost .*loopback"):
            f.get(site.url("/jump"))
    with fetch.Fetcher(fetch.Limits(host_interval=0)) as f:
        with pytest.raises(FetchError, match="127.0.0.1: a loopback address"):
            f.get(site.url("/a"))


def test_addresses_kinds() -> None:
    kinds = {
        a: addresses.private_kind(ipaddress.ip_address(a))
        for a in ("0.0.0.0", "127.0.0.2", "10.0.0.1", "172.16.5.4", "192.168.1.1")
        + ("169.254.169.254", "224.0.0.251", "240.0.0.1", "100.64.0.1", "::1", "fe80::1")
        + ("::ffff:127.0.0.1", "fd00::1", "93.184.216.34", "2606:4700::1111")
    }
    assert kinds == {
        "0.0.0.0": "unspecified",
        "127.0.0.2": "loopback",
        "10.0.0.1": "private",
        "172.16.5.4": "private",
        "192.168.1.1": "private",
        "169.254.169.254": "link-local",
        "224.0.0.251": "multicast",
        "240.0.0.1": "reserved",
        "100.64.0.1": "non-public",
        "::1": "loopback",
        "fe80::1": "link-local",
        "::ffff:127.0.0.1": "loopback",
        "fd00::1": "private",
        "93.184.216.34": "",
        "2606:4700::1111": "",
    }


LONG = "http://" + "a" * 70 + ".example/feed.xml"


def test_a_host_name_too_long_to_encode_is_one_line(
    tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe: a UnicodeError traceback ('encoding with idna codec failed'), and every
    later update failed while it was in the sources list."""
    rag = fake_cli(monkeypatch)
    out = rag("index", "build", LONG, "--quiet", "--index", tmp_path / "index")
    assert out.exit_code == 1 and "Traceback" not in out.output and "UnicodeError" not in out.output
    assert out.stderr.splitlines()[0] == f"skipped {LONG}: not a valid host name (over 253 " + (
        "characters, or a part over 63)"
    )
    stories = [story("harbour")]
    feed = publish(site, stories)
    corpus = write_articles(tmp_path / "articles")
    built = rag("index", "build", corpus, feed, "--index", tmp_path / "index")
    assert built.exit_code == 0, built.output
    assert follow.add(tmp_path / "index", [LONG])[-1] == LONG
    stories.append(story("library"))
    publish(site, stories)
    out = rag("index", "update", "--index", tmp_path / "index")
    assert out.exit_code == 0 and "added 1, changed 0, removed 0" in out.stdout, out.output
    assert f"skipped {LONG}: not a valid host name" in out.stderr
    with fetch.Fetcher() as f, pytest.raises(FetchError, match="not a valid host name"):
        f.get(LONG)
    with pytest.raises(reach.Refused, match="not a valid host name"):
        reach.Reach().addresses("a" * 70 + ".example", 80)


def test_a_page_whose_extraction_crashes_is_one_line(
    tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe: an ImportError inside trafilatura (lxml.html.clean missing) aborted the
    whole URL build with a traceback; any exception in one page must stay with that page."""
    import trafilatura

    real = trafilatura.bare_extraction

    def flaky(body: bytes, *args: Any, **kw: Any) -> Any:
        if b"library" in body:
            raise ImportError("lxml.html.clean module is now a separate project")
        return real(body, *args, **kw)

    monkeypatch.setattr(trafilatura, "bare_extraction", flaky)
    feed = publish(site, [story("harbour"), story("library", summary="")])
    lone = story("library-page")
    site.route(lone.path, page(lone))
    rag = fake_cli(monkeypatch)
    out = rag("index", "build", feed, site.url(lone.path), "--index", tmp_path / "index")
    assert out.exit_code == 0 and "Traceback" not in out.output, out.output
    crash = "could not be read (ImportError: lxml.html.clean module is now a separate project)"
    assert f"note {site.url('/news/library')}: {crash}; indexed the feed's summary" in out.stderr
    assert f"skipped {site.url(lone.path)}: {crash}" in out.stderr
    assert "read 2 articles" in out.stdout


def test_docstring_examples() -> None:
    assert doctest.testmod(reach).failed == 0
