"""Screenshots for the README, and the page's time to an answer, measured in a real browser.

Builds a temporary index of seeds/ plus two made-up local news articles (two outlets) with the
real model, serves the app on a free local port, drives Debian's Chromium with Playwright
(never a downloaded browser) and writes:

    bench/screenshots/chat-first-desktop.png   the first screen: what is indexed, example questions
    bench/screenshots/chat-desktop.png         an answer with its filters line (August 2025 only)
    bench/screenshots/chat-dark-desktop.png    the same in dark mode
    bench/screenshots/chat-phone.png           chat-phone-popover.png   chat-phone-sources.png
    bench/screenshots/index-desktop.png        index-phone.png          search-desktop.png
    bench/results/ui_latency.json              Enter -> answer rendered, warm question, 5 runs

The screenshots from before the chat's issue 23 are in bench/screenshots/before/.

Run: .venv/bin/python bench/screenshots.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import log, save  # noqa: E402
from rag import Pipeline, Settings  # noqa: E402
from rag.embed.embedder import SentenceTransformerEmbedder  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.ui.test_browser import (  # noqa: E402
    DESKTOP,
    PHONE,
    QUESTION,
    ask,
    make_corpus,
    open_page,
    serve,
    time_to_answer,
)
from tests.ui.test_browser_a11y import NEWS  # noqa: E402

OUT = ROOT / "bench" / "screenshots"


def _filters(page: Any, start: str, end: str) -> None:
    """Set the date filter in the Settings box, then close it again."""
    settings = page.locator("#settings").get_by_text("Settings: dates, outlets")
    settings.click()
    page.get_by_label("From (YYYY-MM-DD)").fill(start)
    page.get_by_label("To (YYYY-MM-DD)").fill(end)
    page.get_by_label("To (YYYY-MM-DD)").press("Tab")
    settings.click()
    page.wait_for_selector("#filters-now.on")


def desktop_shots(browser: Any, url: str) -> None:
    page = open_page(browser, url, {"width": 1400, "height": 900})
    page.wait_for_timeout(500)
    page.screenshot(path=str(OUT / "chat-first-desktop.png"))
    _filters(page, "2025-08-01", "2025-08-31")
    answer = ask(page, QUESTION)
    answer.locator("a.cite").first.hover()  # its popover, next to the [n]
    page.wait_for_timeout(300)
    page.screenshot(path=str(OUT / "chat-desktop.png"))
    page.close()
    dark = open_page(browser, url + "?__theme=dark", {"width": 1400, "height": 900})
    ask(dark, QUESTION)
    dark.locator("#chat a.cite").first.click()
    dark.wait_for_timeout(300)
    dark.screenshot(path=str(OUT / "chat-dark-desktop.png"))
    dark.close()


def phone_shots(browser: Any, url: str) -> None:
    page = open_page(browser, url, PHONE, has_touch=True, is_mobile=True)
    answer = ask(page, QUESTION)
    page.screenshot(path=str(OUT / "chat-phone.png"))
    cite = answer.locator("a.cite").first
    cite.scroll_into_view_if_needed()
    cite.tap()
    page.wait_for_selector("span.cite-wrap.open .pop")
    page.screenshot(path=str(OUT / "chat-phone-popover.png"))
    answer.locator("span.cite-wrap.open a.pop-open").tap()
    page.wait_for_selector("#chat-row.sources-open")
    page.wait_for_timeout(300)
    page.screenshot(path=str(OUT / "chat-phone-sources.png"))
    page.locator("#sheet-back").tap()
    page.get_by_role("tab", name="Index").click()
    page.wait_for_selector("#articles table")
    page.screenshot(path=str(OUT / "index-phone.png"), full_page=True)
    page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="Timed warm answers (median kept).")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        log("building a temporary index of seeds/ and two made-up local articles")
        corpus = make_corpus(Path(tmp) / "articles", hostile=False)
        (corpus / "local.jsonl").write_text("".join(json.dumps(r) + "\n" for r in NEWS))
        pipeline = Pipeline(
            Settings.load(env={}, index_dir=Path(tmp) / "index"), SentenceTransformerEmbedder()
        )
        pipeline.build([corpus])
        app, url = serve(pipeline)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                )
                desktop_shots(browser, url)
                phone_shots(browser, url)
                page = open_page(browser, url, DESKTOP)
                page.get_by_role("tab", name="Index").click()
                page.wait_for_selector("#articles table")
                page.screenshot(path=str(OUT / "index-desktop.png"), full_page=True)
                page.get_by_role("tab", name="Search").click()
                page.fill("#search-box textarea", "security guarantees for Ukraine")
                page.press("#search-box textarea", "Enter")
                page.wait_for_selector("#result-1")
                page.screenshot(path=str(OUT / "search-desktop.png"))
                page.get_by_role("tab", name="Chat").click()
                runs = [time_to_answer(page, QUESTION) for _ in range(args.runs)]
                assert page.dialogs == [], page.dialogs
                page.close()
                browser.close()
        finally:
            app.close()
    result = {
        "what": "browser time from pressing Enter to the cited answer rendered in the chat",
        "question": QUESTION,
        "corpus": "seeds/ and two made-up local articles",
        "browser": "Debian Chromium, headless, via Playwright; app served on 127.0.0.1",
        "runs_ms": [round(r, 1) for r in runs],
        "median_ms": round(statistics.median(runs), 1),
    }
    log(f"median time to answer: {result['median_ms']} ms; wrote", save("ui_latency", result))
    log("screenshots in", OUT)


if __name__ == "__main__":
    main()
