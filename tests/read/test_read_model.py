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


@pytest.mark.slow
def test_the_shipped_reader_restores_into_a_checkpoint_that_reads_alike(tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    from rag.read.restore import restore

    folder = restore(tmp_path / "ckpt")
    assert json.loads((folder / "recipe.json").read_text())["base"] == "all-MiniLM-L6-v2"
    net = AutoModelForQuestionAnswering.from_pretrained(str(folder)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    for question, passage, want in TINY[:3]:
        enc = tokenizer(question, passage, return_tensors="pt", return_offsets_mapping=True)
        offsets = enc.pop("offset_mapping")[0]
        with torch.no_grad():
            out = net(**enc)
        first, last = int(out.start_logits.argmax()), int(out.end_logits.argmax())
        restored = passage[int(offsets[first][0]) : int(offsets[last][1])]
        (shipped,) = ReaderModel().read(question, [passage])
        assert want in restored and want in shipped.text, (restored, shipped)


ARTICLES = {  # made up: a fictional region's news, two outlets
    "harbour.txt": (
        "date 2026-03-02\nVelden harbour reopens\n\n"
        "The harbour of Velden reopened on Monday after a two-year rebuild. Mayor Ilse Brandt "
        "cut the ribbon in front of about 400 residents. The rebuild cost 18 million euros, "
        "paid mostly by the regional government. The new quay can take ferries of up to "
        "120 metres."
    ),
    "festival.txt": (
        "date 2026-03-05\nLantern festival draws crowds\n\n"
        "The lantern festival in Orlau drew 9,000 visitors over the weekend. It was organised "
        "by the Orlau Arts Guild for the twelfth time. Food stalls ran out of bread on Sunday."
    ),
}


@pytest.fixture(scope="module")
def reader() -> ReaderModel:
    return ReaderModel()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "passage", "want"),
    [
        ("Who cut the ribbon?", "harbour.txt", "Ilse Brandt"),
        ("How much did the rebuild cost?", "harbour.txt", "18 million euros"),
        ("Who organised the lantern festival?", "festival.txt", "Orlau Arts Guild"),
        ("How many visitors did the festival draw?", "festival.txt", "9,000"),
    ],
)
def test_the_shipped_reader_finds_the_span(
    reader: ReaderModel, question: str, passage: str, want: str
) -> None:
    text = ARTICLES[passage].split("\n\n", 1)[1]
    (span,) = reader.read(question, [text])
    assert want in span.text and len(span.text) <= len(want) + 12, span
    assert span.margin > -2  # the calibration decides; unanswerable ones sit far lower


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "passage"),
    [
        ("Who won the chess tournament?", "festival.txt"),
        pytest.param(
            "What is the population of Velden?",
            "harbour.txt",
            marks=pytest.mark.xfail(
                strict=True,
                reason="v2, v3 and v4 read 'about 400 residents' as the population",
            ),
        ),
    ],
)
def test_the_shipped_reader_says_when_a_passage_has_no_answer(
    reader: ReaderModel, question: str, passage: str
) -> None:
    text = ARTICLES[passage].split("\n\n", 1)[1]
    (span,) = reader.read(question, [text])
    assert span.margin < -2, span


def _reports(folder: Path, winners: tuple[str, str]) -> Path:
    """Two outlets' reports of one made-up race, naming `winners` (one each)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [
        {
            "doc_id": f"race-{i}",
            "title": "Lake Orlau regatta ends in a sprint",
            "source": outlet,
            "published": "2026-05-1" + str(i),
            "text": text.format(w=w),
        }
        for i, (outlet, w, text) in enumerate(
            [
                (
                    "orlau-post.example",
                    winners[0],
                    "The Lake Orlau regatta was won by {w} on Saturday after a sprint in the last "
                    "mile. Forty boats started the race in light wind.",
                ),
                (
                    "velden-news.example",
                    winners[1],
                    "Forty boats started the Lake Orlau regatta in light wind on Saturday. {w} won "
                    "the race after a sprint in the last mile, the organisers said.",
                ),
            ]
        )
    ]
    path = folder / "reports.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    ("winners", "sides"), [(("Mara Holt", "Jonas Lind"), 2), (("Mara Holt", "Mara Holt"), 0)]
)
def test_outlets_that_name_different_winners_disagree(
    tmp_path: Path, real_embedder: object, winners: tuple[str, str], sides: int
) -> None:
    from rag import Pipeline, Settings

    settings = Settings.load(env={}, index_dir=tmp_path / "index", reader="shipped")
    p = Pipeline(settings, real_embedder)  # type: ignore[arg-type]
    p.build([_reports(tmp_path / "src", winners)])
    answer = p.ask("Who won the Lake Orlau regatta?")
    assert not answer.refused and answer.text.startswith(("Mara Holt", "Jonas Lind"))
    named = [{side.value for side in d.sides} for d in answer.disagreements]
    assert ({"Mara Holt", "Jonas Lind"} in named) == bool(sides), answer.text
    assert len(answer.disagreements) <= 1
