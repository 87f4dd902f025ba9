"""App: the Gradio Blocks UI (chat, search, index); `build_app` makes it (ui/serve.py serves it).

The components are laid out in ui/layout.py, the event handlers are in ui/handlers.py; this
module wires them. Every API endpoint has named parameters (`gradio_client`'s view_api shows
`message`, `k`, `date_from`, ... not `param_3`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from rag.errors import RagError
from rag.index import generations as generation
from rag.ingest import follow
from rag.pipeline import Pipeline
from rag.query import Query

from . import layout, story
from .agents import serve_tools
from .filters import filtered, filters_now
from .handlers import (
    PROGRESS,
    _corpus,
    _examples,
    _outlets,
    _overview,
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
from .render import EMPTY_CARDS, user_message
from .session import Turn

TICK = 3.0  # seconds between checks of an open Index tab for a refresh done in the background
FILTERS = ("date_from", "date_to", "outlets")  # the settings that narrow the articles


def build_app(
    pipeline: Pipeline, read_only: bool = False, refresher: follow.Refresher | None = None
) -> gr.Blocks:
    """Three tabs: Chat (answers beside their passages), Search (ranked passages), Index.

    `read_only`: the Index tab only shows what is indexed; there is no upload, update or
    remove, neither in the page nor in the API. `refresher`: the background refresh of the
    sources (default: one that is off until the Index tab's setting turns it on).
    """
    idx = Path(pipeline.settings.index.index_dir)
    refresher = refresher or follow.Refresher(pipeline.update)
    rows = _corpus(pipeline)

    with gr.Blocks(title="News QA with sources") as app:
        turns = gr.State([])  # list[Turn]
        gr.Markdown("# News questions, answered with sources", elem_id="title")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat-tab"):
                first = _overview(pipeline, rows)
                chat = layout.chat_tab(pipeline, first, _examples(rows), _outlets(rows))
            with gr.Tab("Search", id="search-tab"):
                found = layout.search_tab()
            with gr.Tab("Index", id="index-tab"):
                every = layout.refresh_every(refresher)
                panel = sources_panel(idx, refresher)
                index = layout.index_tab(read_only, panel, _status(pipeline), every)
        _wire_chat(pipeline, chat, turns)
        _wire_filters(chat)
        _wire_search(pipeline, found, chat.panel)
        serve_tools(pipeline)  # /ask_text and /search_text: the MCP tools ask and search
        _wire_index(app, pipeline, index, chat, read_only, refresher)
    return app


def _wire_chat(pipeline: Pipeline, c: layout.ChatTab, turns: gr.State) -> None:
    """A question (typed or an example), a citation's older answer, a story, votes, clearing."""
    outputs = [c.chat, c.cards, c.box, turns, c.export]

    def on_chat(message: str, history: list, held: list, **settings: Any) -> Iterator[Any]:
        yield from chat_turn(pipeline, message, history, held, settings)

    chat_in: dict[str, Any] = {"inputs": [c.box, c.chat, turns], "inputs_kwargs": c.panel}
    c.box.submit(on_chat, **chat_in, outputs=outputs, api_name="chat")

    def pick_example(evt: gr.SelectData) -> str:
        value = evt.value if isinstance(evt.value, dict) else {}
        return str(value.get("text", ""))

    c.chat.example_select(pick_example, None, c.box, api_visibility="private").then(
        on_chat, **chat_in, outputs=outputs, api_visibility="private"
    )
    quiet: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
    c.pick.change(show_turn, [c.pick, turns], c.cards, **quiet)

    def on_story(value: str) -> str:  # a card's story link: the story's timeline in the panel
        return story.show_story(pipeline, value)

    c.story_pick.change(on_story, c.story_pick, c.cards, **quiet)

    def on_vote(held: list[Turn], evt: gr.LikeData) -> str:
        message = evt.index if isinstance(evt.index, int) else evt.index[0]
        return record_vote(Path(pipeline.settings.index.index_dir), held, message, evt.liked)

    c.chat.like(on_vote, turns, c.note, api_visibility="private")

    def clear_chat() -> tuple[Any, ...]:
        return [], [], EMPTY_CARDS, gr.DownloadButton(value=None, interactive=False), ""

    cleared = [c.chat, turns, c.cards, c.export, c.note]
    c.clear.click(clear_chat, None, cleared, api_visibility="private")
    c.chat.clear(clear_chat, None, cleared, api_visibility="private")

    def ask_chat(question: str, history: list) -> tuple[list, str, str]:
        """One answer for scripts: (question, chat history) -> (history, sources HTML, "")."""
        return respond(pipeline, question, history)

    # a hidden button carries the single-call API `/ask` (the plain-text one is `/ask_text`)
    hidden = gr.Button(visible=False)
    hidden.click(ask_chat, [c.box, c.chat], [c.chat, c.cards, c.box], api_name="ask")


def _wire_filters(c: layout.ChatTab) -> None:
    """The line above the question box says which filters the next question uses, with a
    button (also pressed by an answer's "Clear filters" link) that clears them."""
    wanted = [c.panel[f] for f in FILTERS]

    def on_filters(date_from: str, date_to: str, outlets: list[str]) -> tuple[Any, ...]:
        values = {"date_from": date_from, "date_to": date_to, "outlets": outlets}
        try:
            on = filtered(Query.from_panel(values))
        except RagError:
            on = True  # a half-typed date: the button clears it
        return filters_now(values), gr.Button(visible=on)

    quiet: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
    # one listener for the three boxes, one call at a time, the last change winning: with a
    # listener per box, a slower call made before the second box changed could land last
    gr.on(
        [box.change for box in wanted],
        on_filters,
        wanted,
        [c.filters_now, c.clear_filters],
        trigger_mode="always_last",
        concurrency_limit=1,
        **quiet,
    )

    def clear() -> tuple[Any, ...]:
        return "", "", []

    c.clear_filters.click(clear, None, wanted, **quiet)


def _wire_search(pipeline: Pipeline, s: layout.SearchTab, panel: dict[str, Any]) -> None:
    def on_search(query: str, n: float, **settings: Any) -> str:
        try:
            return search(pipeline, query, n, settings)
        except RagError as e:
            raise gr.Error(str(e)) from None

    s.query.submit(on_search, [s.query, s.n], s.results, inputs_kwargs=panel, api_name="search")


def _wire_index(
    app: gr.Blocks,
    pipeline: Pipeline,
    ix: layout.IndexTab,
    c: layout.ChatTab,
    read_only: bool,
    refresher: follow.Refresher,
) -> None:
    """The Index tab, and what follows an index change everywhere (overview, examples,
    outlets): at page load, after a background refresh, after an update or a removal."""
    idx = Path(pipeline.settings.index.index_dir)
    quiet: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}

    def refreshed() -> tuple[Any, ...]:
        rows = _corpus(pipeline)
        return (
            _status(pipeline),
            articles_html(rows),
            gr.Dropdown(choices=layout.removal_choices(rows), value=None),
            gr.Chatbot(examples=_examples(rows)),  # type: ignore[arg-type]
            gr.Dropdown(choices=_outlets(rows)),
            _overview(pipeline, rows),
        )

    refresh_out = [ix.status, ix.listing, ix.remove_pick, c.chat, c.panel["outlets"], c.overview]
    app.load(refreshed, None, refresh_out, **quiet)

    seen = gr.State(generation.generation_id(idx))  # a refresh in the background

    def on_tick(was: str | None) -> tuple[Any, ...]:
        gen = generation.generation_id(idx)
        table = sources_panel(idx, refresher)
        if gen == was:
            return table, *(gr.skip(),) * 4, was
        rows = _corpus(pipeline)
        listing = articles_html(rows)
        choices = gr.Dropdown(choices=layout.removal_choices(rows))
        return table, _status(pipeline), listing, choices, _overview(pipeline, rows), gen

    ticked = [ix.sources, ix.status, ix.listing, ix.remove_pick, c.overview, seen]
    gr.Timer(TICK).tick(on_tick, seen, ticked, **quiet)
    if read_only:  # no index-changing endpoints at all: not in the page, not in the API
        return
    _wire_index_changes(pipeline, ix, refreshed, refresh_out, refresher)


def _wire_index_changes(
    pipeline: Pipeline, ix: layout.IndexTab, refreshed: Any, refresh_out: list, refresher: Any
) -> None:
    idx = Path(pipeline.settings.index.index_dir)

    def on_refresh_every(value: str | None) -> str:
        return set_refresh(idx, refresher, value)

    ix.refresh_pick.change(
        on_refresh_every, ix.refresh_pick, ix.sources, api_visibility="private",
        show_progress="hidden",
    )  # fmt: skip

    def on_update(files: list[str] | None, progress: gr.Progress = PROGRESS) -> tuple[Any, ...]:
        try:
            r, saved, problems = update_index(pipeline, files, progress)
        except RagError as e:
            raise gr.Error(str(e)) from None
        return (*refreshed(), report_markdown(r, saved, problems), None)

    one_writer: dict[str, Any] = {"concurrency_id": "index", "concurrency_limit": 1}
    ix.update.click(
        on_update, ix.files, [*refresh_out, ix.report, ix.files], api_name="update", **one_writer
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

    ix.remove.click(
        on_remove, ix.remove_pick, [*refresh_out, ix.report], api_name="remove", **one_writer
    )
