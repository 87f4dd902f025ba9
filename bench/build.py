"""Build throughput: a real `Pipeline.build` of the news corpus with its time split into read,
chunk, embed and write, next to a bare encode of the very same chunk texts (same backend,
same batch size) and the LangChain baseline of issue 7.

    python -m bench.build                 # the full corpus (3,748 articles)
    python -m bench.build --dev-weeks     # the cheaper corpus of the dev weeks
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import shutil
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import BASELINE, NEWS, WORK, log, memory, news_articles, save
from rag import Pipeline, Settings
from rag.embed import embedder as embed
from rag.embed import models
from rag.index import store
from rag.index import vectors as index
from rag.index.bm25 import KeywordIndex
from rag.ingest import chunk, sources


class Clock:
    """Seconds spent per stage, filled by the wrappers below."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t = time.perf_counter()
        try:
            yield
        finally:
            self.spent[name] = self.spent.get(name, 0.0) + time.perf_counter() - t


class TimedEmbedder:
    """Wraps the real embedder: times `encode` and keeps the texts it was given."""

    def __init__(self, inner: embed.Embedder, clock: Clock) -> None:
        self.inner, self.clock = inner, clock
        self.name, self.dim = inner.name, inner.dim
        self.texts: list[str] = []

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.texts += texts
        with self.clock.stage("embed"):
            return self.inner.encode(texts, progress=progress)


@contextlib.contextmanager
def timed_stages(clock: Clock) -> Iterator[None]:
    """Patch the stage functions the pipeline calls so their time lands in `clock`."""
    patches: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, name: str, stage: str, generator: bool = False) -> None:
        original = getattr(owner, name)
        patches.append((owner, name, original))
        if generator:

            def gen(*a: Any, **kw: Any) -> Iterator[Any]:
                it = iter(original(*a, **kw))
                while True:
                    with clock.stage(stage):
                        try:
                            item = next(it)
                        except StopIteration:
                            return
                    yield item

            setattr(owner, name, gen)
        else:

            def call(*a: Any, **kw: Any) -> Any:
                with clock.stage(stage):
                    return original(*a, **kw)

            setattr(owner, name, staticmethod(call) if isinstance(owner, type) else call)

    wrap(sources, "read", "read", generator=True)
    wrap(chunk, "spans", "chunk")
    wrap(store, "write", "write: store")
    wrap(index, "commit", "write: commit")
    for cls, label in ((index.VectorIndex, "vectors"), (KeywordIndex, "bm25")):
        for meth in ("build", "save"):
            original = cls.__dict__[meth]
            patches.append((cls, meth, original))
            fn = original.__func__ if isinstance(original, classmethod) else original

            def make(fn: Any = fn, label: str = label, meth: str = meth) -> Any:
                def timed(*a: Any, **kw: Any) -> Any:
                    with clock.stage(f"write: {label}"):
                        return fn(*a, **kw)

                return timed

            setattr(cls, meth, classmethod(make()) if isinstance(original, classmethod) else make())
    try:
        yield
    finally:
        for owner, name, original in reversed(patches):
            setattr(owner, name, original)


def bare(encode: Any, texts: list[str], share: float, label: str) -> dict[str, Any]:
    """Rate of `encode` alone over `texts` (or a random `share` of them, in order), in blocks
    of 512 like the build's."""
    pick = texts
    if share < 1:
        rows = np.random.default_rng(0).choice(len(texts), int(share * len(texts)), replace=False)
        pick = [texts[i] for i in sorted(rows)]
    log(f"build: {label} of {len(pick):,} texts")
    t, cpu = time.perf_counter(), time.process_time()
    for lo in range(0, len(pick), 512):
        encode(pick[lo : lo + 512])
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    return {
        "texts": len(pick),
        "share": share,
        "seconds": round(seconds, 1),
        "cpu_s": round(cpu, 1),
        "chunks_per_cpu_s": round(len(pick) / cpu, 2),
        "chunks_per_s": round(len(pick) / seconds, 1),
        "chars_per_s": round(sum(map(len, pick)) / seconds),
    }


def corpus_file(dev_weeks: bool, limit: int | None) -> Path:
    if not dev_weeks and limit is None:
        return NEWS / "corpus.jsonl.gz"
    path = WORK / f"news-{'dev' if dev_weeks else 'all'}-{limit or 'all'}.jsonl.gz"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(path, "wt") as f:
            for r in news_articles(dev_weeks=dev_weeks, limit=limit):
                f.write(json.dumps(r) + "\n")
    return path


