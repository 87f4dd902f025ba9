"""CLI pieces shared by the commands: options, the pipeline from flags, one-line reports, JSON."""

from __future__ import annotations

import errno
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from rag.config import MODES, Settings
from rag.errors import RagError
from rag.names import shown
from rag.search.parts import part_json
from rag.types import Answer, BuildReport, Hit, Skipped

if TYPE_CHECKING:  # the pipeline pulls in numpy, faiss, bm25s...: imported when a command runs
    from rag.pipeline import Pipeline

DEFAULT_SOURCES = ("seeds",)


class Group(click.Group):
    """A click group whose commands report RagError as one line, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RagError as e:  # names in it shown escaped, URLs without secrets (rag/names.py)
            raise click.ClickException(shown(str(e))) from None
        except OSError as e:  # a file or folder the command needed: say which, and why
            from rag.index.writes import failure

            full = failure(e) if e.errno != errno.EIO else None  # disk full, over the size limit
            if full and e.filename:
                raise click.ClickException(shown(f"{full} writing {e.filename}")) from None
            where = f"{e.filename}: " if e.filename else ""
            raise click.ClickException(shown(f"{where}{e.strerror or e}")) from None


def common(f: Any) -> Any:
    """Options every command takes."""
    f = click.option(
        "--model",
        default=None,
        help="Embedding model name or path (RAG_MODEL). Default: all-MiniLM-L6-v2.",
    )(f)
    return click.option(
        "--index",
        "index_dir",
        type=click.Path(path_type=Path),
        default=None,
        help="Index folder (RAG_INDEX_DIR). Default: index/.",
    )(f)


def query_options(f: Any) -> Any:
    """Options of the commands that retrieve."""
    for opt in reversed(
        [
            click.option("--k", type=int, default=None, help="Passages to return (default 5)."),
            click.option("--mode", type=click.Choice(MODES), default=None, help="Retrieval mode."),
            click.option(
                "--as-of",
                type=click.DateTime(["%Y-%m-%d"]),
                default=None,
                help="Ignore articles published after this date (YYYY-MM-DD).",
            ),
            click.option("--json", "as_json", is_flag=True, help="Print one JSON object."),
        ]
    ):
        f = opt(f)
    return f


def pipeline(**overrides: Any) -> Pipeline:
    """A pipeline over the settings: defaults <- RAG_* environment <- the flags given."""
    from rag.pipeline import Pipeline

    if isinstance(overrides.get("as_of"), datetime):
        overrides["as_of"] = overrides["as_of"].date()
    return Pipeline(Settings.load(**overrides))


def echo_skip(item: Skipped) -> None:
    from rag.types import Note

    word = "note" if isinstance(item, Note) else "skipped"
    click.echo(shown(f"{word} {item.path}: {item.reason}"), err=True)  # one line, no secrets


def report_line(r: BuildReport) -> str:
    from rag.ingest.sources import tally

    cut = r.shards_written + r.shards_reused
    shards = f"; {r.shards_written} of {cut} shards written, the rest linked" if cut else ""
    return (
        f"read {r.read} articles, {tally(r.skipped)}, {r.duplicates} exact duplicates; "
        f"indexed {r.articles} articles as {r.chunks} chunks "
        f"({r.embedded} embedded, {r.reused} reused){shards} in {r.seconds:.1f} s "
        f"-> {r.generation}"
    )


def ray_flags(workers_help: str, address_help: str, env: bool) -> Callable[[Any], Any]:
    """--ray [auto|local|ADDRESS] and --ray-workers N (from RAG_RAY_ADDRESS / RAG_RAY_WORKERS
    too when `env`)."""

    def add(f: Any) -> Any:
        f = click.option(
            "--ray-workers",
            type=click.IntRange(min=1),
            envvar="RAG_RAY_WORKERS" if env else None,
            default=None,
            help=workers_help,
        )(f)
        return click.option(
            "--ray",
            "ray_address",
            is_flag=False,
            flag_value="auto",
            default=None,
            envvar="RAG_RAY_ADDRESS" if env else None,
            metavar="[auto|local|ADDRESS]",
            help=address_help + " Needs pip install 'rag-news[ray]'.",
        )(f)

    return add


# `rag index build|update --ray`: embed a build's chunks on a Ray cluster (rag/embed/cluster.py)
ray_options = ray_flags(
    "Embedding actors on Ray, a CPU each (RAG_RAY_WORKERS). Default: the cluster's CPUs.",
    "Embed on Ray (RAG_RAY_ADDRESS): auto (the running cluster, else a local one), local, or "
    "host:6379 / ray://host:10001.",
    env=True,
)
# `rag serve --ray`: a sharded index searched on Ray actors (rag/index/cluster.py)
serve_ray_options = ray_flags(
    "Shard actors on Ray, each searching a group of shards. Default: the cluster's CPUs.",
    "Search a sharded index's shards on Ray actors: auto, local, or host:6379 / ray://host:10001.",
    env=False,
)


def shards_option(f: Any) -> Any:
    """--shards: how a build or update cuts the index (rag/index/shards.py)."""
    return click.option(
        "--shards",
        type=click.Choice(["none", "month"]),
        default=None,
        help="month: one shard per publication month, so updates rewrite only the months "
        "that changed and date filters skip whole months; none: one index (RAG_SHARDS). "
        "Default: as the index is cut now (none for a new one).",
    )(f)


def llm_options(f: Any) -> Any:
    """Options of the commands that can generate answers (see rag/llm/clients.py)."""
    for opt in reversed(
        [
            click.option(
                "--llm",
                "use_llm",
                is_flag=True,
                help="Generate the answer with the LLM (RAG_ANSWER_MODE=llm; implied by "
                "--llm-url/--llm-path); citations are checked; the extractive answer is shown "
                "when the LLM fails.",
            ),
            click.option(
                "--llm-url",
                default=None,
                help="OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1 (RAG_LLM_URL); "
                "the key comes from RAG_LLM_KEY.",
            ),
            click.option("--llm-model", default=None, help="Model name on the server."),
            click.option(
                "--llm-path",
                default=None,
                help="Local .gguf file (RAG_LLM_PATH). Default: the one `rag llm install` got.",
            ),
        ]
    ):
        f = opt(f)
    return f


def hit_json(h: Hit) -> dict[str, Any]:
    a = h.article
    return {
        "rank": h.rank,
        "doc_id": a.doc_id,
        "title": a.title,
        "published": a.published.isoformat() if a.published else None,
        "outlet": a.outlet,
        "url": a.url,
        "chunk_start": h.chunk.start,
        "chunk_end": h.chunk.end,
        "score": round(h.score, 6),  # the fused ranking score, for scripts that sort by it
        "relevance": round(h.similarity, 6),  # the one figure the CLI and the page show too
        "dense_rank": h.dense_rank,
        "keyword_rank": h.keyword_rank,
        "text": h.chunk.text,
    }


def answer_json(answer: Answer) -> dict[str, Any]:
    citations = []
    for c in answer.citations:
        d = hit_json(c.hit)
        d.pop("rank")
        citations.append(
            {
                "n": c.n,
                **d,
                "sentence_start": c.sentence_start,
                "sentence_end": c.sentence_end,
                "supported": c.supported,
                "sentence": c.hit.article.text[c.sentence_start : c.sentence_end],
            }
        )
    return {
        "question": answer.question,
        "standalone": answer.standalone or answer.question,
        "answer": answer.text,
        "refused": answer.refused,
        "confidence": None if answer.confidence is None else round(answer.confidence, 4),
        "llm": answer.llm,
        "note": answer.note,
        "unsupported": [
            {"start": s, "end": e, "sentence": answer.text[s:e]} for s, e in answer.unsupported
        ],
        "citations": citations,
        "passages": [hit_json(h) for h in answer.hits],
        "as_of": answer.as_of.isoformat() if answer.as_of else None,
        "disagreements": disagreements_json(answer),
        "stories": [
            {"doc_id": r.doc_id, "story": r.story, "articles": r.articles, "outlets": r.outlets}
            for r in answer.stories
        ],
        "parts": [
            part_json(p) for p in answer.parts
        ],  # a question across outlets (rag/search/across.py)
    }


def disagreements_json(answer: Answer) -> list[dict[str, Any]]:
    """The answer's disagreements, each side newest first with its date ("YYYY-MM-DD", None
    when undated): `[{"about": str, "sides": [{"value", "citations", "date"}]}]`."""
    from rag.answer.disagree import newest_first, side_dates  # numpy: not for `rag --help`

    dates = {h.rank: h.article.published for h in answer.hits}
    out = []
    for d in answer.disagreements:
        d = newest_first(d, dates)
        sides = [
            {"value": s.value, "citations": list(s.citations), "date": x.isoformat() if x else None}
            for s, x in zip(d.sides, side_dates(d, dates), strict=True)
        ]
        out.append({"about": d.about, "sides": sides})
    return out
