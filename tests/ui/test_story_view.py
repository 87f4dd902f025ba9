"""The story view and the disagreement in the chat, without a browser: pure HTML from made-up
stories and answers, hostile text escaped; the app's story handler over a fake-embedder index."""

from __future__ import annotations

import doctest
from datetime import date
from pathlib import Path

import ui.story
from rag.index.stories import Entry, Story
from rag.types import Answer, Article, Chunk, Disagreement, Hit, Side, StoryRef
from tests.index.test_stories import STORY, build
from ui.render import cards_html, chat_message
from ui.story import show_story, story_html, story_link, with_script

EVIL = "<script>alert(1)</script><img src=x onerror=alert(1)>"


def test_docstring_examples() -> None:
    assert doctest.testmod(ui.story, optionflags=doctest.ELLIPSIS).failed == 0


def story() -> Story:
    return Story(
        "s0123456789",
        (
            Entry("a", date(2024, 6, 10), "north.example", f"First {EVIL}", "javascript:x()", EVIL),
            Entry("b", date(2024, 6, 12), f"s{EVIL}", "Latest report", "https://s.example/b", "K."),
        ),
    )  # fmt: skip


def test_story_html_is_escaped_newest_first_with_counts() -> None:
    html = story_html(story(), turn=2)
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html and 'href="https://s.example/b"' in html
    assert html.index("Latest report") < html.index("First ")  # newest first
    assert "2 articles · 2 outlets · first report 2024-06-10 · latest 2024-06-12" in html
    assert 'class="story-back" href="#cards" data-turn="2"' in html
    assert 'data-turn="story"' in html and "story-flip" in html


def test_card_links_to_its_story() -> None:
    a = Article("d1", "T", "Some text here.", published=date(2024, 6, 10))
    h = Hit(Chunk(0, "d1", 0, 15, "Some text here."), a, 1.0, rank=1)
    ans = Answer(
        "q", "Some text [1].", False, hits=(h,), stories=(StoryRef("d1", f"s{EVIL}", 3, 2),)
    )
    html = cards_html(ans, turn=4)
    assert 'class="story-link"' in html and 'data-turn="4"' in html
    assert "Story: 3 articles from 2 outlets" in html and "<script" not in html
    assert story_link(None, 0) == ""
    alone = Answer("q", "Some text [1].", False, hits=(h,), stories=(StoryRef("d1", "s1", 1, 1),))
    assert "story-link" not in cards_html(alone)  # a story that is the article alone: no link


def test_chat_message_shows_as_of_and_disagreement() -> None:
    d = Disagreement(f"the place {EVIL}", (Side("Marseille", (2,)), Side("Lyon", (1,))))
    ans = Answer("q", "Lyon [1]. Sources disagree on the place: [2] says Marseille; [1] says Lyon.",
                 False, disagreements=(d,), as_of=date(2024, 8, 3))  # fmt: skip
    html = chat_message(ans)
    assert "As of 2024-08-03" in html and "⚖ Sources disagree on the place" in html
    assert "<script" not in html and 'href="#passage-2"' in html


def test_with_script_runs_both() -> None:
    js = with_script("() => { window.a = 1; }")
    assert js.startswith("() => {") and "window.a = 1" in js and "__ragStories" in js
    two = with_script("() => { window.a = 1; }", "() => { window.b = 2; }")
    assert two.index("window.a") < two.index("window.b") < two.index("__ragStories")


def test_show_story_handler(tmp_path: Path) -> None:
    p = build(tmp_path, STORY)
    sid = p.story("fire-1").id
    html = show_story(p, f"{sid}:0:123")
    assert "Fire at Kelby harbour warehouse" in html and 'data-turn="0"' in html
    assert "no story or article" in show_story(p, "nope:0:1")
    assert 'class="story-back"' not in show_story(p, f"{sid}::1")  # no turn: no way back
