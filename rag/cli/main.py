"""Main: the `rag` command; turns RagError into a one-line message and exit code 1."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from rag.cli import evals as cli_eval
from rag.cli import serve as cli_serve
from rag.cli import sources as cli_follow
from rag.cli import story as cli_story
from rag.cli import tune as cli_tune
from rag.cli.common import (
    DEFAULT_SOURCES,
    Group,
    answer_json,
    common,
    echo_skip,
    hit_json,
    llm_options,
    pipeline,
    query_options,
    ray_options,
    report_line,
    shards_option,
)
from rag.errors import InputError
from rag.names import shown
from rag.types import Answer

if TYPE_CHECKING:  # imported when a command runs
    from rag.pipeline import Pipeline


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Ask questions about news articles and get answers with cited sources."""


@main.group("index")
def index_group() -> None:
    """Build and inspect the index."""


def on_ray(p: Pipeline, address: str | None, workers: int | None) -> Pipeline:
    """`p`; when `address` is given, a pipeline over its settings whose builds are embedded on
    the Ray cluster there."""
    if not address:
        return p
    from rag.embed.cluster import RayEncoder
    from rag.pipeline import Pipeline

    return Pipeline(p.settings, encoder=RayEncoder(p.settings, address, workers=workers))


@index_group.command("build")
@click.argument("paths", nargs=-1)
@common
@click.option("--chunk-size", type=int, default=None, help="Characters per chunk (RAG_CHUNK_SIZE).")
@click.option("--chunk-overlap", type=int, default=None, help="Overlap in characters.")
@shards_option
@click.option("--quiet", is_flag=True, help="No progress bars.")
@ray_options
@cli_follow.private_hosts_option
def build(
    paths: tuple[str, ...],
    quiet: bool,
    ray_address: str | None,
    ray_workers: int | None,
    **opts: Any,
) -> None:
    """Index PATHS: files, folders, feed or article URLs (default: the sources list, else
    seeds/). Unchanged articles are not re-embedded. PATHS become the sources list."""
    from rag.ingest.follow import listed

    p = on_ray(pipeline(**opts), ray_address, ray_workers)
    given = paths or listed(p.settings.index.index_dir) or DEFAULT_SOURCES
    report = p.build(given, progress=not quiet, on_skip=echo_skip)
    click.echo(report_line(report))


@index_group.command("update")
@click.argument("paths", nargs=-1)
@common
@shards_option
@click.option("--quiet", is_flag=True, help="No progress bars.")
@ray_options
@cli_follow.every_option
@cli_follow.private_hosts_option
@cli_follow.prune_option
def update(
    paths: tuple[str, ...],
    quiet: bool,
    ray_address: str | None,
    ray_workers: int | None,
    every: str | None,
    rounds: int | None,
    prune: bool,
    **opts: Any,
) -> None:
    """Bring the index in step with PATHS (default: the sources list, `rag index sources`).

    New articles are added, changed ones re-embedded, vanished ones dropped; unchanged ones are
    not re-embedded, a feed not modified costs one request, articles that leave a feed stay.
    """
    p = on_ray(pipeline(**opts), ray_address, ray_workers)

    def once(progress: bool) -> None:
        report = p.update(paths, progress=progress, on_skip=echo_skip, prune=prune)
        click.echo(
            f"added {report.added}, changed {report.changed}, removed {report.removed}, "
            f"unchanged {report.unchanged}"
        )
        click.echo(report_line(report))

    cli_follow.repeat(once, every, rounds, quiet)


@index_group.command("remove")
@click.argument("keys", nargs=-1, required=True)
@common
def remove(keys: tuple[str, ...], **opts: Any) -> None:
    """Remove articles by doc_id or source path; later updates keep them out."""
    report = pipeline(**opts).remove(keys)
    click.echo(
        f"removed {report.removed} articles; {report.articles} remain ({report.chunks} chunks)"
    )


@index_group.command("list")
@common
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
def list_articles(as_json: bool, **opts: Any) -> None:
    """List the indexed articles: id, date, outlet, chunks, title."""
    for a, n in pipeline(**opts).articles():
        date_ = a.published.isoformat() if a.published else "undated"
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "doc_id": a.doc_id,
                        "title": a.title,
                        "published": date_,
                        "outlet": a.outlet,
                        "chunks": n,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            click.echo(f"{a.doc_id}\t{date_}\t{a.outlet or '-'}\t{n}\t{a.title[:80]}")


