"""Issue 25, item 4: dates. A first line `date 2024-02-30` is said, not made the title with
the file's time; the recency prior measures age from the as-of date or today (the clock),
never from an article dated in the future."""

from __future__ import annotations

import doctest
import json
from datetime import date
from pathlib import Path

import pytest

from rag import Pipeline, Settings
from rag.ingest.sources import read
from rag.search import when
from rag.types import Article, Note
from tests.conftest import FakeEmbedder, write_articles
from tests.fakecli import fake_cli

STORY = "The harbour ferry resumed service on Monday after the storm passed."


def test_a_date_line_that_is_no_date_is_said(tmp_path: Path, monkeypatch) -> None:
    """The probe: the file's time (2026-12-06) became its date, and the line its title."""
    path = tmp_path / "news" / "ferry.txt"
    path.parent.mkdir()
    path.write_text(f"date 2024-02-30\n{STORY}")
    art, note = read([path])
    assert isinstance(art, Article) and isinstance(note, Note)
    assert art.published is None and art.title == STORY and not art.text.startswith("date")
    assert note.path == str(path)
    assert note.reason.startswith("first line 'date 2024-02-30' is not a real date")
    rag = fake_cli(monkeypatch)
    out = rag("index", "build", path.parent, "--quiet", "--index", tmp_path / "index")
    assert out.exit_code == 0, out.output
    (line,) = out.stderr.splitlines()
    assert (
        line
        == f"note {path}: first line 'date 2024-02-30' is not a real date (YYYY-MM-DD); "
        + ("kept undated: fix the line")
    )


ARTICLES = {
    # the right answer, dated a while ago
    "ferry.txt": "date 2025-03-03\nThe island ferry to Skye resumes service on Monday after "
    "the storm damaged the pier. The ferry operator said repairs to the pier are finished.",
    # one article from the far future (a typo in a date): it must shift nothing
    "future.txt": "date 2999-01-01\nThe library opens a new reading room for children.",
    # an undated letter that mentions the ferry in passing (JSONL: no file time to fall back on)
    "letter.jsonl": json.dumps(
        {
            "title": "Letters: buses, trains and ferries",
            "text": "I took the ferry to the island once. Service was slow. Readers write "
            "about buses, trains and the price of parking.",
        }
    ),
}


def pipeline(tmp_path: Path) -> Pipeline:
    s = Settings.load(env={}, index_dir=tmp_path / "index", model="fake", gate="off")
    p = Pipeline(s, FakeEmbedder())
    p.build([write_articles(tmp_path / "news", ARTICLES)])
    return p


def first(p: Pipeline, **kw: object) -> str:
    return p.search("When does the ferry to Skye resume service?", **kw)[0].article.title


def test_a_future_dated_article_shifts_no_age(tmp_path: Path) -> None:
    """The probe: one article dated 2999-01-01 made every age count from then, and an undated
    letter outranked the right article (0.311 vs 0.887)."""
    p = pipeline(tmp_path)
    letter = next(a for a, _ in p.articles() if a.published is None)
    assert letter.title.startswith("Letters")
    assert first(p).startswith("The island ferry")  # the clock: today
    retriever = p.load().retriever
    retriever.today = lambda: date(2025, 3, 10)  # a week after the right article
    assert first(p).startswith("The island ferry")
    retriever.today = lambda: date(2040, 1, 1)  # years later: undated articles gain nothing
    assert first(p).startswith("The island ferry")
    # measured from the future article's day (what the prior used to do), the letter wins:
    # the test tells the two apart
    retriever.today = lambda: date(2999, 1, 1)
    assert first(p).startswith("Letters")
    assert first(p, as_of=date(2025, 3, 4)).startswith("The island ferry")  # --as-of still rules


def test_anchor() -> None:
    assert when.anchor(date(2024, 1, 2), date(2030, 1, 1)) == date(2024, 1, 2).toordinal()
    assert when.anchor(None, date(2030, 1, 1)) == date(2030, 1, 1).toordinal()


@pytest.mark.parametrize("module", [when])
def test_docstring_examples(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]
