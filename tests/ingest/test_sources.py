"""Tests for rag.ingest.sources: every format, every kind of bad input, and the real data."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from rag.ingest import records, sources
from rag.ingest.sources import content_hash, parse_date, read
from rag.types import Article, Skipped

MAIN = Path(__file__).resolve().parents[2]
EVAL = Path(__file__).resolve().parents[3] / "shared" / "eval"
SEED = MAIN / "seeds" / "000_55bc94bc3d2eb8b0.txt"

STORY = (
    "The city council approved the new budget on Monday by a vote of seven to two. "
    "The plan raises spending on schools and roads.\n\nCritics said it was too costly."
)


def articles(items: list[Article | Skipped]) -> list[Article]:
    return [item for item in items if isinstance(item, Article)]


def skipped(items: list[Article | Skipped]) -> list[Skipped]:
    return [item for item in items if isinstance(item, Skipped)]


def only_article(path: Path) -> Article:
    items = list(read([path]))
    assert len(items) == 1 and isinstance(items[0], Article), items
    return items[0]


def only_skip(path: Path | str) -> Skipped:
    items = list(read([path]))
    assert len(items) == 1 and isinstance(items[0], Skipped), items
    return items[0]


def write_jsonl(path: Path, lines: list[str], zipped: bool = False) -> Path:
    data = "".join(line + "\n" for line in lines).encode()
    path.write_bytes(gzip.compress(data) if zipped else data)
    return path


# ---------------------------------------------------------------- plain text


def test_seed_file() -> None:
    art = only_article(SEED)
    assert art.published == date(2025, 8, 19)
    assert art.title.startswith("NATO Secretary General Mark Rutte stated")
    assert len(art.title) <= records.TITLE_CHARS + 1
    assert not art.text.startswith("date") and art.text.startswith("NATO Secretary General")
    assert art.text == art.text.strip()
    assert art.outlet == "UNN" and art.url == ""
    assert art.path == str(SEED)
    assert art.doc_id.startswith("f") and len(art.doc_id) == 17
    assert art.content_hash == content_hash(art.title, art.text, art.published, "UNN", "")


@pytest.mark.parametrize(
    ("head", "outlet", "day"),
    [
        ("outlet: Harbour Post\ndate 2021-05-01\n", "Harbour Post", date(2021, 5, 1)),
        ("date 2021-05-01\nOutlet:  Harbour Post  \n", "Harbour Post", date(2021, 5, 1)),
        ("Outlet malls close early\n", "", None),  # no colon: the first line is text
        ("outlet:\n", "", None),  # names nothing: text
    ],
)
def test_a_text_file_may_name_its_outlet(
    tmp_path: Path, head: str, outlet: str, day: date | None
) -> None:
    path = tmp_path / "pier.txt"
    path.write_text(head + "The Tamsby pier reopened on Thursday.\n")
    art = only_article(path)
    assert art.outlet == outlet
    assert art.text.endswith("The Tamsby pier reopened on Thursday.")
    assert art.text.startswith("The Tamsby") == bool(outlet)
    if day:
        assert art.published == day


def test_text_date_line_and_first_sentence_title(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("  date 2024-02-29\r\n\r\n" + STORY.replace("\n", "\r\n") + "\r\n")
    art = only_article(path)
    assert art.published == date(2024, 2, 29)
    assert (
        art.title == "The city council approved the new budget on Monday by a vote of seven to two."
    )
    assert art.text == STORY  # CRLF normalised, date line and outer whitespace gone


def test_markdown_heading_is_the_title(tmp_path: Path) -> None:
    path = tmp_path / "a.MD"
    path.write_text("Filed from Paris.\n\n## Port strike ends, C# devs rejoice ##\n\n" + STORY)
    art = only_article(path)
    assert art.title == "Port strike ends, C# devs rejoice"
    assert art.text.startswith("Filed from Paris.")  # text is kept whole; offsets point into it


def test_title_sentence_skips_abbreviations_and_is_clipped(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("U.S. officials met Mr. Lee in Geneva. Talks went on.")
    (tmp_path / "b.txt").write_text("word " * 100)
    a, b = articles(list(read([tmp_path])))
    assert a.title == "U.S. officials met Mr. Lee in Geneva."
    assert len(b.title) <= records.TITLE_CHARS + 1 and b.title.endswith("…")


def test_text_without_date_uses_file_mtime(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Date palms grow in the desert. They need little water.")
    when = datetime(2021, 5, 4, 12, 0).timestamp()
    os.utime(path, (when, when))
    art = only_article(path)
    assert art.published == date(2021, 5, 4)
    assert art.text.startswith("Date palms")  # not a date line: kept


def test_utf8_bom_and_utf16_text(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"\xef\xbb\xbfdate 2024-01-02\nCaf\xc3\xa9 opens.")
    (tmp_path / "b.txt").write_bytes("date 2024-01-03\nZürich votes.".encode("utf-16"))
    a, b = articles(list(read([tmp_path])))
    assert (a.published, a.text) == (date(2024, 1, 2), "Café opens.")
    assert (b.published, b.text) == (date(2024, 1, 3), "Zürich votes.")


# ---------------------------------------------------------------- folders and doc ids


def test_folder_walk_is_sorted_recursive_and_skips_hidden(tmp_path: Path) -> None:
    for rel in ["b.txt", "a/z.txt", "a/c.md", ".hidden.txt", ".git/x.txt", "a/.cache/y.txt"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(f"Story {rel}.")
    paths = [item.path for item in read([tmp_path])]
    assert paths == [str(tmp_path / rel) for rel in ["a/c.md", "a/z.txt", "b.txt"]]


def test_doc_ids_are_stable_when_the_folder_moves(tmp_path: Path) -> None:
    old = tmp_path / "old"
    (old / "sub").mkdir(parents=True)
    (old / "one.txt").write_text("One story.")
    (old / "sub" / "one.txt").write_text("One story.")
    write_jsonl(old / "feed.jsonl", [json.dumps({"text": "A."}), json.dumps({"text": "B."})])
    before = [a.doc_id for a in articles(list(read([old])))]
    new = tmp_path / "elsewhere" / "new"
    new.parent.mkdir()
    shutil.move(old, new)
    after = [a.doc_id for a in articles(list(read([str(new)])))]
    assert before == after and len(set(before)) == 4
    assert only_article(new / "one.txt").doc_id == before[2]  # a file given directly: its name


def test_bare_string_path_is_one_path(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("One story.")
    assert len(articles(list(read(str(tmp_path))))) == 1


def test_bad_files_never_stop_the_rest(tmp_path: Path) -> None:
    (tmp_path / "1.txt").write_text("First story.")
    (tmp_path / "2.txt").write_bytes(b"\x00\x01\x02")
    (tmp_path / "3.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "4.txt").write_text("Last story.")
    items = list(read([tmp_path / "missing", tmp_path]))
    assert [type(i).__name__ for i in items] == [
        "Skipped",
        "Article",
        "Skipped",
        "Skipped",
        "Article",
    ]


# ---------------------------------------------------------------- bad input, one reason each


@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"  \n\t\n", "only whitespace, no text"),
        ("binary.txt", b"GIF89a\x00\x01\x02", "binary file, not text"),
        ("latin1.txt", b"Caf\xe9 opens.", "not valid UTF-8 (byte 0xe9 at offset 3)"),
        ("only-date.txt", b"date 2024-01-01\n\n", "no text after the date line"),
        ("report.PDF", b"%PDF-1.4", "unsupported file type .pdf (use .txt, .md, .html"),
        ("Makefile", b"all:", "unsupported file type (no extension)"),
        ("menu.html", b"<html><body><nav><a href='/'>Home</a></nav></body></html>", "no article"),
        ("blob.html", b"<html>\x00\x00</html>", "binary file, not text"),
        ("note.xml", b"<note><to>Tove</to><body>Hi</body></note>", "no feed entries found"),
        ("bad.rss", b"\x89PNG not xml at all", "not a parseable feed ("),
        ("empty.jsonl", b"", "empty file"),
        ("blank.jsonl", b"\n  \n", "only whitespace, no records"),
        ("binary.jsonl", b'{"text": "x"}\n\x00\x00\x00', "binary file, not text"),
        ("plain.jsonl.gz", b'{"text": "x"}\n', "not a gzip file"),
        ("empty.jsonl.gz", gzip.compress(b""), "empty file"),
    ],
)
def test_bad_file(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    skip = only_skip(path)
    assert skip.path == str(path)
    assert skip.reason.startswith(reason), skip.reason
    assert "\n" not in skip.reason


def test_missing_path(tmp_path: Path) -> None:
    assert only_skip(tmp_path / "nope") == Skipped(str(tmp_path / "nope"), "no such file or folder")
    # the name as it may be shown: the control character escaped (rag/names.py)
    assert only_skip("bad\0name") == Skipped("bad\\x00name", "no such file or folder")


def test_file_too_large(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with open(path, "wb") as f:  # sparse: takes no disk space
        f.truncate(sources.MAX_FILE_BYTES + 1)
    assert only_skip(path).reason == "file too large (200 MB; the limit is 200 MB)"


def test_broken_symlink(tmp_path: Path) -> None:
    (tmp_path / "gone.txt").symlink_to(tmp_path / "never-there.txt")
    assert only_skip(tmp_path).reason == "no such file or folder"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file_and_folder(tmp_path: Path) -> None:
    (tmp_path / "locked").mkdir()
    (tmp_path / "secret.txt").write_text("Hidden story.")
    (tmp_path / "ok.txt").write_text("Open story.")
    (tmp_path / "locked").chmod(0)
    (tmp_path / "secret.txt").chmod(0)
    try:
        items = list(read([tmp_path]))
    finally:
        (tmp_path / "locked").chmod(0o700)
        (tmp_path / "secret.txt").chmod(0o600)
    assert [i.reason for i in skipped(items)] == [
        "cannot open folder (permission denied)",
        "permission denied",
    ]
    assert len(articles(items)) == 1


def test_permission_errors_are_skips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same as above, simulated, so that it also runs as root."""
    (tmp_path / "locked").mkdir()
    (tmp_path / "secret.txt").write_text("Hidden story.")
    (tmp_path / "ok.txt").write_text("Open story.")
    real_scandir = os.scandir

    def scandir(path: Path) -> object:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    def fake_open(path: Path, *args: Any, **kwargs: Any) -> Any:
        if Path(path).name == "secret.txt":
            raise PermissionError(13, "Permission denied")
        return open(path, *args, **kwargs)

    monkeypatch.setattr(sources.os, "scandir", scandir)
    monkeypatch.setattr(sources, "open", fake_open, raising=False)  # the text loader's open
    items = list(read([tmp_path]))
    assert skipped(items) == [
        Skipped(str(tmp_path / "locked"), "cannot open folder (permission denied)"),
        Skipped(str(tmp_path / "secret.txt"), "permission denied"),
    ]
    assert [a.text for a in articles(items)] == ["Open story."]


