"""The chat's surroundings without a browser: the first screen (index summary, example
questions), the filters line and plain-word settings, the server's notes in a reader's words,
the agents' plain-text answers, and the route guard (fast; made-up articles)."""

from __future__ import annotations

import asyncio
import base64
import doctest
import importlib
import logging
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from rag import Pipeline
from rag.ask import FALLBACK, NO_MODEL_ANSWER
from rag.query import Query
from rag.types import Answer, Article, Manifest
from ui.filters import (
    NOT_BACKED,
    UNREACHABLE,
    filters_html,
    filters_now,
    filters_text,
    llm_configured,
    reader_note,
)
from ui.guard import LOGIN, READ_ONLY, Guard
from ui.overview import example_questions, overview_html, question_for

EVIL = "<script>alert(1)</script>"


@pytest.mark.parametrize(
    "module", ["ui.overview", "ui.filters", "ui.guard", "ui.render", "ui.story", "ui.agents"]
)
def test_docstring_examples(module: str) -> None:
    mod = importlib.import_module(module)
    assert doctest.testmod(mod, optionflags=doctest.ELLIPSIS).failed == 0


# --- the first screen --------------------------------------------------------------------------


def _art(doc_id: str, title: str, day: date | None, source: str = "", url: str = "") -> Article:
    return Article(doc_id, title, "Text.", published=day, outlet=source, url=url)


def test_example_questions_are_whole_questions_about_the_newest_subjects() -> None:
    arts = [
        _art("a", "Old news about budgets", date(2020, 1, 1)),
        _art("b", "Mayor Ana Ruiz said the Elwin bridge reopens on Friday after long repairs "
             "that cost the city four million dollars", date(2024, 6, 3), "north.example"),
        _art("c", "Port Elwin harbour council approves a new ferry route", date(2024, 6, 2),
             url="https://south.example/ferry"),
        _art("d", "Is the ferry late again?", date(2024, 6, 1)),
        _art("e", "Mayor Ana Ruiz said more", date(2024, 5, 1)),  # the same subject: once
        _art("f", "Harbour Council Approves New Ferry Route Today", date(2024, 4, 1)),  # Title Case
        _art("g", "", None),
    ]  # fmt: skip
    got = example_questions(arts)
    assert got == [
        "What did Mayor Ana Ruiz say?",
        "What did south.example report about Port Elwin?",  # the outlet from the URL's host
        "Is the ferry late again?",
    ]
    assert all(q.endswith("?") and "…" not in q for q in got)
    assert question_for(_art("x", f"{EVIL} Springfield bridge reopens", None)) == (
        "What happened with Springfield?"
    )


def test_overview_says_what_is_in_the_index() -> None:
    arts = [
        _art("a", "A", date(2013, 3, 12), "cnn.com"),
        _art("b", "B", date(2025, 6, 2), "cnn.com"),
        _art("c", "C", None, f"{EVIL}.example"),
        _art("d", "D", date(2020, 1, 1), url="https://www.bbc.co.uk/x"),
    ]
    m = Manifest(1, "mini", 384, 800, 100, 4, 9, "2025-12-06T21:51:07+00:00")
    html = overview_html(arts, m)
    assert "<b>4 articles</b> from 3 outlets (cnn.com, " in html and "bbc.co.uk" in html
    assert "published 12 March 2013 – 2 June 2025 (1 undated)" in html
    assert "last refreshed 6 December 2025, 21:51 UTC" in html
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "no articles" in overview_html([], None)
    assert "run `rag index build`" in overview_html([], None, "run `rag index build`")


# --- filters, settings, notes ------------------------------------------------------------------


