"""The UI without a browser: session records, settings, uploads, and the app's handlers over a
pipeline with the fake embedder (fast)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from rag import Pipeline
from rag.errors import InputError
from rag.query import Query
from rag.types import Answer
from tests.conftest import InFlight
from ui import uploads
from ui.session import Turn, append_feedback, feedback_record, turn_at

gr = pytest.importorskip("gradio")

# --- session -----------------------------------------------------------------------------------


def test_feedback_record_and_file(fake_pipeline: Pipeline, tmp_path: Path) -> None:
    answer = fake_pipeline.ask("How long do cats sleep?")
    assert answer.citations
    rec = feedback_record(answer, "up", datetime(2025, 5, 6, 7, 8, 9))
    assert rec["time"] == "2025-05-06T07:08:09" and rec["vote"] == "up"
    assert rec["question"] == "How long do cats sleep?" and rec["answer"] == answer.text
    c = rec["citations"][0]
    art = answer.citations[0].hit.article
    assert c["sentence"] == art.text[c["sentence_start"] : c["sentence_end"]]
    assert c["doc_id"] == art.doc_id and c["supported"] is True
    path = append_feedback(tmp_path / "ix", rec)
    append_feedback(tmp_path / "ix", feedback_record(answer, "down"))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert path.name == "feedback.jsonl" and [r["vote"] for r in lines] == ["up", "down"]
    with pytest.raises(InputError):
        feedback_record(answer, "meh")


def test_turn_at() -> None:
    turns = [Turn(Answer("a", "x", False), 1), Turn(Answer("b", "y", False), 3)]
    assert turn_at(turns, 3) is turns[1] and turn_at(turns, 2) is None


def test_query_from_the_settings_panel() -> None:
    got = Query.from_panel(
        {
            "k": 3,
            "mode": "bm25",
            "date_from": "2025-01-01",
            "date_to": " 2025-02-01 ",
            "outlets": ["cnn.com", " "],
        }
    )
    assert got.k == 3 and got.mode == "bm25" and got.outlets == ("cnn.com",)
    assert got.date_from == date(2025, 1, 1) and got.date_to == date(2025, 2, 1)
    assert Query.from_panel({"k": None, "date_from": ""}).date_from is None
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        Query.from_panel({"date_from": "yesterday"})
    with pytest.raises(InputError, match="empty"):
        Query.from_panel({"date_from": "2025-02-01", "date_to": "2025-01-01"})
    with pytest.raises(InputError, match="unknown request field"):
        Query.from_panel({"llm_key": "x"})  # only request fields: never a server setting


# --- uploads -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../etc/passwd.txt", "passwd-abc.txt"),
        ("C:\\Users\\x\\news feed.RSS", "news_feed-abc.rss"),
        ("<script>.html", "script-abc.html"),
        ("export.JSONL.gz", "export-abc.jsonl.gz"),
        ("...md", "upload-abc.md"),
    ],
)
def test_safe_name(name: str, expected: str) -> None:
    assert uploads.safe_name(name, "abc") == expected


@pytest.mark.parametrize("name", ["run.sh", "a.txt.exe", "x.gz", ".txt", "notes"])
def test_other_types_are_refused(name: str) -> None:
    with pytest.raises(InputError, match="not an article file"):
        uploads.extension(name)


def test_save_checks_size_and_never_uses_the_name_as_a_path(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("date 2025-01-01\nHello.")
    folder = tmp_path / "ix" / "uploads"
    saved = uploads.save(src, "../../../evil name.txt", folder)
    assert saved.parent == folder and saved.name.startswith("evil_name-")
    assert saved.read_text() == src.read_text()
    assert uploads.save(src, "../../../evil name.txt", folder) == saved  # same content, same file
    with pytest.raises(InputError, match="limit"):
        uploads.save(src, "big.txt", folder, max_bytes=4)
    with pytest.raises(InputError, match="not an article file"):
        uploads.save(src, "x.php", folder)
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(InputError, match="empty"):
        uploads.save(tmp_path / "empty.txt", "empty.txt", folder)
    assert sorted(p.name for p in folder.iterdir()) == [saved.name]


# --- the app's handlers ------------------------------------------------------------------------


def _last(gen: Any) -> tuple[Any, ...]:
    return list(gen)[-1]


def test_chat_turn_streams_then_answers(fake_pipeline: Pipeline) -> None:
    from ui.handlers import THINKING, chat_turn

    gen = chat_turn(fake_pipeline, " How long  do cats sleep? ", [], [], {"k": 5})
    history, cards, box, held, _ = next(gen)
    assert history[-1]["content"] == THINKING and box == "" and held == []
    history, cards, box, held, download = _last(gen)
    assert history[0]["content"] == "How long do cats sleep?"
    assert 'class="cite"' in history[1]["content"] and "turn-0" in history[1]["content"]
    assert "All outlets · any date · answers copied from the articles" in history[1]["content"]
    assert 'data-turn="0"' in cards and 'id="passage-1"' in cards
    assert len(held) == 1 and held[0].message == 1
    exported = Path(download.value["path"] if isinstance(download.value, dict) else download.value)
    assert "How long do cats sleep?" in exported.read_text()

    # a second turn: its own number; the first turn's passages can be shown again
    history, cards, _, held, _ = _last(
        chat_turn(fake_pipeline, "When did the rocket launch?", history, held)
    )
    assert len(held) == 2 and held[1].message == 3 and 'data-turn="1"' in cards
    from ui.handlers import show_turn

    assert 'data-turn="0"' in show_turn("0:123", held)
    assert isinstance(show_turn("9:1", held), type(gr.skip()))


def test_every_answer_carries_its_filters_and_failures_in_a_readers_words(
    fake_pipeline: Pipeline,
) -> None:
    from ui.handlers import chat_turn

    panel = {"outlets": ["cnn.com"], "date_from": "2024-05-01", "date_to": "2024-05-31"}
    history, *_ = _last(chat_turn(fake_pipeline, "When did the rocket launch?", [], [], panel))
    content = history[-1]["content"]
    assert "Only cnn.com · 1–31 May 2024 · answers copied from the articles" in content
    assert 'class="clear-filters"' in content
    asked = {"answer_mode": "LLM"}  # no model is configured: the reader is told in plain words
    history, *_ = _last(chat_turn(fake_pipeline, "How long do cats sleep?", [], [], asked))
    content = history[-1]["content"]
    assert "The writing model could not be reached" in content and "RAG_LLM" not in content


def test_chat_turn_errors_become_a_visible_message(fake_pipeline: Pipeline) -> None:
    from ui.handlers import chat_turn

    history, cards, _, held, _ = _last(
        chat_turn(fake_pipeline, "cats?", [], [], {"date_from": "someday"})
    )
    assert history[-1]["content"].startswith("⚠ ") and "YYYY\\-MM\\-DD" in history[-1]["content"]
    assert held == [] and "Sources appear here" in cards
    assert next(chat_turn(fake_pipeline, "   ", [], []))[2] == ""  # an empty question: nothing


def test_record_vote(fake_pipeline: Pipeline) -> None:
    from ui.handlers import record_vote

    held = [Turn(fake_pipeline.ask("How long do cats sleep?"), 1)]
    idx = fake_pipeline.settings.index.index_dir
    assert record_vote(idx, held, 0, True) == ""  # the user's own message
    assert "saved" in record_vote(idx, held, 1, False)
    assert record_vote(idx, held, 1, None) == ""
    lines = (idx / "feedback.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["vote"] == "down"


def test_update_index_saves_uploads_safely_and_reports(
    fake_pipeline: Pipeline, tmp_path: Path
) -> None:
    from ui.handlers import report_markdown, update_index

    up = tmp_path / "browser" / "Moon landing (draft).md"
    up.parent.mkdir()
    up.write_text("# Moon base opens\n\nAstronauts opened the moon base on Sunday.")
    bad = tmp_path / "browser" / "evil.exe"
    bad.write_text("MZ")
    calls: list[tuple[Any, str]] = []
    report, saved, problems = update_index(
        fake_pipeline, [str(up), str(bad)], lambda p, desc="", **_: calls.append((p, desc))
    )
    assert report.added == 1 and report.unchanged == 3 and len(saved) == 1
    assert saved[0].parent == fake_pipeline.settings.index.index_dir / "uploads"
    assert problems and "not an article file" in problems[0]
    assert calls[0] == (0, "Reading articles") and calls[-1][0] == 1.0
    assert any(isinstance(p, tuple) for p, _ in calls)  # embedding progress
    assert "moon base" in fake_pipeline.ask("When did the moon base open?").text.lower()
    text = report_markdown(report, saved, problems)
    assert "1 added" in text and "Not added" in text
    # the uploads folder is now one of the index's sources: an update keeps the article
    assert update_index(fake_pipeline, None, lambda *a, **k: None)[0].unchanged == 4


def test_search_and_respond(fake_pipeline: Pipeline) -> None:
    from ui.handlers import respond, search

    out = search(fake_pipeline, "rocket launch", 2, {"mode": "hybrid", "answer_mode": "LLM"})
    assert 'id="result-1"' in out and "relevance " in out
    history, cards, box = respond(fake_pipeline, "How long do cats sleep?", [])
    assert box == "" and 'id="passage-1"' in cards and history[-1]["role"] == "assistant"
    with pytest.raises(gr.Error):
        respond(fake_pipeline, "   ", [])


def test_parse_auth() -> None:
    from rag.cli.serving import parse_auth

    assert parse_auth(None) is None and parse_auth("") is None
    assert parse_auth("ann:pw:x") == ("ann", "pw:x")
    for bad in ("ann", ":pw", "ann:"):
        with pytest.raises(InputError):
            parse_auth(bad)


def test_build_app_wires_the_three_tabs(fake_pipeline: Pipeline) -> None:
    from ui.app import build_app
    from ui.serve import launch_options

    app = build_app(fake_pipeline)
    names = {d.api_name for d in app.fns.values()}
    assert {"chat", "ask", "search", "update", "remove", "ask_text", "search_text"} <= names
    opts = launch_options()
    assert "a.cite" in opts["js"] and ".card.active" in opts["css"]


def test_every_api_endpoint_has_named_parameters(fake_pipeline: Pipeline) -> None:
    """view_api shows `message`, `k`, `date_from`... for every endpoint, never `param_3`."""
    from ui.app import build_app

    info = build_app(fake_pipeline).get_api_info()["named_endpoints"]
    names = {e: [p["parameter_name"] for p in v["parameters"]] for e, v in info.items()}
    settings = ["k", "mode", "date_from", "date_to", "outlets", "answer_mode", "endpoint"]
    assert names["/chat"] == ["message", "history", *settings]
    assert names["/search"] == ["query", "n", *settings]
    assert names["/ask"] == ["question", "history"]
    assert names["/ask_text"] == ["question", "outlets", "date_from", "date_to"]
    assert names["/update"] == ["files"] and names["/remove"] == ["doc_id"]
    assert not [(e, n) for e, ns in names.items() for n in ns if n.startswith("param_")]


def test_settings_in_plain_words_and_the_llm_choice_only_with_a_model(
    fake_pipeline: Pipeline,
) -> None:
    from ui.app import build_app

    def component(app: Any, label_start: str) -> Any:
        return next(
            b for b in app.blocks.values() if str(getattr(b, "label", "")).startswith(label_start)
        )

    s = fake_pipeline.settings.with_(llm_dir=fake_pipeline.settings.index.index_dir / "none")
    bare = build_app(Pipeline(s, fake_pipeline.embedder))
    mode = component(bare, "How to find passages")
    assert [label for label, _ in mode.choices] == [
        "Both (recommended)", "Match by meaning", "Match exact words"
    ]  # fmt: skip
    assert component(bare, "Passages to read").maximum == 10
    assert component(bare, "How the answer is made").visible is False  # no model: no choice
    with_llm = build_app(Pipeline(s.with_(llm_url="http://127.0.0.1:9/v1"), fake_pipeline.embedder))
    assert component(with_llm, "How the answer is made").visible is True


def test_launch_with_auth_asks_for_a_login(
    fake_pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket
    import urllib.error
    import urllib.request

    from ui.serve import launch

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    monkeypatch.setenv("RAG_AUTH", "ann:s3cret")
    app = launch(fake_pipeline, port=port, prevent_thread_lock=True, quiet=True)
    try:
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=10)
        assert err.value.code == 401
        assert app.server_name == "127.0.0.1"
    finally:
        app.close()


def test_read_only_server_has_no_upload_route(fake_pipeline: Pipeline) -> None:
    """Issue 25, 8: `rag serve --host 0.0.0.0 --allow-anonymous` is read-only, so Gradio's
    upload route refuses a file (it used to save it and return its path); a writable server
    on loopback still takes it (the test reaches the route)."""
    import httpx

    from bench.common import free_port
    from ui.serve import launch

    def upload(port: int) -> httpx.Response:
        files = {"files": ("note.txt", b"date 2025-01-01\nA note.", "text/plain")}
        return httpx.post(f"http://127.0.0.1:{port}/gradio_api/upload", files=files, timeout=30)

    port = free_port()
    app = launch(fake_pipeline, host="0.0.0.0", port=port, prevent_thread_lock=True, quiet=True)
    try:
        refused = upload(port)
        assert refused.status_code == 403 and "read-only" in refused.text
        assert "note.txt" not in refused.text and "/tmp" not in refused.text
    finally:
        app.close()
    port = free_port()
    app = launch(fake_pipeline, host="127.0.0.1", port=port, prevent_thread_lock=True, quiet=True)
    try:
        taken = upload(port)
        assert taken.status_code == 200 and taken.json()[0].endswith("note.txt")
    finally:
        app.close()


@pytest.mark.parametrize("limit", [1, 3])
def test_serve_answers_as_many_chats_at_once_as_configured(fake_pipeline, limit: int) -> None:
    """RAG_CONCURRENCY chats are answered at once over the real API; the rest wait their turn."""
    import threading
    import time

    from gradio_client import Client

    from bench.common import free_port
    from ui.serve import launch

    flight = InFlight()
    ask = fake_pipeline.ask

    def slow_ask(*args: Any, **kwargs: Any) -> Any:
        with flight:
            time.sleep(0.4)
        return ask(*args, **kwargs)

    fake_pipeline.ask = slow_ask  # type: ignore[method-assign]
    fake_pipeline.settings = fake_pipeline.settings.with_(concurrency=limit)
    port = free_port()
    app = launch(fake_pipeline, port=port, prevent_thread_lock=True, quiet=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        clients = [Client(url, verbose=False) for _ in range(3)]
        threads = [
            threading.Thread(
                target=c.predict, args=("Who leads the talks?", []), kwargs={"api_name": "/ask"}
            )
            for c in clients
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert flight.most == limit
    finally:
        app.close()
