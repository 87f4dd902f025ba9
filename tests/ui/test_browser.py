"""The app in a real browser: Debian's Chromium driven by Playwright over a real index.

One app and one browser for the module; each test opens its own page. Screenshots go to
`test-artifacts/` (git-ignored). Needs /usr/bin/chromium (`make browser` installs it).
"""

from __future__ import annotations

import json
import shutil
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag import Pipeline, Settings
from tests.conftest import ROOT, SEEDS, serve_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
ARTIFACTS = ROOT / "test-artifacts"
QUESTION = "Which countries lead the work on security guarantees for Ukraine?"
OFF_TOPIC = "What is a good recipe for banana bread?"
HOSTILE_QUESTION = "What did the mayor of Springfield say about the old bridge?"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
HOSTILE = {
    "doc_id": "hostile-1",
    "title": f"{SCRIPT} Springfield bridge {IMG} reopens",
    "published": "2025-09-01",
    "source": "evil.example",
    "url": "javascript:alert(1)",
    "text": (
        f"The mayor of Springfield said the old bridge reopens on Friday after repairs. {SCRIPT} "
        f"Residents cheered at the ceremony. {IMG} The repairs cost four million dollars and "
        "took two years, the mayor said."
    ),
}
# an article to upload from the Index tab: long enough that the update shows progress
UPLOAD_TEXT = "date 2025-10-02\n" + "\n\n".join(
    f"The lighthouse keepers of Port Elwin counted {n} ships passing the northern cape in "
    f"week {n} of the autumn survey. The harbour master said the survey would continue "
    "through the winter storms and report to the maritime council."
    for n in range(1, 41)
)


# --- helpers, also used by bench/screenshots.py --------------------------------------------------


def make_corpus(folder: Path, hostile: bool = True) -> Path:
    """seeds/ plus, when `hostile`, an article whose title and text carry script and img tags."""
    folder.mkdir(parents=True, exist_ok=True)
    for f in SEEDS.iterdir():
        if f.is_file():
            shutil.copy(f, folder / f.name)
    if hostile:
        (folder / "hostile.jsonl").write_text(json.dumps(HOSTILE) + "\n")
    return folder


def serve(pipeline: Pipeline) -> tuple[Any, str]:
    """Start the real app in this process on a free 127.0.0.1 port: (app, url)."""
    from ui.app import build_app

    app = build_app(pipeline)
    return app, serve_app(app)


def open_page(browser: Any, url: str, viewport: dict[str, int] = DESKTOP, **options: Any) -> Any:
    """A fresh page on the app, with `page.dialogs` recording every alert/confirm/prompt
    (`options` for the page: has_touch=True, is_mobile=True for a phone)."""
    page = browser.new_page(viewport=viewport, **options)
    page.dialogs = []

    def on_dialog(dialog: Any) -> None:
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(url)
    page.wait_for_selector("#question textarea")
    return page


def ask(page: Any, question: str, timeout_ms: int = 60_000) -> Any:
    """Type `question`, press Enter, wait for the answer; returns the answer's message."""
    answers = page.locator('#chat [data-testid="bot"]')
    before = page.locator("#chat span.turn").count()
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    page.wait_for_function(
        f"document.querySelectorAll('#chat span.turn').length > {before}", timeout=timeout_ms
    )
    return answers.nth(answers.count() - 1)  # pinned: `.last` would follow later answers


def time_to_answer(page: Any, question: str) -> float:
    """Milliseconds from the Enter key to the answer rendered in the chat, timed in the page."""
    page.fill("#question textarea", question)
    page.evaluate(
        """() => {
          window.__t0 = null; window.__t1 = null;
          const box = document.querySelector('#question textarea');
          box.addEventListener('keydown', (e) => {
            if (e.key === 'Enter') window.__t0 = performance.now();
          }, {capture: true, once: true});
          const n = document.querySelectorAll('#chat span.turn').length;
          const obs = new MutationObserver(() => {
            if (document.querySelectorAll('#chat span.turn').length > n) {
              window.__t1 = performance.now(); obs.disconnect();
            }
          });
          obs.observe(document.querySelector('#chat'), {subtree: true, childList: true});
        }"""
    )
    page.press("#question textarea", "Enter")
    page.wait_for_function("window.__t1 !== null", timeout=60_000)
    return float(page.evaluate("window.__t1 - window.__t0"))


