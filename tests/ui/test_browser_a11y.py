"""The chat around the answers in a real browser (Debian's Chromium via Playwright), at
1400×900 and 390×844, in light and dark mode: an axe-core audit with no serious or critical
violation on the chat, search and index tabs; contrast ≥ 4.5:1 computed from the rendered
colours; the first screen, the filters line, popovers on hover and tap, the phone's sources
sheet and its way back, named controls. Made-up articles, the fake embedder.

Screenshots go to `test-artifacts/` (a11y-*.png).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag import Pipeline, Settings
from tests.conftest import FakeEmbedder, write_articles
from tests.ui.test_browser import open_page, serve, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDE = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
QUESTION = "When does the Elwin bridge reopen?"
NEWS = [
    {"doc_id": "bridge", "title": "Mayor Ana Ruiz said the Elwin bridge reopens on Friday",
     "published": "2024-06-12", "source": "north.example", "url": "https://north.example/bridge",
     "text": "Mayor Ana Ruiz said the Elwin bridge reopens on Friday after two years of repairs. "
             "The repairs cost four million dollars, the council said."},
    {"doc_id": "ferry", "title": "Port Elwin council approves a new ferry route to Kelby",
     "published": "2024-06-20", "source": "south.example", "url": "https://south.example/ferry",
     "text": "The Port Elwin harbour council approved a new ferry route to Kelby on Tuesday. "
             "The ferry will run twice a day from July, and the bridge reopens on Friday."},
]  # fmt: skip
# the rendered texts whose contrast is measured, by what they are
TEXTS = {
    "answer text": '#chat [data-testid="bot"] .md p',
    "citation link": "#chat a.cite",
    "confidence pill": "#chat span.confidence",
    "filters line": "#chat span.filters",
    "overview": "#overview",
    "hint": ".hints p",
    "highlighted sentence": "#cards mark.support",
    "card meta": "#cards .card .meta",
    "card link": "#cards .card details summary",
}
# WCAG contrast of an element's text against the background drawn under it: the colours
# of the element and its ancestors composited (alpha, opacity), as the browser paints them
CONTRAST_JS = r"""
(sel) => {
  const parse = (c) => { const m = c.match(/[\d.]+/g) || [0, 0, 0, 0];
    return [+m[0], +m[1], +m[2], m.length > 3 ? +m[3] : 1]; };
  const over = (top, under) => { const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat([1]); };
  const lum = (c) => { const f = (v) => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const visible = (e) => { const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; };
  return [...document.querySelectorAll(sel)].filter(visible).map((el) => {
    const layers = []; let opacity = 1;
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      opacity *= +s.opacity;
      const bg = parse(s.backgroundColor);
      if (bg[3] > 0) layers.push(bg);
      if (bg[3] === 1) break;
    }
    let bg = [255, 255, 255, 1];
    for (const layer of layers.reverse()) bg = over(layer, bg);
    const fg = parse(getComputedStyle(el).color);
    const seen = over([fg[0], fg[1], fg[2], fg[3] * opacity], bg);
    const [a, b] = [lum(seen), lum(bg)].sort((x, y) => y - x);
    return {text: el.textContent.trim().slice(0, 40), ratio: (a + 0.05) / (b + 0.05)};
  });
}
"""


# every text a reader sees, whatever it is: an element with letters or digits of its own, not
# inside a disabled control (WCAG exempts inactive ones) nor faded out (Gradio's hidden timers);
# a lone separator ("·" between the footer's links) is decoration
EVERY_TEXT_JS = r"""() => {
  document.querySelectorAll('[data-text]').forEach((e) => e.removeAttribute('data-text'));
  const faded = (e) => { for (; e; e = e.parentElement)
      if (+getComputedStyle(e).opacity === 0) return true;
    return false; };
  for (const e of document.querySelectorAll('body *')) {
    const own = [...e.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent);
    if (['SCRIPT', 'STYLE', 'NOSCRIPT'].includes(e.tagName)) continue;
    if (!/[\p{L}\p{N}]/u.test(own.join(''))) continue;
    if (e.closest('[disabled], [aria-disabled="true"]') || faded(e)) continue;
    e.setAttribute('data-text', '');
  }
}"""


def serve_news(root: Path, news: list[dict[str, str]]) -> Iterator[str]:
    """The test articles and `news` indexed with the fake embedder under `root` and served:
    the app's URL until the generator closes (answers from sentence scores, no reader model:
    the browser tests are about what surrounds them)."""
    folder = write_articles(root / "articles")
    (folder / "news.jsonl").write_text("".join(json.dumps(r) + "\n" for r in news))
    env = {"RAG_READER": "off"}
    s = Settings.load(env=env, index_dir=root / "index", model="fake", min_score=0.1, gate="off")
    pipeline = Pipeline(s, FakeEmbedder())
    pipeline.build([folder])
    app, url = serve(pipeline)
    try:
        yield url
    finally:
        app.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve_news(tmp_path_factory.mktemp("a11y"), NEWS)


def _open(browser: Any, url: str, viewport: dict[str, int], scheme: str) -> Any:
    touch = {"has_touch": True, "is_mobile": True} if viewport == PHONE else {}
    page = open_page(
        browser, url + ("?__theme=dark" if scheme == "dark" else ""), viewport, **touch
    )
    # audit the page as a reader meets it, once its own script (launch(js=...)) has run: on a
    # loaded machine the first audit could come before it mended Gradio's roles and labels
    page.wait_for_function("window.__ragNews === true")
    return page


def _answer(page: Any, question: str = QUESTION) -> Any:
    from tests.ui.test_browser import ask

    answer = ask(page, question)
    settled(page, answer)  # Gradio fades the message in
    # the same update enables the export button, whose colours then change over Gradio's
    # 0.2 s button transition: axe once measured them halfway (CI, phone, light)
    page.wait_for_selector("#export:not([disabled])")
    settled(page, "#export")
    return answer


# an element is settled when it and every element around it are fully opaque and none of them
# is running an animation (Gradio fades a result in while its request finishes)
SETTLED_JS = """el => {
  for (let e = el; e; e = e.parentElement) {
    if (parseFloat(getComputedStyle(e).opacity) < 1) return false;
    if (e.getAnimations().some(a => a.playState === "running")) return false;
  }
  return true;
}"""


def settled(page: Any, target: Any) -> None:
    """Wait until `target` (a selector or a locator) is on the page as a reader sees it:
    opaque, not fading in."""
    element = page.locator(target) if isinstance(target, str) else target
    page.wait_for_function(SETTLED_JS, arg=element.element_handle())


def audit(page: Any, where: str) -> None:
    """axe-core over the page: no serious or critical violation."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:5])
        for v in found
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{where}: {bad}"


