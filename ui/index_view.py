"""Index view: the Index tab's status table and its list of indexed articles (pure HTML, all
article text escaped)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from rag.names import shown
from rag.types import Article, Manifest

from .render import esc, title_html


def human_size(n: int) -> str:
    """Bytes for people: `human_size(1536)` -> '1.5 KB'."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def status_html(gen: Path, manifest: Manifest, size: int) -> str:
    """The index at a glance: counts, model, build time, size on disk, sources."""
    rows = [  # (row id, label, value)
        ("articles", "Articles", f"{manifest.articles:,}"),
        ("chunks", "Passages (chunks)", f"{manifest.chunks:,}"),
        ("model", "Model", manifest.model),
        ("chunking", "Chunking", f"{manifest.chunk_size} chars, {manifest.chunk_overlap} overlap"),
        (
            "built",
            "Last build or update",
            manifest.built_at.replace("T", " ").replace("+00:00", " UTC"),
        ),
        ("size", "Size on disk", human_size(size)),
        ("generation", "Generation", gen.name),
        ("sources", "Sources", shown(", ".join(manifest.sources)) or "–"),
        ("excluded", "Removed by hand", str(len(manifest.excluded))),
    ]
    body = "".join(
        f'<tr id="status-{r}"><th>{esc(k)}</th><td>{esc(v)}</td></tr>' for r, k, v in rows
    )
    return f'<table class="status" id="index-status">{body}</table>'


def articles_html(articles: Sequence[tuple[Article, int]], limit: int = 300) -> str:
    """A table of the indexed articles (newest first), at most `limit` rows."""
    ordered = sorted(
        articles, key=lambda t: (t[0].published or date.min, t[0].doc_id), reverse=True
    )
    rows = "".join(
        "<tr>"
        f'<td class="id"><code>{esc(a.doc_id)}</code></td><td class="title">{title_html(a)}</td>'
        f'<td class="outlet">{esc(a.outlet or "–")}</td>'
        f'<td class="date">{esc(a.published.isoformat()) if a.published else "–"}</td>'
        f"<td>{n}</td>"
        "</tr>"
        for a, n in ordered[:limit]
    )
    more = (
        f'<div class="more">and {len(ordered) - limit:,} more</div>' if len(ordered) > limit else ""
    )
    return (
        '<div class="articles"><table><thead><tr><th class="id">id</th><th>title</th>'
        "<th>outlet</th><th>date</th><th>chunks</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>{more}</div>"
    )
