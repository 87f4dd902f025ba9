"""Rendering escapes untrusted article text and links citations to their cards."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import date
from pathlib import Path

import pytest

from rag.types import Answer, Article, Chunk, Citation, Hit, Manifest
from ui.index_view import articles_html, human_size, status_html
from ui.render import (
    answer_markdown,
    card,
    cards_html,
    chat_message,
    highlight,
    safe_url,
    user_message,
)
from ui.search_view import search_html
from ui.transcript import export_markdown

EVIL = '<script>alert(1)</script> <img src=x onerror=alert(1)> said "Bob".'


def _answer() -> Answer:
    text = "Intro line. " + EVIL + " Tail."
    a = Article(
        doc_id="d1",
        title="<b>Title</b>",
        text=text,
        published=date(2024, 1, 2),
        outlet="cnn.com",
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
    assert '<a href="#passage-1" class="cite">[1]</a><span class="pop" role="tooltip">' in md
    # the popover: the cited sentence, title, outlet and date, all escaped
    pop = md[md.index('<span class="pop"') :]
    assert "&lt;script&gt;" in pop and "&lt;b&gt;Title&lt;/b&gt;" in pop
    assert "cnn.com · 2024-01-02" in pop and 'class="pop-open"' in pop


def test_cards_escape_everything_and_mark_the_sentence() -> None:
    out = cards_html(_answer())
    assert "<script>" not in out and "<img" not in out and "<b>Title" not in out
    assert "&lt;b&gt;Title&lt;/b&gt;" in out
    assert 'id="passage-1"' in out and "cnn.com · 2024-01-02 · relevance 0.71" in out
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


# --- unsupported sentences, the chat message, search, index, examples, export -----------------


def _two_citations(supported_second: bool) -> Answer:
    a = _answer()
    h = a.hits[0]
    text = h.article.text
    c1 = Citation(1, h, 0, text.index(".") + 1)
    h2 = replace(h, rank=2)
    c2 = Citation(2, h2, c1.sentence_end + 1, len(text), supported_second)
    return Answer("q?", "Intro line. [1] The rest, said Bob. [2]", False, (c1, c2), (h, h2))


def test_unsupported_sentence_is_marked_in_the_answer_and_its_card() -> None:
    ans = _two_citations(supported_second=False)
    md = answer_markdown(ans)
    assert md.startswith('Intro line. <span class="cite-wrap"><a href="#passage-1" class="cite">')
    assert '<span class="unsupported" title="' in md and "⚠ The rest, said Bob." in md
    assert '<a href="#passage-2" class="cite unsupported">[2]</a>' in md
    assert md.count('class="pop-warn"') == 1  # the unsupported one's popover says so
    ok = answer_markdown(_two_citations(supported_second=True))
    assert "unsupported" not in ok and "⚠" not in ok


def test_unsupported_spans_of_an_llm_answer_are_marked() -> None:
    if "unsupported" not in {f.name for f in fields(Answer)}:
        pytest.skip("Answer has no `unsupported` spans in this version")
    ans = _two_citations(supported_second=True)
    start = ans.text.index("The rest")
    flagged = replace(ans, unsupported=((start, start + 20),))  # type: ignore[call-arg]
    md = answer_markdown(flagged)
    assert "⚠ The rest, said Bob." in md and "⚠ Intro" not in md


def test_several_markers_after_one_sentence() -> None:
    md = answer_markdown(Answer("q", "Both say so. [1] [2] Next. [3]", False))

    def cite(n: int) -> str:
        return f'<span class="cite-wrap"><a href="#passage-{n}" class="cite">[{n}]</a></span>'

    assert md == f"Both say so. {cite(1)} {cite(2)} Next. {cite(3)}"  # no citation: no popover


def test_chat_message_carries_its_turn_and_note() -> None:
    msg = chat_message(_answer(), 3)
    assert msg.endswith('<span class="turn turn-3"></span>')
    noted = chat_message(replace(_answer(), note="LLM <down>"), 0)
    assert 'class="note">LLM &lt;down&gt;' in noted
    lined = chat_message(_answer(), 1, '<span class="filters">All outlets</span>')
    assert lined.endswith(
        '<span class="filters">All outlets</span><span class="turn turn-1"></span>'
    )


def test_user_text_is_escaped_for_the_chat() -> None:
    assert user_message(EVIL).startswith("&lt;script&gt;")
    assert "<" not in user_message(EVIL)
    assert user_message("a*b*") == "a\\*b\\*"


def test_cards_carry_turn_question_and_weak_marks() -> None:
    out = cards_html(_two_citations(supported_second=False), turn=2)
    assert 'data-turn="2"' in out and "for: q?" in out
    assert out.count('class="warn"') == 1 and "card cited weak" in out


def test_blank_lines_between_paragraphs_are_cut_to_one() -> None:
    assert highlight("a\n\n\n\n b", []) == "a\n\nb"
    assert highlight("a\nb", [(0, 1)]) == '<mark class="support">a</mark>\nb'


def test_long_titles_are_clipped_with_the_whole_title_in_the_tooltip() -> None:
    a = _answer()
    long = replace(a.hits[0], article=replace(a.hits[0].article, title="W" * 300))
    out = card(long, [], False)
    assert "W" * 119 + "…" in out and 'title="' + "W" * 300 + '"' in out


def test_search_html_shows_the_separate_ranks_and_escapes() -> None:
    h = replace(_answer().hits[0], score=0.0328, dense_rank=1, keyword_rank=None)
    out = search_html("<q>", [h])
    assert "relevance 0.71 · by meaning #1 · by exact words –" in out and "fused" not in out
    assert 'id="result-1"' in out and "&lt;q&gt;" in out and "<script>" not in out
    assert "No passages match" in search_html("x", [])


def test_status_html() -> None:
    m = Manifest(1, "mini", 384, 800, 100, 12, 34, "2025-01-02T03:04:05+00:00", sources=("<a>",))
    out = status_html(Path("/ix/gen-1"), m, 3 * 1024 * 1024)
    assert '<tr id="status-articles"><th>Articles</th><td>12</td></tr>' in out
    assert "3.0 MB" in out and "2025-01-02 03:04:05 UTC" in out and "&lt;a&gt;" in out
    assert human_size(512) == "512 B" and human_size(1536) == "1.5 KB"


def test_articles_html_newest_first_escaped_and_capped() -> None:
    a = _answer().hits[0].article
    old = replace(a, doc_id="old", published=date(2020, 1, 1))
    out = articles_html([(old, 1), (a, 2)], limit=1)
    assert "&lt;b&gt;Title" in out and "<b>Title" not in out
    assert "<code>d1</code>" in out and "<code>old</code>" not in out and "and 1 more" in out


def test_export_markdown_escapes_and_lists_sources() -> None:
    md = export_markdown([_answer(), Answer("Banana?", "No.", True, (), _answer().hits)], "now")
    assert md.startswith("# Conversation with sources\n\nExported now.")
    assert "## 1. q?" in md and "## 2. Banana?" in md
    assert "<script>" not in md and "\\<script\\>" in md
    assert "javascript:" not in md
    assert "1. **\\<b\\>Title\\</b\\>**, cnn.com, 2024-01-02" in md
    assert "*The articles did not answer this question.*" in md and "Closest passages:" in md


def test_export_markdown_links_only_http() -> None:
    a = _answer()
    h = replace(a.hits[0], article=replace(a.hits[0].article, url="https://x.org/a b(1)"))
    md = export_markdown([replace(a, hits=(h,), citations=(replace(a.citations[0], hit=h),))])
    assert "<https://x.org/a%20b%281%29>" in md