def test_a_parser_crash_becomes_a_skip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import trafilatura

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("lxml fell over\nwith details")

    monkeypatch.setattr(trafilatura, "bare_extraction", boom)
    (tmp_path / "a.html").write_text("<html><body><p>x</p></body></html>")
    (tmp_path / "b.txt").write_text("Still read.")
    items = list(read([tmp_path]))
    assert items[0] == Skipped(
        str(tmp_path / "a.html"), "could not read (RuntimeError: lxml fell over with details)"
    )
    assert isinstance(items[1], Article)


# ---------------------------------------------------------------- JSONL


def test_jsonl_fields(tmp_path: Path) -> None:
    rec = {
        "doc_id": 42,
        "url": "https://www.example.com/a",
        "title": "Budget passes",
        "published": "2024-03-05T10:00:00-05:00",
        "source": "Example News",
        "author": "Jane Doe",
        "text": "  The council approved the budget.  ",
        "week": 3,
    }
    path = write_jsonl(tmp_path / "a.jsonl", [json.dumps(rec)])
    art = only_article(path)
    assert art == Article(
        doc_id="42",
        title="Budget passes",
        text="  The council approved the budget.  ",  # records' text is kept exactly
        published=date(2024, 3, 5),
        outlet="Example News",
        url="https://www.example.com/a",
        path=f"{path}:1",
        author="Jane Doe",
        content_hash=art.content_hash,
    )
    assert len(art.content_hash) == 64


