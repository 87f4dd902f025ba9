"""CLI for following sources: `rag index sources add|remove|list`, and `--every` schedules."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from rag.cli.common import common, pipeline
from rag.errors import RagError
from rag.names import shown


@click.group("sources")
def sources_group() -> None:
    """The sources list: what `rag index update` and `rag serve --refresh` refresh."""


@sources_group.command("add")
@click.argument("names", nargs=-1, required=True)
@common
def add(names: tuple[str, ...], **opts: Any) -> None:
    """Follow NAMES: feed or article URLs, files or folders (indexed at the next update).
    Paths are kept absolute; "" or "." is refused: give the folder's full path instead."""
    from rag.ingest import follow

    now = follow.add(pipeline(**opts).settings.index.index_dir, names)
    click.echo(f"{len(now)} sources; `rag index update` indexes the new ones now")


@sources_group.command("remove")
@click.argument("names", nargs=-1, required=True)
@common
def remove(names: tuple[str, ...], **opts: Any) -> None:
    """Stop following NAMES (as listed, or as typed); their articles leave the index at the
    next update."""
    from rag.ingest import follow

    now = follow.remove(pipeline(**opts).settings.index.index_dir, names)
    click.echo(f"{len(now)} sources left; `rag index update` drops their articles now")


@sources_group.command("list")
@common
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
def list_sources(as_json: bool, **opts: Any) -> None:
    """List the sources: kind, last fetch, status, new/changed/removed counts, articles."""
    from rag.ingest import follow

    for src in follow.table(pipeline(**opts).settings.index.index_dir):
        r = src.run  # names as shown: no logins or query values (rag/names.py)
        if as_json:
            last = dataclasses.asdict(r) if r else None
            if last:
                last["status"] = shown(last["status"])
            click.echo(json.dumps({"source": src.label, "kind": src.kind, "last": last}))
        elif r is None:
            click.echo(
                f"{src.label}\t{src.kind}\t-\t{'not fetched yet' if src.kind == 'URL' else '-'}"
            )
        else:
            counts = f"{r.new} new, {r.changed} changed, {r.removed} left the feed"
            click.echo(
                f"{src.label}\t{src.kind}\t{r.at}\t{shown(r.status)}\t{counts}\t"
                f"{r.articles} articles"
            )


def private_hosts_option(f: Any) -> Any:
    """--allow-private-hosts (for the commands that fetch: build, update, serve)."""
    return click.option(
        "--allow-private-hosts",
        "allow_private_hosts",
        is_flag=True,
        default=None,
        help="Let feeds and pages lead to loopback, private and link-local addresses too "
        "(RAG_ALLOW_PRIVATE_HOSTS=1). Without it only the hosts of the sources you typed may "
        "be private ones.",
    )(f)


def prune_option(f: Any) -> Any:
    """--prune (for `rag index update`)."""
    return click.option(
        "--prune",
        is_flag=True,
        help="Also drop the articles of sources that cannot be read this time (a missing "
        "folder, a feed that fails); without it they are kept, and a note says so.",
    )(f)


def every_option(f: Any) -> Any:
    """--every DURATION and --rounds N (for `rag index update`)."""
    f = click.option(
        "--rounds",
        type=click.IntRange(min=1),
        default=None,
        help="With --every: stop after N updates.",
    )(f)
    return click.option(
        "--every",
        metavar="DURATION",
        default=None,
        help="Keep updating on this schedule (30s, 15m, 1h; start to start) until interrupted.",
    )(f)


def repeat(once: Callable[[bool], Any], every: str | None, rounds: int | None, quiet: bool) -> None:
    """`once(progress)` now; with `every`, again on that schedule. A failed round is one line
    on stderr and the schedule goes on; Ctrl-C stops it."""
    from rag.ingest import follow

    seconds = follow.parse_every(every) if every else None
    if seconds is None:
        once(not quiet)
        return

    def scheduled() -> None:
        try:
            once(False)
        except RagError as e:
            click.echo(f"update failed: {e}", err=True)

    try:
        follow.run_every(scheduled, seconds, rounds)
    except KeyboardInterrupt:
        click.echo("stopped", err=True)


def first_sources(given: Sequence[str], default: Sequence[str], index_dir: Path) -> list[str]:
    """What `rag serve` indexes when there is no index: `given` (--sources), else the sources
    list, else `default`; paths must exist (rag/cli/serving.py), URLs are fetched."""
    from rag.cli import serving
    from rag.ingest import follow

    names = list(given) or follow.listed(index_dir)
    urls = [n for n in names if follow.is_url(n)]
    files = [n for n in names if not follow.is_url(n)]
    return [*serving.first_sources(files, () if urls else default, index_dir), *urls]
