"""Near-duplicate grouping: copies of one story are retrieved once, with the others named."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from rag import Pipeline, Settings
from rag.index.dedup import canonical, signature, similarity
from rag.types import Article
from tests.conftest import FakeEmbedder, write_articles

STORY = (
    "The city council voted on Tuesday to close the old bridge over the river for repairs "
    "that will last until next spring, officials said. Drivers will use the northern bypass, "
    "which adds about ten minutes to the trip downtown. Engineers found cracks in two of the "
    "supporting beams during an inspection last month, and the mayor said safety came first. "
    "Local shops near the bridge worry that fewer customers will come by while it is closed."
)


def test_signatures_estimate_overlap() -> None:
    a, b = signature(STORY), signature(STORY + " Reporting by Ann Lee.")
    c = signature("A completely different text about football and the final score " * 10)
    assert similarity(a, b) > 0.8 and similarity(a, c) < 0.2


def test_groups_pick_the_earliest_copy() -> None:
    arts = [
        Article("late", "t", STORY, published=date(2024, 5, 2), outlet="b.com"),
        Article("early", "t", STORY + " (AP)", published=date(2024, 5, 1), outlet="a.com"),
        Article("other", "t", "Something else entirely, about weather and rain. " * 12),
        Article("short", "t", "Cookie banner."),
        Article("short2", "t", "Cookie banner."),
    ]
    groups = canonical(arts, [signature(a.text) for a in arts], threshold=0.8)
    assert groups == [1, 1, 2, 3, 4]  # short texts (scraping noise) are never grouped


def test_copies_are_retrieved_once_and_named(tmp_path: Path) -> None:
    folder = write_articles(
        tmp_path / "a",
        {
            "one.txt": "date 2024-05-01\n" + STORY,
            "two.txt": "date 2024-05-02\n" + STORY + " Copyright Daily Bugle.",
            "three.txt": "date 2024-05-03\nThe football final ended two to one after extra time.",
        },
    )
    p = Pipeline(Settings.load(env={}, index_dir=tmp_path / "ix", model="fake"), FakeEmbedder())
    p.build([folder])
    hits = p.search("bridge closed for repairs council", k=5)
    assert sum("bridge" in h.chunk.text for h in hits) == 1
    top = hits[0]
    assert top.article.published == date(2024, 5, 1)
    assert [a.published for a in top.also] == [date(2024, 5, 2)]
    off = Pipeline(p.settings.with_(near_duplicate=0.0), FakeEmbedder())
    off.build([folder])
    assert sum("bridge" in h.chunk.text for h in off.search("bridge repairs", k=5)) == 2
