"""Dataset: a JSONL question file (plain or .gz) read and checked, one `Question` a line.

Each line's fault is one InputError naming the file, the line and what to write instead.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from rag.errors import ConfigError, InputError


@dataclass(frozen=True)
class Question:
    """One evaluation question; `as_of` is the date it was asked (None = no date filter)."""

    id: str
    question: str
    gold_doc_ids: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()
    is_impossible: bool = False
    as_of: date | None = None
    answer_in_gold: bool = True  # the gold answer appears in a gold article (citation precision)
    question_type: str = ""  # e.g. "comparison_query": figures are also given per type


def load_questions(
    path: str | Path, as_of_field: str | None = None, limit: int | None = None
) -> list[Question]:
    """Read a JSONL question file (plain or .gz), one object a line.

    Fields: `question` (required), `id` (default: the line number), `gold_doc_ids`, `answers`
    (strings, or SQuAD-style `{"text": ...}`), `is_impossible`; with `as_of_field` that field
    holds the question's date as YYYY-MM-DD (null = no date).

    Example: `load_questions("../shared/eval/news/dev.jsonl", "question_date", limit=1)[0].as_of`
    is `date(2022, 6, 16)`.
    """
    if limit is not None and limit < 0:
        raise ConfigError(f"limit must be 0 or more, got {limit}; leave it out to read every line")
    path = Path(path)
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError, EOFError) as e:
        raise InputError(
            f"cannot read question file {path}: {e}; give the path of a UTF-8 JSONL file"
        ) from e

    questions: list[Question] = []
    seen: dict[str, int] = {}  # question id -> line number
    for lineno, line in enumerate(lines, start=1):
        if limit is not None and len(questions) >= limit:
            break
        if not line.strip():
            continue
        q = _parse_question(line, path, lineno, as_of_field)
        if q.id in seen:
            raise InputError(
                f"{path}:{lineno}: id {q.id!r} already used on line {seen[q.id]}; "
                "give each question a unique id"
            )
        seen[q.id] = lineno
        questions.append(q)
    return questions


def _parse_question(line: str, path: Path, lineno: int, as_of_field: str | None) -> Question:
    where = f"{path}:{lineno}"
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as e:
        raise InputError(f"{where}: not valid JSON ({e.msg}); write one JSON object a line") from e
    if not isinstance(rec, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(rec).__name__}")

    text = rec.get("question")
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{where}: 'question' is missing or empty; add the question text")
    qid = rec.get("id", lineno)
    if not isinstance(qid, (str, int)) or isinstance(qid, bool):
        raise InputError(f"{where}: 'id' must be a string or a number, got {qid!r}")

    gold = _strings(rec.get("gold_doc_ids", []), "gold_doc_ids", where)
    answers = _strings(rec.get("answers", []), "answers", where)
    impossible = rec.get("is_impossible", False)
    if not isinstance(impossible, bool):
        raise InputError(f"{where}: 'is_impossible' must be true or false, got {impossible!r}")

    as_of: date | None = None
    if as_of_field is not None:
        if as_of_field not in rec:
            raise InputError(
                f"{where}: no {as_of_field!r} field; add it (YYYY-MM-DD) or evaluate without as_of"
            )
        raw = rec[as_of_field]
        if raw is not None:
            try:
                as_of = date.fromisoformat(str(raw)[:10])
            except ValueError as e:
                raise InputError(
                    f"{where}: {as_of_field!r} is {raw!r}, not a date; write it as YYYY-MM-DD"
                ) from e
    in_gold = rec.get("answer_in_gold_doc", True) is not False
    kind = rec.get("question_type") or ""
    if not isinstance(kind, str):
        raise InputError(f"{where}: 'question_type' must be a string, got {kind!r}")
    return Question(str(qid), text.strip(), gold, answers, impossible, as_of, in_gold, kind)


def _strings(value: Any, name: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise InputError(f"{where}: {name!r} must be a list of strings, got {value!r}")
    out = []
    for v in value:
        if isinstance(v, dict) and isinstance(v.get("text"), str):
            v = v["text"]  # SQuAD-style {"text": ..., "answer_start": ...}
        if not isinstance(v, str):
            raise InputError(f"{where}: {name!r} must be a list of strings, got item {v!r}")
        out.append(v)
    return tuple(out)
