"""Checkpoint: an evaluation's rows kept on disk as they are made, so a long run (answers from
a local LLM take hours on a laptop) goes on where it stopped.

    cp = Checkpoint.open(Path("odd.json.partial.jsonl"), {"questions": "dev.jsonl", "k": 10})
    report = run(pipeline, questions, done=cp.rows, on_row=cp.add)
    save(report, "odd.json"); cp.remove()

The file is JSON lines: the run's options first, then one row per question. Rows are taken
back only when the options are the same; a last line cut short by a stop is dropped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from rag.errors import InputError
from rag.eval.report import json_default


def partial_path(out: Path) -> Path:
    """Where the rows of the run that writes `out` are kept until it is written."""
    return out.with_name(out.name + ".partial.jsonl")


class Checkpoint:
    """The rows of one run so far, by question id (`rows`), and a file to add new ones to."""

    def __init__(self, path: Path, rows: dict[str, dict[str, Any]], file: IO[str]) -> None:
        self.path = path
        self.rows = rows
        self._file = file

    @classmethod
    def open(cls, path: Path, options: dict[str, Any]) -> Checkpoint:
        """The checkpoint at `path` for a run with `options`: its rows if the file holds a run
        with the same options, else a new file (an error if it holds another run's rows)."""
        header = json.loads(json.dumps({"options": options}, default=str))
        rows: dict[str, dict[str, Any]] = {}
        try:
            lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
            if lines and json.loads(lines[0]) != header:
                raise InputError(
                    f"{path} holds the rows of a run with other options; run with those "
                    "options again to go on, or delete it to start over"
                )
            rows = _rows(lines[1:])
            file = path.open("a" if lines else "w", encoding="utf-8")
            if not lines:
                file.write(json.dumps(header) + "\n")
                file.flush()
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as e:
            raise InputError(
                f"cannot use checkpoint {path} ({e}); delete it or pick another --out"
            ) from None
        return cls(path, rows, file)

    def add(self, row: dict[str, Any]) -> None:
        """Keep one more row (written through at once: a stop loses no finished question)."""
        self._file.write(json.dumps(row, ensure_ascii=False, default=json_default) + "\n")
        self._file.flush()
        self.rows[row["id"]] = row

    def remove(self) -> None:
        """The run is written out: the checkpoint is no longer needed."""
        self._file.close()
        self.path.unlink(missing_ok=True)


def _rows(lines: list[str]) -> dict[str, dict[str, Any]]:
    """Rows by id; a last line cut short (the run was stopped while writing it) is left out."""
    rows = {}
    for i, line in enumerate(lines):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                break
            raise
        rows[row["id"]] = row
    return rows