@index_group.command("verify")
@common
def verify(**opts: Any) -> None:
    """Check that the index files are intact and agree with each other."""
    click.echo(pipeline(**opts).verify())


@index_group.command("rollback")
@common
def rollback(**opts: Any) -> None:
    """Switch back to the generation before the live one (the last build or update undone)."""
    was, now = pipeline(**opts).rollback()
    click.echo(f"switched from {was} back to {now}")


@index_group.command("status")
@common
def status(**opts: Any) -> None:
    """Show what the index holds: counts, model, build time, size on disk."""
    gen, m, size = pipeline(**opts).status()
    click.echo(f"index:    {gen}")
    click.echo(f"articles: {m.articles}\nchunks:   {m.chunks}")
    click.echo(f"model:    {m.model} ({m.dim} dimensions)")
    if m.backend:
        click.echo(f"runtime:  {m.backend} ({m.backend_reason})")
    click.echo(f"chunks:   {m.chunk_size} characters, {m.chunk_overlap} overlap")
    if m.shards != "none":
        keys = sorted(m.shard_sets)
        click.echo(f"shards:   {len(keys)} by {m.shards} ({keys[0]} .. {keys[-1]})")
    click.echo(f"built:    {m.built_at}\nsize:     {size / 1e6:.1f} MB")
    click.echo(f"sources:  {shown(', '.join(m.sources))}")


@main.command("ask")
@click.argument("question")
@common
@query_options
@llm_options
def ask(question: str, as_json: bool, use_llm: bool, **opts: Any) -> None:
    """Answer QUESTION from the articles, citing passages as [n]."""
    p = pipeline(**opts)
    generate = use_llm or bool(opts.get("llm_url") or opts.get("llm_path"))
    streamed: list[str] = []
    answer: Answer | None = None
    for item in p.ask_stream(question, llm=True if generate else None):
        if isinstance(item, Answer):
            answer = item
        elif not as_json:
            streamed.append(item)
            click.echo(item, nl=False)
    if answer is None:
        raise InputError("no answer came back; ask again")
    if answer.note:
        click.echo(("\n" if streamed else "") + f"warning: {answer.note}", err=True)
    if as_json:
        click.echo(json.dumps(answer_json(answer), ensure_ascii=False, indent=1))
        return
    if streamed:
        click.echo()
    if answer.text != "".join(streamed).strip():  # not streamed, or changed by the check
        click.echo(answer.text)
    for s, e in answer.unsupported:
        click.echo(f"unsupported: {answer.text[s:e]}")
    if answer.confidence is not None:
        click.echo(f"confidence the articles answer this: {round(100 * answer.confidence)} %")
    if answer.as_of:
        click.echo(f"As of {answer.as_of} (the newest cited article)")
    click.echo()
    cited = {c.n for c in answer.citations}
    for h in answer.hits:
        mark = f"[{h.rank}]" if h.rank in cited else f" {h.rank}."
        click.echo(
            f"{mark} {h.article.title} — {_outlet(h.article)}"
            f"{h.article.published or 'undated'} (relevance {h.similarity:.2f})"
        )


@main.command("search")
@click.argument("query")
@common
@query_options
def search(query: str, as_json: bool, **opts: Any) -> None:
    """Show the passages that best match QUERY, ranked."""
    p = pipeline(**opts)
    hits = p.search(query)
    if as_json:
        click.echo(
            json.dumps(
                {"query": query, "hits": [hit_json(h) for h in hits]}, ensure_ascii=False, indent=1
            )
        )
        return
    for h in hits:
        click.echo(
            f"{h.rank}. {h.article.title} — {_outlet(h.article)}"
            f"{h.article.published or 'undated'} (relevance {h.similarity:.2f})"
        )
        click.echo("   " + " ".join(h.chunk.text.split())[:300])


def _outlet(a: Any) -> str:
    from rag.ingest.records import outlet

    name = outlet(a)
    return f"{name}, " if name else ""


for command in (
    cli_eval.eval_cmd,
    cli_eval.gate_group,
    cli_eval.llm_group,
    cli_story.story_cmd,
    cli_serve.serve,
):
    main.add_command(command)
index_group.add_command(cli_follow.sources_group)
index_group.add_command(cli_tune.tune_cmd)


if __name__ == "__main__":
    sys.exit(main())
