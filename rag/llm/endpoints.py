"""Endpoints: the LLMs the server's owner configured, by name; a client made once for each.

A chat visitor picks an endpoint by name (`Query.endpoint`); a URL typed in the browser is never
used, and a key is only ever sent to the endpoint it was configured for:

- "default": RAG_LLM_URL with RAG_LLM_MODEL and RAG_LLM_KEY, else the local GGUF model
  (RAG_LLM_PATH or the one `rag llm install` put in place);
- each `name=url` of RAG_LLM_ENDPOINTS, with the key in RAG_LLM_KEY_<NAME> (none otherwise).

>>> from rag.config import Settings
>>> s = Settings().with_(llm_endpoints=("lab=http://10.0.0.5:8000/v1",), llm_key="secret")
>>> e = configured(s)
>>> sorted(e), e["lab"].key == "", e["default"].key == "secret"
(['default', 'lab'], True, True)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from rag.config import Settings
from rag.errors import InputError
from rag.llm.clients import LLM, from_settings

DEFAULT = "default"


@dataclass(frozen=True)
class Endpoint:
    """One configured LLM: an OpenAI-compatible `url`, or a local GGUF `path`."""

    name: str
    url: str = ""
    model: str = ""
    key: str = field(default="", repr=False)
    path: str = ""


def configured(s: Settings) -> dict[str, Endpoint]:
    """Every endpoint the settings name, "default" first."""
    keys = dict(s.llm.endpoint_keys)
    out = {DEFAULT: Endpoint(DEFAULT, s.llm.url, s.llm.model, s.llm.key, s.llm.path)}
    for entry in s.llm.endpoints:
        name, _, url = entry.partition("=")
        name = name.strip().lower()
        out[name] = Endpoint(name, url.strip(), "", keys.get(name, ""))
    return out


class Endpoints:
    """Clients for the configured endpoints, each made on first use and kept (at most one per
    configured name: the cache cannot grow with what visitors send)."""

    def __init__(self, settings: Settings, default: LLM | None = None) -> None:
        self.settings = settings
        self.known = configured(settings)
        self._clients: dict[str, LLM] = {DEFAULT: default} if default is not None else {}
        self._lock = threading.Lock()

    def set_default(self, model: LLM) -> None:
        with self._lock:
            self._clients[DEFAULT] = model

    def names(self) -> list[str]:
        return list(self.known)

    def get(self, name: str = "") -> LLM:
        """The client for endpoint `name` ("" = default); InputError for a name not configured,
        LLMError when it cannot be made."""
        name = (name or DEFAULT).strip().lower()
        ep = self.known.get(name)
        if ep is None:
            raise InputError(
                f"unknown LLM endpoint {name[:60]!r}; choose one of: {', '.join(self.known)} "
                "(the server's owner configures them with RAG_LLM_URL / RAG_LLM_ENDPOINTS)"
            )
        with self._lock:
            if name not in self._clients:
                s = self.settings.with_(
                    llm_url=ep.url, llm_model=ep.model, llm_key=ep.key, llm_path=ep.path
                )
                self._clients[name] = from_settings(s)
            return self._clients[name]