def run(
    corpus: Path,
    backend: str,
    batch_size: int,
    index_dir: Path,
    bare_share: float = 1.0,
    torch_share: float = 0.0,
) -> dict[str, Any]:
    """Build `corpus` into a fresh `index_dir`, then encode the same texts bare."""
    shutil.rmtree(index_dir, ignore_errors=True)
    clock = Clock()
    s = Settings.load(env={}, index_dir=index_dir, batch_size=batch_size, backend=backend)
    inner = embed.load(s.index.model, batch_size, backend, WORK / "models")
    emb = TimedEmbedder(inner, clock)
    p = Pipeline(s, emb)
    chars = sum(len(r["text"]) for r in map(json.loads, gzip.open(corpus, "rt")))
    log(f"build: {corpus.name} with {backend}, batch {batch_size}")
    with timed_stages(clock):
        t, cpu = time.perf_counter(), time.process_time()
        report = p.build([corpus])
        total, cpu = time.perf_counter() - t, time.process_time() - cpu
    peak = memory()["peak_mb"]
    spent = {k: round(v, 2) for k, v in sorted(clock.spent.items())}
    write = sum(v for k, v in clock.spent.items() if k.startswith("write"))
    stages = {
        "read": round(clock.spent.get("read", 0.0), 2),
        "chunk": round(clock.spent.get("chunk", 0.0), 2),
        "embed": round(clock.spent.get("embed", 0.0), 2),
        "write": round(write, 2),
    }
    stages["other"] = round(total - sum(stages.values()), 2)
    texts = emb.texts
    text_chars = sum(map(len, texts))
    out: dict[str, Any] = {
        "corpus": str(corpus),
        "backend": inner.backend if hasattr(inner, "backend") else backend,
        "batch_size": batch_size,
        "articles": report.articles,
        "chunks": report.chunks,
        "corpus_chars": chars,
        "embedded_chars": text_chars,
        "seconds": round(total, 1),
        "cpu_s": round(cpu, 1),  # all threads; a busy machine inflates wall time, not this
        "chunks_per_cpu_s": round(report.chunks / cpu, 2),
        "stages_s": stages,
        "stages_detail_s": spent,
        "chunks_per_s": round(report.chunks / total, 1),
        "corpus_chars_per_s": round(chars / total),
        "vs_baseline_chars_per_s": round(chars / total / BASELINE["chars_per_s"], 2),
        "peak_rss_mb": peak,
        "index_disk_mb": round(
            sum(f.stat().st_size for f in index.current(index_dir).rglob("*") if f.is_file()) / 1e6,
            1,
        ),
    }
    # the practical limit: the same texts, same order, same batch size, nothing around them
    if bare_share > 0:
        out["bare"] = bare(inner.encode, texts, bare_share, "bare")
    if torch_share > 0:
        from sentence_transformers import SentenceTransformer

        st = SentenceTransformer(models.resolve(s.index.model), device="cpu")
        out["bare_torch"] = bare(
            lambda ts: st.encode(ts, batch_size=batch_size, normalize_embeddings=True),
            texts,
            torch_share,
            "bare SentenceTransformer.encode",
        )
    if "bare" in out:
        out["build_vs_bare"] = round(out["chunks_per_s"] / out["bare"]["chunks_per_s"], 3)
        out["build_vs_bare_cpu"] = round(
            out["chunks_per_cpu_s"] / out["bare"]["chunks_per_cpu_s"], 3
        )
        out["embed_vs_bare"] = round(
            (report.chunks / stages["embed"]) / out["bare"]["chunks_per_s"], 3
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dev-weeks", action="store_true")
    ap.add_argument("--limit", type=int, default=None, help="only the first N articles")
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--batch-size", type=int, default=Settings().index.batch_size)
    ap.add_argument("--index", type=Path, default=WORK / "news-index")
    ap.add_argument("--bare-share", type=float, default=1.0)
    ap.add_argument("--torch-share", type=float, default=0.0)
    args = ap.parse_args()
    corpus = corpus_file(args.dev_weeks, args.limit)
    save(
        "build",
        run(corpus, args.backend, args.batch_size, args.index, args.bare_share, args.torch_share),
    )


if __name__ == "__main__":
    main()
