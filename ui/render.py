"""Render: pure functions from answers and hits to escaped HTML/Markdown (no Gradio here).

Everything that comes from an article (title, text, outlet, URL) is untrusted: it is escaped
with `esc`, and links are kept only when `safe_url` says they are http(s).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from rag.answer.disagree import latest
from rag.answer.verdict import compared
from rag.ingest.records import outlet
from rag.types import Answer, Article, Citation, Hit, StoryRef

from .links import deep_link, safe_url
from .story import story_link

_MARK = re.compile(r"\[(\d+)\]")
# characters Markdown would act on; escaped so article text shows as written
_MD = re.compile(r"([\\`*_{}\[\]()#+\-!|~])")
UNSUPPORTED_TIP = "Not clearly supported by the cited passage: check it before relying on it."
LATEST_TIP = "The newest of the reports that disagree: it may update the older ones."
AT_SOURCE_TIP = "Open the outlet's page at the cited sentence"


def esc(text: str) -> str:
    """HTML-escape untrusted text."""
    return html.escape(text, quote=True)


def _md_escape(text: str) -> str:
    return esc(_MD.sub(r"\\\1", text))


def user_message(text: str) -> str:
    """Plain text (typed, streamed or an error) for a chat message: Markdown and HTML escaped."""
    return _md_escape(text)


# --- the chat answer -------------------------------------------------------------------------


def _flagged(answer: Answer) -> tuple[set[int], tuple[tuple[int, int], ...]]:
    """Citation numbers the check found unsupported, and unsupported spans of `answer.text`."""
    numbers = {c.n for c in answer.citations if not c.supported}
    spans = answer.unsupported  # set by LLM answers
    return numbers, spans


def answer_markdown(answer: Answer) -> str:
    """The answer for the chat: article text escaped, each [n] a link to passage card n.

    Sentences whose citation is not supported by its passage are wrapped in
    `<span class="unsupported">` with a visible ⚠ and a tooltip.

    >>> from rag.types import Answer
    >>> answer_markdown(Answer("q", "It <b>is</b> so. [1]", False))
    'It &lt;b&gt;is&lt;/b&gt; so. <span class="cite-wrap"><a href="#passage-1" class="cite">...'
    """
    text = answer.text
    bad_numbers, bad_spans = _flagged(answer)
    cited = {c.n: c for c in answer.citations}
    marks = list(_MARK.finditer(text))
    out: list[str] = []
    pos = 0
    i = 0
    while i < len(marks):
        seg_start, seg_end = pos, marks[i].start()
        group = [marks[i]]  # markers that follow one sentence: "... [1] [2]"
        while i + 1 < len(marks) and not text[group[-1].end() : marks[i + 1].start()].strip():
            i += 1
            group.append(marks[i])
        bad = any(int(m.group(1)) in bad_numbers for m in group) or any(
            s < seg_end and e > seg_start for s, e in bad_spans
        )
        out.append(_segment(text[seg_start:seg_end], bad))
        for j, m in enumerate(group):
            if j:
                out.append(esc(text[group[j - 1].end() : m.start()]))
            out.append(cite_html(int(m.group(1)), bad_numbers, cited))
        pos = group[-1].end()
        i += 1
    tail = text[pos:]
    out.append(_segment(tail, any(s < len(text) and e > pos for s, e in bad_spans)))
    return "".join(out)


def cite_html(n: int, bad_numbers: set[int], cited: dict[int, Citation]) -> str:
    """Citation marker `[n]`: a link to passage card n and, when the citation is known, a
    popover (shown on hover, focus or tap) with the cited sentence, title, outlet and date."""
    cls = "cite unsupported" if n in bad_numbers else "cite"
    c = cited.get(n)
    link = f'<a href="#passage-{n}" class="{cls}">[{n}]</a>'
    if c is None:
        return f'<span class="cite-wrap">{link}</span>'
    a = c.hit.article
    sentence = " ".join(a.text[c.sentence_start : c.sentence_end].split())
    meta = _meta(a)
    warn = f'<span class="pop-warn">⚠ {esc(UNSUPPORTED_TIP)}</span>' if n in bad_numbers else ""
    return (
        f'<span class="cite-wrap">{link}<span class="pop" role="tooltip">'
        f'<span class="pop-quote">“{_md_escape(sentence)}”</span>{warn}'
        f'<span class="pop-title">{_md_escape(a.title or a.doc_id)}</span>'
        f'<span class="pop-meta">{meta}</span>'
        f'<a href="#passage-{n}" class="pop-open">See it in the sources ›</a></span></span>'
    )


def _segment(text: str, bad: bool) -> str:
    if not bad or not text.strip():
        return _md_escape(text)
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    body = text.strip()
    return (
        f'{esc(lead)}<span class="unsupported" title="{esc(UNSUPPORTED_TIP)}">'
        f"⚠ {_md_escape(body)}</span>{esc(trail)}"
    )


CONFIDENCE_TIP = (
    "The probability, from the evidence in the passages (the best sentence's match, the "
    "question's words, names and numbers found, the kind of answer asked for), that they "
    "answer the question; below the server's threshold the answer is a refusal."
)


def chat_message(answer: Answer, turn: int = 0, filters: str = "", note: str | None = None) -> str:
    """The assistant message: the answer, the note (default: the pipeline's own), the filters
    line (`filters`: HTML from ui/filters.py), and an empty `<span class="turn turn-N">` that
    tells the page's script which answer this is (the chat's sanitiser keeps classes, not
    data attributes)."""
    body = answer_markdown(answer)
    if answer.standalone and answer.standalone != answer.question:  # a rewritten follow-up
        body = f'<span class="note">Searched for: {_md_escape(answer.standalone)}</span>\n\n' + body
    note = answer.note if note is None else note
    if note:
        body += f'\n\n<span class="note">{_md_escape(note)}</span>'
    if answer.parts and not answer.refused:  # a question across outlets (rag/search/across.py)
        body += f'\n\n<span class="note parts">{_md_escape(compared(answer.parts))}</span>'
    if answer.as_of and not answer.refused:
        body += f'\n\n<span class="note as-of">As of {answer.as_of.isoformat()}'
        body += " (the newest cited report)</span>"
    if answer.confidence is not None:
        body += f"\n\n{confidence_html(answer)}"
    for d in answer.disagreements:
        body += f' <span class="disagree-note">⚖ Sources disagree on {esc(d.about)}</span>'
    if filters:
        body += f"\n\n{filters}"
    return body + f'<span class="turn turn-{turn}"></span>'


def confidence_html(answer: Answer) -> str:
    """How sure the answerability gate is that the passages answer, in words and percent.

    >>> confidence_html(Answer("q", "x", False, confidence=0.912))
    '<span class="confidence high" title="...">Confidence the articles answer this: 91 %</span>'
    """
    c = answer.confidence or 0.0
    level = "high" if c >= 0.75 else "medium" if c >= 0.5 else "low"
    return (
        f'<span class="confidence {level}" title="{esc(CONFIDENCE_TIP)}">'
        f"Confidence the articles answer this: {round(100 * c)} %</span>"
    )


# --- passage cards ---------------------------------------------------------------------------


_GAP = re.compile(r"[ \t]*\n(?:[ \t]*\n)+[ \t]*")  # blank lines between paragraphs


def shown(text: str) -> str:
    """Escaped text for a `white-space: pre-wrap` box, runs of blank lines cut to one."""
    return esc(_GAP.sub("\n\n", text))


def highlight(text: str, spans: Sequence[tuple[int, int]], cls: str = "support") -> str:
    """`text` escaped, with each (start, end) span (offsets into `text`) wrapped in <mark>."""
    out = []
    pos = 0
    for s, e in sorted(spans):
        s, e = max(s, pos), max(e, pos)
        out.append(shown(text[pos:s]))
        out.append(f'<mark class="{cls}">{shown(text[s:e])}</mark>')
        pos = e
    out.append(shown(text[pos:]))
    return "".join(out)


def title_html(a: Article, chars: int = 120) -> str:
    """The title (clipped to `chars`, whole in the tooltip), linked when its URL is http(s)."""
    full = a.title or a.doc_id
    short = full if len(full) <= chars else full[: chars - 1].rstrip() + "…"
    url = safe_url(a.url)
    title = f'<span class="title" title="{esc(full)}">{esc(short)}</span>'
    if not url:
        return title
    return f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer nofollow">{title}</a>'


def _meta(a: Article, *extra: str) -> str:
    parts = [
        esc(outlet(a)),
        esc(a.published.isoformat()) if a.published else "undated",
        *extra,
    ]
    return " · ".join(p for p in parts if p)


def relevance(hit: Hit) -> str:
    """The one relevance figure shown everywhere (CLI, JSON, page): the question's and the
    passage's similarity, 0 to 1. `relevance(Hit(..., similarity=0.714))` -> 'relevance 0.71'."""
    return f"relevance {hit.similarity:.2f}"