def contrast(page: Any, where: str, kinds: dict[str, str] = TEXTS) -> None:
    """Each text of `kinds` (what it is: its selector) at ≥ 4.5:1 as rendered; then, with the
    same measure, every other text on the page (buttons, labels, Gradio's own)."""
    page.evaluate(EVERY_TEXT_JS)
    kinds = {**kinds, "any other text": "[data-text]"}
    low = []
    for kind, sel in kinds.items():
        for m in page.evaluate(CONTRAST_JS, sel):
            if m["ratio"] < 4.5:
                low.append((kind, m["text"], round(m["ratio"], 2)))
    assert low == [], f"{where}: text under 4.5:1: {low}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("viewport", "name"), [(WIDE, "desktop"), (PHONE, "phone")])
def test_axe_audit_and_contrast_on_every_tab(
    browser: Any, served: str, viewport: dict[str, int], name: str, scheme: str
) -> None:
    page = _open(browser, served, viewport, scheme)
    try:
        where = f"{name}, {scheme}"
        if scheme == "dark":
            assert page.evaluate("document.body.classList.contains('dark')")
        audit(page, f"first screen, {where}")
        contrast(page, f"first screen, {where}", {"overview": "#overview", "hint": ".hints p"})
        _answer(page)
        audit(page, f"chat with an answer, {where}")
        contrast(page, f"chat, {where}")
        page.locator("#chat a.cite").first.hover()  # the popover's text too
        contrast(page, f"popover, {where}", {"popover": ".pop-quote, .pop-meta, a.pop-open"})
        shot(page, f"a11y-chat-{name}-{scheme}.png")
        page.get_by_role("tab", name="Search").click()
        page.fill("#search-box textarea", "ferry route")
        page.press("#search-box textarea", "Enter")
        page.wait_for_selector("#result-1")
        settled(page, "#result-1")
        audit(page, f"search tab, {where}")
        contrast(page, f"search, {where}", {"result meta": "#result-1 .meta"})
        page.get_by_role("tab", name="Index").click()
        page.wait_for_selector("#articles table")
        settled(page, "#articles table")
        audit(page, f"index tab, {where}")
        contrast(page, f"index, {where}", {"update button": "#update"})
    finally:
        page.close()


def test_first_screen_says_what_is_indexed_and_asks_whole_questions(
    browser: Any, served: str
) -> None:
    from playwright.sync_api import expect

    page = _open(browser, served, WIDE, "light")
    try:
        overview = page.locator("#overview")
        expect(overview).to_contain_text("5 articles from 2 outlets")
        expect(overview).to_contain_text("last refreshed")
        examples = page.locator("#chat .example-text")
        expect(examples.first).to_have_text("What happened with Port Elwin?")
        texts = examples.all_inner_texts()
        assert 2 <= len(texts) <= 4 and all(t.endswith("?") for t in texts)
        assert "What did Mayor Ana Ruiz say?" in texts
        expect(page.locator(".hint-wide")).to_be_visible()
        expect(page.locator(".hint-narrow")).to_be_hidden()
        question = page.get_by_role("textbox", name="Your question about the news")
        expect(question).to_be_visible()
        expect(page.get_by_role("button", name="Send the question")).to_be_visible()
        shot(page, "a11y-first-desktop.png")
        page.set_viewport_size(PHONE)
        expect(page.locator(".hint-narrow")).to_be_visible()
        expect(page.locator(".hint-wide")).to_be_hidden()
    finally:
        page.close()


