"""App: the Gradio Blocks UI (chat, search, index); `build_app` makes it, `launch` serves it.

The event handlers are module functions taking the pipeline first, so tests call them without a
server; `build_app` only lays out the components and wires them to the handlers.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import gradio as gr

from rag import follow, generation, serving
from rag.config import MODES
from rag.errors import IndexMissingError, InputError, RagError
from rag.pipeline import Pipeline
from rag.query import Query
from rag.serving import parse_auth
from rag.sources import Note
from rag.types import Answer, Article, BuildReport

from . import story, uploads
from .assets import CSS, JS
from .render import (
    EMPTY_CARDS,
    SEARCHING,
    articles_html,
    cards_html,
    chat_message,
    esc,
    example_questions,
    export_markdown,
    search_html,
    status_html,
    user_message,
)
from .session import ANSWER_MODES, Turn, append_feedback, feedback_record, turn_at
from .sources_view import REFRESH_CHOICES, Schedule, sources_html

PLACEHOLDER = (
    "**Ask a question about the articles.**\n\n"
    "Each answer cites its passages as [n]: click one to see it, highlighted, beside the chat."
)
THINKING = "_Searching the articles…_"
EXPORT_DIR = Path(tempfile.gettempdir()) / "rag-news-exports"
PROGRESS = gr.Progress()  # the default that makes Gradio pass a progress tracker
UPLOAD_TYPES = sorted({*uploads.EXTENSIONS, ".gz"})  # the browser's picker matches ".gz" only
Progress = Callable[..., Any]
TICK = 3.0  # seconds between checks of an open Index tab for a refresh done in the background
IDLE_POLL = 0.05  # seconds between an idle server's looks for work (see `idle_gently`)


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
        {"role": "assistant", "content": chat_message(answer, turn)},
    ]
    return history, cards_html(answer, turn), ""


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
        for part in answer_stream(pipeline, q, Query.from_panel(panel or {}), held):
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
    history = [*history[:-1], {"role": "assistant", "content": chat_message(answer, t)}]
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
    idx = Path(pipeline.settings.index_dir)
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
    sources = follow.listed(idx)  # what `rag index update` refreshes (rag/follow.py)
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
    pairs = example_questions(a for a, _ in articles)
    return [{"text": q, "display_text": label} for label, q in pairs]


def _outlets(articles: Sequence[tuple[Article, int]]) -> list[str]:
    return sorted({a.source for a, _ in articles if a.source})


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


def build_app(
    pipeline: Pipeline, read_only: bool = False, refresher: follow.Refresher | None = None
) -> gr.Blocks:
    """Three tabs: Chat (answers beside their passages), Search (ranked chunks), Index.

    `read_only`: the Index tab only shows what is indexed; there is no upload, update or
    remove, neither in the page nor in the API. `refresher`: the background refresh of the
    sources (default: one that is off until the Index tab's setting turns it on).
    """
    s = pipeline.settings
    idx = Path(s.index_dir)
    refresher = refresher or follow.Refresher(pipeline.update)
    first = _corpus(pipeline)

    with gr.Blocks(title="News QA with sources") as app:
        turns = gr.State([])  # list[Turn]
        gr.Markdown("## News questions, answered with sources", elem_id="title")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat-tab"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=320):
                        chat = gr.Chatbot(
                            label="Chat",
                            height=540,
                            placeholder=PLACEHOLDER,
                            elem_id="chat",
                            examples=_examples(first),  # type: ignore[arg-type]
                            feedback_options=("Like", "Dislike"),
                        )
                        box = gr.Textbox(
                            placeholder="Ask about the news… (Enter sends)",
                            show_label=False,
                            submit_btn=True,
                            elem_id="question",
                            max_lines=4,
                            autofocus=True,
                        )
                        with gr.Row():
                            clear = gr.Button("Clear chat", size="sm", elem_id="clear")
                            export = gr.DownloadButton(
                                "Export as Markdown", size="sm", interactive=False, elem_id="export"
                            )
                        note = gr.Markdown("", elem_id="feedback-note")
                        with gr.Accordion("Settings", open=False, elem_id="settings"):
                            k = gr.Slider(1, 10, value=min(s.k, 10), step=1, label="Passages")
                            mode = gr.Radio(list(MODES), value=s.mode, label="Retrieval")
                            with gr.Row():
                                date_from = gr.Textbox(label="From", placeholder="YYYY-MM-DD")
                                date_to = gr.Textbox(label="To", placeholder="YYYY-MM-DD")
                            outlet = gr.Dropdown(
                                _outlets(first),
                                multiselect=True,
                                allow_custom_value=True,
                                label="Outlets (all when empty)",
                            )
                            answer_mode = gr.Radio(
                                list(ANSWER_MODES),
                                value="LLM" if s.answer_mode == "llm" else "extractive",
                                label="Answer mode",
                                info="LLM: written by the configured model (RAG_LLM_URL / "
                                "RAG_LLM_PATH), every citation checked",
                            )
                            names = pipeline.endpoints.names()
                            endpoint = gr.Dropdown(
                                names,
                                value=names[0],
                                label="LLM endpoint (configured by the server's owner)",
                                visible=len(names) > 1,
                                elem_id="endpoint",
                            )
                    with gr.Column(scale=2, min_width=320):
                        cards = gr.HTML(EMPTY_CARDS, elem_id="cards")
                pick = gr.Textbox(elem_id="turn-pick", visible="hidden", show_label=False)
                story_pick = gr.Textbox(elem_id=story.PICK, visible="hidden", show_label=False)

            with gr.Tab("Search", id="search-tab"):
                with gr.Row():
                    query = gr.Textbox(
                        placeholder="Search the passages…",
                        show_label=False,
                        submit_btn="Search",
                        elem_id="search-box",
                        scale=4,
                    )
                    n_results = gr.Slider(1, 50, value=10, step=1, label="Results", scale=1)
                results = gr.HTML('<div class="cards empty">Ranked passages appear here.</div>')

            with gr.Tab("Index", id="index-tab"):
                sources = gr.HTML(sources_panel(idx, refresher), elem_id="sources")
                with gr.Row(visible=not read_only):
                    refresh_pick = gr.Dropdown(
                        REFRESH_CHOICES,
                        value=follow.every_text(refresher.every),
                        allow_custom_value=True,
                        label="Refresh the sources (feeds, pages by URL) every",
                        elem_id="refresh-every",
                        scale=0,
                        min_width=300,
                    )
                with gr.Row(equal_height=False):
                    with gr.Column(scale=1, min_width=320):
                        status = gr.HTML(_status(pipeline), elem_id="status")
                        report = gr.Markdown("", elem_id="index-report")
                        if read_only:
                            gr.Markdown(
                                "This server is read-only: articles are added by its owner.",
                                elem_id="read-only",
                            )
                        with gr.Column(visible=not read_only, elem_id="index-edit"):
                            files = gr.File(
                                label="Add articles: .txt .md .html .jsonl(.gz) .xml/.rss/.atom, "
                                f"up to {uploads.MAX_BYTES // 2**20} MB each",
                                file_count="multiple",
                                file_types=UPLOAD_TYPES,
                                height=150,
                                elem_id="upload",
                            )
                            update = gr.Button("Update index", variant="primary", elem_id="update")
                            remove_pick = gr.Dropdown(
                                [],
                                label="Remove an article (later updates keep it out)",
                                elem_id="remove-pick",
                            )
                            remove = gr.Button(
                                "Remove this article", variant="stop", size="sm", elem_id="remove"
                            )
                    with gr.Column(scale=1, min_width=320):
                        listing = gr.HTML("", elem_id="articles")

        # --- chat wiring -------------------------------------------------------------------

        # the panel's components by `Query` field name; handlers get the values by name
        panel = {
            "k": k,
            "mode": mode,
            "date_from": date_from,
            "date_to": date_to,
            "outlets": outlet,
            "answer_mode": answer_mode,
            "endpoint": endpoint,
        }
        settings_in = list(panel.values())
        chat_in = [box, chat, turns, *settings_in]
        chat_out = [chat, cards, box, turns, export]

        def on_chat(message: str, history: list, held: list, *values: Any) -> Iterator[Any]:
            yield from chat_turn(
                pipeline, message, history, held, dict(zip(panel, values, strict=True))
            )

        box.submit(on_chat, chat_in, chat_out, api_name="chat")

        def pick_example(evt: gr.SelectData) -> str:
            value = evt.value if isinstance(evt.value, dict) else {}
            return str(value.get("text", ""))

        chat.example_select(pick_example, None, box, api_visibility="private").then(
            on_chat, chat_in, chat_out, api_visibility="private"
        )
        pick.change(
            show_turn, [pick, turns], cards, api_visibility="private", show_progress="hidden"
        )
        story_pick.change(  # a card's story link: the story's timeline in the panel
            lambda value: story.show_story(pipeline, value),
            story_pick,
            cards,
            api_visibility="private",
            show_progress="hidden",
        )

        def on_vote(held: list[Turn], evt: gr.LikeData) -> str:
            message = evt.index if isinstance(evt.index, int) else evt.index[0]
            return record_vote(idx, held, message, evt.liked)

        chat.like(on_vote, turns, note, api_visibility="private")

        def clear_chat() -> tuple[Any, ...]:
            return [], [], EMPTY_CARDS, gr.DownloadButton(value=None, interactive=False), ""

        cleared = [chat, turns, cards, export, note]
        clear.click(clear_chat, None, cleared, api_visibility="private")
        chat.clear(clear_chat, None, cleared, api_visibility="private")

        # the single-call API, for scripts: (question, history) -> (history, cards, "")
        api = gr.Button(visible=False)
        api.click(
            lambda m, h: respond(pipeline, m, h), [box, chat], [chat, cards, box], api_name="ask"
        )

        # --- search wiring -----------------------------------------------------------------

        def on_search(q: str, n: float, *values: Any) -> str:
            try:
                return search(pipeline, q, n, dict(zip(panel, values, strict=True)))
            except RagError as e:
                raise gr.Error(str(e)) from None

        query.submit(on_search, [query, n_results, *settings_in], results, api_name="search")

        # --- index wiring ------------------------------------------------------------------

        def refreshed() -> tuple[Any, ...]:
            rows = _corpus(pipeline)
            choices = [(f"{a.title[:80] or a.doc_id} ({a.doc_id})", a.doc_id) for a, _ in rows]
            return (
                _status(pipeline),
                articles_html(rows),
                gr.Dropdown(choices=choices, value=None),
                gr.Chatbot(examples=_examples(rows)),  # type: ignore[arg-type]
                gr.Dropdown(choices=_outlets(rows)),
            )

        refresh_out = [status, listing, remove_pick, chat, outlet]
        app.load(refreshed, None, refresh_out, api_visibility="private", show_progress="hidden")

        # a refresh in the background: the sources table follows it; the rest when it is done
        seen = gr.State(generation.generation_id(idx))
        timer = gr.Timer(TICK)

        def on_tick(was: str | None) -> tuple[Any, ...]:
            gen = generation.generation_id(idx)
            table = sources_panel(idx, refresher)
            if gen == was:
                return table, gr.skip(), gr.skip(), gr.skip(), was
            rows = _corpus(pipeline)
            choices = [(f"{a.title[:80] or a.doc_id} ({a.doc_id})", a.doc_id) for a, _ in rows]
            listing_html = articles_html(rows)
            return table, _status(pipeline), listing_html, gr.Dropdown(choices=choices), gen

        timer.tick(
            on_tick,
            seen,
            [sources, status, listing, remove_pick, seen],
            api_visibility="private",
            show_progress="hidden",
        )

        def on_update(paths: list[str] | None, progress: gr.Progress = PROGRESS) -> tuple[Any, ...]:
            try:
                r, saved, problems = update_index(pipeline, paths, progress)
            except RagError as e:
                raise gr.Error(str(e)) from None
            return (*refreshed(), report_markdown(r, saved, problems), None)

        if read_only:  # no index-changing endpoints at all: not in the page, not in the API
            return app
        refresh_pick.change(
            lambda value: set_refresh(idx, refresher, value),
            refresh_pick,
            sources,
            api_visibility="private",
            show_progress="hidden",
        )
        update.click(
            on_update,
            files,
            [*refresh_out, report, files],
            api_name="update",
            concurrency_id="index",
        )

        def on_remove(doc_id: str | None) -> tuple[Any, ...]:
            if not doc_id:
                raise gr.Error("pick an article to remove first")
            try:
                r = pipeline.remove([doc_id])
            except RagError as e:
                raise gr.Error(str(e)) from None
            msg = (
                f"**Removed** {user_message(doc_id)}: {r.articles} articles, {r.chunks} passages "
                "left. Later updates keep it out."
            )
            return (*refreshed(), msg)

        remove.click(
            on_remove,
            remove_pick,
            [*refresh_out, report],
            api_name="remove",
            concurrency_id="index",
        )
    return app


# --- serving -----------------------------------------------------------------------------------


def launch_options() -> dict[str, Any]:
    """The `launch()` arguments that style the page and wire the citation links."""
    return {"css": CSS + story.CSS, "js": story.with_script(JS), "max_file_size": uploads.MAX_BYTES}


def launch(
    pipeline: Pipeline,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: str | tuple[str, str] | None = None,
    read_only: bool | None = None,
    refresh: float | None = None,
    refresh_at_once: bool = False,
    **kwargs: Any,
) -> gr.Blocks:
    """Serve the app (blocking unless `prevent_thread_lock=True`); returns it.

    `auth` ("user:password", else the environment's RAG_AUTH) asks for a login first. Serving
    beyond loopback needs a login; `read_only` (default: when others may connect without one)
    leaves out uploads, updates and removals, in the page and in the API. `refresh`: update
    from the sources list every so many seconds in the background (`refresh_at_once`: the
    first time now); the chat answers from the live index and switches when a new one is in.
    """
    login = parse_auth(auth if auth is not None else os.environ.get("RAG_AUTH"))
    if read_only is None:
        read_only = serving.read_only(host, login)
    if read_only and not serving.loopback(host):
        print(
            f"serving {host} read-only: the index cannot be changed from the app", file=sys.stderr
        )
    refresher = follow.Refresher(pipeline.update, refresh, at_once=refresh_at_once)
    app = build_app(pipeline, read_only=read_only, refresher=refresher)
    app.refresher = refresher  # type: ignore[attr-defined]  # for whoever stops it
    if refresh:
        refresher.start()
    idle_gently(app)
    try:
        app.launch(server_name=host, server_port=port, auth=login, **{**launch_options(), **kwargs})
    except OSError as e:
        raise InputError(
            f"cannot listen on {host}:{port} ({_first_line(e)}); is another server using it? "
            "pass --port N"
        ) from None
    return app


def idle_gently(app: gr.Blocks, every: float = IDLE_POLL) -> None:
    """Make Gradio's queue look for work every `every` seconds when idle, not every 1 ms (its
    Linux default: 5-8 % of a core for an idle server; bench/refresh.py). A request then waits
    at most `every` longer to start."""
    queue = getattr(app, "_queue", None)
    if queue is not None and hasattr(queue, "sleep_when_free"):
        queue.sleep_when_free = max(queue.sleep_when_free, every)
        queue.progress_update_sleep_when_free = max(
            getattr(queue, "progress_update_sleep_when_free", 0.0), 5 * every
        )


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
