"""Session: what one chat holds (turns) and its feedback records.

No Gradio here: the app calls these and turns `RagError`s into messages.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rag.errors import InputError
from rag.types import Answer

FEEDBACK = "feedback.jsonl"  # in the index folder
ANSWER_MODES = ("extractive", "LLM")
_feedback_lock = threading.Lock()


@dataclasses.dataclass(frozen=True)
class Turn:
    """One question and its answer; `message` is the answer's index in the chat history."""

    answer: Answer
    message: int


def turn_at(turns: Sequence[Turn], message: int) -> Turn | None:
    """The turn whose answer is chat message `message` (None for a user message or an error)."""
    return next((t for t in turns if t.message == message), None)


def feedback_record(answer: Answer, vote: str, when: datetime | None = None) -> dict[str, Any]:
    """One line of `feedback.jsonl`: time, question, answer, citations, vote ("up"/"down").

    >>> from rag.types import Answer
    >>> r = feedback_record(Answer("q?", "no", True), "down", datetime(2025, 1, 2, 3, 4, 5))
    >>> (r["time"], r["vote"], r["refused"], r["citations"])
    ('2025-01-02T03:04:05', 'down', True, [])
    """
    if vote not in ("up", "down"):
        raise InputError(f"vote must be 'up' or 'down', not {vote!r}")
    when = when or datetime.now(timezone.utc)
    return {
        "time": when.isoformat(timespec="seconds"),
        "question": answer.question,
        "answer": answer.text,
        "refused": answer.refused,
        "citations": [
            {
                "n": c.n,
                "doc_id": c.hit.article.doc_id,
                "title": c.hit.article.title,
                "outlet": c.hit.article.outlet,
                "published": (
                    c.hit.article.published.isoformat() if c.hit.article.published else None
                ),
                "url": c.hit.article.url,
                "chunk_id": c.hit.chunk.id,
                "sentence": c.hit.article.text[c.sentence_start : c.sentence_end],
                "sentence_start": c.sentence_start,
                "sentence_end": c.sentence_end,
                "supported": c.supported,
            }
            for c in answer.citations
        ],
        "vote": vote,
    }


def append_feedback(index_dir: Path, record: dict[str, Any]) -> Path:
    """Append `record` as one JSON line to `<index_dir>/feedback.jsonl`; returns the file."""
    path = Path(index_dir) / FEEDBACK
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _feedback_lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write(line)
    return path
