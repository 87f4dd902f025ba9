"""Handlers: the app's event functions (a chat turn, search, votes, export, index updates,
the sources panel), taking the pipeline first, so tests call them without a server."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import gradio as gr

from rag.errors import IndexMissingError, InputError, RagError
from rag.ingest import follow
from rag.pipeline import Pipeline
from rag.query import Query
from rag.types import Answer, Article, BuildReport, Note

from . import uploads
from .filters import filters_html, reader_note
from .index_view import status_html
from .overview import example_questions, overview_html
from .render import EMPTY_CARDS, SEARCHING, cards_html, chat_message, esc, user_message
from .search_view import search_html
from .session import Turn, append_feedback, feedback_record, turn_at
from .sources_view import Schedule, sources_html
from .transcript import export_markdown

THINKING = "_Searching the articles…_"
EXPORT_DIR = Path(tempfile.gettempdir()) / "rag-news-exports"
PROGRESS = gr.Progress()  # the default that makes Gradio pass a progress tracker
Progress = Callable[..., Any]


# --- chat --------------------------------------------------------------------------------------


def respond(
    pipeline: Pipeline, message: str, history: list[dict[str, Any]]
) -> tuple[list, str, str]:
    """One chat turn without a session (the `/ask` API): (history, passage cards, "")."""
    try:
        answer = pipeline.ask(message)
    except RagError as e:
        raise gr.Error(str(e)) from None
    turn = sum(1 for m in history if m.get("role") == "assistant")
    history = [
        *history,
        {"role": "user", "content": user_message(message)},
        {"role": "assistant", "content": answer_message(answer, turn, Query())},
    ]
    return history, cards_html(answer, turn), ""


def answer_message(answer: Answer, turn: int, request: Query) -> str:
    """The chat message of an answer: with the filters line, the note in a reader's words."""
    return chat_message(answer, turn, filters_html(request, answer), reader_note(answer.note))


def answer_stream(
    pipeline: Pipeline, question: str, request: Query, held: Sequence[Turn] = ()
) -> Iterator[str | Answer]:
    """The answer as it is written: the text so far (str) while an LLM writes, then the
    checked `Answer`. Earlier turns let a follow-up ("and when was that?") stand alone."""
    history = [(t.answer.question, t.answer.text) for t in held]
    text = ""
    for part in pipeline.ask_stream(question, request, history=history):
        if isinstance(part, Answer):
            yield part
        else:
            text += part
            yield text


def chat_turn(
    pipeline: Pipeline,
    message: str,
    history: list[dict[str, Any]],
    held: list[Turn],
    panel: Mapping[str, Any] | None = None,
) -> Iterator[tuple[Any, ...]]:
    """One chat turn, streamed: yields (history, cards, question box, turns, export button).

    `panel`: the settings panel's raw values by `Query` field name. A `RagError` becomes the
    answer's text (marked ⚠), so the conversation stays whole.
    """
    q = " ".join((message or "").split())
    if not q:
        yield gr.skip(), gr.skip(), "", gr.skip(), gr.skip()
        return
    history = [
        *history,
        {"role": "user", "content": user_message(q)},
        {"role": "assistant", "content": THINKING},
    ]
    yield history, SEARCHING, "", held, gr.skip()
    t = len(held)
    answer: Answer | None = None
    try:
        request = Query.from_panel(panel or {})
        for part in answer_stream(pipeline, q, request, held):
            if isinstance(part, Answer):
                answer = part
            else:  # the LLM's answer so far; its citations are checked when it is complete
                partial = {"role": "assistant", "content": user_message(part) + " ▍"}
                history = [*history[:-1], partial]  # a new list: each yield is a snapshot
                yield history, gr.skip(), "", held, gr.skip()
        if answer is None:
            raise InputError("no answer came back; try again")
    except RagError as e:
        history = [*history[:-1], {"role": "assistant", "content": f"⚠ {user_message(str(e))}"}]
        yield history, EMPTY_CARDS, "", held, gr.skip()
        return
    history = [*history[:-1], {"role": "assistant", "content": answer_message(answer, t, request)}]
    held = [*held, Turn(answer, len(history) - 1)]
    download = gr.DownloadButton(value=export_file([x.answer for x in held]), interactive=True)
    yield history, cards_html(answer, t), "", held, download


def show_turn(value: str, held: Sequence[Turn]) -> Any:
    """The passage cards of turn `value` ("<turn>:<nonce>", set by the page's script)."""
    try:
        t = int(value.split(":")[0])
    except ValueError:
        return gr.skip()
    return cards_html(held[t].answer, t) if 0 <= t < len(held) else gr.skip()


def record_vote(index_dir: Path, held: Sequence[Turn], message: int, liked: Any) -> str:
    """Append a thumbs up/down on chat message `message` to the feedback file; a short note."""
    turn = turn_at(held, message)
    if turn is None:
        return ""
    if liked in (True, "Like"):
        vote = "up"
    elif liked in (False, "Dislike"):
        vote = "down"
    else:  # a vote taken back
        return ""
    append_feedback(index_dir, feedback_record(turn.answer, vote))
    return f"Thanks: your vote ({'helpful' if vote == 'up' else 'not helpful'}) was saved."


