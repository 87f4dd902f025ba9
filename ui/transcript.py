"""Transcript: the conversation as a Markdown document (pure; article text escaped, links http(s)
only)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

from rag.types import Answer

from .links import safe_url

# characters Markdown or HTML would act on in a Markdown file (no HTML escaping follows)
_MD_DOC = re.compile(r"([\\`*_{}\[\]()#+\-!|~<>])")


def md_text(text: str) -> str:
    """Untrusted text for a Markdown document: Markdown and HTML characters backslash-escaped.

    >>> md_text("<b>1*2</b>")
    '\\\\<b\\\\>1\\\\*2\\\\</b\\\\>'
    """
    return _MD_DOC.sub(r"\\\1", text)


def _md_url(url: str) -> str:
    """An http(s) URL safe to put inside Markdown's <...> (else "")."""
    url = safe_url(url)
    return quote(url, safe=":/?#[]@!$&'*+,;=%-._~") if url else ""


def export_markdown(answers: Sequence[Answer], when: str = "") -> str:
    """The conversation as a Markdown document: each question, its answer and its sources.

    Article text is escaped (Markdown and HTML characters), links are http(s) only.
    """
    lines = ["# Conversation with sources", ""]
    if when:
        lines += [f"Exported {md_text(when)}.", ""]
    for i, ans in enumerate(answers, 1):
        lines += [f"## {i}. {md_text(ans.question)}", ""]
        bad_numbers = {c.n for c in ans.citations if not c.supported}
        lines += [md_text(ans.text), ""]
        if ans.refused:
            lines += ["*The articles did not answer this question.*", ""]
        cited = {c.n: c for c in ans.citations}
        shown = [h for h in ans.hits if h.rank in cited] or list(ans.hits)
        if shown:
            lines += ["Sources:" if cited else "Closest passages:", ""]
        for h in shown:
            a = h.article
            date_s = a.published.isoformat() if a.published else "undated"
            line = f"{h.rank}. **{md_text(a.title or a.doc_id)}**, {md_text(a.outlet or '?')}, "
            line += date_s
            url = _md_url(a.url)
            if url:
                line += f" <{url}>"
            lines.append(line)
            c = cited.get(h.rank)
            quote_text = a.text[c.sentence_start : c.sentence_end] if c else h.chunk.text
            flag = " (not clearly supported)" if h.rank in bad_numbers else ""
            lines.append(f"   > {md_text(' '.join(quote_text.split()))}{flag}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
