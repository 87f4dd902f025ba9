"""Rendering escapes untrusted article text and links citations to their cards."""

from __future__ import annotations

from datetime import date

from rag.types import Answer, Article, Chunk, Citation, Hit
from ui.render import answer_markdown, cards_html, safe_url

EVIL = '<script>alert(1)</script> <img src=x onerror=alert(1)> said "Bob".'


def _answer() -> Answer:
    text = "Intro line. " + EVIL + " Tail."
    a = Article(
        doc_id="d1",
        title="<b>Title</b>",
        text=text,
        published=date(2024, 1, 2),
        source="cnn.com",
        url="javascript:alert(1)",
    )
    h = Hit(Chunk(0, "d1", 0, len(text), text), a, score=0.5, rank=1, similarity=0.71)
    s = text.index("<script>")
    c = Citation(1, h, s, s + len(EVIL))
    return Answer("q?", EVIL + " [1]", False, (c,), (h,))


def test_answer_markdown_escapes_and_links() -> None:
    md = answer_markdown(_answer())
    assert "<script>" not in md and "<img" not in md
    assert "&lt;script&gt;" in md
    assert md.endswith('<a href="#passage-1" class="cite">[1]</a>')


def test_cards_escape_everything_and_mark_the_sentence() -> None:
    out = cards_html(_answer())
    assert "<script>" not in out and "<img" not in out and "<b>Title" not in out
    assert "&lt;b&gt;Title&lt;/b&gt;" in out
    assert 'id="passage-1"' in out and "cnn.com · 2024-01-02 · score 0.71" in out
    assert '<mark class="support">&lt;script&gt;alert(1)&lt;/script&gt;' in out
    assert "javascript:" not in out  # non-http links are dropped
    assert "Open article" in out


def test_refusal_cards_say_they_do_not_answer() -> None:
    a = _answer()
    refused = Answer("q", "no", True, (), a.hits)
    assert "do not answer" in cards_html(refused)


def test_safe_url() -> None:
    assert safe_url("https://x.org/a") == "https://x.org/a"
    assert safe_url("data:text/html,hi") == "" and safe_url("/local") == ""