def test_jsonl_derived_ids_titles_and_sources(tmp_path: Path) -> None:
    lines = [
        json.dumps(
            {"text": "First. Second.", "url": "https://www.cnn.com/x", "date": "June 2, 2023"}
        ),
        "",
        json.dumps({"text": "No url here. At all."}),
    ]
    path = write_jsonl(tmp_path / "a.ndjson", lines)
    a, b = read([path])
    assert isinstance(a, Article) and isinstance(b, Article)
    assert a.doc_id == records.make_id("u", "https://www.cnn.com/x")
    assert (a.title, a.outlet, a.published) == ("First.", "cnn.com", date(2023, 6, 2))
    assert b.doc_id == records.make_id("f", "a.ndjson#3") and b.path == f"{path}:3"
    assert (b.title, b.outlet, b.published) == ("No url here.", "", None)


def test_jsonl_bad_lines_are_skipped_and_the_rest_load(tmp_path: Path) -> None:
    lines = [
        json.dumps({"text": "Good one."}),
        '{"text": "broken" "title": 1}',
        json.dumps({"title": "No text"}),
        json.dumps({"text": "   "}),
        json.dumps(["a", "list"]),
        json.dumps({"text": "Good two."}),
    ]
    path = write_jsonl(tmp_path / "a.jsonl", lines)
    items = list(read([path]))
    assert [a.text for a in articles(items)] == ["Good one.", "Good two."]
    assert skipped(items) == [
        Skipped(f"{path}:2", "line 2: not valid JSON (Expecting ',' delimiter at column 19)"),
        Skipped(f"{path}:3", "line 3: no text"),
        Skipped(f"{path}:4", "line 4: no text"),
        Skipped(f"{path}:5", "line 5: not a JSON object"),
    ]