def test_filters_line_in_plain_words() -> None:
    q = Query(outlets=("CNN",), date_from=date(2022, 6, 1), date_to=date(2022, 6, 30))
    assert filters_text(q) == "Only CNN · 1–30 June 2022 · answers copied from the articles"
    assert filters_text(Query()) == "All outlets · any date · answers copied from the articles"
    wide = Query(mode="bm25", date_from=date(2021, 12, 30), date_to=date(2022, 1, 2))
    assert filters_text(wide).startswith("All outlets · 30 December 2021 – 2 January 2022 · ")
    assert "matched by exact words" in filters_text(wide)
    assert filters_text(Query(date_to=date(2022, 1, 2))).split(" · ")[1] == "until 2 January 2022"
    written = Answer("q", "x [1]", False, llm="qwen-0.5b")
    assert "answer written by qwen-0.5b" in filters_text(Query(), written)
    html = filters_html(replace(q, outlets=(EVIL,)))
    assert "<script" not in html and 'class="clear-filters"' in html
    assert "clear-filters" not in filters_html(Query())  # nothing to clear
    assert "Filters on: Only CNN · 1–30 June 2022" in filters_now(
        {"outlets": ["CNN"], "date_from": "2022-06-01", "date_to": "2022-06-30"}
    )
    assert "YYYY-MM-DD" in filters_now({"date_from": "June"})


def test_llm_failures_are_told_in_a_readers_words(caplog: pytest.LogCaptureFixture) -> None:
    raw = (
        "no LLM configured: set RAG_LLM_URL (an OpenAI-compatible server) or run `rag llm "
        "install`; showing the extractive answer instead"
    )
    with caplog.at_level(logging.WARNING, logger="rag.ui"):
        assert reader_note(raw) == UNREACHABLE
    assert "RAG_LLM_URL" in caplog.text  # the details: in the server's log only
    assert reader_note(f"{NO_MODEL_ANSWER}; {FALLBACK}") == NOT_BACKED
    assert reader_note("") == "" and reader_note("sources differ") == "Sources differ."


def test_llm_choice_only_when_a_model_is_configured(fake_pipeline: Pipeline) -> None:
    idx = fake_pipeline.settings.index.index_dir
    s = fake_pipeline.settings.with_(llm_dir=idx / "no-models")
    bare = Pipeline(s, fake_pipeline.embedder)
    assert not llm_configured(bare)
    assert llm_configured(Pipeline(s.with_(llm_url="http://127.0.0.1:9/v1"), bare.embedder))
    assert llm_configured(Pipeline(s, bare.embedder, llm=object()))  # type: ignore[arg-type]


# --- agents' text ------------------------------------------------------------------------------


def test_agents_text_answer_has_citations_sources_and_filters(fake_pipeline: Pipeline) -> None:
    from ui.agents import tools

    ask, search = tools(fake_pipeline)
    text = ask("How long do cats sleep?")
    assert "[1]" in text and "\nSources:\n[1] " in text and "relevance " in text
    assert "All outlets · any date · answers copied from the articles" in text
    assert "sixteen hours" in text
    found = search("rocket launch", n=2)
    assert found.startswith("[1] ") and "[3]" not in found and "Florida" in found
    gr = pytest.importorskip("gradio")
    with pytest.raises(gr.Error, match="YYYY-MM-DD"):
        ask("cats?", date_from="soon")


# --- the route guard ---------------------------------------------------------------------------


def _call(guard: Guard, path: str, headers: list[tuple[bytes, bytes]] = ()) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "headers": list(headers)}
    asyncio.run(guard(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body


def test_guard_refuses_uploads_when_read_only_and_asks_mcp_for_the_login() -> None:
    async def inner(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"inner"})

    basic = base64.b64encode(b"ann:s3cret")
    ro = Guard(inner, read_only=True, login=None)
    assert _call(ro, "/gradio_api/upload") == (403, READ_ONLY.encode())
    assert _call(ro, "/gradio_api/upload/")[0] == 403
    assert _call(ro, "/gradio_api/mcp/")[0] == 200  # read-only without a login: open, as the page
    locked = Guard(inner, read_only=False, login=("ann", "s3cret"))
    assert _call(locked, "/gradio_api/upload")[0] == 200
    assert _call(locked, "/gradio_api/mcp/") == (401, LOGIN.encode())
    assert _call(locked, "/gradio_api/mcp/sse", [(b"authorization", b"Basic " + basic)])[0] == 200
    wrong = base64.b64encode(b"ann:guess")
    assert _call(locked, "/gradio_api/mcp/", [(b"authorization", b"Basic " + wrong)])[0] == 401
    assert _call(locked, "/gradio_api/mcp/", [(b"authorization", b"Basic !!")])[0] == 401
