"""Who may connect, what `rag serve` serves, and where an LLM key may go."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from rag import Pipeline, Settings
from rag.cli import main as cli
from rag.cli import serve as cli_serve
from rag.cli.serving import check_access, first_sources, loopback, read_only
from rag.errors import InputError
from tests.conftest import FakeEmbedder, serve_app, write_articles

SECRET = "owner-secret-key"
REPLY = "The council approved a budget of 12 million dollars [1]."


class Recorder(ThreadingHTTPServer):
    """An OpenAI-compatible server on 127.0.0.1 that writes down who asked, with which key."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[tuple[str, str | None]] = []  # (path, Authorization header)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: Recorder

    def log_message(self, *args: Any) -> None:
        pass

    def _record(self) -> None:
        self.server.seen.append((self.path, self.headers.get("Authorization")))

    def do_GET(self) -> None:  # noqa: N802
        self._record()
        self._send("application/json", json.dumps({"data": [{"id": "m"}]}).encode())

    def do_POST(self) -> None:  # noqa: N802
        self._record()
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        delta = {"choices": [{"delta": {"content": REPLY}}]}
        self._send("text/event-stream", f"data: {json.dumps(delta)}\n\ndata: [DONE]\n\n".encode())

    def _send(self, kind: str, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def recorders() -> Iterator[tuple[Recorder, Recorder]]:
    """The owner's LLM server and a foreign one."""
    servers = (Recorder(), Recorder())
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    try:
        yield servers
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()


# --- who may connect ---------------------------------------------------------------------------


def test_serving_beyond_loopback_needs_a_login_or_a_read_only_choice() -> None:
    assert check_access("127.0.0.1", None) is None
    assert check_access("0.0.0.0", "ann:pw") == ("ann", "pw")
    with pytest.raises(InputError, match="--auth"):
        check_access("0.0.0.0", None)
    assert check_access("0.0.0.0", None, allow_anonymous=True) is None
    assert read_only("0.0.0.0", None) and not read_only("0.0.0.0", ("a", "b"))
    assert not read_only("127.0.0.1", None)


@pytest.mark.parametrize(
    ("host", "alone"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),  # resolved: 127.0.0.1 (and ::1)
        ("127.0.0.1.evil.test", False),  # a name that starts like loopback and does not resolve
        ("127.evil.test", False),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("10.1.2.3", False),
        ("a" * 70 + ".example", False),  # not even a valid IDNA label
    ],
)
def test_loopback_is_decided_by_the_resolved_addresses(host: str, alone: bool) -> None:
    assert loopback(host) is alone
    assert read_only(host, None) is not alone


