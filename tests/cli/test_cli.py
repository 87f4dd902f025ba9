"""The `rag` command: help texts, exit codes, one-line errors, JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from rag.cli.main import main


def _tree(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path under `group`, the group itself first: the whole `rag` tree."""
    out = [path]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            out += _tree(command, (*path, name))
        else:
            out.append((*path, name))
    return out


COMMANDS = _tree(main)


def test_the_tree_is_walked_whole() -> None:
    assert len(COMMANDS) > 20 and ("index", "sources", "add") in COMMANDS
    assert {("ask",), ("serve",), ("eval",), ("index", "build"), ("llm", "install")} <= set(
        COMMANDS
    )


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c) or "rag")
def test_every_command_has_help(cmd: tuple[str, ...]) -> None:
    """Every command and group says what it does (a sentence), its usage and its options."""
    result = CliRunner().invoke(main, [*cmd, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: ") and "Options:" in result.output
    assert "-h, --help" in result.output
    summary = result.output.split("\n\n")[1].strip()  # the docstring's first paragraph
    assert len(summary.split()) >= 3 and summary[0].isupper(), (cmd, summary)


def test_missing_index_is_one_line_and_nonzero(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["index", "status", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and "rag index build" in result.output


def test_bad_setting_from_environment_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["index", "status"], env={"RAG_K": "many"})
    assert result.exit_code == 1 and "RAG_K" in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_build_ask_search_json(tmp_path: Path) -> None:
    runner = CliRunner()
    ix = str(tmp_path / "ix")
    seeds = str(Path(__file__).resolve().parents[2] / "seeds")
    built = runner.invoke(main, ["index", "build", seeds, "--index", ix, "--quiet"])
    assert built.exit_code == 0, built.output
    assert "indexed 1 articles" in built.output
    q = "Which countries lead the work on security guarantees for Ukraine?"
    out = runner.invoke(main, ["ask", q, "--index", ix, "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert set(data) >= {"question", "answer", "refused", "citations"}
    cit = data["citations"][0]
    keys = {
        "n",
        "doc_id",
        "title",
        "published",
        "outlet",
        "url",
        "chunk_start",
        "chunk_end",
        "sentence_start",
        "sentence_end",
        "score",
        "text",
    }
    assert keys <= set(cit)
    found = runner.invoke(
        main, ["search", "security guarantees", "--index", ix, "--json", "--k", "2"]
    )
    hits = json.loads(found.output)["hits"]
    assert len(hits) == 2 and hits[0]["rank"] == 1
    empty = runner.invoke(main, ["ask", "   ", "--index", ix])
    assert empty.exit_code == 1 and "question is empty" in empty.output


@pytest.mark.slow
def test_eval_builds_from_corpus_scores_and_writes_a_report(tmp_path: Path) -> None:
    runner = CliRunner()
    ix = str(tmp_path / "ix")
    seeds = Path(__file__).resolve().parents[2] / "seeds"
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        json.dumps(
            {
                "doc_id": "seed",
                "title": "Rutte on guarantees",
                "published": "2025-08-19",
                "text": next(seeds.glob("*.txt")).read_text().split("\n", 1)[1],
            }
        )
        + "\n"
        + json.dumps({"doc_id": "other", "text": "Tomatoes grow well in warm summers."})
        + "\n"
    )
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps(
            {
                "id": "1",
                "question": "Who leads the security guarantees work?",
                "gold_doc_ids": ["seed"],
                "answers": ["Keir Starmer"],
                "day": "2025-08-20",
            }
        )
        + "\n"
    )
    out = tmp_path / "report.json"
    args = [
        "eval",
        "--questions",
        str(questions),
        "--corpus",
        str(corpus),
        "--index",
        ix,
        "--as-of-field",
        "day",
        "--answers",
        "--out",
        str(out),
    ]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    report = json.loads(out.read_text())
    assert report["n"] == 1 and report["hit@1"] == 1.0 and report["mrr@10"] == 1.0
    for key in (
        "hit@5",
        "hit@10",
        "ndcg@10",
        "latency_p50_ms",
        "latency_p95_ms",
        "em",
        "f1",
        "answer_contains",
        "refusal_precision",
        "refusal_recall",
    ):
        assert key in report
    assert report["questions"][0]["ranked"][0] == "seed"
    again = runner.invoke(main, args)  # same corpus and settings: the index is reused
    assert again.exit_code == 0 and "indexed" not in again.output
    other_half = runner.invoke(main, [*args, "--every", "2", "--offset", "1"])
    assert other_half.exit_code == 0, other_half.output
    assert json.loads(out.read_text())["n_total"] == 0  # the one question is in the first half
    bad = runner.invoke(main, [*args, "--every", "0"])
    assert bad.exit_code == 2 and "--every" in bad.output
    assert not (tmp_path / "report.json.partial.jsonl").exists()  # removed once written


@pytest.mark.slow
def test_eval_goes_on_after_a_stop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.eval import evaluate, report

    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(json.dumps({"doc_id": "a", "text": "Tomatoes grow well in warm summers."}))
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "Where do tomatoes grow?", "answers": ["warm"]}))
    out = tmp_path / "run.json"
    ix = str(tmp_path / "ix")
    args = ["eval", "--questions", str(questions), "--corpus", str(corpus), "--index", ix]
    args += ["--answers", "--out", str(out)]

    def stop(*_: object) -> str:
        raise KeyboardInterrupt  # stopped after the last question, before the report

    monkeypatch.setattr(report, "format_table", stop)
    assert CliRunner().invoke(main, args).exit_code != 0 and not out.exists()
    monkeypatch.undo()
    monkeypatch.setattr(evaluate, "_answer", stop)  # a question asked again would stop it
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0, again.output
    assert "run.json.partial.jsonl: 1 questions done before" in again.output
    assert json.loads(out.read_text())["n_total"] == 1
    assert not (tmp_path / "run.json.partial.jsonl").exists()
    (tmp_path / "run.json.partial.jsonl").write_text('{"options": {"k": 3}}\n')
    other = CliRunner().invoke(main, args)
    assert other.exit_code == 1 and "holds the rows of a run with other options" in other.output


@pytest.mark.parametrize("question", ["?", "the and of is a", "🤔🤔🤔", "???"])
def test_a_question_without_keywords_is_answered_or_refused_not_a_traceback(
    fake_pipeline, monkeypatch: pytest.MonkeyPatch, question: str
) -> None:
    from rag import Pipeline
    from rag.cli import main as cli
    from tests.conftest import FakeEmbedder

    monkeypatch.setattr(
        cli, "pipeline", lambda **o: Pipeline(fake_pipeline.settings, FakeEmbedder())
    )
    for cmd in (["ask", question], ["search", question], ["ask", question, "--json"]):
        result = CliRunner().invoke(main, cmd)
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
