"""Sources at their limits: memory and size limits, and the smaller reading problems.

Gzip bombs and over-long JSONL lines (bounded memory), JSONL files over the size limit, very
long articles cut at `max_article_chars` with a note, future dates kept with a note, symlink
loops named as such, the JSON error wording, and how skips and notes are counted.
"""

from __future__ import annotations

import doctest
import gzip
import importlib
import json
import os
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

import pytest

from rag import Pipeline, Settings
from rag.errors import ConfigError
from rag.ingest import jsonl
from rag.ingest.records import content_hash
from rag.ingest.sources import read, tally
from rag.types import Article, Note, Skipped
from tests.conftest import FakeEmbedder

STORY = "The harbour ferry resumed service on Monday after the storm passed. "


def write_gzip(path: Path, pieces: int, piece: bytes) -> Path:
    """`pieces` copies of `piece`, streamed into gzip: small on disk and in memory."""
    with gzip.open(path, "wb", compresslevel=6) as f:
        for _ in range(pieces):
            f.write(piece)
    return path


def kinds(items: list[Article | Skipped]) -> list[str]:
    return [type(i).__name__ for i in items]


# ---------------------------------------------------------------- JSONL: lines and files


def test_gzip_bomb_of_one_line_is_skipped_in_bounded_memory(tmp_path: Path) -> None:
    path = write_gzip(tmp_path / "bomb.jsonl.gz", 100, b"a" * 2**20)  # 100 MB, no newline
    assert path.stat().st_size < 1_000_000
    tracemalloc.start()
    try:
        items = list(read([path]))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert items == [
        Skipped(
            f"{path}:1",
            "line 1: longer than 8 MB (the limit for one record, 8 bytes per character of "
            "max_article_chars)",
        )
    ]
    assert peak < 3 * jsonl.line_limit(1_000_000), peak  # one line's worth, not 100 MB


def test_over_long_line_is_skipped_and_the_next_ones_read(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    good = json.dumps({"text": STORY}).encode()
    long = json.dumps({"text": "word " * 400_000}).encode()  # 2 MB: over 1 MiB at 1,000 chars
    path.write_bytes(good + b"\n" + long + b"\n" + good.replace(b"Monday", b"Friday") + b"\n")
    items = list(read([path], max_chars=1000))
    assert kinds(items) == ["Article", "Skipped", "Article"]
    assert items[1].path == f"{path}:2" and items[1].reason.startswith("line 2: longer than 1 MB")
    assert items[2].path == f"{path}:3" and "Friday" in items[2].text


def test_line_at_the_limit_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonl, "MIN_LINE_BYTES", 100)
    record = json.dumps({"text": "x" * 80})  # 93 bytes
    path = tmp_path / "a.jsonl"
    path.write_text(record.ljust(8000) + "\n" + record)  # 8,000 bytes: the limit at 1,000 chars
    assert kinds(list(read([path], max_chars=1000))) == ["Article", "Article"]
    path.write_text(record.ljust(8001) + "\n" + record)
    assert kinds(list(read([path], max_chars=1000))) == ["Skipped", "Article"]