def shot(page: Any, name: str, full_page: bool = False) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=full_page)
    return path


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> Iterator[dict[str, Any]]:
    """The real app over a real index of seeds/ plus the hostile article."""
    root = tmp_path_factory.mktemp("browser")
    corpus = make_corpus(root / "articles")
    pipeline = Pipeline(Settings.load(env={}, index_dir=root / "index"), real_embedder)
    pipeline.build([corpus])
    app, url = serve(pipeline)
    try:
        yield {"url": url, "pipeline": pipeline, "root": root}
    finally:
        app.close()


@pytest.fixture
def page(browser: Any, served: dict[str, Any]) -> Iterator[Any]:
    page = open_page(browser, served["url"])
    try:
        yield page
        assert page.dialogs == [], f"a dialog opened: {page.dialogs}"
    finally:
        page.close()


# --- tests -----------------------------------------------------------------------------------


def test_cited_answer_citation_click_and_article(page: Any) -> None:
    from playwright.sync_api import expect

    answer = ask(page, QUESTION)
    expect(answer.locator("a.cite").first).to_be_visible()
    assert "Keir Starmer" in answer.inner_text()
    expect(answer.locator("span.confidence")).to_contain_text("Confidence the articles answer")
    expect(page.locator("#cards .cards h2")).to_have_text("Sources")
    shot(page, "chat-desktop.png")

    answer.locator('a.cite[href="#passage-1"]').first.click()
    card = page.locator("#passage-1")
    expect(card).to_have_class("card cited active")
    expect(card.locator(".passage mark.support").first).to_be_in_viewport()

    # the card of the Starmer sentence: its article opens scrolled to the passage
    starmer = page.locator(".card.cited").filter(
        has=page.locator(".passage mark.support", has_text="Keir Starmer")
    )
    starmer.locator("summary", has_text="Open article").click()
    article = starmer.locator(".article-text")
    expect(article).to_be_visible()
    assert "Mark Rutte" in article.inner_text() and "Zelenskyy" in article.inner_text()
    expect(article.locator(".in-passage mark.support", has_text="Keir Starmer")).to_be_in_viewport()
    shot(page, "chat-desktop-article.png")

    page.set_viewport_size(PHONE)
    page.locator("#title").scroll_into_view_if_needed()
    shot(page, "chat-phone.png")
    cite = answer.locator('a.cite[href="#passage-2"]').first
    cite.click()  # on a phone: the cited sentence in a popover, the page stays where it is
    expect(answer.locator("span.cite-wrap.open .pop")).to_be_visible()
    answer.locator("span.cite-wrap.open a.pop-open").click()  # then the sources sheet
    expect(page.locator("#passage-2")).to_be_in_viewport()
    shot(page, "chat-phone-passage.png")
    page.get_by_role("button", name="← Back to the answer").click()
    expect(cite).to_be_in_viewport()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a 390px phone"


def test_older_answer_citation_shows_its_own_passages(page: Any) -> None:
    from playwright.sync_api import expect

    first = ask(page, QUESTION)
    ask(page, HOSTILE_QUESTION)
    expect(page.locator("#cards .cards")).to_have_attribute("data-turn", "1")
    first.locator('a.cite[href="#passage-1"]').first.click()
    expect(page.locator("#cards .cards")).to_have_attribute("data-turn", "0")
    expect(page.locator("#passage-1")).to_have_class("card cited active")
    expect(page.locator("#cards .asked")).to_contain_text(QUESTION)


def test_hostile_article_is_shown_as_text_and_runs_nothing(page: Any) -> None:
    from playwright.sync_api import expect

    # the empty chat suggests a question about it (newest article first), made of its words
    expect(page.locator("#chat .example-text").first).to_have_text(
        "What happened with Springfield?"
    )
    answer = ask(page, HOSTILE_QUESTION)
    assert "mayor of Springfield" in answer.inner_text()
    pop = answer.locator("span.cite-wrap .pop").first  # the popover shows the title as text
    answer.locator("a.cite").first.hover()
    expect(pop.locator(".pop-title")).to_contain_text(f"{SCRIPT} Springfield bridge {IMG}")
    card = page.locator(".card", has_text="Springfield").first
    expect(card.locator(".card-head")).to_contain_text(f"{SCRIPT} Springfield bridge {IMG}")
    expect(card.locator(".passage")).to_contain_text(SCRIPT)
    card.locator("summary").click()
    expect(card.locator(".article-text")).to_contain_text(IMG)
    assert card.locator("a[href^='javascript']").count() == 0

    page.get_by_role("tab", name="Search").click()
    page.fill("#search-box textarea", "Springfield bridge")
    page.press("#search-box textarea", "Enter")
    expect(page.locator("#result-1")).to_contain_text(SCRIPT)
    page.get_by_role("tab", name="Index").click()
    expect(page.locator("#articles")).to_contain_text(SCRIPT)

    page.wait_for_timeout(300)  # give any injected handler the chance to fire
    assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
    scripts = page.evaluate(  # Gradio's own config script holds the title as JSON: not that
        "[...document.scripts].filter(s => s.textContent.trim() === 'alert(1)').length"
    )
    assert scripts == 0
    assert page.dialogs == []


