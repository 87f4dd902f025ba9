"""Agents: the ask and search functions as plain text, with typed parameters and docstrings,
for scripts (`/ask_text`, `/search_text` in the API) and for MCP clients (`rag serve --mcp`
serves exactly these two as the tools `ask` and `search`; nothing that changes the index).

    ask("Who opened the harbour bridge?")
    # -> 'The mayor opened it on Friday. [1]' + the filters line + 'Sources:' + '[1] ...'
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import gradio as gr

from rag.errors import RagError
from rag.ingest.records import outlet
from rag.pipeline import Pipeline
from rag.query import Query
from rag.types import Answer, Hit

from .filters import filters_text, reader_note

ENDPOINTS = {"ask": "/ask_text", "search": "/search_text"}  # MCP tool -> API endpoint
PASSAGE_CHARS = 600  # of each passage in a search result


def _request(outlets: str, date_from: str, date_to: str, k: int | None = None) -> Query:
    return Query.from_panel(
        {
            "k": k,
            "outlets": [o for o in outlets.split(",")] if outlets else [],
            "date_from": date_from,
            "date_to": date_to,
        }
    )


def _source_line(h: Hit) -> str:
    a = h.article
    parts = [a.title or a.doc_id, outlet(a), a.published.isoformat() if a.published else "undated"]
    line = f"[{h.rank}] " + " — ".join(p for p in parts if p) + f" (relevance {h.similarity:.2f})"
    return line + (f"\n    {a.url}" if a.url else "")


def answer_text(answer: Answer, request: Query) -> str:
    """An answer as plain text: the answer with its [n], a note, the filters line, the
    confidence, then the cited sources (the closest passages for a refusal) with the sentence."""
    parts = [answer.text]
    note = reader_note(answer.note)
    if note:
        parts.append(note)
    parts.append(filters_text(request, answer))
    if answer.confidence is not None:
        parts.append(f"Confidence the articles answer this: {round(100 * answer.confidence)} %")
    cited = {c.n: c for c in answer.citations}
    shown = [h for h in answer.hits if h.rank in cited] or list(answer.hits)
    lines = ["Sources:" if cited else "Closest passages (they do not answer the question):"]
    for h in shown:
        c = cited.get(h.rank)
        quote = h.article.text[c.sentence_start : c.sentence_end] if c else h.chunk.text[:300]
        lines.append(_source_line(h) + f'\n    "{" ".join(quote.split())}"')
    parts.append("\n".join(lines))
    return "\n\n".join(parts)


def tools(pipeline: Pipeline) -> tuple[Callable[..., str], Callable[..., str]]:
    """The `ask` and `search` functions over `pipeline`, at most `settings.serving.concurrency` of
    them at once (the chat's limit: they skip the queue, so they keep their own)."""
    gate = threading.BoundedSemaphore(max(1, pipeline.settings.serving.concurrency))

    def ask(question: str, outlets: str = "", date_from: str = "", date_to: str = "") -> str:
        """Answer a question from the indexed news articles, citing them: each sentence of the
        answer ends with [n], and the numbered sources follow (title, outlet, date, link, the
        cited sentence). When the articles do not answer, it says so and lists the closest.

        Args:
            question: The question in plain words, e.g. "Who opened the new harbour bridge?"
            outlets: Only articles from these outlets, comma-separated; empty for all.
            date_from: Only articles published on or after this day (YYYY-MM-DD); empty for any.
            date_to: Only articles published on or before this day (YYYY-MM-DD); empty for any.
        Returns:
            The answer with [n] citations, the filters it used, and its numbered sources.
        """
        try:
            request = _request(outlets, date_from, date_to)
            with gate:
                answer = pipeline.ask(question, request)
        except RagError as e:
            raise gr.Error(str(e)) from None
        return answer_text(answer, request)

    def search(
        query: str, n: int = 5, outlets: str = "", date_from: str = "", date_to: str = ""
    ) -> str:
        """Find the passages of the indexed news articles that best match a query, ranked, each
        with its relevance (0 to 1), title, outlet, date and link.

        Args:
            query: What to look for, e.g. "harbour bridge repairs".
            n: How many passages to return (1 to 50).
            outlets: Only articles from these outlets, comma-separated; empty for all.
            date_from: Only articles published on or after this day (YYYY-MM-DD); empty for any.
            date_to: Only articles published on or before this day (YYYY-MM-DD); empty for any.
        Returns:
            The passages, best first, numbered.
        """
        try:
            request = _request(outlets, date_from, date_to, max(1, min(int(n), 50)))
            with gate:
                hits = pipeline.search(query, request)
        except RagError as e:
            raise gr.Error(str(e)) from None
        if not hits:
            return f"No passages match {query!r}."
        return "\n\n".join(
            _source_line(h) + "\n    " + " ".join(h.chunk.text.split())[:PASSAGE_CHARS]
            for h in hits
        )

    return ask, search


def serve_tools(pipeline: Pipeline) -> None:
    """Add the two functions to the app being built, as `/ask_text` and `/search_text`."""
    ask, search = tools(pipeline)
    gr.api(ask, api_name=ENDPOINTS["ask"].lstrip("/"), queue=False)
    gr.api(search, api_name=ENDPOINTS["search"].lstrip("/"), queue=False)


def only_tools(app: gr.Blocks) -> None:
    """Keep the app's MCP server to the tools `ask` and `search` (Gradio makes every API
    endpoint a tool: the chat's, and on a writable server update and remove too)."""
    server = getattr(app, "mcp_server_obj", None)
    if server is None:
        return
    wanted = {endpoint: tool for tool, endpoint in ENDPOINTS.items()}
    server.tool_to_endpoint = {
        wanted[e]: e for e in server.tool_to_endpoint.values() if e in wanted
    }
