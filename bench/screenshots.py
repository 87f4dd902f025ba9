"""Screenshots for the README, and the page's time to an answer, measured in a real browser.

Builds a temporary index of seeds/ with the real model, serves the app on a free local port,
drives Debian's Chromium with Playwright (never a downloaded browser) and writes:

    bench/screenshots/chat-desktop.png   chat-phone.png   chat-phone-source.png
    bench/screenshots/index-desktop.png  index-phone.png  search-desktop.png
    bench/results/ui_latency.json        Enter -> answer rendered, warm question, 5 runs

Run: .venv/bin/python bench/screenshots.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import log, save  # noqa: E402
from rag import Pipeline, Settings  # noqa: E402
from rag.embed import SentenceTransformerEmbedder  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.test_browser import (  # noqa: E402
    DESKTOP,
    PHONE,
    QUESTION,
    ask,
    make_corpus,
    open_page,
    serve,
    time_to_answer,
)

OUT = ROOT / "bench" / "screenshots"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="Timed warm answers (median kept).")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        log("building a temporary index of seeds/")
        corpus = make_corpus(Path(tmp) / "articles", hostile=False)
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
                for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
                    page = open_page(browser, url, viewport)
                    answer = ask(page, QUESTION)
                    starmer = page.locator(".card.cited").filter(
                        has=page.locator(".passage mark.support", has_text="Keir Starmer")
                    )
                    n = (starmer.get_attribute("id") or "passage-1").split("-")[-1]
                    answer.locator(f'a.cite[href="#passage-{n}"]').first.click()
                    if name == "phone":  # the answer; then the card its [n] scrolled to
                        page.screenshot(path=str(OUT / "chat-phone-source.png"))
                        page.evaluate("window.scrollTo(0, 0)")
                    page.screenshot(path=str(OUT / f"chat-{name}.png"))
                    page.get_by_role("tab", name="Index").click()
                    page.wait_for_selector("#articles table")
                    page.screenshot(path=str(OUT / f"index-{name}.png"), full_page=True)
                    if name == "desktop":
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
        "corpus": "seeds/",
        "browser": "Debian Chromium, headless, via Playwright; app served on 127.0.0.1",
        "runs_ms": [round(r, 1) for r in runs],
        "median_ms": round(statistics.median(runs), 1),
    }
    log(f"median time to answer: {result['median_ms']} ms; wrote", save("ui_latency", result))
    log("screenshots in", OUT)


if __name__ == "__main__":
    main()