def test_off_topic_question_is_refused_with_closest_passages(page: Any) -> None:
    from playwright.sync_api import expect

    answer = ask(page, OFF_TOPIC)
    expect(answer).to_contain_text("don't answer")
    expect(answer.locator("a.cite")).to_have_count(0)
    expect(answer.locator("span.confidence.low")).to_be_visible()  # the gate's doubt, shown
    expect(page.locator("#cards .cards h2")).to_contain_text("do not answer")
    assert page.locator("#cards .card").count() >= 1


def test_feedback_and_markdown_export(page: Any, served: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    ask(page, QUESTION)
    page.locator('#chat button[aria-label="Like"]').last.click()
    expect(page.locator("#feedback-note")).to_contain_text("saved")
    lines = (served["root"] / "index" / "feedback.jsonl").read_text().splitlines()
    record = json.loads(lines[-1])
    assert record["vote"] == "up" and record["question"] == QUESTION
    assert any("Keir Starmer" in c["sentence"] for c in record["citations"])

    with page.expect_download() as download:
        page.locator("#export").click()
    text = Path(download.value.path()).read_text()
    assert text.startswith("# Conversation with sources")
    assert QUESTION in text and "Sources:" in text and "Keir Starmer" in text


def test_update_and_remove_from_index_tab(page: Any, served: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    root: Path = served["root"]
    page.get_by_role("tab", name="Index").click()
    status = page.locator("#index-status")
    expect(status).to_contain_text("Articles")
    before = int(page.locator("#status-articles td").inner_text())

    upload = root / "to-upload" / "Port Elwin (survey).txt"
    upload.parent.mkdir(exist_ok=True)
    upload.write_text(UPLOAD_TEXT)
    page.locator("#upload input[type=file]").set_input_files(str(upload))
    expect(page.locator("#upload")).to_contain_text("Port Elwin")
    page.evaluate(  # remember every progress message the page shows
        """() => {
          window.__progress = [];
          new MutationObserver(() => {
            document.querySelectorAll('.progress-text, .progress-level-inner, .meta-text')
              .forEach((e) => window.__progress.push(e.textContent.trim()));
          }).observe(document.body, {subtree: true, childList: true, characterData: true});
        }"""
    )
    page.locator("#update").click()
    expect(page.locator("#index-report")).to_contain_text("Index updated", timeout=60_000)
    expect(page.locator("#index-report")).to_contain_text("1 added")
    expect(page.locator("#status-articles td")).to_have_text(str(before + 1))
    progress = page.evaluate("window.__progress")
    assert progress, "no progress was shown during the update"
    expect(page.locator("#status .progress-text")).to_have_count(0)  # the progress finished
    saved = list((root / "index" / "uploads").iterdir())
    assert [p.name for p in saved] != [upload.name] and saved[0].name.endswith(".txt")
    assert "(" not in saved[0].name and " " not in saved[0].name
    shot(page, "index-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    shot(page, "index-phone.png", full_page=True)
    page.set_viewport_size(DESKTOP)

    # the chat answers from the new index at once
    page.get_by_role("tab", name="Chat").click()
    answer = ask(page, "How many ships did the lighthouse keepers of Port Elwin count?")
    expect(answer.locator("a.cite").first).to_be_visible()
    expect(page.locator("#passage-1")).to_contain_text("Port Elwin")

    # remove it again: pick it in the dropdown, press Remove
    page.get_by_role("tab", name="Index").click()
    page.locator("#remove-pick input").click()
    page.get_by_role("option", name="lighthouse", exact=False).first.click()
    page.locator("#remove").click()
    expect(page.locator("#index-report")).to_contain_text("Removed")
    expect(page.locator("#status-articles td")).to_have_text(str(before))


def test_time_to_answer_in_the_browser(page: Any) -> None:
    ask(page, QUESTION)  # warm: model, index and page
    runs = [time_to_answer(page, QUESTION) for _ in range(5)]
    median = statistics.median(runs)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "ui_latency.json").write_text(
        json.dumps({"question": QUESTION, "runs_ms": runs, "median_ms": median}, indent=1)
    )
    assert median < 10_000, f"a warm answer took {median:.0f} ms (median of 5)"
