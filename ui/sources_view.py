"""Sources view: the Index tab's table of followed sources and its refresh line, as HTML (pure).

sources_html(follow.table(index_dir), Schedule(900.0, next_at, last_line, False))

Names are shown as `rag.names.shown` writes them (no logins or query values of a URL, control
characters escaped): the page and its API (GET /config) never carry a source's secrets. Above
the table, `warnings` says which sources cannot be read now, and that an update keeps their
articles: only a file deleted from a folder still followed leaves the index by itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from rag.ingest.follow import Source, every_text
from rag.names import shown

from .render import esc

REFRESH_CHOICES = ["off", "5m", "15m", "30m", "1h", "6h", "1d"]


@dataclass(frozen=True)
class Schedule:
    """The background refresh as the page shows it."""

    every: float | None  # seconds; None: off
    next_at: float | None  # time.time() of the next refresh
    last: str = ""  # how the last one went, in a line
    running: bool = False


def clock(at: float | None) -> str:
    """time.time() -> "2025-06-02 09:15:00 UTC"; None -> "–"."""
    if at is None:
        return "–"
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def schedule_line(s: Schedule) -> str:
    if s.running:
        head = "Refreshing the sources now…"
    elif s.every:
        head = f"Refreshes every {every_text(s.every)}; next at {clock(s.next_at)}."
    else:
        head = "Scheduled refresh is off."
    last = f" Last: {shown(s.last)}" if s.last else ""
    return f'<p class="refresh-line" id="refresh-line">{esc(head + last)}</p>'


def warnings(rows: Sequence[Source]) -> list[str]:
    """What to know before updating: each source that cannot be read now, and that its
    articles stay (an update removes nothing of a source it cannot read).

    >>> warnings([Source("/news/seeds", "missing"), Source("/news/more", "folder")])[0][:44]
    '/news/seeds cannot be found (moved, renamed,'
    """
    out = []
    for src in rows:
        if src.kind == "missing":
            out.append(
                f"{src.label} cannot be found (moved, renamed, or a drive not mounted?). Updating "
                "keeps the articles it gave; take it off the list (rag index sources remove) "
                "or update with --prune to drop them."
            )
        elif src.run is not None and not src.run.ok:
            out.append(
                f"{src.label} failed its last fetch ({shown(src.run.status)}). Its articles are "
                "kept until it can be read again."
            )
    return out


def sources_html(rows: Sequence[Source], schedule: Schedule) -> str:
    """One row per source: kind, last fetch, status, new / changed / left-the-feed counts."""
    body = []
    for n, src in enumerate(rows, 1):
        r = src.run
        at = r.at.replace("T", " ").replace("+00:00", " UTC") if r else "–"
        status = shown(r.status) if r else ("not fetched yet" if src.kind == "URL" else "–")
        status += f" ({r.problems} pages not had)" if r and r.problems else ""
        counts = [str(x) for x in (r.new, r.changed, r.removed, r.articles)] if r else ["–"] * 4
        cells = "".join(f'<td class="n">{c}</td>' for c in counts)
        body.append(
            f'<tr id="source-{n}" class="{"ok" if not r or r.ok else "failed"}">'
            f'<td class="title"><code>{esc(src.label)}</code></td><td>{esc(src.kind)}</td>'
            f'<td class="date">{esc(at)}</td><td class="status">{esc(status)}</td>{cells}</tr>'
        )
    table = (
        "<table><thead><tr><th>source</th><th>kind</th><th>last fetch</th><th>status</th>"
        "<th>new</th><th>changed</th><th>left feed</th><th>articles</th></tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
        if body
        else '<p class="empty">No sources yet.</p>'
    )
    warn = "".join(f"<li>{esc(w)}</li>" for w in warnings(rows))
    warn = f'<ul class="warnings" id="sources-warnings">{warn}</ul>' if warn else ""
    return (
        f'<div class="articles sources" id="sources-table">{schedule_line(schedule)}{warn}'
        f"{table}</div>"
    )