def card(
    hit: Hit,
    support: Sequence[tuple[int, int]],
    cited: bool,
    *,
    unsupported: bool = False,
    ident: str = "passage",
    scores: str = "",
    story: StoryRef | None = None,
    turn: int = 0,
    latest: bool = False,
) -> str:
    """One passage card: title, outlet, date, score, passage with support marked, a link to
    the cited sentence at the source, the article.

    `support` are sentence spans as offsets into the article text; `ident` names the card's
    id (`passage-3`) that citation links point at; `story`, when given, adds a link to the
    article's story (`turn`: the answer the card belongs to, for the way back); `latest`
    badges the newest of the articles that disagree.
    """
    a, c = hit.article, hit.chunk
    local = [(s - c.start, e - c.start) for s, e in support]
    classes = "card" + (" cited" if cited else "") + (" weak" if unsupported else "")
    warn = f'<div class="warn">⚠ {esc(UNSUPPORTED_TIP)}</div>' if unsupported else ""
    badge = f' <span class="latest" title="{esc(LATEST_TIP)}">latest</span>' if latest else ""
    return (
        f'<div class="{classes}" id="{ident}-{hit.rank}">'
        f'<div class="card-head"><span class="n">[{hit.rank}]</span>{badge} {title_html(a)}</div>'
        f'<div class="meta">{_meta(a, scores or relevance(hit))}</div>'
        f"{warn}"
        f'<div class="passage">{highlight(c.text, local)}</div>'
        f"{at_source(a, support)}{also_html(hit)}{story_link(story, turn)}"
        f'<details class="article"><summary>Open article</summary>'
        f'<div class="article-text">{_article_html(a.text, (c.start, c.end), support)}</div>'
        "</details></div>"
    )


