"""App: the Gradio Blocks UI (chat, search, index); `build_app` makes it (ui/serve.py serves it).

The event handlers are in ui/handlers.py; `build_app` only lays out the components and wires
them to the handlers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from rag import follow, generation
from rag.config import MODES
from rag.errors import RagError
from rag.pipeline import Pipeline

from . import story, uploads
from .handlers import (
    PROGRESS,
    _corpus,
    _examples,
    _outlets,
    _status,
    chat_turn,
    record_vote,
    report_markdown,
    respond,
    search,
    set_refresh,
    show_turn,
    sources_panel,
    update_index,
)
from .index_view import articles_html
from .render import (
    EMPTY_CARDS,
    user_message,
)
from .session import ANSWER_MODES, Turn
from .sources_view import REFRESH_CHOICES

PLACEHOLDER = (
    "**Ask a question about the articles.**\n\n"
    "Each answer cites its passages as [n]: click one to see it, highlighted, beside the chat."
)
UPLOAD_TYPES = sorted({*uploads.EXTENSIONS, ".gz"})  # the browser's picker matches ".gz" only
TICK = 3.0  # seconds between checks of an open Index tab for a refresh done in the background


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
            concurrency_limit=1,  # one index write at a time, whatever RAG_CONCURRENCY says
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
            concurrency_limit=1,  # one index write at a time, whatever RAG_CONCURRENCY says
        )
    return app
