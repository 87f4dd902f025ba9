"""Stories: event clusters with stable ids, stored in the index, the timeline in the CLI and as
HTML (hostile text escaped), the story link on a card. Made-up articles only."""

from __future__ import annotations

import doctest
import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import rag.index.stories
from rag import Pipeline, Settings
from rag.cli.main import main
from rag.errors import InputError
from rag.index import vectors as index
from rag.index.stories import FILE, assign, leads, read, story_id
from rag.types import Article, StoryRef
from tests.conftest import FakeEmbedder

DAY = date(2024, 6, 10)


def test_docstring_examples() -> None:
    assert doctest.testmod(rag.index.stories).failed == 0


def art(doc: str, days: int, title: str = "", text: str = "") -> Article:
    return Article(doc, title or doc, text or f"Report {doc}.", published=DAY + timedelta(days))


def unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_leads_are_first_chunk_vectors() -> None:
    vecs = np.arange(12, dtype=np.float32).reshape(6, 2)
    out = leads([[(0, 5), (5, 9)], [], [(0, 3)], [(0, 1), (1, 2), (2, 3)]], vecs)
    assert out.tolist() == [[0, 1], [0, 0], [4, 5], [6, 7]]


def test_close_leads_within_the_window_share_a_story() -> None:
    named = "Officials met Ada Lind in Tamsby on Monday."
    arts = [
        art("a", 0, text=named),
        art("b", 2, text=named),  # close, 2 days later, a name in common: joins a
        art("c", 30, text=named),  # close but a month later: a story of its own
        art("d", 1, text="Nothing alike here."),  # far: alone
    ]
    lead = np.stack([unit(1, 0.1), unit(1, 0.12), unit(1, 0.1), unit(0, 1)])
    ids = assign(arts, lead, list(range(4)), {})
    assert ids[0] == ids[1] == story_id("a")
    assert len({ids[0], ids[2], ids[3]}) == 3


def test_near_duplicates_always_share_a_story_and_digests_stay_alone() -> None:
    arts = [art("a", 0), art("b", 5), art("c", 0, title="5 things to know for June 10")]
    lead = np.stack([unit(1, 0), unit(0, 1), unit(1, 0)])
    ids = assign(arts, lead, [0, 0, 2], {})
    assert ids[0] == ids[1] and ids[2] not in (ids[0], ids[1])


def test_previous_stories_are_kept_and_new_articles_join_them() -> None:
    named = "Officials met Ada Lind in Tamsby on Monday."
    arts = [art("a", 0, text=named), art("b", 1, text=named), art("new", 2, text=named)]
    lead = np.stack([unit(1, 0.1)] * 3)
    previous = {"a": "s-old-1", "b": "s-old-2"}  # placed apart before: they stay apart
    ids = assign(arts, lead, [0, 1, 2], previous)
    assert ids[:2] == ["s-old-1", "s-old-2"] and ids[2] in ("s-old-1", "s-old-2")


def test_read_tolerates_missing_and_damaged_files(tmp_path: Path) -> None:
    assert read(tmp_path) == {} and read(None) == {}
    (tmp_path / FILE).write_text("{not json")
    assert read(tmp_path) == {}
    (tmp_path / FILE).write_text(json.dumps({"version": 99, "stories": {"a": "s"}}))
    assert read(tmp_path) == {}


# ---------------------------------------------------------------- in the index

STORY = [
    {"doc_id": "fire-1", "title": "Fire at Kelby harbour warehouse", "published": "2024-06-10",
     "source": "north.example", "url": "https://north.example/fire",
     "text": "A fire destroyed a warehouse at Kelby harbour on Monday, firefighters said. "
             "Twelve crews fought the blaze through the night near the Kelby ferry terminal."},
    {"doc_id": "fire-2", "title": "Kelby harbour warehouse fire: crews stay on site",
     "published": "2024-06-11", "source": "south.example",
     "text": "A fire destroyed a warehouse at Kelby harbour on Monday, firefighters said on "
             "Tuesday. Twelve crews fought the blaze through the night near the Kelby ferry "
             "terminal."},
    {"doc_id": "choir", "title": "Ravelo choir wins national prize", "published": "2024-06-10",
     "source": "town.example", "text": "The Ravelo youth choir won the national singing prize."},
]  # fmt: skip