def test_jsonl_invalid_utf8_line(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"text": "ok"}\n{"text": "caf\xe9"}\n')
    items = list(read([path]))
    assert len(articles(items)) == 1
    assert skipped(items) == [Skipped(f"{path}:2", "line 2: not valid UTF-8")]


def test_truncated_gzip_keeps_the_records_before_the_damage(tmp_path: Path) -> None:
    lines = [json.dumps({"text": f"Story number {i}. " * 20}) for i in range(200)]
    path = write_jsonl(tmp_path / "a.jsonl.gz", lines, zipped=True)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    items = list(read([path]))
    assert 0 < len(articles(items)) < 200
    assert items[-1] == Skipped(str(path), "truncated gzip")
    assert len(skipped(items)) == 1


def test_damaged_gzip(tmp_path: Path) -> None:
    lines = [json.dumps({"text": f"Story number {i}."}) for i in range(50)]
    path = write_jsonl(tmp_path / "a.jsonl.gz", lines, zipped=True)
    data = bytearray(path.read_bytes())
    data[-6] ^= 0xFF  # the CRC in the gzip trailer
    path.write_bytes(bytes(data))
    items = list(read([path]))
    assert len(articles(items)) == 50
    assert items[-1].path == str(path) and isinstance(items[-1], Skipped)
    assert items[-1].reason.startswith("damaged gzip (CRC check failed")