def test_gzip_decompressing_past_the_file_limit(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(jsonl, "MAX_BYTES", 20_000)
    line = json.dumps({"text": STORY * 3}).encode() + b"\n"  # ~220 bytes
    path = write_gzip(tmp_path / "many.jsonl.gz", 1000, line)
    items = list(read([path]))
    assert 50 < len(items) - 1 < 100 and all(isinstance(i, Article) for i in items[:-1])
    assert items[-1].path == str(path)
    assert items[-1].reason.startswith("decompresses to over 20,000 bytes; the records after")


def test_plain_jsonl_over_the_file_limit_is_skipped_whole(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(jsonl, "MAX_BYTES", 1000)
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(json.dumps({"text": f"{STORY} {i}"}) for i in range(30)))
    assert list(read([path])) == [Skipped(str(path), "file too large (over 1,000 bytes; split it)")]


def test_json_error_says_at_column_once(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"text": "a\tb"}\n')  # a raw tab inside a string
    (skip,) = read([path])
    assert skip == Skipped(
        f"{path}:1", "line 1: not valid JSON (Invalid control character at column 12)"
    )


# ---------------------------------------------------------------- very long articles


def test_long_text_file_is_cut_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    body = "".join(f"Sentence {i} of a long report. " for i in range(20_000))  # ~620 kB
    path.write_text("date 2024-02-03\n" + body)
    art, note = read([path], max_chars=5000)
    assert isinstance(art, Article) and art.text == body[:5000]
    assert art.published == date(2024, 2, 3)
    assert art.content_hash == content_hash(art.title, art.text, art.published, "", "")
    assert note == Note(
        str(path), "text longer than 5,000 characters (max_article_chars): only that much is kept"
    )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_cut_never_splits_a_character(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "wide.txt"
    body = "Zürich 🚋 ñandú " * 2000  # 1, 2 and 4 byte characters
    path.write_bytes(body.encode(encoding))
    art, note = read([path], max_chars=1000)
    assert isinstance(art, Article) and art.text == body.strip()[:1000]
    assert isinstance(note, Note)


def test_text_just_under_the_cap_has_no_note(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("date 2024-02-03\n" + "a" * 1000)
    (art,) = read([path], max_chars=1000)
    assert isinstance(art, Article) and len(art.text) == 1000


def test_long_jsonl_record_and_feed_entry_are_cut(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"text": STORY * 100, "url": "https://x.example/a"}) + "\n")
    art, note = read([path], max_chars=1000)
    assert isinstance(art, Article) and art.text == (STORY * 100)[:1000]
    assert art.content_hash == content_hash(art.title, art.text, None, "x.example", art.url)
    assert isinstance(note, Note) and note.path == f"{path}:1"
    feed = tmp_path / "f.rss"
    feed.write_text(
        "<rss version='2.0'><channel><title>T</title><item><title>Long</title>"
        f"<description>{STORY * 100}</description></item></channel></rss>"
    )
    art, note = read([feed], max_chars=1000)
    assert isinstance(art, Article) and len(art.text) == 1000
    assert isinstance(note, Note) and note.path == f"{feed}#1"


def test_max_article_chars_setting() -> None:
    assert Settings.load(env={}).index.max_article_chars == 1_000_000
    assert Settings.load(env={"RAG_MAX_ARTICLE_CHARS": "5000"}).index.max_article_chars == 5000
    with pytest.raises(ConfigError, match="max_article_chars"):
        Settings.load(env={}, max_article_chars=10)


# ---------------------------------------------------------------- dates, links, counts


def test_future_date_is_kept_with_a_note(tmp_path: Path) -> None:
    ahead = date.today() + timedelta(days=400)
    (tmp_path / "a.txt").write_text(f"date {ahead.isoformat()}\n{STORY}")
    (tmp_path / "b.jsonl").write_text(json.dumps({"text": STORY, "published": str(ahead)}))
    (tmp_path / "c.txt").write_text(f"date {date.today().isoformat()}\n{STORY}")  # today: fine
    items = list(read([tmp_path]))
    assert kinds(items) == ["Article", "Note", "Article", "Note", "Article"]
    assert items[0].published == ahead and items[2].published == ahead
    for note, where in ((items[1], tmp_path / "a.txt"), (items[3], f"{tmp_path / 'b.jsonl'}:1")):
        assert note.path == str(where)
        assert note.reason.startswith(f"published {ahead.isoformat()} is after today")
        assert "\n" not in note.reason


def test_symlink_loops_are_named(tmp_path: Path) -> None:
    (tmp_path / "a.txt").symlink_to(tmp_path / "b.txt")
    (tmp_path / "b.txt").symlink_to(tmp_path / "a.txt")
    (tmp_path / "self").symlink_to(tmp_path / "self")  # no extension: still a loop, not a type
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "story.txt").write_text(STORY)
    (tmp_path / "sub" / "up").symlink_to(tmp_path / "sub")  # a folder inside itself
    items = list(read([tmp_path]))
    reasons = {Path(i.path).name: i.reason for i in items if isinstance(i, Skipped)}
    assert reasons == {
        "a.txt": "symlink loop (the link leads back to itself)",
        "b.txt": "symlink loop (the link leads back to itself)",
        "self": "symlink loop (the link leads back to itself)",
        "up": "symlink loop (a link to a folder already read)",
    }
    assert [i.text for i in items if isinstance(i, Article)] == [STORY.strip()]


def test_tally_counts_files_records_and_notes_apart(tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    (tmp_path / "b.jsonl").write_text(
        "\n".join([json.dumps({"text": STORY}), "{broken", json.dumps({"title": "no text"})])
    )
    (tmp_path / "c.rss").write_text(
        "<rss version='2.0'><channel><item><title>Empty</title></item>"
        f"<item><description>{STORY}</description></item></channel></rss>"
    )
    ahead = date.today() + timedelta(days=30)
    (tmp_path / "d.txt").write_text(f"date {ahead.isoformat()}\n{STORY}")
    items = list(read([tmp_path]))
    skips = [i for i in items if isinstance(i, Skipped)]
    assert tally(skips) == "skipped 1 file and 3 records, 1 note"
    assert tally([]) == "skipped 0 files"


def test_build_report_carries_the_notes(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    ahead = date.today() + timedelta(days=30)
    (folder / "a.txt").write_text(f"date {ahead.isoformat()}\n{STORY}")
    (folder / "b.txt").write_text(STORY.replace("ferry", "bus"))
    p = Pipeline(Settings.load(env={}, index_dir=tmp_path / "index", model="fake"), FakeEmbedder())
    report = p.build([folder])
    assert report.articles == 2 and report.read == 2
    assert [type(s).__name__ for s in report.skipped] == ["Note"]
    assert tally(report.skipped) == "skipped 0 files, 1 note"


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_broken_symlink_is_still_missing(tmp_path: Path) -> None:
    (tmp_path / "gone.md").symlink_to(tmp_path / "never.md")
    assert list(read([tmp_path])) == [Skipped(str(tmp_path / "gone.md"), "no such file or folder")]


@pytest.mark.parametrize("name", ["rag.ingest.records", "rag.ingest.jsonl", "rag.ingest.sources"])
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