def build(tmp_path: Path, rows: list[dict[str, str]]) -> Pipeline:
    folder = tmp_path / "articles"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    s = Settings.load(env={}, index_dir=tmp_path / "index", model="fake", min_score=0.1, gate="off")
    p = Pipeline(s, FakeEmbedder())
    p.build([folder])
    return p


def test_build_stores_stories_checksummed_and_updates_keep_them(tmp_path: Path) -> None:
    p = build(tmp_path, STORY)
    gen = index.current(p.settings.index.index_dir)
    assert FILE in index.read_manifest(gen).files  # `rag index verify` covers it
    first = read(gen)
    assert first["fire-1"] == first["fire-2"] != first["choir"]
    text = STORY[1]["text"].replace("Tuesday", "Wednesday")
    later = {**STORY[1], "doc_id": "fire-3", "published": "2024-06-12", "text": text}
    p = build(tmp_path, [*STORY, later])
    now = read(index.current(p.settings.index.index_dir))
    assert {k: now[k] for k in first} == first  # nothing reshuffled
    assert now["fire-3"] == first["fire-1"]  # the new report joined the story
    p.verify()


def test_story_timeline_and_refs(tmp_path: Path) -> None:
    p = build(tmp_path, STORY)
    s = p.story("fire-2")
    assert [e.doc_id for e in s.entries] == ["fire-1", "fire-2"]  # oldest first
    assert (s.outlets, s.first, s.latest) == (2, date(2024, 6, 10), date(2024, 6, 11))
    assert s.entries[0].sentence.startswith("A fire destroyed a warehouse")
    assert p.story(s.id).id == s.id
    with pytest.raises(InputError, match="no story or article 'nope'"):
        p.story("nope")
    a = p.ask("What happened at the Kelby harbour warehouse?")
    refs = {r.doc_id: r for r in a.stories}
    assert refs["fire-1"] == StoryRef("fire-1", s.id, 2, 2)


def test_an_index_without_stories_loads_and_says_so(tmp_path: Path) -> None:
    p = build(tmp_path, STORY)
    gen = index.current(p.settings.index.index_dir)
    (gen / FILE).unlink()  # as an index built before stories
    p.live.stories.clear()
    p.live.reload()
    assert p.ask("What happened at the Kelby harbour warehouse?").stories == ()
    with pytest.raises(InputError, match="no stories; run `rag index build`"):
        p.story("fire-1")


def test_cli_story_text_and_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = build(tmp_path, STORY)
    monkeypatch.setattr("rag.cli.story.pipeline", lambda **_: p)
    out = CliRunner().invoke(main, ["story", "fire-1"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0].startswith("story s") and "2 articles from 2 outlets" in lines[0]
    assert "first report 2024-06-10, latest 2024-06-11" in lines[0]
    assert out.output.index("2024-06-11") < out.output.index("2024-06-10  north")  # newest first
    data = json.loads(CliRunner().invoke(main, ["story", "fire-1", "--json", "--oldest"]).output)
    assert data["articles"] == 2 and data["outlets"] == 2 and data["order"] == "oldest first"
    assert [e["doc_id"] for e in data["timeline"]] == ["fire-1", "fire-2"]
    assert set(data["timeline"][0]) == {"doc_id", "published", "outlet", "title", "url", "sentence"}
    bad = CliRunner().invoke(main, ["story", "nope"])
    assert bad.exit_code == 1 and bad.output.count("\n") == 1 and "rag index list" in bad.output


def test_cli_story_help() -> None:
    out = CliRunner().invoke(main, ["story", "--help"])
    assert out.exit_code == 0 and "--index" in out.output and "--oldest" in out.output
