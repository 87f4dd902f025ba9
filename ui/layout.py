"""Layout: the app's components, tab by tab (no event wiring: ui/app.py wires them).

Each builder is called inside the `gr.Blocks` context and returns its components by name, so
the wiring reads `chat.box`, `panel["outlets"]`, ... Labels are in a reader's words; the values
behind them are what the API and `rag.query.Query` take.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from rag.ingest import follow
from rag.pipeline import Pipeline
from rag.types import Article

from . import story, uploads
from .filters import ANSWER_CHOICES, MODE_CHOICES, llm_configured
from .overview import HINTS
from .render import EMPTY_CARDS
from .sources_view import REFRESH_CHOICES

PLACEHOLDER = "**Ask a question about the articles**, or pick one of these:"
UPLOAD_TYPES = sorted({*uploads.EXTENSIONS, ".gz"})  # the browser's picker matches ".gz" only
# buttons the page's script opens and closes the phone's sources sheet with (no server call)
SHEET_OPEN = (
    '<button type="button" class="sheet-open" id="sheet-open">All sources of this answer</button>'
)
SHEET_BACK = (
    '<button type="button" class="sheet-back" id="sheet-back">← Back to the answer</button>'
)


@dataclass(frozen=True)
class ChatTab:
    overview: Any
    chat: Any
    box: Any
    filters_now: Any
    clear_filters: Any
    clear: Any
    export: Any
    note: Any
    cards: Any
    pick: Any
    story_pick: Any
    panel: dict[str, Any]  # the settings by `Query` field name


def chat_tab(
    pipeline: Pipeline, overview: str, examples: list[dict[str, str]], outlets: list[str]
) -> ChatTab:
    """The chat beside its sources; the settings under the question box."""
    with gr.Row(equal_height=False, elem_id="chat-row"):
        with gr.Column(scale=3, min_width=320, elem_id="chat-col"):
            top = gr.HTML(overview, elem_id="overview-box")
            chat = gr.Chatbot(
                label="Conversation",
                height=520,
                autoscroll=False,  # ui/chat_scroll.py holds a new question at the top instead
                placeholder=PLACEHOLDER,
                elem_id="chat",
                examples=examples,  # type: ignore[arg-type]
                feedback_options=("Like", "Dislike"),
            )
            with gr.Row(elem_id="filters-row"):
                filters_now = gr.HTML("", elem_id="filters-now-box")
                clear_filters = gr.Button(
                    "Clear filters", size="sm", visible=False, elem_id="clear-filters", scale=0
                )
            box = gr.Textbox(
                label="Your question about the news",
                placeholder="Ask about the news… (Enter sends)",
                show_label=False,
                submit_btn=True,
                elem_id="question",
                max_lines=4,
                autofocus=True,
            )
            gr.HTML(SHEET_OPEN, elem_id="sheet-open-box")
            with gr.Row():
                clear = gr.Button("Clear chat", size="sm", elem_id="clear")
                export = gr.DownloadButton(
                    "Export as Markdown", size="sm", interactive=False, elem_id="export"
                )
            note = gr.Markdown("", elem_id="feedback-note")
            panel = settings(pipeline, outlets)
            gr.HTML(HINTS, elem_id="hints-box")
        with gr.Column(scale=2, min_width=320, elem_id="cards-col"):
            gr.HTML(SHEET_BACK, elem_id="sheet-back-box")
            cards = gr.HTML(EMPTY_CARDS, elem_id="cards")
    pick = gr.Textbox(elem_id="turn-pick", visible="hidden", show_label=False, label="turn")
    story_pick = gr.Textbox(elem_id=story.PICK, visible="hidden", show_label=False, label="story")
    return ChatTab(
        top, chat, box, filters_now, clear_filters, clear, export, note, cards, pick, story_pick,
        panel,
    )  # fmt: skip


def settings(pipeline: Pipeline, outlets: list[str]) -> dict[str, Any]:
    """The Settings box, in plain words; the LLM choice only when a model is configured."""
    s = pipeline.settings
    llm = llm_configured(pipeline)
    with gr.Accordion("Settings: dates, outlets, how to match", open=False, elem_id="settings"):
        with gr.Row():
            date_from = gr.Textbox(label="From (YYYY-MM-DD)", placeholder="e.g. 2024-06-01")
            date_to = gr.Textbox(label="To (YYYY-MM-DD)", placeholder="e.g. 2024-06-30")
        outlet = gr.Dropdown(
            outlets,
            multiselect=True,
            allow_custom_value=True,
            label="Only these outlets (all when empty)",
            elem_id="outlets",
        )
        mode = gr.Radio(
            MODE_CHOICES, value=s.retrieval.mode, label="How to find passages", elem_id="match-mode"
        )
        k = gr.Slider(
            1, 10, value=min(s.retrieval.k, 10), step=1, label="Passages to read for each answer"
        )
        answer_mode = gr.Radio(
            ANSWER_CHOICES,
            value="LLM" if s.answers.answer_mode == "llm" and llm else "extractive",
            label="How the answer is made",
            visible=llm,
            elem_id="answer-mode",
        )
        names = pipeline.endpoints.names()
        endpoint = gr.Dropdown(
            names,
            value=names[0],
            label="Writing model (configured by the server's owner)",
            visible=llm and len(names) > 1,
            elem_id="endpoint",
        )
    return {
        "k": k,
        "mode": mode,
        "date_from": date_from,
        "date_to": date_to,
        "outlets": outlet,
        "answer_mode": answer_mode,
        "endpoint": endpoint,
    }


@dataclass(frozen=True)
class SearchTab:
    query: Any
    n: Any
    results: Any


def search_tab() -> SearchTab:
    with gr.Row():
        query = gr.Textbox(
            label="Search the passages",
            placeholder="Search the passages…",
            show_label=False,
            submit_btn="Search",
            elem_id="search-box",
            scale=4,
        )
        n = gr.Slider(1, 50, value=10, step=1, label="Results", scale=1)
    results = gr.HTML('<div class="cards empty">Ranked passages appear here.</div>')
    return SearchTab(query, n, results)


@dataclass(frozen=True)
class IndexTab:
    sources: Any
    refresh_pick: Any
    status: Any
    report: Any
    files: Any
    update: Any
    remove_pick: Any
    remove: Any
    listing: Any


def index_tab(read_only: bool, sources_html: str, status_html: str, every: str) -> IndexTab:
    """What is indexed; for a writable server also uploads, update, remove and the refresh."""
    sources = gr.HTML(sources_html, elem_id="sources")
    with gr.Row(visible=not read_only):
        refresh_pick = gr.Dropdown(
            REFRESH_CHOICES,
            value=every,
            allow_custom_value=True,
            label="Refresh the sources (feeds, pages by URL) every",
            elem_id="refresh-every",
            scale=0,
            min_width=300,
        )
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=320):
            status = gr.HTML(status_html, elem_id="status")
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
                    [], label="Remove an article (later updates keep it out)", elem_id="remove-pick"
                )
                remove = gr.Button(
                    "Remove this article", variant="stop", size="sm", elem_id="remove"
                )
        with gr.Column(scale=1, min_width=320):
            listing = gr.HTML("", elem_id="articles")
    return IndexTab(
        sources, refresh_pick, status, report, files, update, remove_pick, remove, listing
    )


def removal_choices(rows: list[tuple[Article, int]]) -> list[tuple[str, str]]:
    """The Remove dropdown's (label, doc_id) choices."""
    return [(f"{a.title[:80] or a.doc_id} ({a.doc_id})", a.doc_id) for a, _ in rows]


def refresh_every(refresher: follow.Refresher) -> str:
    return follow.every_text(refresher.every)
