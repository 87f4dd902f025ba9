"""Query: what one request may choose (k, mode, dates, outlets, answer mode, endpoint).

A `Query` is what a visitor of the chat can change; `Settings` are the server owner's and a
request never changes them directly. `Query.apply` lays the request over the settings, checked,
and an LLM endpoint is picked by *name* among the ones the owner configured
(`rag.llm.endpoints`), never by a URL a visitor types.

>>> from rag.config import Settings
>>> Query(k=3, mode="bm25", outlets=("cnn.com",)).apply(Settings()).retrieval.k
3
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from rag.config import ANSWER_MODES, MODES, Settings
from rag.errors import InputError


@dataclass(frozen=True)
class Query:
    """One request's choices; None or empty means "as the server is configured"."""

    k: int | None = None
    mode: str | None = None  # one of config.MODES
    date_from: date | None = None
    date_to: date | None = None
    as_of: date | None = None  # ignore articles published after this day
    outlets: tuple[str, ...] = ()  # keep only these outlets (empty = all)
    answer_mode: str | None = None  # "extractive" or "llm"
    endpoint: str = ""  # name of a configured LLM endpoint ("" = the default one)

    def __post_init__(self) -> None:
        if self.k is not None and not 1 <= self.k <= 100:
            raise InputError(f"k (passages) must be between 1 and 100, not {self.k}")
        if self.mode is not None and self.mode not in MODES:
            raise InputError(f"retrieval mode {self.mode!r} is not one of {', '.join(MODES)}")
        if self.answer_mode is not None and self.answer_mode not in ANSWER_MODES:
            raise InputError(
                f"answer mode {self.answer_mode!r} is not one of {', '.join(ANSWER_MODES)}"
            )
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InputError(f"the date range is empty: {self.date_from} is after {self.date_to}")

    def apply(self, s: Settings) -> Settings:
        """The settings this request runs with: `s` with the request's choices laid over."""
        changes: dict[str, Any] = {}
        for name in ("k", "mode", "date_from", "date_to", "as_of", "answer_mode"):
            value = getattr(self, name)
            if value is not None:
                changes[name] = value
        if self.outlets:
            changes["outlets"] = self.outlets
        return s.with_(**changes) if changes else s

    def generating(self, s: Settings) -> bool:
        """Whether this request's answer is written by an LLM."""
        return (self.answer_mode or s.answers.answer_mode) == "llm"

    @classmethod
    def from_panel(cls, values: Mapping[str, Any]) -> Query:
        """A Query from the chat panel's raw values by field name (strings from text boxes).

        >>> Query.from_panel({"k": 3.0, "date_from": "2025-01-01", "outlets": ["a.com", " "]})
        Query(k=3, mode=None, date_from=datetime.date(2025, 1, 1), date_to=None, as_of=None, \
outlets=('a.com',), answer_mode=None, endpoint='')
        """
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise InputError(f"unknown request field(s): {', '.join(sorted(unknown))}")
        k = values.get("k")
        mode = values.get("mode") or None
        answer = str(values.get("answer_mode") or "").strip().lower() or None
        return cls(
            k=int(k) if k else None,
            mode=mode,
            date_from=_day(values.get("date_from"), "'From' date"),
            date_to=_day(values.get("date_to"), "'To' date"),
            as_of=_day(values.get("as_of"), "as-of date"),
            outlets=_names(values.get("outlets")),
            answer_mode=answer,
            endpoint=str(values.get("endpoint") or "").strip(),
        )


def _day(value: Any, name: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise InputError(
            f"{name} {text!r} is not a date: use YYYY-MM-DD or leave it empty"
        ) from None


def _names(value: Sequence[str] | str | None) -> tuple[str, ...]:
    if not value:
        return ()
    items = [value] if isinstance(value, str) else list(value)
    return tuple(x.strip() for x in items if x and x.strip())
