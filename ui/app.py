"""App: the Gradio Blocks chat; `build_app` makes it, `launch` serves it."""

from __future__ import annotations

from typing import Any

import gradio as gr

from rag.errors import RagError
from rag.pipeline import Pipeline

from .render import answer_markdown, cards_html

CSS = """
.cards h3 { margin: 0 0 .5em; font-size: 1em; }
.card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .6em .8em;
        margin-bottom: .6em; scroll-margin-top: 1em; }
.card.cited { border-left: 4px solid #2563eb; }
.card:target { outline: 3px solid #f59e0b; }
.card-head { font-weight: 600; }
.card .meta { font-size: .85em; opacity: .75; margin: .2em 0 .4em; }
.card .passage, .card .article-text { white-space: pre-wrap; font-size: .92em; }
.card .article-text { max-height: 24em; overflow-y: auto; margin-top: .4em; }
mark.support { background: #fde68a; color: inherit; padding: 0 .1em; }
.in-passage { background: rgba(37, 99, 235, .08); }
a.cite { font-weight: 600; text-decoration: none; }
"""

PLACEHOLDER = "Ask a question about the articles. Answers cite their passages as [n]."


def respond(
    pipeline: Pipeline, message: str, history: list[dict[str, Any]]
) -> tuple[list, str, str]:
    """One chat turn: (new history, passage cards HTML, cleared input box)."""
    try:
        answer = pipeline.ask(message)
    except RagError as e:
        raise gr.Error(str(e)) from None
    history = [
        *history,
        {"role": "user", "content": message},
        {"role": "assistant", "content": answer_markdown(answer)},
    ]
    return history, cards_html(answer), ""


def build_app(pipeline: Pipeline) -> gr.Blocks:
    """The chat: conversation on the left, the cited passages on the right."""
    with gr.Blocks(title="News QA with sources") as app:
        gr.Markdown("## News questions, answered with sources")
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Chat", height=520, placeholder=PLACEHOLDER, elem_id="chat")
                box = gr.Textbox(
                    placeholder="Ask about the news…",
                    show_label=False,
                    submit_btn=True,
                    elem_id="question",
                )
            with gr.Column(scale=2):
                cards = gr.HTML('<div class="empty">Sources appear here.</div>', elem_id="cards")

        def turn(message: str, history: list[dict[str, Any]]) -> tuple[list, str, str]:
            return respond(pipeline, message, history)

        box.submit(turn, [box, chat], [chat, cards, box], api_name="ask")
    return app


def launch(pipeline: Pipeline, host: str = "127.0.0.1", port: int = 7860, **kwargs: Any) -> None:
    """Serve the app (blocking)."""
    build_app(pipeline).launch(server_name=host, server_port=port, css=CSS, **kwargs)
