"""The Index tab's sources table in a real browser, following a background refresh of a feed
served on 127.0.0.1 (the fake embedder: fast). Needs /usr/bin/chromium (`make browser`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.ingest import follow
from tests.conftest import serve_app
from tests.ingest.test_follow import make, wait_for
from tests.localweb import Site, publish, story
from tests.ui.test_browser import open_page, shot

pytestmark = pytest.mark.browser


@pytest.fixture
def site() -> Iterator[Site]:
    with Site() as s:
        yield s


def test_sources_table_follows_a_refresh(
    browser: Any, tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import expect

    from ui.app import build_app

    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    stories = [story("harbour")]
    feed = publish(site, stories)
    p = make(tmp_path)
    p.build([feed])
    refresher = follow.Refresher(p.update, log=lambda line: None)
    app = build_app(p, refresher=refresher)
    page = open_page(browser, serve_app(app))
    try:
        page.get_by_role("tab", name="Index").click()
        row = page.locator("#sources-table #source-1")
        expect(row).to_contain_text(feed)
        expect(row.locator("td.status")).to_have_text("ok")
        counts = row.locator("td.n")  # new, changed, left the feed, articles
        expect(counts.nth(0)).to_have_text("1")
        expect(counts.nth(3)).to_have_text("1")
        expect(page.locator("#refresh-line")).to_contain_text("Scheduled refresh is off")

        stories.append(story("library"))  # news: a refresh in the background picks it up
        publish(site, stories)
        refresher.refresh_now()
        wait_for(lambda: refresher.refreshes == 1)
        expect(counts.nth(3)).to_have_text("2", timeout=20_000)  # the page noticed by itself
        expect(counts.nth(0)).to_have_text("1")
        expect(page.locator("#refresh-line")).to_contain_text("refreshed: 1 added")
        expect(page.locator("#status-articles td")).to_have_text("2")
        expect(page.locator("#articles")).to_contain_text("The library plan passes")

        page.locator("#refresh-every input").click()
        page.get_by_role("option", name="15m", exact=True).click()
        expect(page.locator("#refresh-line")).to_contain_text("Refreshes every 15m; next at")
        assert refresher.every == 900
        shot(page, "index-sources.png", full_page=True)
        assert page.dialogs == []
    finally:
        page.close()
        refresher.stop()
        app.close()
