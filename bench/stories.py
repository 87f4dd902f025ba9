"""Story clusters on a built index (default: the news index at /tmp/idx-news): sizes, outlets per
story, the share of singleton articles, the cost of `stories.assign` against the full build
(bench/results/build.json), an update placing the newest 10 % of articles, and the query-time
cost (the stories of an answer's hits; a story's timeline).

    .venv/bin/python bench/stories.py [--index /tmp/idx-news] [--show 25]

Figures only go to bench/results/stories.json; `--show N` prints N random multi-article
clusters (date, outlet, title) and the largest ones to the terminal, for checking by eye.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import RESULTS, WORK  # noqa: E402
from rag.index import store, stories
from rag.index import vectors as index  # noqa: E402
from rag.ingest.records import outlet  # noqa: E402


def load(index_dir: Path) -> tuple[Path, store.Store, list[Any], np.ndarray, list[int]]:
    """The live generation: its store, articles, each article's lead vector, near-dup groups."""
    gen = index.current(index_dir)
    st = store.Store(gen / index.STORE)
    articles = st.articles()
    vecs = index.VectorIndex.load(gen / index.VECTORS).vectors()
    first = np.searchsorted(st.chunk_article, np.arange(len(articles)))
    lead = vecs[np.minimum(first, len(vecs) - 1)].astype(np.float32)
    return gen, st, articles, lead, [int(g) for g in st.canonical]


def figures(articles: list[Any], ids: list[str]) -> dict[str, Any]:
    members: dict[str, list[int]] = {}
    for i, s in enumerate(ids):
        members.setdefault(s, []).append(i)
    sizes = sorted((len(m) for m in members.values()), reverse=True)
    multi = [m for m in members.values() if len(m) > 1]
    outlets = [len({outlet(articles[i]) for i in m} - {""}) for m in multi]
    spans = [
        (max(d) - min(d)).days
        for m in multi
        if len(d := [articles[i].published for i in m if articles[i].published]) > 1
    ]
    return {
        "articles": len(articles),
        "stories": len(members),
        "multi_article_stories": len(multi),
        "singleton_share": round(sum(1 for s in sizes if s == 1) / len(articles), 4),
        "articles_in_multi_share": round(sum(len(m) for m in multi) / len(articles), 4),
        "size_histogram": dict(sorted(Counter(min(s, 10) for s in sizes).items())),  # 10 = 10+
        "largest": sizes[:10],
        "median_size_multi": statistics.median([len(m) for m in multi]) if multi else 0,
        "outlets_per_multi_story": dict(sorted(Counter(outlets).items())),
        "cross_outlet_share_of_multi": round(sum(o > 1 for o in outlets) / max(1, len(multi)), 4),
        "days_spanned_median_multi": statistics.median(spans) if spans else 0,
        "days_spanned_max": max(spans, default=0),
    }


def show(articles: list[Any], ids: list[str], n: int, seed: int = 7) -> None:
    """Print `n` random multi-article clusters and the 3 largest, for a look by eye."""
    members: dict[str, list[int]] = {}
    for i, s in enumerate(ids):
        members.setdefault(s, []).append(i)
    multi = sorted((m for m in members.values() if len(m) > 1), key=len)
    picked = random.Random(seed).sample(multi, min(n, len(multi))) + multi[-3:]
    for m in picked:
        print(f"--- {len(m)} articles")
        for i in sorted(m, key=lambda i: str(articles[i].published)):
            a = articles[i]
            print(f"  {a.published}  {outlet(a)[:16]:16}  {a.title[:90]}")


