"""Stories and disagreements in a real browser: an answer whose sources disagree, a card's story
link opening the story's timeline (flipped, and back to the sources), hostile text in a story
shown as text, the newest side's card badged "latest" with its deep link to the source.
Debian's Chromium via Playwright; made-up articles, the fake embedder.

Screenshots go to `test-artifacts/` (story-*.png, disagree-*.png), desktop and phone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from rag import Pipeline, Settings
from tests.answer.test_disagree import PACT
from tests.conftest import FakeEmbedder
from tests.ui.test_browser import DESKTOP, IMG, PHONE, SCRIPT, ask, open_page, serve, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUESTION = "How many countries signed the ocean protection pact in Geneva?"
HOSTILE = {
    "doc_id": "pact-evil",
    "title": f"{SCRIPT} Ocean pact in Geneva {IMG}",
    "published": "2024-08-02",
    "source": "evil.example",
    "url": "javascript:alert(1)",
    "text": f"Thirty countries signed the ocean protection pact in Geneva, {SCRIPT} delegates "
    f"said. {IMG} The pact limits deep sea mining for ten years.",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("stories")
    (root / "articles").mkdir()
    rows = [PACT[0], {**PACT[1], "url": "https://south.example/pact?id=2#top"}, *PACT[2:], HOSTILE]
    (root / "articles" / "pact.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    s = Settings.load(env={}, index_dir=root / "index", model="fake", min_score=0.1, gate="off")
    pipeline = Pipeline(s, FakeEmbedder())
    pipeline.build([root / "articles"])
    app, url = serve(pipeline)
    try:
        yield {"url": url, "pipeline": pipeline}
    finally:
        app.close()


@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_disagreement_then_story_view(
    browser: Any, served: dict[str, Any], viewport: dict[str, int], name: str
) -> None:
    from playwright.sync_api import expect

    page = open_page(browser, served["url"], viewport)
    try:
        answer = ask(page, QUESTION)
        expect(answer).to_contain_text("Sources disagree on the number of countries")
        expect(answer).to_contain_text("the latest")
        expect(answer.locator("span.disagree-note")).to_be_visible()
        expect(answer.locator("span.as-of")).to_contain_text("As of 2024-08-03")
        if name == "phone":  # the sources are a sheet over the answer
            page.locator("#sheet-open").click()
        newest = page.locator("#cards .card", has=page.locator("span.latest"))
        expect(newest).to_have_count(1)  # the newest of the articles that disagree
        expect(newest.locator("span.latest")).to_be_visible()
        expect(newest.locator(".meta")).to_contain_text("2024-08-03")
        deep = newest.locator("a.at-source")
        expect(deep).to_be_visible()
        href = deep.get_attribute("href") or ""
        assert href.startswith("https://south.example/pact?id=2#:~:text=31%20countries"), href
        shot(page, f"disagree-{name}.png")

        link = page.locator("#cards a.story-link").first
        expect(link).to_contain_text("Story: 3 articles from 3 outlets")
        link.click()
        view = page.locator("#story-view")
        expect(view).to_be_visible()
        expect(view.locator(".story-meta")).to_contain_text("3 articles · 3 outlets")
        entries = view.locator("li.entry")
        expect(entries).to_have_count(3)
        expect(entries.first.locator(".when")).to_contain_text("2024-08-03")  # newest first
        expect(view).to_contain_text(f"{SCRIPT} Ocean pact in Geneva {IMG}")  # as text
        assert view.locator("a[href^='javascript']").count() == 0
        view.scroll_into_view_if_needed()
        shot(page, f"story-{name}.png")
        if name == "phone":
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"the page is {width}px wide on a 390px phone"

        view.locator("button.story-flip").click()  # oldest first, in the DOM too (screen readers)
        expect(view.locator("button.story-flip")).to_have_text("Show newest first")
        expect(view.locator("button.story-flip")).to_have_attribute("aria-pressed", "true")
        oldest = view.locator("ol.timeline li.entry").first
        expect(oldest.locator(".when")).to_contain_text("2024-08-01")
        top, newest = oldest.bounding_box(), entries.last.bounding_box()
        assert top and newest and top["y"] < newest["y"]  # the oldest is shown first

        view.locator("a.story-back").click()
        expect(page.locator("#cards .cards h2")).to_have_text("Sources")
        assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
        assert page.dialogs == [], f"a dialog opened: {page.dialogs}"
    finally:
        page.close()
