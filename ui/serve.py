"""Serve: launching the app (`launch`), with the page's CSS/JS, the login, read-only beyond
loopback (no upload route either), the MCP tools on request, a port already in use said in a
line, and an idle queue that polls gently."""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import AsyncIterator
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from rag.cli import serving
from rag.cli.serving import parse_auth
from rag.errors import InputError
from rag.ingest import follow
from rag.pipeline import Pipeline

from . import chat_scroll, story, uploads
from .agents import only_tools
from .app import build_app
from .assets import CSS, JS
from .guard import Guard

IDLE_POLL = 0.05  # seconds between an idle server's looks for work (see `idle_gently`)


def launch_options() -> dict[str, Any]:
    """The `launch()` arguments that style the page and wire the citation links."""
    return {
        "css": CSS + story.CSS,
        "js": story.with_script(JS, chat_scroll.JS),
        "max_file_size": uploads.MAX_BYTES,
    }


def server_options(app: gr.Blocks, read_only: bool, login: tuple[str, str] | None) -> dict:
    """The `launch()` arguments that hold the page's rules for the routes Gradio always
    serves (ui/guard.py), and keep the MCP tools to ask and search (ui/agents.py) from the
    moment the server starts."""

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        only_tools(app)  # before the first request: the server starts after this
        yield

    guard = Middleware(Guard, read_only=read_only, login=login)  # type: ignore[arg-type]
    return {"app_kwargs": {"middleware": [guard], "lifespan": lifespan}}


def launch(
    pipeline: Pipeline,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: str | tuple[str, str] | None = None,
    read_only: bool | None = None,
    refresh: float | None = None,
    refresh_at_once: bool = False,
    mcp: bool = False,
    **kwargs: Any,
) -> gr.Blocks:
    """Serve the app (blocking unless `prevent_thread_lock=True`); returns it.

    `auth` ("user:password", else the environment's RAG_AUTH) asks for a login first. Serving
    beyond loopback needs a login; `read_only` (default: when others may connect without one)
    leaves out uploads, updates and removals, in the page and in the API. `refresh`: update
    from the sources list every so many seconds in the background (`refresh_at_once`: the
    first time now); the chat answers from the live index and switches when a new one is in.
    `mcp`: serve the tools ask and search to MCP clients at /gradio_api/mcp/ (under a login,
    they send it as HTTP Basic).
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
    app.queue(default_concurrency_limit=pipeline.settings.serving.concurrency)
    idle_gently(app)
    if mcp:
        where = f"http://{host}:{port}/gradio_api/mcp/"
        login_note = " (HTTP Basic with the --auth login)" if login else ""
        print(f"MCP tools ask and search at {where}{login_note}", file=sys.stderr)
    options = {**launch_options(), **server_options(app, read_only, login), **kwargs}
    try:
        with warnings.catch_warnings():  # about the chat's State input: that tool is not served
            warnings.filterwarnings("ignore", message="This MCP server includes a tool")
            app.launch(server_name=host, server_port=port, auth=login, mcp_server=mcp, **options)
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
