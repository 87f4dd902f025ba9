"""Render: pure functions from answers and hits to escaped HTML/Markdown (no Gradio here)."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from urllib.parse import urlparse

from rag.types import Answer, Hit

_MARK = re.compile(r"\[(\d+)\]")
# characters Markdown would act on; escaped so article text shows as written
_MD = re.compile(r"([\\`*_{}\[\]()#+\-!|~])")


def esc(text: str) -> str:
    """HTML-escape untrusted text."""
    return html.escape(text, quote=True)


def safe_url(url: str) -> str:
    """The URL if it is http(s), else "" (no javascript:, data: ...)."""
    return url if urlparse(url).scheme in ("http", "https") else ""


def answer_markdown(answer: Answer) -> str:
    """The answer for the chat: article text escaped, each [n] a link to passage card n.

    >>> from rag.types import Answer
    >>> answer_markdown(Answer("q", "It <b>is</b> so. [1]", False))
    'It &lt;b&gt;is&lt;/b&gt; so. <a href="#passage-1" class="cite">[1]</a>'
    """
    out = []
    pos = 0
    for m in _MARK.finditer(answer.text):
        out.append(_md_escape(answer.text[pos : m.start()]))
        n = m.group(1)
        out.append(f'<a href="#passage-{n}" class="cite">[{n}]</a>')
        pos = m.end()
    out.append(_md_escape(answer.text[pos:]))
    return "".join(out)


def _md_escape(text: str) -> str:
    return esc(_MD.sub(r"\\\1", text))


def highlight(text: str, spans: Sequence[tuple[int, int]], cls: str = "support") -> str:
    """`text` escaped, with each (start, end) span (offsets into `text`) wrapped in <mark>."""
    out = []
    pos = 0
    for s, e in sorted(spans):
        s, e = max(s, pos), max(e, pos)
        out.append(esc(text[pos:s]))
        out.append(f'<mark class="{cls}">{esc(text[s:e])}</mark>')
        pos = e
    out.append(esc(text[pos:]))
    return "".join(out)


def card(hit: Hit, support: Sequence[tuple[int, int]], cited: bool) -> str:
    """One passage card: title, outlet, date, score, passage with support marked, the article."""
    a, c = hit.article, hit.chunk
    local = [(s - c.start, e - c.start) for s, e in support]
    url = safe_url(a.url)
    title = esc(a.title or a.doc_id)
    title_html = (
        f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{title}</a>'
        if url
        else title
    )
    meta = " · ".join(
        esc(x)
        for x in (
            a.source or "unknown outlet",
            a.published.isoformat() if a.published else "undated",
        )
    )
    article_spans = [(c.start, c.end)]
    return (
        f'<div class="card{" cited" if cited else ""}" id="passage-{hit.rank}">'
        f'<div class="card-head"><span class="n">[{hit.rank}]</span> {title_html}</div>'
        f'<div class="meta">{meta} · score {hit.similarity:.2f}</div>'
        f'<div class="passage">{highlight(c.text, local)}</div>'
        f'<details class="article"><summary>Open article</summary>'
        f'<div class="article-text">{_article_html(a.text, article_spans, support)}</div></details>'
        "</div>"
    )


def _article_html(
    text: str, passage: Sequence[tuple[int, int]], support: Sequence[tuple[int, int]]
) -> str:
    """The whole article escaped, the passage marked and its supporting sentences marked inside."""
    ((ps, pe),) = passage
    inner = highlight(text[ps:pe], [(s - ps, e - ps) for s, e in support])
    return f'{esc(text[:ps])}<span class="in-passage">{inner}</span>{esc(text[pe:])}'


def cards_html(answer: Answer) -> str:
    """All passage cards of an answer, cited ones first (they are numbered that way)."""
    if not answer.hits:
        return '<div class="empty">No passages found.</div>'
    support: dict[int, list[tuple[int, int]]] = {}
    for cit in answer.citations:
        support.setdefault(cit.n, []).append((cit.sentence_start, cit.sentence_end))
    head = "Closest passages (they do not answer the question)" if answer.refused else "Sources"
    return (
        f'<div class="cards"><h3>{head}</h3>'
        + "".join(card(h, support.get(h.rank, []), h.rank in support) for h in answer.hits)
        + "</div>"
    )
