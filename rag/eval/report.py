"""Report: an evaluation's figures and rows, printed as a table, saved as JSON (figures only
with `rows=False`), and two saved reports compared question by question."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from rag.errors import InputError


@dataclass(frozen=True)
class Report:
    """`summary`: metric name -> value; `rows`: one dict per question (see `run`)."""

    summary: dict[str, float | int]
    rows: list[dict[str, Any]]


def format_table(report: Report) -> str:
    """The summary as an aligned two-column table (floats to 3 decimals)."""
    items = [
        (name, str(v) if isinstance(v, int) else f"{v:.3f}") for name, v in report.summary.items()
    ]
    width = max([len("metric")] + [len(n) for n, _ in items])
    vwidth = max([len("value")] + [len(v) for _, v in items])
    lines = [f"{'metric':<{width}}  {'value':>{vwidth}}", f"{'-' * width}  {'-' * vwidth}"]
    lines += [f"{n:<{width}}  {v:>{vwidth}}" for n, v in items]
    return "\n".join(lines)


def json_default(obj: Any) -> Any:
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")


def save(report: Report, path: str | Path, *, rows: bool = True) -> Path:
    """Write `{**summary, "questions": rows}` as JSON (without `rows`, the summary only: the
    rows quote the questions, which must not be copied into a repository); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {**report.summary, "questions": report.rows} if rows else dict(report.summary)
    path.write_text(
        json.dumps(data, indent=2, ensure_ascii=False, default=json_default) + "\n",
        encoding="utf-8",
    )
    return path


def _load_report(path: str | Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"cannot read report {path}: {e}; give a file written by `save`") from e
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise InputError(f"{path} is not an evaluation report; give a file written by `save`")
    return data


def compare(a_path: str | Path, b_path: str | Path) -> str:
    """Which questions changed hit@5 between two saved reports (a = before, b = after)."""
    a, b = _load_report(a_path), _load_report(b_path)
    hits_a = {r["id"]: r for r in a["questions"] if r.get("hit@5") is not None}
    hits_b = {r["id"]: r for r in b["questions"] if r.get("hit@5") is not None}
    common = [i for i in hits_a if i in hits_b]
    gained = [i for i in common if hits_b[i]["hit@5"] > hits_a[i]["hit@5"]]
    lost = [i for i in common if hits_b[i]["hit@5"] < hits_a[i]["hit@5"]]

    def fmt(v: Any) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = [f"a: {a_path}", f"b: {b_path}"]
    for key in ("hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10"):
        if key in a and key in b:
            lines.append(f"{key}: {fmt(a[key])} -> {fmt(b[key])}")
    lines.append(f"hit@5 gained ({len(gained)}), lost ({len(lost)}), of {len(common)} in both")
    for mark, ids in (("+", gained), ("-", lost)):
        for i in ids:
            ra, rb = hits_a[i].get("rank"), hits_b[i].get("rank")
            lines.append(f"{mark} {i}  rank {ra} -> {rb}  {hits_b[i].get('question', '')}")
    only = sorted(set(hits_a) ^ set(hits_b))
    if only:
        lines.append(f"in one report only ({len(only)}): {', '.join(only)}")
    return "\n".join(lines)