def export_file(answers: Sequence[Answer]) -> str:
    """Write the conversation as Markdown to a fresh temporary file; returns its path."""
    folder = EXPORT_DIR / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "conversation.md"
    when = datetime.now(timezone.utc).isoformat(timespec="seconds")
    path.write_text(export_markdown(answers, when), encoding="utf-8")
    return str(path)


def search(pipeline: Pipeline, query: str, n: float, panel: Mapping[str, Any]) -> str:
    """The Search tab: ranked passages with their scores, as HTML (the panel's retrieval
    choices apply; its answer choices do not)."""
    wanted = {f: v for f, v in panel.items() if f not in ("answer_mode", "endpoint")}
    request = Query.from_panel({**wanted, "k": n})
    return search_html(" ".join(query.split()), pipeline.search(query, request))


# --- index -------------------------------------------------------------------------------------


def report_markdown(
    r: BuildReport, saved: Sequence[Path] = (), problems: Sequence[str] = ()
) -> str:
    """What an update did, for the Index tab."""
    lines = [
        f"**Index updated** in {r.seconds:.1f} s: {r.added} added, {r.changed} changed, "
        f"{r.removed} removed, {r.unchanged} unchanged; {r.articles} articles, {r.chunks} "
        f"passages ({r.embedded} embedded, {r.reused} reused)."
    ]
    if saved:
        lines.append(f"\nSaved {len(saved)} uploaded file(s).")
    for p in problems:
        lines.append(f"\n- Not added: {user_message(p)}")
    for s in r.skipped[:20]:
        word = "Note on" if isinstance(s, Note) else "Skipped"
        lines.append(f"\n- {word} {user_message(Path(s.path).name)}: {user_message(s.reason)}")
    return "\n".join(lines)


def update_index(
    pipeline: Pipeline, paths: Sequence[str] | None, progress: Progress
) -> tuple[BuildReport, list[Path], list[str]]:
    """Save uploaded files under safe names, then update the index from its sources plus the
    uploads folder (a first build when there is no index): (report, saved, problems)."""
    idx = Path(pipeline.settings.index.index_dir)
    folder = idx / uploads.UPLOADS
    progress(0, desc="Reading articles")
    saved: list[Path] = []
    problems: list[str] = []
    for raw in paths or []:
        src = Path(raw)
        try:  # the browser's file name is only read for its extension and stem
            saved.append(uploads.save(src, src.name, folder))
        except RagError as e:
            problems.append(str(e))
        except OSError as e:
            problems.append(f"{src.name}: {e.strerror or e}")
    try:
        pipeline.status()
        fresh = False
    except IndexMissingError:
        fresh = True
    sources = follow.listed(idx)  # what `rag index update` refreshes (rag/ingest/follow.py)
    if folder.is_dir() and any(folder.iterdir()) and str(folder) not in sources:
        sources.append(str(folder))
    if not sources:
        raise InputError("nothing to index: upload article files first")

    def tick(stage: str, done: int, total: int) -> None:
        progress((done, total), desc=f"{stage}: {done}/{total} passages", unit="passages")

    if fresh:
        r = pipeline.build(sources, on_progress=tick)
    else:
        r = pipeline.update(sources, on_progress=tick)
    progress(1.0, desc="Switched to the new index")
    return r, saved, problems


# --- the app -----------------------------------------------------------------------------------


def _corpus(pipeline: Pipeline) -> list[tuple[Article, int]]:
    try:
        return pipeline.articles()
    except RagError:
        return []


def _examples(articles: Sequence[tuple[Article, int]]) -> list[dict[str, str]]:
    return [{"text": q, "display_text": q} for q in example_questions(a for a, _ in articles)]


def _outlets(articles: Sequence[tuple[Article, int]]) -> list[str]:
    return sorted({a.outlet for a, _ in articles if a.outlet})


def _overview(pipeline: Pipeline, rows: Sequence[tuple[Article, int]]) -> str:
    """The first screen's line on the index (what, from where, when, last refresh)."""
    try:
        manifest = pipeline.status()[1]
    except RagError as e:
        return overview_html([], None, str(e))
    return overview_html([a for a, _ in rows], manifest)


def _status(pipeline: Pipeline) -> str:
    try:
        gen, manifest, size = pipeline.status()
    except RagError as e:
        return f'<div class="cards empty" id="index-status">{esc(str(e))}</div>'
    return status_html(gen, manifest, size)


def schedule(refresher: follow.Refresher) -> Schedule:
    last = refresher.last
    return Schedule(
        refresher.every, refresher.next_at, last.line if last else "", refresher.running
    )


def sources_panel(index_dir: Path, refresher: follow.Refresher) -> str:
    """The Index tab's sources table: each source's last fetch, and the refresh schedule."""
    try:
        rows = follow.table(index_dir)
    except RagError as e:
        return f'<div class="cards empty" id="sources-table">{esc(str(e))}</div>'
    return sources_html(rows, schedule(refresher))


def set_refresh(index_dir: Path, refresher: follow.Refresher, value: str | None) -> str:
    """The Index tab's refresh setting: "15m", "1h", "off"... -> the sources table."""
    try:
        refresher.set_every(follow.parse_every(value))
    except RagError as e:
        raise gr.Error(str(e)) from None
    return sources_panel(index_dir, refresher)
