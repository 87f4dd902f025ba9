"""Config: one `Settings` in groups; defaults, then `RAG_*` environment variables, then flags.

Every setting has a flat name, unique across the groups (rag/settings_groups.py), and is set by
it: the environment variable RAG_<NAME> (RAG_K, RAG_CHUNK_SIZE, RAG_LLM_URL, RAG_FETCH_TIMEOUT,
RAG_LLM_KEY_<NAME>), and the keywords of `Settings.load` and `Settings.with_` (k=3,
llm_url=...). It is read in its group: `s.retrieval.k`, `s.llm.url`, `s.fetching.timeout`.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import date
from pathlib import Path
from typing import Any

from rag.errors import ConfigError
from rag.settings_groups import (
    ANSWER_MODES,
    BACKENDS,
    DEFAULT_MODEL,
    INDEX_TYPES,
    MODES,
    SHARDS,
    AnswerSettings,
    FetchSettings,
    IndexSettings,
    LLMSettings,
    RetrievalSettings,
    ServingSettings,
    flat_names,
)

__all__ = [
    "ANSWER_MODES",
    "BACKENDS",
    "DEFAULT_MODEL",
    "INDEX_TYPES",
    "MODES",
    "SHARDS",
    "AnswerSettings",
    "FetchSettings",
    "IndexSettings",
    "LLMSettings",
    "RetrievalSettings",
    "ServingSettings",
    "Settings",
]


@dataclass(frozen=True)
class Settings:
    """Every tunable of the pipeline, with its default, by group; set by flat name.

    >>> Settings.load(k=3).retrieval.k
    3
    >>> Settings().with_(llm_url="http://127.0.0.1:8080/v1", chunk_size=400).llm.url
    'http://127.0.0.1:8080/v1'
    """

    index: IndexSettings = field(default_factory=IndexSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    answers: AnswerSettings = field(default_factory=AnswerSettings)
    llm: LLMSettings = field(default_factory=LLMSettings)
    serving: ServingSettings = field(default_factory=ServingSettings)
    fetching: FetchSettings = field(default_factory=FetchSettings)

    @classmethod
    def load(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults <- RAG_<NAME> environment variables <- non-None keyword overrides (flat
        names; an unknown one is a ConfigError)."""
        _known(overrides)
        env = dict(os.environ) if env is None else env
        values: dict[str, Any] = {}
        for name in ROUTES:
            if name == "llm_endpoint_keys":  # read from RAG_LLM_KEY_<NAME> below
                continue
            raw = env.get(f"RAG_{name.upper()}")
            if raw is not None and raw != "":
                values[name] = _parse(name, raw)
        keys = tuple(
            (name[len(_KEY_PREFIX) :].lower(), value)
            for name, value in sorted(env.items())
            if name.startswith(_KEY_PREFIX) and value
        )
        if keys:
            values["llm_endpoint_keys"] = keys
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls().with_(**values)

    def with_(self, **changes: Any) -> Settings:
        """A copy with `changes` (flat names, each put in its group), validated."""
        _known(changes)
        groups: dict[str, dict[str, Any]] = {}
        for name, value in changes.items():
            group, attr = ROUTES[name]
            groups.setdefault(group, {})[attr] = value
        s = replace(self, **{g: replace(getattr(self, g), **c) for g, c in groups.items()})
        for f in fields(s):
            getattr(s, f.name).check()
        return s


# flat name -> (group, field): "k" -> ("retrieval", "k"), "llm_url" -> ("llm", "url")
ROUTES: dict[str, tuple[str, str]] = {
    flat: (g.name, attr)
    for g in fields(Settings)
    for flat, attr in flat_names(type(getattr(Settings(), g.name))).items()
}
_KEY_PREFIX = "RAG_LLM_KEY_"  # RAG_LLM_KEY_<NAME>: the key of endpoint <name> only


def _known(names: Iterable[str]) -> None:
    """ConfigError for the first name that is no setting's flat name."""
    for name in names:
        if name not in ROUTES:
            near = difflib.get_close_matches(name, ROUTES, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise ConfigError(f"unknown setting {name!r} (see rag/config.py for the names){hint}")


def _parse(name: str, raw: str) -> Any:
    """Turn an environment string into the type of the setting with flat name `name`."""
    group, attr = ROUTES[name]
    default = getattr(getattr(Settings(), group), attr)
    try:
        if name in ("as_of", "date_from", "date_to"):
            return date.fromisoformat(raw)
        if name in ("outlets", "llm_endpoints"):
            return tuple(s.strip() for s in raw.split(",") if s.strip())
        if isinstance(default, Path):
            return Path(raw)
        if isinstance(default, bool):
            return raw.lower() in ("1", "true", "yes")
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError as e:
        raise ConfigError(f"RAG_{name.upper()}={raw!r} is not valid ({e}); fix or unset it") from e
    return raw