def test_filters_line_on_every_answer_and_one_click_clears(browser: Any, served: str) -> None:
    from playwright.sync_api import expect

    page = _open(browser, served, WIDE, "light")
    try:
        page.locator("#settings").get_by_text("Settings: dates, outlets").click()
        page.get_by_label("From (YYYY-MM-DD)").fill("2024-06-01")
        page.get_by_label("To (YYYY-MM-DD)").fill("2024-06-30")
        page.get_by_label("To (YYYY-MM-DD)").press("Tab")
        page.locator("#settings").get_by_text("Settings: dates, outlets").click()  # collapsed
        expect(page.locator("#filters-now")).to_contain_text("Filters on: All outlets · 1–30 June")
        answer = _answer(page)
        expect(answer.locator("span.filters")).to_have_text(
            "All outlets · 1–30 June 2024 · answers copied from the articles"
        )
        shot(page, "a11y-filters-desktop.png")
        answer.locator("a.clear-filters").click()
        expect(page.locator("#clear-filters")).to_be_hidden()
        expect(page.locator("#filters-now")).not_to_contain_text("Filters on")
        second = _answer(page, "When does the ferry run?")
        expect(second.locator("span.filters")).to_have_text(
            "All outlets · any date · answers copied from the articles"
        )
        expect(answer.locator("span.filters")).to_contain_text("1–30 June 2024")  # as it was
    finally:
        page.close()


def test_popover_on_hover_on_a_wide_screen(browser: Any, served: str) -> None:
    from playwright.sync_api import expect

    page = _open(browser, served, WIDE, "light")
    try:
        answer = _answer(page)
        wrap = answer.locator("span.cite-wrap").first
        pop = wrap.locator(".pop")
        expect(pop).to_be_hidden()
        wrap.locator("a.cite").hover()
        expect(pop).to_be_visible()
        expect(pop.locator(".pop-quote")).to_contain_text("Elwin bridge reopens on Friday")
        expect(pop.locator(".pop-meta")).to_contain_text("2024-06")
        box, link = pop.bounding_box(), wrap.locator("a.cite").bounding_box()
        assert box and link and abs(box["y"] - (link["y"] + link["height"])) < 40  # next to it
        chat = page.locator("#chat").bounding_box()
        assert chat and box["x"] + box["width"] <= chat["x"] + chat["width"]  # not clipped
        page.mouse.move(5, 5)
        expect(pop).to_be_hidden()
        wrap.locator("a.cite").click()  # a click still opens the full card beside the chat
        expect(page.locator("#cards .card.active")).to_be_in_viewport()
        expect(page.locator("#cards .card.active summary")).to_have_text("Open article")
    finally:
        page.close()


def test_phone_tap_popover_then_sources_sheet_and_back(browser: Any, served: str) -> None:
    from playwright.sync_api import expect

    page = _open(browser, served, PHONE, "light")
    try:
        answer = _answer(page)
        expect(page.locator("#cards-col")).to_be_hidden()  # no settings between answer and cards
        cite = answer.locator("a.cite").first
        cite.scroll_into_view_if_needed()
        at = page.evaluate("window.scrollY")
        cite.tap()
        pop = answer.locator("span.cite-wrap.open .pop")
        expect(pop).to_be_visible()
        box = pop.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert page.evaluate("window.scrollY") == at  # the tap did not jump away
        shot(page, "a11y-phone-popover.png")
        pop.locator("a.pop-open").tap()
        sheet = page.locator("#cards-col")
        expect(sheet).to_be_visible()
        expect(page.locator("#cards .card.active")).to_be_in_viewport()
        back = page.get_by_role("button", name="← Back to the answer")
        expect(back).to_be_in_viewport()
        edge = back.bounding_box()  # wholly on screen, the sheet not scrolled sideways
        assert edge and edge["x"] >= 0 and edge["x"] + edge["width"] <= PHONE["width"]
        sideways = "(s => s.scrollWidth - s.clientWidth)(document.getElementById('cards-col'))"
        assert page.evaluate(sideways) <= 0
        page.locator("#cards .card").last.scroll_into_view_if_needed()
        expect(back).to_be_in_viewport()  # it stays on top of the sheet
        shot(page, "a11y-phone-sources.png")
        back.tap()
        expect(sheet).to_be_hidden()
        expect(cite).to_be_in_viewport()
        expect(page.locator("#sheet-open")).to_be_visible()  # all sources, without a citation
        page.locator("#sheet-open").tap()
        expect(page.locator("#cards .card").first).to_be_visible()
        page.keyboard.press("Escape")
        expect(sheet).to_be_hidden()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page is {width}px wide on a 390px phone"
    finally:
        page.close()
