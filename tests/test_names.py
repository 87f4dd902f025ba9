"""Issue 25, items 5 and 14: how names are shown. A source URL's login and query values never
reach the page, the API (GET /config of the real Gradio server), the CLI or a log line; a file
name's control characters never forge a line."""

from __future__ import annotations

import doctest
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag import Pipeline, Settings, names
from rag.ingest import follow
from rag.types import Skipped
from tests.conftest import FakeEmbedder, write_articles
from tests.fakecli import FAKE, fake_cli
from tests.localweb import Site, publish, story

SECRETS = ("s3cretpass", "tok-SECRET-123", "k-SECRET-456")


@pytest.fixture
def site() -> Iterator[Site]:
    with Site() as s:
        yield s


def secret_urls(site: Site) -> tuple[str, str]:
    """A feed that works, behind a login and a token; one that fails (404), with a key."""
    feed = publish(site, [story("harbour")])
    good = feed.replace("http://", "http://user:s3cretpass@") + "?token=tok-SECRET-123"
    bad = site.url("/gone.xml") + "?key=k-SECRET-456&page=2"
    return good, bad


def no_secret(text: str) -> bool:
    return not any(s in text for s in SECRETS)


def test_shown() -> None:
    url = "http://user:s3cretpass@news.example:8080/feed.xml?token=tok-SECRET-123&page=2#top"
    assert names.shown(url) == "http://news.example:8080/feed.xml?token=…&page=…"
    assert names.shown(f"skipped {url}: HTTP 404 (see {url}).") == (
        "skipped http://news.example:8080/feed.xml?token=…&page=…: HTTP 404 "
        "(see http://news.example:8080/feed.xml?token=…&page=…)."
    )
    assert names.shown("https://x.example/f?opaque-token") == "https://x.example/f?…"
    assert names.shown("http://[::1:bad/f?t=1") == "http://…"  # not even a URL: hidden
    assert names.escape("Zürich\n- forged\x1b[2K\u202eevil\r") == (
        "Zürich\\n- forged\\x1b[2K\\u202eevil\\r"
    )
    assert names.shown("Ünïcødé — 東京 news.txt") == "Ünïcødé — 東京 news.txt"  # readable
    assert names.same_source(names.shown(url), url) and not names.same_source("x", url)


def test_the_cli_never_prints_a_source_secret(
    tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    good, bad = secret_urls(site)
    rag = fake_cli(monkeypatch)
    ix = ["--index", tmp_path / "index", "--quiet"]
    corpus = write_articles(tmp_path / "articles")
    built = rag("index", "build", corpus, good, bad, *ix)
    assert built.exit_code == 0 and "read 4 articles" in built.stdout, built.output
    assert no_secret(built.output)
    assert f"skipped {site.url('/gone.xml')}?key=…&page=…: HTTP 404 Not Found" in built.stderr
    only_bad = rag("index", "build", bad, "--index", tmp_path / "other", "--quiet")
    assert only_bad.exit_code == 1 and "no readable articles in" in only_bad.output
    assert no_secret(only_bad.output)
    ix = ix[:2]
    for cmd in (["index", "sources", "list"], ["index", "sources", "list", "--json"]):
        out = rag(*cmd, *ix)
        assert out.exit_code == 0 and no_secret(out.output), out.output
    rows = [
        json.loads(line)
        for line in rag("index", "sources", "list", "--json", *ix).stdout.split("\n")
        if line
    ]
    assert rows[1]["source"] == names.shown(good) and rows[1]["last"]["ok"]
    status = rag("index", "status", *ix)
    assert "feed.xml?token=…" in status.output and no_secret(status.output)
    # the secret stays where fetching needs it, and a line copied from the list removes it
    assert good in follow.listed(tmp_path / "index")
    removed = rag("index", "sources", "remove", names.shown(bad), *ix)
    assert removed.exit_code == 0, removed.output
    assert bad not in follow.listed(tmp_path / "index")
    lines: list[str] = []
    p = Pipeline(Settings.load(env={}, index_dir=tmp_path / "index", **FAKE), FakeEmbedder())
    follow.add(tmp_path / "index", [bad])
    follow.Refresher(p.update, log=lines.append).run_once()
    assert lines and no_secret("\n".join(lines)) and "?key=…&page=…" in lines[0]


def test_get_config_of_the_served_app_holds_no_secret(tmp_path: Path, site: Site) -> None:
    """The probe: `rag serve --host 0.0.0.0 --allow-anonymous` showed the login and the token
    of a source URL to anyone, through the sources table in GET /config."""
    import httpx

    from bench.common import free_port
    from ui.serve import launch

    good, bad = secret_urls(site)
    p = Pipeline(Settings.load(env={}, index_dir=tmp_path / "index", **FAKE), FakeEmbedder())
    p.build([write_articles(tmp_path / "articles"), good, bad])
    port = free_port()
    app = launch(p, host="0.0.0.0", port=port, prevent_thread_lock=True, quiet=True)
    try:
        config = httpx.get(f"http://127.0.0.1:{port}/config", timeout=30)
        assert config.status_code == 200
        text = config.text
        assert "gone.xml?key=…" in text and "feed.xml?token=…" in text  # the sources are shown
        assert no_secret(text)
    finally:
        app.close()


def test_a_file_name_cannot_forge_a_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The probe: a file named $'evil\\nFAKE-LINE.txt' printed a forged line in the skip
    report."""
    folder = write_articles(tmp_path / "articles")
    (folder / "evil\nFAKE-LINE.txt").write_text("")  # empty: skipped, by name
    (folder / "odd\x1b[31mdate.txt").write_text("date 2024-02-30\nA story with a bad date line.")
    rag = fake_cli(monkeypatch)
    out = rag("index", "build", folder, "--quiet", "--index", tmp_path / "index")
    assert out.exit_code == 0, out.output
    lines = out.stderr.splitlines()
    assert lines == [
        f"skipped {folder}/evil\\nFAKE-LINE.txt: empty file",
        f"note {folder}/odd\\x1b[31mdate.txt: first line 'date 2024-02-30' is not a real date "
        "(YYYY-MM-DD); kept undated: fix the line",
    ]
    gone = rag("index", "build", tmp_path / "no\nFAKE-ERROR", "--quiet", "--index", tmp_path / "x")
    assert gone.exit_code == 1 and len(gone.output.splitlines()) == 2, gone.output  # skip, error
    assert gone.output.count("no\\nFAKE-ERROR") == 2 and "\nFAKE" not in gone.output
    p = Pipeline(Settings.load(env={}, index_dir=tmp_path / "index", **FAKE), FakeEmbedder())
    report: list[Skipped] = []
    p.update(on_skip=report.append)  # what the Index tab lists: the same names, escaped
    assert all("\n" not in s.path and "\x1b" not in s.path for s in report)


def test_docstring_examples() -> None:
    assert doctest.testmod(names).failed == 0
