"""Issue 25, items 1 and 2: a source that cannot be read removes nothing; paths in the sources
list are kept absolute, old relative ones still work; "" and "." are refused as sources. The
article page test serves its page from a real HTTP server on 127.0.0.1 (tests/localweb.py)."""

from __future__ import annotations

import doctest
import json
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from rag import Pipeline, Settings
from rag.errors import InputError
from rag.ingest import follow, keep
from rag.ingest.webstate import Run
from tests.conftest import FakeEmbedder, write_articles
from tests.fakecli import fake_cli
from tests.localweb import Reply, Site, page, story


def make(index_dir: Path) -> Pipeline:
    s = Settings.load(env={}, index_dir=index_dir, model="fake", min_score=0.3, gate="off")
    return Pipeline(s, FakeEmbedder())


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with seeds/ in it, the current folder; another folder beside it."""
    root = tmp_path / "proj"
    write_articles(root / "seeds")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(root)
    return root


def titles(p: Pipeline) -> set[str]:
    return {a.title for a, _ in p.articles()}


def test_sources_are_kept_absolute_and_read_from_any_folder(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rag = fake_cli(monkeypatch)
    idx = project / "index"
    built = rag("index", "build", "seeds/", "--index", "index")  # typed relative, as a user does
    assert built.exit_code == 0, built.output
    assert json.loads((idx / follow.SOURCES).read_text()) == [str(project / "seeds")]
    monkeypatch.chdir(project.parent / "elsewhere")  # `rag serve` / update from another folder
    out = rag("index", "update", "--index", str(idx))
    assert out.exit_code == 0, out.output
    assert "removed 0, unchanged 3" in out.stdout and "skipped" not in out.stderr


def test_old_relative_entries_are_read_beside_the_index_and_kept_absolute(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    idx = project / "index"
    p = make(idx)
    p.build([project / "seeds"])
    (idx / follow.SOURCES).write_text('["seeds/"]')  # as an older version kept it
    monkeypatch.chdir(project.parent / "elsewhere")
    assert follow.listed(idx) == [str(project / "seeds")]
    r = make(idx).update()
    assert (r.removed, r.unchanged) == (0, 3)
    assert json.loads((idx / follow.SOURCES).read_text()) == [str(project / "seeds")]  # migrated
    # a relative entry that is not beside the index, but here, is read from here
    here = write_articles(project.parent / "elsewhere" / "more", {"owls.txt": "Owls hunt."})
    assert follow.stored("more", idx) == str(here)


def test_a_missing_source_removes_nothing_a_deleted_file_does(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe: the folder not there (moved, another working folder) used to count as every
    one of its articles deleted."""
    rag = fake_cli(monkeypatch)
    idx = project / "index"
    other = write_articles(project / "other", {"owls.txt": "date 2024-06-01\nOwls hunt at night."})
    assert rag("index", "build", "seeds", str(other), "--index", idx).exit_code == 0
    (project / "seeds").rename(project / "seeds-moved")
    out = rag("index", "update", "--index", idx)
    assert out.exit_code == 0, out.output
    assert "removed 0, unchanged 4" in out.stdout
    assert f"skipped {project / 'seeds'}: no such file or folder" in out.stderr
    assert f"note {project / 'seeds'}: cannot be read this time, so the 3 articles" in out.stderr
    assert len(make(idx).articles()) == 4
    (other / "owls.txt").unlink()  # deleted from a folder that is still there: the source says so
    out = rag("index", "update", "--index", idx)
    assert "added 0, changed 0, removed 1, unchanged 3" in out.stdout, out.output
    pruned = rag("index", "update", "--prune", "--index", idx)  # the owner says so
    assert pruned.exit_code == 1 and "no readable articles" in pruned.output  # never emptied
    (project / "seeds-moved").rename(project / "seeds")
    write_articles(other, {"owls.txt": "date 2024-06-01\nOwls hunt at night."})
    (project / "seeds").rename(project / "seeds-moved")
    pruned = rag("index", "update", "--prune", "--index", idx)
    assert pruned.exit_code == 0 and "added 1, changed 0, removed 3" in pruned.stdout


def test_a_file_that_cannot_be_read_keeps_its_article(project: Path) -> None:
    p = make(project / "index")
    p.build([project / "seeds"])
    cats = project / "seeds" / "cats.txt"
    cats.write_bytes(b"\xff\xfe\xfa not text any more")  # a failed read, not a deletion
    notes: list = []
    r = p.update(on_skip=notes.append)
    assert (r.removed, r.unchanged) == (0, 3)
    assert [n.path for n in notes] == [str(cats), str(cats)]  # the skip, then the note
    assert "the 1 article it gave before is kept" in notes[1].reason
    assert "Cats sleep most of the day" in {a.text[:26] for a, _ in p.articles()}
    assert p.update(prune=True).removed == 1