def test_gzipped_jsonl_is_read_whatever_its_name(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.JSONL", [json.dumps({"text": "Zipped."})], zipped=True)
    assert only_article(path).text == "Zipped."


# ---------------------------------------------------------------- HTML

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Port strike ends after three days | Harbour Times</title>
  <meta property="og:title" content="Port strike ends after three days">
  <meta property="og:site_name" content="Harbour Times">
  <meta name="author" content="Jane Doe">
  <meta property="article:published_time" content="2024-03-05T09:30:00+00:00">
  <link rel="canonical" href="https://www.harbourtimes.example/2024/03/05/port-strike-ends">
  <script>window.ads = {slot: "top"};</script>
</head>
<body>
  <header><nav><a href="/">Home</a> | <a href="/world">World</a> | <a href="/sport">Sport</a></nav>
  </header>
  <main><article>
    <h1>Port strike ends after three days</h1>
    <p class="byline">By Jane Doe, March 5, 2024</p>
    <p>Dock workers at the city's main container port returned to work on Tuesday after a
    three-day strike over pay ended with a new agreement between the union and the port.</p>
    <p>The deal raises wages by 6 percent this year and a further 4 percent next year, union
    spokesperson Maria Lopez said, adding that members had voted to accept it.</p>
    <p>Shipping companies had diverted more than forty vessels to neighbouring ports during the
    stoppage; the port authority expects the backlog to clear by the end of the week.</p>
  </article></main>
  <aside><h2>Most read</h2><ul><li><a href="/a">Weather warning issued</a></li></ul></aside>
  <footer><p>© 2024 Harbour Times. All rights reserved.</p></footer>
</body>
</html>
"""


def test_html_page(tmp_path: Path) -> None:
    path = tmp_path / "page.HTM"
    path.write_text(PAGE)
    art = only_article(path)
    url = "https://www.harbourtimes.example/2024/03/05/port-strike-ends"
    assert art.title == "Port strike ends after three days"
    assert (art.author, art.published, art.url) == ("Jane Doe", date(2024, 3, 5), url)
    assert art.outlet == "harbourtimes.example"
    assert art.doc_id == records.make_id("u", url)
    assert "forty vessels" in art.text and "6 percent" in art.text
    assert "Most read" not in art.text and "All rights reserved" not in art.text
    assert "window.ads" not in art.text and "Home" not in art.text


# ---------------------------------------------------------------- feeds

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel>
  <title>Harbour Times</title>
  <link>https://www.harbourtimes.example/</link>
  <item>
    <title>Port strike ends</title>
    <link>https://www.harbourtimes.example/port-strike-ends</link>
    <pubDate>Tue, 05 Mar 2024 23:30:00 -0500</pubDate>
    <author>jane@harbourtimes.example (Jane Doe)</author>
    <description>Short teaser.</description>
    <content:encoded><![CDATA[<p>Dock workers returned to work on <b>Tuesday</b>.</p>
      <p>The deal raises wages by 6&nbsp;percent &amp; more.<br>Next line.</p>
      <script>alert(1)</script>]]></content:encoded>
  </item>
  <item>
    <title>Ferry timetable changes</title>
    <guid isPermaLink="false">ferry-2024</guid>
    <pubDate>Wed, 06 Mar 2024 08:00:00 GMT</pubDate>
    <description>&lt;p&gt;The summer timetable starts in May.&lt;/p&gt;</description>
  </item>
</channel>
</rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Valley Courier</title>
  <link href="https://news.valley.example/"/>
  <updated>2024-04-02T12:00:00Z</updated>
  <id>urn:uuid:60a76c80-d399-11d9-b93c-0003939e0af6</id>
  <entry>
    <title type="html">Bridge &lt;em&gt;reopens&lt;/em&gt;</title>
    <link href="https://news.valley.example/bridge"/>
    <id>urn:uuid:1</id>
    <updated>2024-04-01T18:30:00Z</updated>
    <author><name>Sam Roe</name><email>sam@valley.example</email></author>
    <content type="html">&lt;p&gt;The bridge reopened after repairs.&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>Library extends hours</title>
    <link href="https://news.valley.example/library"/>
    <id>urn:uuid:2</id>
    <published>2024-04-02T09:00:00+02:00</published>
    <updated>2024-04-03T09:00:00Z</updated>
    <summary>The library now opens on Sundays.</summary>
  </entry>
</feed>
"""


def test_rss_feed(tmp_path: Path) -> None:
    path = tmp_path / "harbour.rss"
    path.write_text(RSS)
    a, b = read([path])
    assert isinstance(a, Article) and isinstance(b, Article)
    assert a.title == "Port strike ends"
    assert a.url == "https://www.harbourtimes.example/port-strike-ends"
    assert a.published == date(2024, 3, 5)  # the publisher's date, not UTC's
    assert a.text == (
        "Dock workers returned to work on Tuesday.\n\n"
        "The deal raises wages by 6 percent & more.\nNext line."
    )
    assert (a.outlet, a.author, a.path) == (
        "harbourtimes.example",
        "Jane Doe",
        f"{path}#1",
    )
    assert b.text == "The summer timetable starts in May."
    assert (b.url, b.published, b.outlet) == ("", date(2024, 3, 6), "harbourtimes.example")
    assert b.doc_id == records.make_id("f", "harbour.rss#ferry-2024")


def test_atom_feed(tmp_path: Path) -> None:
    path = tmp_path / "valley.atom"
    path.write_text(ATOM)
    a, b = read([path])
    assert isinstance(a, Article) and isinstance(b, Article)
    assert (a.title, a.text, a.author) == (
        "Bridge reopens",
        "The bridge reopened after repairs.",
        "Sam Roe",
    )
    assert (a.published, a.outlet) == (date(2024, 4, 1), "news.valley.example")
    assert a.doc_id == records.make_id("u", "https://news.valley.example/bridge")
    assert (b.title, b.text, b.published) == (
        "Library extends hours",
        "The library now opens on Sundays.",
        date(2024, 4, 2),
    )


def test_feed_entry_without_text_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "f.xml"
    path.write_text(
        RSS.replace(
            "<description>&lt;p&gt;The summer timetable starts in May.&lt;/p&gt;</description>", ""
        )
    )
    items = list(read([path]))
    assert len(articles(items)) == 1
    assert skipped(items) == [Skipped(f"{path}#2", "entry 2: no text")]


# ---------------------------------------------------------------- dates and hashes


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2025-08-19", date(2025, 8, 19)),
        ("2022-06-12T23:59:00-04:00", date(2022, 6, 12)),
        ("Tue, 10 Jun 2003 04:00:00 GMT", date(2003, 6, 10)),
        ("June 12, 2022", date(2022, 6, 12)),
        ("12 juin 2022", date(2022, 6, 12)),
        (date(2020, 1, 1), date(2020, 1, 1)),
        (datetime(2020, 1, 1, 5), date(2020, 1, 1)),
        ("2025-13-45", None),
        ("not a date at all", None),
        ("yesterday", None),
        ("", None),
        (None, None),
        (20220612, None),
    ],
)
def test_parse_date(value: object, expected: date | None) -> None:
    assert parse_date(value) == expected