def test_a_name_is_loopback_only_when_all_its_addresses_are(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def resolve(found: list[str]) -> Any:
        return lambda host, port: [(socket.AF_INET, 1, 6, "", (a, 0)) for a in found]

    monkeypatch.setattr(socket, "getaddrinfo", resolve(["127.0.0.1", "127.0.0.53"]))
    assert loopback("box.test")
    monkeypatch.setattr(socket, "getaddrinfo", resolve(["127.0.0.1", "203.0.113.7"]))
    assert not loopback("127.0.0.1.evil.test")  # one of its addresses is another machine's
    with pytest.raises(InputError, match="127.0.0.1.evil.test without a login"):
        check_access("127.0.0.1.evil.test", None)


def test_real_serve_refuses_a_name_that_only_looks_like_loopback(tmp_path: Path) -> None:
    """`rag serve --host 127.0.0.1.evil.test` with no --auth: one line, no server, no traceback."""
    rag = Path(sys.executable).with_name("rag")
    command = (
        [str(rag)]
        if rag.exists()
        else [sys.executable, "-c", "from rag.cli.main import main; main()"]
    )
    result = subprocess.run(
        [*command, "serve", "--host", "127.0.0.1.evil.test", "--index", str(tmp_path / "ix")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "RAG_AUTH": ""},
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "does not resolve" in result.stderr
    assert "--auth" in result.stderr and not (tmp_path / "ix").exists()


def test_cli_refuses_to_serve_open_without_auth(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli.main, ["serve", "--host", "0.0.0.0", "--index", str(tmp_path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.count("\n") == 1 and "--allow-anonymous" in result.output


def _api_names(app: Any) -> set[str]:
    return {str(d.get("api_name")) for d in app.config["dependencies"] if d.get("api_name")}


def test_read_only_app_has_no_index_changing_endpoints(fake_pipeline: Pipeline) -> None:
    from ui.app import build_app

    assert {"update", "remove", "chat", "ask"} <= _api_names(build_app(fake_pipeline))
    names = _api_names(build_app(fake_pipeline, read_only=True))
    assert "update" not in names and "remove" not in names and "chat" in names


# --- what `rag serve` serves -------------------------------------------------------------------


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict[str, Any]]:
    """`rag serve` runs up to launching, over the fake embedder; the launches are recorded."""
    launches: list[dict[str, Any]] = []

    def make(**opts: Any) -> Pipeline:
        s = Settings.load(env={}, model="fake", **{k: v for k, v in opts.items() if v})
        return Pipeline(s, FakeEmbedder())

    monkeypatch.setattr(cli_serve, "pipeline", make)
    monkeypatch.setattr("ui.serve.launch", lambda p, **kw: launches.append({"p": p, **kw}))
    monkeypatch.chdir(tmp_path)
    return launches


def _articles(index_dir: Path) -> int:
    return Pipeline(Settings.load(env={}, index_dir=index_dir, model="fake")).status()[1].articles


def test_serve_never_rebuilds_an_existing_index(served: list, tmp_path: Path) -> None:
    write_articles(tmp_path / "seeds", {"one.txt": "A single seed article about rain in Oslo."})
    ix = tmp_path / "ix"
    Pipeline(Settings.load(env={}, index_dir=ix, model="fake"), FakeEmbedder()).build(
        [write_articles(tmp_path / "mine")]
    )
    for args in ([], ["--sources", "seeds"]):
        result = CliRunner().invoke(cli.main, ["serve", "--index", str(ix), *args])
        assert result.exit_code == 0, result.output
        assert _articles(ix) == 3 and "verified" in result.output
    assert len(served) == 2 and served[0]["read_only"] is False
    # without seeds/, the existing index is served too
    (tmp_path / "seeds" / "one.txt").unlink()
    (tmp_path / "seeds").rmdir()
    assert CliRunner().invoke(cli.main, ["serve", "--index", str(ix)]).exit_code == 0


def test_serve_builds_the_seeds_only_when_there_is_no_index(served: list, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    missing = CliRunner().invoke(cli.main, ["serve", "--index", str(ix)])
    assert missing.exit_code == 1 and "seeds does not exist" in missing.output and not served
    write_articles(tmp_path / "seeds", {"one.txt": "A single seed article about rain in Oslo."})
    result = CliRunner().invoke(cli.main, ["serve", "--index", str(ix)])
    assert result.exit_code == 0, result.output
    assert _articles(ix) == 1 and len(served) == 1


def test_an_upload_survives_a_restart_with_sources(served: list, tmp_path: Path) -> None:
    from ui.handlers import update_index

    mine = write_articles(tmp_path / "mine")
    ix = tmp_path / "ix"
    p = Pipeline(Settings.load(env={}, index_dir=ix, model="fake"), FakeEmbedder())
    p.build([mine])
    upload = tmp_path / "new.txt"
    upload.write_text("Divers found an old ship in the harbour. It sank in a storm long ago.")
    update_index(p, [str(upload)], lambda *a, **k: None)
    assert _articles(ix) == 4
    result = CliRunner().invoke(cli.main, ["serve", "--index", str(ix), "--sources", str(mine)])
    assert result.exit_code == 0, result.output
    assert _articles(ix) == 4
    updated = CliRunner().invoke(cli.main, ["serve", "--index", str(ix), "--update"])
    assert updated.exit_code == 0, updated.output
    assert _articles(ix) == 4 and "0 embedded" in updated.output


def test_first_sources() -> None:
    assert first_sources(["tests"], ["seeds"], Path("ix")) == ["tests"]
    with pytest.raises(InputError, match="rag index build"):
        first_sources([], ["no-such-folder"], Path("ix"))


def test_rollback_goes_back_one_generation(tmp_path: Path, corpus: Path) -> None:
    ix = tmp_path / "ix"
    p = Pipeline(Settings.load(env={}, index_dir=ix, model="fake"), FakeEmbedder())
    first = p.build([corpus]).generation
    p.remove([a.doc_id for a, _ in p.articles() if a.path.endswith("budget.md")])
    assert p.status()[1].articles == 2
    runner = CliRunner()
    result = runner.invoke(cli.main, ["index", "rollback", "--index", str(ix), "--model", "fake"])
    assert result.exit_code == 0, result.output
    assert first in result.output and p.status()[1].articles == 3
    assert p.ask("How big is the city budget?").citations  # the reader follows the switch


# --- where a key may go (through the real Gradio API) ------------------------------------------


@pytest.mark.slow
def test_a_visitor_cannot_send_the_owner_key_elsewhere(
    recorders: tuple[Recorder, Recorder], tmp_path: Path, corpus: Path
) -> None:
    from gradio_client import Client

    from ui.app import build_app

    owner, foreign = recorders
    s = Settings.load(
        env={},
        index_dir=tmp_path / "ix",
        model="fake",
        min_score=0.3,
        llm_url=owner.url,
        llm_model="m",
        llm_key=SECRET,
        llm_endpoints=(f"lab={foreign.url}",),
    )
    p = Pipeline(s, FakeEmbedder())
    p.build([corpus])
    app = build_app(p)
    url = serve_app(app)
    try:
        client = Client(url, verbose=False)

        def chat(endpoint: str) -> str:
            history, *_ = client.predict(
                "How big is the city budget?",
                [],
                3,
                "hybrid",
                "",
                "",
                [],
                "LLM",
                endpoint,
                api_name="/chat",
            )
            content = history[-1]["content"]
            return content if isinstance(content, str) else " ".join(x["text"] for x in content)

        for typed in (foreign.url, f"{foreign.url}/chat/completions", "http://evil.example/v1"):
            try:  # Gradio refuses a value not among the choices, or the chat says why
                refused = "unknown LLM endpoint" in chat(typed)
            except Exception as e:  # noqa: BLE001
                refused = "not in the list of choices" in str(e) or "choices" in str(e)
            assert refused, typed
        assert foreign.seen == [] and owner.seen == []
        assert "12 million" in chat("default")
        assert owner.seen and all(auth == f"Bearer {SECRET}" for _, auth in owner.seen)
        assert "12 million" in chat("lab")  # configured without a key: it gets none
        assert foreign.seen and all(auth is None for _, auth in foreign.seen)
    finally:
        app.close()
