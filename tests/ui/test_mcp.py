"""Agents over MCP: the real server (`ui.serve.launch(mcp=True)`, what `rag serve --mcp` runs) on
127.0.0.1, and the real `mcp` client over the streamable HTTP transport: list the tools, call
ask, get the cited answer; only ask and search are tools (never update or remove, never the
chat), and under a login the MCP route asks for it too. Fake embedder; made-up articles."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from typing import Any

import pytest

from rag import Pipeline

pytest.importorskip("mcp")

LOGIN = ("ann", "s3cret")


def _serve(pipeline: Pipeline, **options: Any) -> tuple[Any, str]:
    from bench.common import free_port
    from ui.serve import launch

    port = free_port()
    app = launch(pipeline, port=port, prevent_thread_lock=True, quiet=True, mcp=True, **options)
    return app, f"http://127.0.0.1:{port}/gradio_api/mcp/"


@pytest.fixture
def served(fake_pipeline: Pipeline) -> Iterator[str]:
    app, url = _serve(fake_pipeline)
    try:
        yield url
    finally:
        app.close()


async def _session(url: str, headers: dict[str, str] | None, work: Any) -> Any:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async with streamablehttp_client(url, headers=headers) as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            return await work(session)


def run(url: str, work: Any, headers: dict[str, str] | None = None) -> Any:
    return asyncio.run(_session(url, headers, work))


def _text(result: Any) -> str:
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


def test_list_tools_then_ask_gets_a_cited_answer(served: str) -> None:
    async def work(session: Any) -> tuple[Any, Any, Any]:
        tools = (await session.list_tools()).tools
        answer = await session.call_tool("ask", {"question": "How long do cats sleep?"})
        found = await session.call_tool("search", {"query": "rocket launch", "n": 2})
        return tools, answer, found

    tools, answer, found = run(served, work)
    by_name = {t.name: t for t in tools}
    assert set(by_name) == {"ask", "search"}  # no update, remove or chat tool
    ask = by_name["ask"]
    assert "citing" in ask.description and ask.inputSchema["required"] == ["question"]
    props = ask.inputSchema["properties"]
    assert (
        props["question"]["type"] == "string" and "YYYY-MM-DD" in props["date_from"]["description"]
    )
    assert by_name["search"].inputSchema["properties"]["n"]["type"] == "integer"
    text = _text(answer)
    assert not answer.isError and "sixteen hours" in text and "[1]" in text
    assert "\nSources:\n[1] " in text and "answers copied from the articles" in text
    assert not found.isError and "Florida" in _text(found) and "[3]" not in _text(found)


def test_no_index_changing_tool_can_be_called(served: str) -> None:
    async def work(session: Any) -> list[Any]:
        return [await session.call_tool(name, {}) for name in ("on_update", "on_remove", "on_chat")]

    for result in run(served, work):
        assert result.isError and "Unknown tool" in _text(result)


def test_a_bad_argument_is_one_clear_line(served: str) -> None:
    async def work(session: Any) -> Any:
        return await session.call_tool("ask", {"question": "cats?", "date_from": "next week"})

    result = run(served, work)
    assert result.isError and "YYYY-MM-DD" in _text(result) and "Traceback" not in _text(result)


def test_under_a_login_the_mcp_route_asks_for_it(fake_pipeline: Pipeline) -> None:
    import httpx

    app, url = _serve(fake_pipeline, auth=LOGIN)
    try:
        refused = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert refused.status_code == 401 and "log in" in refused.text
        assert httpx.get(url.replace("/mcp/", "/mcp/sse"), timeout=10).status_code == 401
        token = base64.b64encode(f"{LOGIN[0]}:{LOGIN[1]}".encode()).decode()

        async def work(session: Any) -> Any:
            return await session.call_tool("ask", {"question": "When did the rocket launch?"})

        answer = run(url, work, {"Authorization": f"Basic {token}"})
        assert not answer.isError and "Tuesday" in _text(answer)
    finally:
        app.close()


def test_read_only_server_serves_the_same_two_tools(fake_pipeline: Pipeline) -> None:
    app, url = _serve(fake_pipeline, read_only=True)
    try:

        async def work(session: Any) -> set[str]:
            return {t.name for t in (await session.list_tools()).tools}

        assert run(url, work) == {"ask", "search"}
    finally:
        app.close()