@pytest.mark.parametrize(
    ("failure", "why"),
    [
        ("crash", "could not be read (ValueError: parser exploded)"),
        ("no text", "no article text found in the page"),
        ("HTTP 500", "HTTP 500 Internal Server Error after 3 tries"),
    ],
)
def test_an_article_page_that_cannot_be_extracted_this_time_keeps_its_article(
    failure: str, why: str, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 1's "failed extraction": a page URL indexed before whose page, changed since, gives
    no article at the next update (extraction raises, finds no text, or the server fails)."""
    rag = fake_cli(monkeypatch)
    idx = project / "index"
    s = story("harbour")
    with Site() as site:  # a typed 127.0.0.1 source: allowed for its host without a flag
        site.route(s.path, page(s))
        url = site.url(s.path)
        built = rag("index", "build", "seeds", url, "--quiet", "--index", idx)
        assert built.exit_code == 0 and "read 4 articles" in built.stdout, built.output
        (before,) = [a for a, _ in make(idx).articles() if a.url == url]
        assert "Critics said" in before.text
        if failure == "crash":  # the page changed (a new ETag), and reading it raises
            site.route(s.path, page(replace(s, text=s.text + " The mayor resigned on Friday.")))
            import trafilatura

            def boom(*args: Any, **kw: Any) -> Any:
                raise ValueError("parser exploded")

            monkeypatch.setattr(trafilatura, "bare_extraction", boom)
        elif failure == "no text":
            site.route(s.path, Reply(b"<html><body><p>Moved.</p></body></html>"))
        else:
            site.route(s.path, Reply(b"down", 500, "text/plain"))
        site.clear()
        out = rag("index", "update", "--quiet", "--index", idx)
        assert site.hits(s.path)[0] != 304  # fetched anew: not kept for being unchanged
    assert out.exit_code == 0 and "Traceback" not in out.output, out.output
    assert "added 0, changed 0, removed 0, unchanged 4" in out.stdout
    (line,) = [ln for ln in out.stderr.splitlines() if url in ln]
    kept = r"; the 1 articles? it gave before (is|are) kept"
    assert re.fullmatch(f"skipped {re.escape(url)}: {re.escape(why)}{kept}", line), line
    assert out.stderr.splitlines() == [line]
    after = {a.doc_id: a for a, _ in make(idx).articles()}
    assert len(after) == 4 and after[before.doc_id].text == before.text  # still live, as it was
    assert after[before.doc_id].url == url and after[before.doc_id].title == before.title


def test_the_index_tab_warns_about_a_source_it_cannot_read(project: Path) -> None:
    from ui.sources_view import Schedule, sources_html, warnings

    p = make(project / "index")
    p.build([project / "seeds"])
    (project / "seeds").rename(project / "gone")
    rows = follow.table(p.settings.index.index_dir)
    assert [r.kind for r in rows] == ["missing"]
    (line,) = warnings(rows)
    assert line.startswith(f"{project / 'seeds'} cannot be found") and "keeps the articles" in line
    html = sources_html(rows, Schedule(None, None))
    assert 'id="sources-warnings"' in html and "cannot be found" in html
    failed = follow.Source("https://x.example/f", "feed", Run("t", "failed: HTTP 503", False))
    assert "Its articles are kept" in warnings([failed])[0]
    assert warnings([follow.Source(str(project), "folder")]) == []


@pytest.mark.parametrize("name", ["", ".", "./", " ", ".//", "seeds/.."])
def test_the_current_folder_unsaid_is_not_a_source(
    name: str, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe: `rag index sources add ""` then `rag index update` indexed the current folder
    (a private diary.txt was then answered in the chat)."""
    (project / "diary.txt").write_text("Dear diary, my bank PIN is 0000.")
    rag = fake_cli(monkeypatch)
    assert rag("index", "build", "seeds", "--index", "index").exit_code == 0
    before = (project / "index" / follow.SOURCES).read_text()
    for cmd in (["index", "sources", "add", name], ["index", "update", name]):
        out = rag(*cmd, "--index", "index")
        assert out.exit_code == 1 and out.output.count("\n") == 1, out.output
        assert "names no source" in out.output and "full path" in out.output
    assert (project / "index" / follow.SOURCES).read_text() == before
    with pytest.raises(InputError, match="names no source"):
        make(project / "index").build([name])


def test_the_current_folder_named_in_full_is_a_source(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rag = fake_cli(monkeypatch)
    out = rag("index", "sources", "add", os.getcwd(), "--index", project.parent / "idx")
    assert out.exit_code == 0, out.output
    assert follow.listed(project.parent / "idx") == [str(project)]


def test_docstring_examples() -> None:
    from ui import sources_view

    for module in (keep, follow, sources_view):
        assert doctest.testmod(module).failed == 0
