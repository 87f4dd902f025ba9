"""Build, search and ask through the pipeline with the fake embedder."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from rag import Pipeline, Settings
from rag.errors import IndexLockedError, IndexMismatchError, IndexMissingError, InputError
from rag.index.vectors import current, locked, verify
from tests.conftest import FakeEmbedder, write_articles


def test_build_counts_and_manifest(fake_pipeline: Pipeline) -> None:
    gen, manifest, size = fake_pipeline.status()
    assert manifest.articles == 3 and manifest.chunks >= 3
    assert manifest.model == "fake" and manifest.dim == 64
    assert len(manifest.hashes) == 3 and size > 0
    assert verify(gen).chunks == manifest.chunks
    on_disk = json.loads((gen / "manifest.json").read_text())
    assert on_disk["format_version"] == 2 and on_disk["chunk_size"] == 800


def test_search_finds_the_right_article(fake_pipeline: Pipeline) -> None:
    hits = fake_pipeline.search("when did the rocket launch from Florida", k=3)
    assert hits[0].article.title.startswith("The rocket launched")
    assert [h.rank for h in hits] == [1, 2, 3]
    for h in hits:
        assert h.chunk.text == h.article.text[h.chunk.start : h.chunk.end]


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_every_mode_ranks_the_matching_article_first(fake_pipeline: Pipeline, mode: str) -> None:
    hits = fake_pipeline.search("council budget vote schools", mode=mode)
    assert hits[0].article.title == "City budget passes"


def test_ask_cites_supporting_sentence(fake_pipeline: Pipeline) -> None:
    answer = fake_pipeline.ask("How many hours can a cat sleep?")
    assert not answer.refused
    c = answer.citations[0]
    assert c.n == 1 and "[1]" in answer.text
    sentence = c.hit.article.text[c.sentence_start : c.sentence_end]
    assert sentence in answer.text
    assert c.hit.chunk.start <= c.sentence_start < c.sentence_end <= c.hit.chunk.end


def test_ask_refuses_when_nothing_matches(fake_pipeline: Pipeline) -> None:
    answer = fake_pipeline.ask("xylophone zebra")
    assert answer.refused and not answer.citations
    assert "don't answer" in answer.text
    assert answer.hits  # the closest passages are still listed


@pytest.mark.parametrize("question", ["", "   \n\t", "x" * 5000])
def test_bad_questions_get_clear_errors(fake_pipeline: Pipeline, question: str) -> None:
    with pytest.raises(InputError, match="question"):
        fake_pipeline.ask(question)


def test_date_and_outlet_filters(fake_pipeline: Pipeline) -> None:
    hits = fake_pipeline.search("rocket launch", as_of=date(2024, 4, 1))
    assert all(h.article.published is None or h.article.published <= date(2024, 4, 1) for h in hits)
    assert not any("rocket" in h.article.title for h in hits)
    assert fake_pipeline.search("rocket", date_from=date(2030, 1, 1), mode="dense") == []
    assert fake_pipeline.search("rocket", outlets=("nowhere.example",)) == []


def test_rebuild_reuses_unchanged_vectors(tmp_path: Path, corpus: Path) -> None:
    emb = FakeEmbedder()
    p = Pipeline(Settings.load(env={}, index_dir=tmp_path / "ix", model="fake"), emb)
    first = p.build([corpus])
    assert first.embedded == first.chunks and first.reused == 0
    (corpus / "cats.txt").write_text("date 2024-03-02\nDogs bark at night. Neighbours complain.")
    second = p.build([corpus])
    assert second.reused == first.chunks - 1 and second.embedded == 1
    assert p.search("dogs bark")[0].article.text.startswith("Dogs bark")


def test_duplicates_and_bad_files_do_not_stop_a_build(tmp_path: Path) -> None:
    folder = write_articles(tmp_path / "a")
    (folder / "copy.txt").write_text((folder / "cats.txt").read_text().upper())
    (folder / "empty.txt").write_text("")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02garbage")
    skipped = []
    p = Pipeline(Settings.load(env={}, index_dir=tmp_path / "ix", model="fake"), FakeEmbedder())
    report = p.build([folder], on_skip=skipped.append)
    assert report.articles == 3 and report.duplicates == 1
    assert {Path(s.path).name for s in report.skipped} == {"empty.txt", "binary.txt"}
    assert skipped == list(report.skipped)


def test_failed_build_keeps_the_old_index(fake_pipeline: Pipeline, tmp_path: Path) -> None:
    before = fake_pipeline.status()[0]
    (tmp_path / "nothing").mkdir()
    with pytest.raises(InputError, match="no readable articles"):
        fake_pipeline.build([tmp_path / "nothing"])
    assert fake_pipeline.status()[0] == before
    assert fake_pipeline.search("cats")


def test_missing_index_says_what_to_run(tmp_path: Path) -> None:
    p = Pipeline(Settings.load(env={}, index_dir=tmp_path / "none", model="fake"), FakeEmbedder())
    with pytest.raises(IndexMissingError, match="rag index build"):
        p.ask("anything")


def test_other_model_is_refused(fake_pipeline: Pipeline) -> None:
    other = Pipeline(fake_pipeline.settings.with_(model="other-model"), FakeEmbedder())
    with pytest.raises(IndexMismatchError, match="rebuild"):
        other.search("cats")


def test_serving_pipeline_picks_up_a_new_generation(
    fake_pipeline: Pipeline, tmp_path: Path
) -> None:
    first = fake_pipeline.load().name
    builder = Pipeline(fake_pipeline.settings, FakeEmbedder())
    folder = write_articles(tmp_path / "more", {"owls.txt": "Owls hunt at night in the forest."})
    builder.build([folder])
    assert fake_pipeline.search("owls hunt")[0].article.text.startswith("Owls")
    assert fake_pipeline.load().name != first
    assert current(fake_pipeline.settings.index.index_dir).name == fake_pipeline.load().name


def test_second_build_at_once_fails_clearly(fake_pipeline: Pipeline, corpus: Path) -> None:
    with locked(fake_pipeline.settings.index.index_dir):
        with pytest.raises(IndexLockedError, match="wait"):
            fake_pipeline.build([corpus])


def test_stale_detects_changed_sources(fake_pipeline: Pipeline, corpus: Path) -> None:
    assert not fake_pipeline.stale([corpus])
    (corpus / "new.txt").write_text("Brand new article about gardens and tomatoes.")
    assert fake_pipeline.stale([corpus])


def test_update_counts_and_remove_stays_removed(fake_pipeline: Pipeline, corpus: Path) -> None:
    (corpus / "cats.txt").write_text("date 2024-03-02\nCats now sleep less, owners report.")
    (corpus / "budget.md").unlink()
    (corpus / "owls.txt").write_text("Owls hunt at night in the forest.")
    r = fake_pipeline.update()
    assert (r.added, r.changed, r.removed, r.unchanged) == (1, 1, 1, 1)
    owl = next(a for a, _ in fake_pipeline.articles() if a.text.startswith("Owls"))
    gone = fake_pipeline.remove([owl.doc_id])
    assert gone.removed == 1 and gone.articles == 2
    again = fake_pipeline.update()
    assert again.articles == 2 and owl.doc_id not in {a.doc_id for a, _ in fake_pipeline.articles()}
    with pytest.raises(InputError, match="no article"):
        fake_pipeline.remove(["no-such-id"])
    assert fake_pipeline.verify().startswith("ok:")


def test_time_expression_narrows_the_dates_when_asked(fake_pipeline: Pipeline) -> None:
    # cats.txt is from 2024-03-01, rockets.txt from 2024-05-10
    hits = fake_pipeline.search(
        "what happened in March", time_window="filter", as_of=date(2024, 6, 1), mode="dense"
    )
    assert hits and all(h.article.published == date(2024, 3, 1) for h in hits)


def test_recency_prior_prefers_newer_articles(fake_pipeline: Pipeline) -> None:
    q = "cats rocket"  # matches both articles about equally
    old = fake_pipeline.search(q, recency_weight=0.0, mode="bm25", per_article=1)
    new = fake_pipeline.search(
        q, recency_weight=1.0, recency_days=1, mode="bm25", per_article=1, as_of=date(2024, 5, 11)
    )
    assert new[0].article.published == date(2024, 5, 10)
    assert {h.article.doc_id for h in old} >= {h.article.doc_id for h in new[:2]}


def test_updates_give_the_same_results_as_a_fresh_build(
    fake_pipeline: Pipeline, corpus: Path, tmp_path: Path
) -> None:
    (corpus / "owls.txt").write_text("date 2024-06-01\nOwls hunt at night in the forest.")
    fake_pipeline.update()
    (corpus / "cats.txt").write_text("date 2024-03-02\nCats now sleep less, owners report.")
    fake_pipeline.update()
    (corpus / "budget.md").unlink()
    fake_pipeline.update()
    fresh = Pipeline(fake_pipeline.settings.with_(index_dir=tmp_path / "fresh"), FakeEmbedder())
    fresh.build([corpus])
    for q in ["owls hunt", "cats sleep", "rocket launch", "council budget"]:
        a, b = fake_pipeline.search(q, k=5), fresh.search(q, k=5)
        assert [(h.article.doc_id, h.chunk.start) for h in a] == [
            (h.article.doc_id, h.chunk.start) for h in b
        ]
        assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-6)
