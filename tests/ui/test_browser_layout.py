"""The page's layout in a real browser (Debian's Chromium via Playwright), at 1400×900 and
390×844: the Index tab fits a phone (the sources table scrolls in its own box, the upload
label clears the upload arrow), a new question starts under the chat's "Conversation" label,
and the headings go in order (axe's heading-order rule). The a11y tests' made-up articles and
one of long sentences, the fake embedder.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.ui.test_browser_a11y import NEWS, PHONE, WIDE, _answer, _open, serve_news, settled

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# an article of long sentences: its answer is taller than the chat box, as a news answer is
LONG_QUESTION = (
    "What did the Kelby harbour festival committee say about the Kelby harbour festival?"
)
LONG = {
    "doc_id": "festival", "title": "Kelby harbour festival committee sets the festival dates",
    "published": "2024-06-25", "source": "south.example", "url": "https://south.example/fest",
    "text": " ".join(
        f"The Kelby harbour festival committee said the Kelby harbour festival {what}, and the "
        "committee said the harbour festival in Kelby would keep its boats, stalls, music and "
        "evening lanterns along the old harbour wall for every visitor who comes to Kelby."
        for what in ("opens on the first Friday of August", "runs for nine days this summer",
                     "closes with fireworks over the harbour")
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve_news(tmp_path_factory.mktemp("layout"), [*NEWS, LONG])


WIDTHS = [(WIDE, "desktop"), (PHONE, "phone")]

BOX_JS = """(e) => { const r = e.getBoundingClientRect();
  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; }"""


def box(page: Any, selector: str) -> dict[str, float]:
    element = page.locator(selector)
    assert element.count() == 1, f"{selector}: {element.count()} elements"
    return dict(element.evaluate(BOX_JS))


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and b["top"] < a["bottom"]
    )


@pytest.mark.parametrize(("viewport", "name"), WIDTHS)
def test_sources_table_fits_or_scrolls_in_its_box(
    browser: Any, served: str, viewport: dict[str, int], name: str
) -> None:
    page = _open(browser, served, viewport, "light")
    try:
        page.get_by_role("tab", name="Index").click()
        page.wait_for_selector("#articles table")
        settled(page, "#sources-table table")
        width = viewport["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= width, name
        outer = box(page, "#sources-table")
        assert outer["left"] >= 0 and outer["right"] <= width, (name, outer)
        table = box(page, "#sources-table table")
        if table["right"] > outer["right"] + 1:  # wider than its box: the box scrolls sideways
            style = page.locator("#sources-table").evaluate("e => getComputedStyle(e)")
            assert style["overflowX"] in ("auto", "scroll"), name
            assert "radial-gradient" in style["backgroundImage"], "no shadow says there is more"
            page.locator("#sources-table").evaluate("e => { e.scrollLeft = e.scrollWidth; }")
            last = box(page, "#sources-table th:last-child")
            assert last["right"] <= outer["right"] + 1, "the last column cannot be reached"
    finally:
        page.close()


@pytest.mark.parametrize(("viewport", "name"), WIDTHS)
def test_upload_label_clears_the_arrow(
    browser: Any, served: str, viewport: dict[str, int], name: str
) -> None:
    page = _open(browser, served, viewport, "light")
    try:
        page.get_by_role("tab", name="Index").click()
        page.wait_for_selector("#upload")
        settled(page, "#upload")
        label = box(page, '#upload [data-testid="block-label"]')
        arrow = box(page, '#upload [data-testid="upload-icon"]')
        assert not overlap(label, arrow), (name, label, arrow)
        assert box(page, "#upload")["right"] <= viewport["width"]
    finally:
        page.close()


@pytest.mark.parametrize(("viewport", "name"), WIDTHS)
def test_a_new_question_starts_under_the_conversation_label(
    browser: Any, served: str, viewport: dict[str, int], name: str
) -> None:
    page = _open(browser, served, viewport, "light")
    try:
        label_selector = '#chat [data-testid="block-label"]'
        # a long answer (taller than the chat box), then a short one below it
        for question in (LONG_QUESTION, "When does the Elwin bridge reopen?"):
            answer = _answer(page, question)
            label = box(page, label_selector)
            chat = box(page, "#chat .bubble-wrap")
            asked = page.locator('#chat [data-testid="user"]').last.evaluate(BOX_JS)
            start = answer.evaluate(BOX_JS)
            if name == "phone" and question == LONG_QUESTION:  # what this test is about
                assert start["bottom"] - start["top"] > chat["bottom"] - chat["top"]
            assert asked["top"] >= label["bottom"], (name, question, "question under the label")
            assert label["bottom"] <= start["top"] < chat["bottom"] - 40, (name, question, start)
        page.locator("#chat .bubble-wrap").evaluate("e => { e.scrollTop = 0; }")
        first = page.locator('#chat [data-testid="user"]').first.evaluate(BOX_JS)
        assert first["top"] >= box(page, label_selector)["bottom"], "scrolled to the top"
    finally:
        page.close()


def test_a_tapped_popover_is_not_cut_off_by_the_chat_box(browser: Any, served: str) -> None:
    """The long answer's first [n] sits low in the chat box: its popover would open below the
    box's edge, so the box (never the page) scrolls up, the [n] still shown."""
    page = _open(browser, served, PHONE, "light")
    try:
        answer = _answer(page, LONG_QUESTION)
        cite = answer.locator("a.cite").first
        at = page.evaluate("window.scrollY")
        cite.tap()
        pop = answer.locator("span.cite-wrap.open .pop")
        pop.wait_for()
        chat, shown = box(page, "#chat .bubble-wrap"), pop.evaluate(BOX_JS)
        assert shown["bottom"] <= chat["bottom"], (shown, chat)
        label = box(page, '#chat [data-testid="block-label"]')
        assert cite.evaluate(BOX_JS)["top"] >= label["bottom"], "the [n] scrolled out of sight"
        assert page.evaluate("window.scrollY") == at, "the page moved"
    finally:
        page.close()


@pytest.mark.parametrize(("viewport", "name"), WIDTHS)
def test_headings_go_in_order(
    browser: Any, served: str, viewport: dict[str, int], name: str
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    only = {"runOnly": {"type": "rule", "values": ["heading-order"]}}
    page = _open(browser, served, viewport, "light")
    try:
        _answer(page)
        if name == "phone":
            page.locator("#sheet-open").tap()  # the sources sheet, its heading shown
            settled(page, "#cards .cards")
        found = Axe().run(page, options=only).response["violations"]
        assert found == [], f"chat, {name}: {found}"
        assert page.locator("#cards .cards > h2").first.inner_text() == "Sources"
        if name == "phone":
            page.keyboard.press("Escape")
        page.get_by_role("tab", name="Search").click()
        page.fill("#search-box textarea", "ferry route")
        page.press("#search-box textarea", "Enter")
        page.wait_for_selector("#result-1")
        settled(page, "#result-1")
        found = Axe().run(page, options=only).response["violations"]
        assert found == [], f"search, {name}: {found}"
        assert "passages for" in page.locator(".results > h2").inner_text()
    finally:
        page.close()
