"""CLI for `rag index tune`: the embedding model fine-tuned on the index's own articles."""

from __future__ import annotations

from typing import Any

import click

from rag.cli.common import common, pipeline, report_line


@click.command("tune")
@common
@click.option("--epochs", type=int, default=1, show_default=True, help="Passes over the pairs.")
@click.option("--batch-size", type=int, default=32, show_default=True, help="Pairs per step.")
@click.option(
    "--max-steps", type=int, default=0, help="Stop after this many steps (0: the epochs decide)."
)
@click.option(
    "--held-out",
    type=click.FloatRange(0.01, 0.5),
    default=0.1,
    show_default=True,
    help="Share of articles kept out of training to measure and stop early.",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
def tune_cmd(
    epochs: int, batch_size: int, max_steps: int, held_out: float, quiet: bool, **opts: Any
) -> None:
    """Fine-tune the embedding model on the indexed articles (headline -> text, no labels),
    then embed the index again with it.

    The tuned model is saved in the index folder (tuned/NAME) and named in the manifest with a
    digest of its files; builds, updates and searches use it from then on (restart a running
    `rag serve`). `rag index rollback` goes back to the index before tuning. Needs the
    training extras: pip install -e '.[tune]'.
    """
    p = pipeline(**opts)
    t, built = p.tune(
        epochs=epochs,
        batch_size=batch_size,
        max_steps=max_steps,
        held_out=held_out,
        progress=not quiet,
    )
    click.echo(
        f"tuned {t.base} on {t.pairs} pairs in {t.steps} steps ({t.seconds:.0f} s): held-out "
        f"headline -> article MRR@10 {t.before:.3f} -> {t.after:.3f}; saved {t.model}"
    )
    click.echo(report_line(built))
