"""The reader model: the shipped file's SHA-256 check, the real model on made-up articles, and
the training script end to end on a tiny made-up set (so it cannot rot)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rag.errors import ModelError
from rag.read.export import MODEL_FILE, RECORD, SHIPPED
from rag.read.model import ReaderModel

TINY = [  # made up: a fictional town's news, nothing from any evaluation set
    (
        "Who opened the library?",
        "Mayor Ilse Brandt opened the new library in Velden on Friday.",
        "Ilse Brandt",
    ),
    (
        "How many books does it hold?",
        "The library holds 42,000 books and a small cinema.",
        "42,000",
    ),
    ("When did the ferry start?", "The Velden ferry started service in March 1998.", "March 1998"),
    ("Who won the chess cup?", "The rowing club bought two new boats this spring.", None),
]


def _tiny(path: Path) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for q, c, a in TINY * 3:
            answers = [{"text": a, "answer_start": c.index(a)}] if a else []
            f.write(
                json.dumps(
                    {"question": q, "context": c, "answers": answers, "is_impossible": a is None}
                )
                + "\n"
            )
    return path


def _copy_shipped(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(SHIPPED, folder)
    return folder


def test_a_changed_model_file_is_refused(tmp_path: Path) -> None:
    folder = _copy_shipped(tmp_path)
    data = bytearray((folder / MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="damaged"):
        ReaderModel(folder)


def test_a_missing_record_is_one_clear_error(tmp_path: Path) -> None:
    folder = _copy_shipped(tmp_path)
    (folder / RECORD).unlink()
    with pytest.raises(ModelError, match="no reader model"):
        ReaderModel(folder)


@pytest.mark.slow
def test_training_runs_end_to_end_and_exports_a_loadable_model(tmp_path: Path) -> None:
    from rag.read.export import export
    from rag.read.train import Recipe, train

    recipe = Recipe(max_steps=2, batch=4, max_length=64, stride=16)
    final = train(_tiny(tmp_path / "tiny.jsonl"), tmp_path / "run", recipe, save_every=1)
    assert (tmp_path / "run" / "train_log.jsonl").read_text().strip()
    assert any((tmp_path / "run").glob("checkpoint-*"))
    export(final, tmp_path / "ship")
    record = json.loads((tmp_path / "ship" / RECORD).read_text())
    assert record["max_length"] == 64 and len(record["sha256"]) == 64
    spans = ReaderModel(tmp_path / "ship").read("Who opened it?", [TINY[0][1]])
    assert len(spans) == 1 and spans[0].text in TINY[0][1]
