"""CLI for `rag serve`: the chat on HOST:PORT, indexing first when there is no index."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from rag.cli import sources as cli_follow
from rag.cli.common import (
    DEFAULT_SOURCES,
    common,
    echo_skip,
    pipeline,
    report_line,
    serve_ray_options,
)
from rag.errors import ConfigError, IndexMissingError


@click.command("serve")
@common
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 serves other machines too (add --auth).",
)
@click.option("--port", default=7860, show_default=True, help="Port.")
@click.option(
    "--auth",
    envvar="RAG_AUTH",
    default=None,
    metavar="USER:PASSWORD",
    help="Ask for this login before showing the app (RAG_AUTH).",
)
@click.option(
    "--allow-anonymous",
    is_flag=True,
    help="Serve beyond 127.0.0.1 without --auth (read-only: no uploads, updates or removals).",
)
@click.option(
    "--sources",
    "source_paths",
    multiple=True,
    default=None,
    help="Articles to index when there is no index yet (default: seeds/).",
)
@click.option(
    "--update",
    "update_first",
    is_flag=True,
    help="Bring an existing index in step with its sources (and --sources) before serving.",
)
@click.option(
    "--refresh",
    metavar="DURATION",
    default=None,
    help="Update from the sources list in the background on this schedule (15m, 1h); the chat "
    "switches to each new index when it is ready.",
)
@click.option(
    "--mcp",
    is_flag=True,
    help="Also serve ask and search as MCP tools at /gradio_api/mcp/ (under --auth, MCP clients "
    "send the login as HTTP Basic).",
)
@serve_ray_options
@cli_follow.private_hosts_option
def serve(
    host: str,
    port: int,
    auth: str | None,
    allow_anonymous: bool,
    source_paths: tuple[str, ...],
    update_first: bool,
    refresh: str | None,
    mcp: bool,
    ray_address: str | None,
    ray_workers: int | None,
    **opts: Any,
) -> None:
    """Open the chat in the browser at http://HOST:PORT.

    An existing index is served as it is (checked first); with no index yet, --sources (default:
    the sources list, else seeds/) are indexed first. --update brings an existing one in step
    with its sources; --refresh keeps doing so while serving, the first time at once. --mcp
    lets agents ask and search too (the tools `ask` and `search`; nothing that changes the index).
    --ray searches the shards of an index cut by month (`rag index build --shards month`) on
    Ray actors.
    """
    shard_host = None
    if ray_address:  # Ray missing or a bad address: one line, before anything else
        from rag.index.cluster import RayHost

        shard_host = RayHost(ray_address, ray_workers)
    from rag.cli import serving
    from rag.ingest.follow import listed, parse_every

    login = serving.check_access(host, auth, allow_anonymous)  # before any indexing
    every = parse_every(refresh) if refresh else None
    p = pipeline(**opts)
    if shard_host is not None:  # the same settings, the shards searched on the Ray actors
        from rag.pipeline import Pipeline

        p = Pipeline(p.settings, shard_host=shard_host)
    try:
        p.status()
    except IndexMissingError:
        paths = cli_follow.first_sources(source_paths, DEFAULT_SOURCES, p.settings.index.index_dir)
        click.echo(report_line(p.build(paths, progress=True, on_skip=echo_skip)))
        update_first = True  # just read: the first refresh waits its turn
    else:
        if update_first:
            now = listed(p.settings.index.index_dir)
            extra = [x for x in source_paths if x not in now]
            report = p.update([*now, *extra], progress=True, on_skip=echo_skip)
            click.echo(report_line(report))
    if shard_host and p.status()[1].shards == "none":
        click.echo(
            "note: the index is not cut into shards, so it is searched here, not on "
            "Ray (rag index build --shards month)",
            err=True,
        )
    click.echo(serving.verified(p), err=True)
    chat_launcher()(
        p,
        host=host,
        port=port,
        auth=login,
        read_only=serving.read_only(host, login),
        refresh=every,
        refresh_at_once=not update_first,
        mcp=mcp,
    )


def chat_launcher() -> Callable[..., Any]:
    """The chat app's `launch(pipeline, host=..., ...)`, found through the "rag.chat" entry point
    that the `ui` package registers (pyproject.toml): rag/ never imports ui/."""
    from importlib.metadata import entry_points

    found = sorted(entry_points(group="rag.chat"), key=lambda e: e.name)
    if not found:
        raise ConfigError(
            "no chat app is installed (entry point group 'rag.chat'); reinstall the package: "
            "pip install -e ."
        )
    launch: Callable[..., Any] = found[0].load()
    return launch
