"""Settings: every field of every group is set by its flat name (RAG_<NAME>, `load`, `with_`) and
read in its group; unknown names are refused in one line; the groups are frozen and checked."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from rag.config import ROUTES, Settings
from rag.errors import ConfigError
from rag.settings_groups import FLAT, Group

# a valid value other than the default, for the string settings that take a few words only
CHOICES = {
    "mode": "bm25",
    "fusion": "rrf",
    "time_window": "filter",
    "parts": "off",
    "backend": "torch",
    "index_type": "flat",
    "shards": "month",
    "answer_mode": "llm",
    "reader": "shipped",
    "llm_endpoints": "lab=http://127.0.0.1:9/v1",
}


def every_field() -> list[tuple[str, str, str]]:
    """(flat name, group, field) of every field of every group, found from the groups
    themselves (not from ROUTES, which is what is being checked)."""
    out = []
    for g in dataclasses.fields(Settings):
        group = getattr(Settings(), g.name)
        assert isinstance(group, Group)
        for f in dataclasses.fields(group):
            out.append((f.metadata.get(FLAT, type(group).PREFIX + f.name), g.name, f.name))
    return out


FIELDS = every_field()
SETTABLE = [x for x in FIELDS if x[0] != "llm_endpoint_keys"]  # from RAG_LLM_KEY_<NAME> only


def sample(name: str, default: Any) -> tuple[str, Any]:
    """A valid environment string for the setting, and the value it stands for."""
    if name in CHOICES:
        raw = CHOICES[name]
        return raw, (raw,) if isinstance(default, tuple) else raw
    if name in ("as_of", "date_from", "date_to"):
        return "2024-05-06", date(2024, 5, 6)
    if isinstance(default, tuple):
        return "a.com, b.com", ("a.com", "b.com")
    if isinstance(default, Path):
        return "somewhere/else", Path("somewhere/else")
    if isinstance(default, bool):
        return "1", True
    if isinstance(default, int):
        return str(default + 1), default + 1
    if isinstance(default, float):
        return str(default + 0.1), default + 0.1
    return "x", "x"


def default_of(group: str, attr: str) -> Any:
    return getattr(getattr(Settings(), group), attr)


def test_flat_names_are_unique_and_routed_to_their_group() -> None:
    names = [name for name, _, _ in FIELDS]
    assert len(names) == len(set(names)) == len(ROUTES) == 58
    assert {name: (g, a) for name, g, a in FIELDS} == ROUTES
    assert ROUTES["k"] == ("retrieval", "k") and ROUTES["llm_url"] == ("llm", "url")
    assert ROUTES["fetch_timeout"] == ("fetching", "timeout")
    assert ROUTES["allow_private_hosts"] == ("fetching", "allow_private_hosts")


@pytest.mark.parametrize(("name", "group", "attr"), SETTABLE, ids=[x[0] for x in SETTABLE])
def test_every_field_is_set_from_its_environment_variable(name: str, group: str, attr: str) -> None:
    raw, value = sample(name, default_of(group, attr))
    got = getattr(getattr(Settings.load(env={f"RAG_{name.upper()}": raw}), group), attr)
    assert got == (pytest.approx(value) if isinstance(value, float) else value)
    assert got != default_of(group, attr)


@pytest.mark.parametrize(("name", "group", "attr"), FIELDS, ids=[x[0] for x in FIELDS])
def test_every_field_is_set_by_its_flat_name(name: str, group: str, attr: str) -> None:
    value = sample(name, default_of(group, attr))[1]
    if name == "llm_endpoint_keys":
        value = (("lab", "secret"),)
    for s in (Settings.load(env={}, **{name: value}), Settings().with_(**{name: value})):
        assert getattr(getattr(s, group), attr) == value
        others = [g.name for g in dataclasses.fields(s) if g.name != group]
        assert all(getattr(s, g) == getattr(Settings(), g) for g in others)  # nothing else moved


def test_endpoint_keys_come_from_their_own_variables() -> None:
    env = {"RAG_LLM_ENDPOINTS": "lab=http://10.0.0.5:8000/v1", "RAG_LLM_KEY_LAB": "secret"}
    s = Settings.load(env=env)
    assert s.llm.endpoints == ("lab=http://10.0.0.5:8000/v1",)
    assert s.llm.endpoint_keys == (("lab", "secret"),)
    assert "secret" not in repr(s)


def test_overrides_win_over_the_environment_and_none_keeps_it() -> None:
    env = {"RAG_K": "7", "RAG_LLM_URL": "http://127.0.0.1:8/v1"}
    assert Settings.load(env=env, k=3).retrieval.k == 3
    assert Settings.load(env=env, k=None).retrieval.k == 7
    assert Settings.load(env=env).llm.url == "http://127.0.0.1:8/v1"


@pytest.mark.parametrize("name", ["kk", "url", "timeout", "retrieval", "fetch_allow_private_hosts"])
def test_an_unknown_name_is_refused_in_one_line(name: str) -> None:
    for make in (lambda: Settings.load(env={}, **{name: 1}), lambda: Settings().with_(**{name: 1})):
        with pytest.raises(ConfigError, match=f"unknown setting '{name}'") as e:
            make()
        assert "\n" not in str(e.value)
    with pytest.raises(ConfigError, match="did you mean 'k'"):
        Settings.load(env={}, kk=None)  # refused even when the value would be dropped


def test_groups_are_frozen() -> None:
    s = Settings()
    for g in dataclasses.fields(s):
        group = getattr(s, g.name)
        name = dataclasses.fields(group)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(group, name, None)
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(s, g.name, group)


def test_with_changes_only_the_groups_named() -> None:
    s = Settings()
    t = s.with_(k=3, llm_passages=2)
    assert (t.retrieval.k, t.llm.passages) == (3, 2)
    assert t.index is s.index and t.fetching is s.fetching  # untouched groups are shared
    assert s.retrieval.k == 5  # the original is unchanged


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("chunk_size", 10, "chunk_size must be at least 50"),
        ("chunk_overlap", 800, "chunk_overlap must be >= 0 and smaller than chunk_size"),
        ("shards", "year", "shards 'year' is not one of"),
        ("k", 0, "k must be between 1 and 100"),
        ("mode", "magic", "mode 'magic' is not one of"),
        ("recency_weight", 2.0, "recency_weight must be between 0 and 1"),
        ("answer_mode", "poem", "answer_mode 'poem' is not one of"),
        ("refusal_precision", 0.0, r"refusal_precision must be in \(0, 1\]"),
        ("llm_ctx", 100, "llm_ctx >= 512"),
        ("llm_endpoints", ("no url",), "llm_endpoints entry"),
        ("concurrency", 0, "concurrency must be at least 1"),
    ],
)
def test_each_group_checks_its_values(name: str, value: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings().with_(**{name: value})
    raw = ",".join(value) if isinstance(value, tuple) else str(value)
    with pytest.raises(ConfigError, match=message):
        Settings.load(env={f"RAG_{name.upper()}": raw})


def test_a_bad_environment_value_names_its_variable() -> None:
    with pytest.raises(ConfigError, match="RAG_FETCH_TIMEOUT='soon' is not valid"):
        Settings.load(env={"RAG_FETCH_TIMEOUT": "soon"})