def _rebuild(index_dir: Path) -> dict[str, Any]:
    """`Indexer.build` of a copy of the index from its own sources, every vector reused (no
    model call), with the time `stories.assign` took inside it."""
    from rag import Pipeline, Settings, build

    copy = WORK / "stories-index"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(index_dir, copy)
    m = index.read_manifest(index.current(copy))
    p = Pipeline(Settings.load(env={}, index_dir=copy, model=m.model))
    spent: list[float] = []
    real = build.stories.assign

    def timed(*a: Any, **k: Any) -> list[str]:
        t0 = time.perf_counter()
        try:
            return real(*a, **k)
        finally:
            spent.append(time.perf_counter() - t0)

    build.stories.assign = timed  # type: ignore[assignment]
    try:
        report = p.build(list(m.sources))
    finally:
        build.stories.assign = real  # type: ignore[assignment]
    gen = index.current(copy)
    out = {
        "seconds": round(report.seconds, 2),
        "embedded": report.embedded,
        "stories_s": round(sum(spent), 3),
        "stories_share": round(sum(spent) / report.seconds, 4),
        "stories_json_in_manifest": stories.FILE in index.read_manifest(gen).files,
    }
    shutil.rmtree(copy, ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, default=Path("/tmp/idx-news"))
    ap.add_argument("--show", type=int, default=0, help="print N random clusters to look at")
    ap.add_argument("--out", type=Path, default=RESULTS / "stories.json")
    ap.add_argument(
        "--rebuild",
        action="store_true",
        help="also rebuild a copy of the index (every vector reused) and time its stories step",
    )
    args = ap.parse_args()

    gen, st, articles, lead, groups = load(args.index)
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        ids = stories.assign(articles, lead, groups, {})
        runs.append(time.perf_counter() - t0)
    assign_s = statistics.median(runs)

    # an update: the oldest 90 % placed first, then the newest 10 % added to them
    order = sorted(range(len(articles)), key=lambda i: str(articles[i].published or ""))
    cut = int(0.9 * len(order))
    old = sorted(order[:cut])
    pos = {row: k for k, row in enumerate(old)}
    sub_groups = [pos.get(groups[i], k) for k, i in enumerate(old)]
    before = stories.assign([articles[i] for i in old], lead[old], sub_groups, {})
    previous = {articles[i].doc_id: s for i, s in zip(old, before, strict=True)}
    t0 = time.perf_counter()
    after = stories.assign(articles, lead, groups, previous)
    update_s = time.perf_counter() - t0
    kept = all(after[i] == previous[articles[i].doc_id] for i in old)
    same_as_full = float(np.mean([a == b for a, b in zip(after, ids, strict=True)]))

    made = RESULTS / "build.json"
    build = json.loads(made.read_text()) if made.is_file() else {}
    full_s = build.get("seconds")
    write_s = build.get("stages_s", {}).get("write")

    # query time: the stories of 10 hits (the first call loads stories.json), and a timeline;
    # the file is written beside a copy-free stand-in for the generation folder
    has_file = (gen / stories.FILE).is_file()
    here = gen
    if not has_file:
        here = WORK / "stories-gen"
        here.mkdir(parents=True, exist_ok=True)
        stories.write(here, articles, ids)
    cache = stories.Cache()  # as a live index holds them: read once, then from memory
    rng = random.Random(1)
    sample = [rng.sample(st.doc_ids, 10) for _ in range(200)]
    t0 = time.perf_counter()
    stories.refs(cache.get(here, st), sample[0])
    first_load_ms = 1000 * (time.perf_counter() - t0)
    ref_ms, line_ms = [], []
    for docs in sample:
        t0 = time.perf_counter()
        stories.refs(cache.get(here, st), docs)
        ref_ms.append(1000 * (time.perf_counter() - t0))
    for docs in sample[:50]:
        t0 = time.perf_counter()
        stories.timeline(cache.get(here, st), st, docs[0])
        line_ms.append(1000 * (time.perf_counter() - t0))
    rebuild = _rebuild(args.index) if args.rebuild else None

    out = {
        "index": str(args.index),
        "generation_has_stories_json": has_file,
        "settings": {
            "days": stories.DAYS,
            "strong": stories.STRONG,
            "weak": stories.WEAK,
            "names": stories.NAMES,
            "common": stories.COMMON,
        },  # fmt: skip
        **figures(articles, ids),
        "assign_s_median_of_3": round(assign_s, 3),
        "full_build_s": full_s,
        "assign_share_of_full_build": round(assign_s / full_s, 5) if full_s else None,
        "assign_share_of_write_stage": round(assign_s / write_s, 4) if write_s else None,
        "update_newest_10pct": {
            "articles_added": len(articles) - cut,
            "seconds": round(update_s, 3),
            "old_articles_kept_their_story": kept,
            "same_story_as_a_full_assign_share": round(same_as_full, 4),
        },
        "rebuild_reusing_every_vector": rebuild,
        "query": {
            "first_refs_ms_loads_file": round(first_load_ms, 2),
            "stories_json_bytes": (here / stories.FILE).stat().st_size,
            "refs_10_hits_p50_ms": round(statistics.median(ref_ms), 3),
            "timeline_p50_ms": round(statistics.median(line_ms), 3),
        },
    }
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
    if args.show:
        show(articles, ids, args.show)


if __name__ == "__main__":
    main()
