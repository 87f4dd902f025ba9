"""`rag index tune`: pairs from the articles themselves, the manifest's record of the tuned
model, following it, and refusing a different one (the real model on a tiny corpus)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag import Pipeline, Settings
from rag.embed.tune import ORIGIN, check_digest, follow, model_digest, origin, pairs, split
from rag.errors import IndexMismatchError
from rag.types import Article, Manifest

TOWNS = ["Arvik", "Belmora", "Corran", "Dunstow", "Elsby", "Farrow", "Glenmere", "Holt"]
EVENTS = [
    ("opens a new library", "The library holds {n} thousand books and a reading garden."),
    ("repairs its old bridge", "Crews replaced {n} steel beams over the winter."),
    ("hosts a kite festival", "About {n} hundred kites flew over the dunes on Saturday."),
    ("plants an orchard", "Volunteers planted {n} apple trees on the hill above the school."),
    ("buys electric buses", "The council ordered {n} buses that charge overnight at the depot."),
]


def made_up_articles() -> dict[str, str]:
    """Forty short articles on invented towns: a headline line, then the text."""
    out = {}
    for i, town in enumerate(TOWNS):
        for j, (what, detail) in enumerate(EVENTS):
            text = (
                f"{town} {what}\n\n{town} {what}, the mayor said on Monday. "
                f"{detail.format(n=i + j + 2)} Residents were asked for their views in a "
                f"survey. Work in {town} is due to finish before the summer."
            )
            out[f"{town.lower()}-{j}.txt"] = text
    return out


def manifest(**kw: str) -> Manifest:
    return Manifest(1, kw.pop("model", "m"), 4, 800, 100, 1, 1, "2026-01-01", **kw)  # type: ignore[arg-type]


def test_pairs_are_headline_and_lead_queries() -> None:
    a = Article("a", "Harbour ferry returns", "The ferry sails again. It was shut. Fares fell.")
    assert pairs([a]) == [
        ("Harbour ferry returns", "The ferry sails again. It was shut. Fares fell."),
        ("The ferry sails again.", "It was shut. Fares fell."),
    ]
    assert pairs([Article("b", "", "short")]) == []


def test_split_is_stable_and_holds_some_out() -> None:
    arts = [Article(str(i), f"t{i}", "x" * 30) for i in range(20)]
    train, held = split(arts, 0.1)
    assert len(held) == 2 and len(train) == 18
    assert split(list(reversed(arts)), 0.1)[1] == held  # by doc_id, not by order


def test_follow_uses_the_tuned_model_only_for_its_base(tmp_path: Path) -> None:
    s = Settings.load(env={}, index_dir=tmp_path)
    tuned = manifest(model="/x/tuned/m", tuned_from=s.index.model, model_digest="d")
    assert follow(s, tuned).index.model == "/x/tuned/m"
    assert follow(s.with_(model="other"), tuned).index.model == "other"  # refused later, as today
    assert follow(s, manifest()).index.model == s.index.model
    assert follow(s, None) is s


def test_a_changed_or_missing_tuned_model_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"abc")
    (folder / ORIGIN).write_text(json.dumps({"tuned_from": "base"}))
    assert origin(str(folder)) == ("base", model_digest(folder))
    assert origin(str(tmp_path)) == ("", "")
    m = manifest(model=str(folder), tuned_from="base", model_digest=model_digest(folder))
    check_digest(m)
    (folder / "weights.bin").write_bytes(b"abd")
    with pytest.raises(IndexMismatchError, match="not the one the index was built with"):
        check_digest(m)
    with pytest.raises(IndexMismatchError, match="missing"):
        check_digest(manifest(model=str(tmp_path / "gone"), model_digest="d"))


@pytest.mark.slow
def test_tune_end_to_end_with_the_real_model(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    for name, text in made_up_articles().items():
        (folder / name).write_text(text)
    s = Settings.load(env={}, index_dir=tmp_path / "index", backend="torch", gate="off")
    p = Pipeline(s)
    p.build([folder])
    report, built = p.tune(epochs=1, batch_size=8, max_steps=3, held_out=0.1)
    assert report.steps == 3 and report.pairs > 0 and 0 <= report.before <= 1
    assert built.embedded == built.chunks  # every chunk embedded again with the tuned model

    again = Pipeline(Settings.load(env={}, index_dir=tmp_path / "index", backend="torch"))
    m = again.status()[1]
    assert (m.model, m.tuned_from, m.model_digest) == (report.model, s.index.model, report.digest)
    assert again.settings.index.model == report.model  # the configured base model follows the index
    assert again.search("Which town plants an orchard?")[0].article.title.endswith("orchard")

    with pytest.raises(IndexMismatchError, match="was built with model"):
        Pipeline(s.with_(model="fake")).search("orchard")
    weights = next(Path(report.model).glob("*.safetensors"))
    weights.write_bytes(weights.read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(IndexMismatchError, match="not the one"):
        Pipeline(s).search("orchard")

    p.rollback()  # back to the index embedded with the base model
    assert Pipeline(s).settings.index.model == s.index.model
