"""Clients: one `LLM` protocol; an OpenAI-compatible HTTP client and a local GGUF model.

The only module that imports httpx and llama_cpp (both lazily, so `import rag` stays light):

    llm = from_settings(Settings.load(llm_url="http://127.0.0.1:8080/v1"))
    for delta in llm.stream([Message("user", "Say hi")], max_tokens=8):
        print(delta, end="")

Every failure (server unreachable, key refused, model missing, library missing) is an
`LLMError` with a one-line message; the pipeline answers extractively instead.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from rag.config import Settings
from rag.errors import LLMError, brief
from rag.llm.install import MODELS, installed


@dataclass(frozen=True)
class Message:
    """One chat message; `role` is "system", "user" or "assistant"."""

    role: str
    content: str


class LLM(Protocol):
    """A chat model: `stream` yields the answer's text piece by piece, `complete` all of it."""

    name: str

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> Iterator[str]: ...

    def complete(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> str: ...


def _wire(messages: Sequence[Message]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]


# ---------------------------------------------------------------- OpenAI-compatible HTTP


def base_url(url: str) -> str:
    """The API root: "http://h:8080" -> "http://h:8080/v1"; ".../v1/chat/completions" -> ".../v1".

    >>> base_url("http://127.0.0.1:11434/")
    'http://127.0.0.1:11434/v1'
    """
    url = url.strip().rstrip("/")
    for tail in ("/chat/completions", "/completions"):
        if url.endswith(tail):
            url = url[: -len(tail)]
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise LLMError(f"RAG_LLM_URL {url!r} is not an http(s) URL; e.g. http://127.0.0.1:8080/v1")
    return url if parsed.path not in ("", "/") else url + "/v1"


class OpenAICompatible:
    """Chat completions from Ollama, llama.cpp's server, vLLM, OpenAI ... streamed over SSE.

    A dropped connection is retried once (only before the first token: a retry must not repeat
    text already shown); `timeout` bounds the connect and each wait for the next token.
    """

    def __init__(
        self,
        url: str,
        model: str = "",
        key: str = "",
        timeout: float = 120.0,
        transport: Any = None,  # an httpx transport, for tests
    ) -> None:
        self.base = base_url(url)
        self._model = model
        self._key = key
        self.timeout = timeout
        self._transport = transport
        self.name = model or self.base

    def _client(self) -> Any:
        import httpx

        headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
        return httpx.Client(
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
            headers=headers,
            transport=self._transport,
        )

    def model(self) -> str:
        """The model to ask for: the configured one, else the first the server lists."""
        if not self._model:
            try:
                with self._errors(), self._client() as client:
                    r = client.get(f"{self.base}/models")
                    self._check(r)
                    payload = r.json()
            except _Dropped as e:
                raise LLMError(
                    f"the connection to the LLM server at {self.base} dropped ({e.__cause__}); "
                    "check that the server is running, then ask again"
                ) from e
            data = (payload.get("data") if isinstance(payload, dict) else None) or []
            if not data or not isinstance(data[0], dict) or not data[0].get("id"):
                raise LLMError(f"the LLM server at {self.base} lists no models; set RAG_LLM_MODEL")
            self._model = str(data[0]["id"])
            self.name = self._model
        return self._model

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> Iterator[str]:
        body = {
            "model": self.model(),
            "messages": _wire(messages),
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
        }
        for attempt in (1, 2):
            sent = False
            try:
                with self._errors(), self._client() as client:
                    with client.stream("POST", f"{self.base}/chat/completions", json=body) as r:
                        if r.status_code >= 400:
                            r.read()
                            self._check(r)
                        for line in r.iter_lines():
                            delta = self._delta(line)
                            if delta is None:
                                return
                            if delta:
                                sent = True
                                yield delta
                return
            except _Dropped as e:
                if sent or attempt == 2:
                    raise LLMError(
                        f"the connection to the LLM server at {self.base} dropped ({e.__cause__}); "
                        "check that the server is running, then ask again"
                    ) from e
                time.sleep(0.5)

    def complete(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> str:
        return "".join(self.stream(messages, max_tokens=max_tokens, temperature=temperature))

    def _delta(self, line: str) -> str | None:
        """One SSE line -> the text it adds ("" for none), or None at the end of the stream."""
        if not line.startswith("data:"):
            return ""
        data = line[5:].strip()
        if data == "[DONE]":
            return None
        try:
            obj = json.loads(data)
        except json.JSONDecodeError:
            return ""
        if isinstance(obj, dict) and obj.get("error"):
            err = obj["error"]
            msg = err.get("message", err) if isinstance(err, dict) else err
            raise LLMError(f"the LLM server at {self.base} failed: {str(msg)[:200]}")
        choices = obj.get("choices") if isinstance(obj, dict) else None
        if not choices:
            return ""
        return (choices[0].get("delta") or {}).get("content") or ""

    def _check(self, r: Any) -> None:
        """Turn an HTTP error status into an LLMError that says what to fix."""
        code = r.status_code
        if code < 400:
            return
        if code in (401, 403):
            raise LLMError(
                f"the LLM server at {self.base} refused the API key (HTTP {code}); "
                "set RAG_LLM_KEY to a valid key"
            )
        if code == 404:
            raise LLMError(
                f"the LLM server at {self.base} has no such endpoint or model (HTTP 404); "
                "check RAG_LLM_URL (it usually ends in /v1) and RAG_LLM_MODEL"
            )
        text = " ".join(r.text.split())[:200]
        raise LLMError(f"the LLM server at {self.base} answered HTTP {code}: {text}")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """httpx's exceptions -> LLMError (or _Dropped, which `stream` retries once)."""
        import httpx

        try:
            yield
        except httpx.TimeoutException as e:
            raise LLMError(
                f"the LLM server at {self.base} did not answer within {self.timeout:g} s; "
                "raise RAG_LLM_TIMEOUT or use a smaller model"
            ) from e
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as e:
            if isinstance(e, httpx.ConnectError):
                raise LLMError(
                    f"cannot reach the LLM server at {self.base} ({brief(e)}); "
                    "start it or fix RAG_LLM_URL"
                ) from e
            raise _Dropped() from e
        except httpx.HTTPError as e:
            raise LLMError(
                f"the LLM server at {self.base} failed ({brief(e)}); check RAG_LLM_URL"
            ) from e
        except ValueError as e:  # a body that is not JSON
            raise LLMError(
                f"the LLM server at {self.base} sent something that is not JSON; "
                "is RAG_LLM_URL an OpenAI-compatible API?"
            ) from e


class _Dropped(Exception):
    """The connection broke mid-request (retried once)."""


# ---------------------------------------------------------------- local GGUF


class LlamaCpp:
    """A local .gguf model through llama-cpp-python (the `llm` extra), loaded on first use.

    One generation at a time (llama.cpp contexts are not thread-safe); the chat template is the
    one stored in the GGUF file.
    """

    def __init__(self, path: str | Path, n_ctx: int = 4096, n_threads: int = 0) -> None:
        self.path = Path(path).expanduser()
        self.name = self.path.name
        self.n_ctx = n_ctx
        # 0: every CPU this process may use, for reading the prompt and for writing (on 2 idle
        # cores, writing with 2 threads was 1.4x faster than llama-cpp-python's default of 1);
        # fewer is faster on a machine busy with other work
        self.n_threads = n_threads or len(os.sched_getaffinity(0))
        self._llama: Any = None
        self._lock = threading.Lock()

    def _model(self) -> Any:
        if self._llama is None:
            try:
                from llama_cpp import Llama
            except ImportError as e:
                raise LLMError(
                    "llama-cpp-python is not installed; run `pip install 'rag-news[llm]'` "
                    "(it builds from source, about 4 minutes) or set RAG_LLM_URL to a server"
                ) from e
            if not self.path.is_file():
                raise LLMError(
                    f"no model file at {self.path}; run `rag llm install` or set RAG_LLM_PATH "
                    "to a .gguf file"
                )
            try:
                self._llama = Llama(
                    model_path=str(self.path),
                    n_ctx=self.n_ctx,
                    verbose=False,
                    n_threads=self.n_threads,
                    n_threads_batch=self.n_threads,
                )
            except (ValueError, RuntimeError, OSError) as e:
                raise LLMError(
                    f"cannot load {self.path} ({brief(e)}); give a valid .gguf file"
                ) from e
        return self._llama

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> Iterator[str]:
        with self._lock:
            llama = self._model()
            try:
                chunks = llama.create_chat_completion(
                    messages=_wire(messages),
                    max_tokens=max_tokens,
                    temperature=temperature,
                    stream=True,
                )
                for chunk in chunks:
                    delta = chunk["choices"][0].get("delta", {}).get("content")
                    if delta:
                        yield delta
            except ValueError as e:  # e.g. the prompt does not fit n_ctx
                raise LLMError(
                    f"the local model failed ({brief(e)}); raise RAG_LLM_CTX "
                    "or lower RAG_LLM_PASSAGES"
                ) from e

    def complete(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> str:
        return "".join(self.stream(messages, max_tokens=max_tokens, temperature=temperature))


# ---------------------------------------------------------------- choosing a backend


def from_settings(s: Settings) -> LLM:
    """The configured model: the server at `llm_url`, else the .gguf at `llm_path` (a path or
    a name from MODELS), else the model `rag llm install` installed."""
    if s.llm.url:
        return OpenAICompatible(s.llm.url, s.llm.model, s.llm.key, s.llm.timeout)
    if s.llm.path:
        packaged = MODELS.get(s.llm.path)
        path = s.llm.dir.expanduser() / packaged.filename if packaged else Path(s.llm.path)
        return LlamaCpp(path, n_ctx=s.llm.ctx, n_threads=s.llm.threads)
    found = installed(s.llm.dir)
    if found is None:
        raise LLMError(
            "no LLM configured: set RAG_LLM_URL (an OpenAI-compatible server) or RAG_LLM_PATH "
            "(a .gguf file), or run `rag llm install`"
        )
    return LlamaCpp(found, n_ctx=s.llm.ctx, n_threads=s.llm.threads)