def test_content_hash_changes_with_every_field() -> None:
    base = ("T", "text", date(2024, 1, 1), "cnn.com", "https://x")
    variants = [
        ("T2", "text", date(2024, 1, 1), "cnn.com", "https://x"),
        ("T", "text!", date(2024, 1, 1), "cnn.com", "https://x"),
        ("T", "text", None, "cnn.com", "https://x"),
        ("T", "text", date(2024, 1, 1), "bbc.com", "https://x"),
        ("T", "text", date(2024, 1, 1), "cnn.com", ""),
        ("Tt", "ext", date(2024, 1, 1), "cnn.com", "https://x"),  # no ambiguity at the seams
    ]
    hashes = {content_hash(*v) for v in [base, *variants]}
    assert len(hashes) == len(variants) + 1
    assert content_hash(*base) == content_hash(*base)
    assert len(content_hash(*base)) == 64


# ---------------------------------------------------------------- the real data


def test_news_corpus() -> None:
    path = EVAL / "news" / "corpus.jsonl.gz"
    if not path.exists():
        pytest.skip(f"../shared/eval absent: {path} not found")
    items = list(read([path]))
    got = articles(items)
    assert not skipped(items) and len(got) == 3748
    with gzip.open(path, "rt", encoding="utf-8") as f:
        records = [json.loads(line) for line in f]
    assert [a.doc_id for a in got] == [r["doc_id"] for r in records]
    first, rec = got[0], records[0]
    assert (first.title, first.url, first.outlet) == (rec["title"], rec["url"], rec["source"])
    assert first.text == rec["text"] and first.published == date.fromisoformat(rec["published"])
    assert all(a.published and a.content_hash for a in got)


def test_squad_paragraphs() -> None:
    path = EVAL / "squad2" / "paragraphs.jsonl.gz"
    if not path.exists():
        pytest.skip(f"../shared/eval absent: {path} not found")
    got = list(read([path]))
    assert got and all(isinstance(a, Article) and a.doc_id and a.title for a in got)
