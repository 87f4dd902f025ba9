"""Issue 25, item 3: a page's canonical link is trusted only on its own registrable domain (or
one the linking feed declares); a page on one site cannot take another site's article, its
doc_id or its outlet. Real HTTP servers on 127.0.0.1, reached as "127.0.0.1" and as
"localhost": two registrable domains on one machine."""

from __future__ import annotations

import doctest
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from rag import Pipeline, Settings
from rag.ingest import domains, pages
from rag.ingest.records import make_id
from rag.types import Skipped
from tests.conftest import FakeEmbedder
from tests.fakecli import FAKE
from tests.localweb import Site, page, rss, story


@pytest.fixture
def site() -> Iterator[Site]:
    with Site() as s:
        yield s


def make(tmp_path: Path) -> Pipeline:
    return Pipeline(Settings.load(env={}, index_dir=tmp_path / "index", **FAKE), FakeEmbedder())


def test_a_canonical_link_to_another_site_is_ignored_and_said(tmp_path: Path, site: Site) -> None:
    """The probe: a page on host A naming B's article as its canonical replaced B's article
    (same doc_id, no message) and took B's outlet."""
    real = story("harbour")
    fake = story("hijack", title="Harbour plan scrapped")
    site.route(real.path, page(real))
    b_url = site.url(real.path).replace("127.0.0.1", "localhost")  # B: the real outlet
    site.route(fake.path, page(fake, canonical=b_url))  # A: claims to be B's article
    site.route("/b.xml", rss(site, [replace(real, link=b_url)]))  # B's feed, B's page
    b_feed = site.url("/b.xml").replace("127.0.0.1", "localhost")
    a_page = site.url(fake.path)
    lines: list[Skipped] = []
    p = make(tmp_path)
    r = p.build([b_feed, a_page], on_skip=lines.append)
    assert r.articles == 2
    got = {a.title: a for a, _ in p.articles()}
    b, a = got["The harbour plan passes"], got["Harbour plan scrapped"]
    assert b.url == b_url and b.doc_id == make_id("u", b_url) and b.outlet == "localhost"
    assert a.url == a_page and a.doc_id == make_id("u", a_page) and a.outlet == "127.0.0.1"
    (note,) = lines
    assert note.path == a_page and "canonical link" in note.reason and "another site" in note.reason


def test_a_canonical_link_on_the_same_domain_or_the_feeds_is_trusted() -> None:
    same = b'<link rel="canonical" href="https://www.a.example/2025/story">'
    assert pages.identity(same, "https://m.a.example/story?amp=1") == (
        "https://www.a.example/2025/story",
        "",
    )
    elsewhere = b'<link rel="canonical" href="https://news.b.example/story">'
    url, note = pages.identity(elsewhere, "https://cdn.c.example/story")
    assert url == "https://cdn.c.example/story" and "news.b.example" in note
    declared = pages.identity(elsewhere, "https://cdn.c.example/story", trusted=["b.example"])
    assert declared == ("https://news.b.example/story", "")  # the feed that linked it says so


def test_registrable_domains_come_from_the_bundled_suffix_list() -> None:
    assert domains.registrable("news.bbc.co.uk") == "bbc.co.uk"
    assert domains.registrable("alice.github.io") != domains.registrable("bob.github.io")
    assert domains.registrable("[::1]") == "::1"
    assert not domains.same_site("http://a.example/x", "http://b.example/x")


def test_secret_query_parameters_are_not_part_of_an_article_url() -> None:
    url = "https://u:p@news.example/a?id=7&token=tok-1&api_key=k&X-Amz-Signature=s&sig=x"
    assert pages.normal_url(url) == "https://news.example/a?id=7"


@pytest.mark.parametrize("module", [pages, domains])
def test_docstring_examples(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]
