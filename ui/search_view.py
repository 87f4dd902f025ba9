"""Search view: the Search tab's ranked passages (pure HTML, article text escaped)."""

from __future__ import annotations

from collections.abc import Sequence

from rag.types import Hit

from .render import card, esc, relevance


def _rank(r: int | None) -> str:
    return f"#{r}" if r else "–"


def search_html(query: str, hits: Sequence[Hit]) -> str:
    """Ranked passages, each with its relevance and its ranks by meaning and by exact words."""
    if not hits:
        return f'<div class="cards empty">No passages match “{esc(query)}”.</div>'
    rows = [
        card(
            h,
            [],
            False,
            ident="result",
            scores=(
                f"{relevance(h)} · by meaning {_rank(h.dense_rank)} · "
                f"by exact words {_rank(h.keyword_rank)}"
            ),
        )
        for h in hits
    ]
    return (
        f'<div class="cards results"><h2>{len(hits)} passages for “{esc(query)}”</h2>'
        + "".join(rows)
        + "</div>"
    )