def at_source(a: Article, support: Sequence[tuple[int, int]]) -> str:
    """The link that opens the outlet's page at the first cited sentence ("" when the card
    cites none or the URL is not http(s)).

    >>> at_source(Article("d", "T", 'Rain & "wind".', url="https://n.example/a"), [(0, 14)])
    '<a class="at-source" href="https://n.example/a#:~:text=Rain%20%26%20%22wind" ...</a>'
    """
    if not support:
        return ""
    s, e = min(support)
    link = deep_link(a.url, a.text[s:e])
    if not link:
        return ""
    return (
        f'<a class="at-source" href="{esc(link)}" target="_blank" '
        f'rel="noopener noreferrer nofollow" title="{esc(AT_SOURCE_TIP)}">At the source ↗</a>'
    )


def also_html(hit: Hit) -> str:
    """ "Also reported by …": the near-duplicate copies of the hit's article, escaped.

    >>> from rag.types import Article, Chunk
    >>> a, b = Article("a", "T", "x"), Article("b", "T <copy>", "x", outlet="bbc.co.uk")
    >>> also_html(Hit(Chunk(0, "a", 0, 1, "x"), a, 0.0, also=(b,)))
    '<div class="also">Also reported by: bbc.co.uk (T &lt;copy&gt;)</div>'
    """
    if not hit.also:
        return ""
    names = ", ".join(f"{esc(outlet(o) or 'another copy')} ({esc(o.title[:80])})" for o in hit.also)
    return f'<div class="also">Also reported by: {names}</div>'


def _article_html(text: str, passage: tuple[int, int], support: Sequence[tuple[int, int]]) -> str:
    """The whole article escaped, the passage marked and its supporting sentences marked inside."""
    ps, pe = passage
    inner = highlight(text[ps:pe], [(s - ps, e - ps) for s, e in support])
    return f'{shown(text[:ps])}<span class="in-passage">{inner}</span>{shown(text[pe:])}'


def cards_html(answer: Answer, turn: int = 0) -> str:
    """All passage cards of an answer, cited ones first (they are numbered that way).

    `turn` (0-based) is written on the panel as `data-turn`, so a citation link in an older
    answer can tell whether the panel shows its passages.
    """
    if not answer.hits:
        return f'<div class="cards empty" data-turn="{turn}">No passages found.</div>'
    support: dict[int, list[tuple[int, int]]] = {}
    weak: set[int] = set()
    for cit in answer.citations:
        support.setdefault(cit.n, []).append((cit.sentence_start, cit.sentence_end))
        if not cit.supported:
            weak.add(cit.n)
    head = "Closest passages (they do not answer the question)" if answer.refused else "Sources"
    stories = {r.doc_id: r for r in answer.stories}
    dates = {h.rank: h.article.published for h in answer.hits}
    newest = {n for d in answer.disagreements for n in latest(d, dates)}
    return (
        f'<div class="cards" data-turn="{turn}"><h2>{head}</h2>'
        f'<div class="asked">for: {esc(answer.standalone or answer.question)}</div>'
        + "".join(
            card(
                h,
                support.get(h.rank, []),
                h.rank in support,
                unsupported=h.rank in weak,
                story=stories.get(h.article.doc_id),
                turn=turn,
                latest=h.rank in newest,
            )
            for h in answer.hits
        )
        + "</div>"
    )


EMPTY_CARDS = '<div class="cards empty">Sources appear here, next to each answer.</div>'
SEARCHING = '<div class="cards empty">Searching the articles…</div>'
