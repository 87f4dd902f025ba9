"""Build: the index writer. Reads sources, chunks, embeds (reusing what it can), and writes and
switches generations, always under the index lock: `Indexer.build|update|remove|rollback`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from rag.config import Settings
from rag.embed import corpus, tune
from rag.embed.corpus import EncodeMany, Progress
from rag.embed.embedder import Embedder
from rag.errors import InputError, RagError
from rag.index import dedup, shards, store, stories, writes
from rag.index import vectors as index
from rag.index.reuse import reusable
from rag.ingest import chunk, follow, gather, keep
from rag.ingest.gather import OnSkip, Plan
from rag.names import shown
from rag.types import Article, BuildReport, Manifest

EMBED_BLOCK = 512  # chunks per model call during a build


class Indexer:
    """Writes the index in `settings.index.index_dir`; `embedder` is called only when needed, and
    not at all when `encode_many` is given: that embeds the chunks instead."""

    def __init__(
        self,
        settings: Settings,
        embedder: Callable[[], Embedder],
        encode_many: EncodeMany | None = None,
    ) -> None:
        self.settings = settings
        self._embedder = embedder
        self._encode_many = encode_many

    def build(
        self,
        paths: Iterable[str | Path],
        *,
        progress: bool = False,
        on_progress: Progress | None = None,
        on_skip: OnSkip | None = None,
    ) -> BuildReport:
        """Index exactly the articles in `paths` into a new generation, then switch to it.

        Vectors of articles unchanged since the live generation (same content hash, same model
        and chunk settings) are reused, not re-embedded.
        """
        names = follow.typed(paths)  # paths absolute: readable from any folder
        with index.locked(self.settings.index.index_dir):
            report = self._index(names, (), progress, on_progress, on_skip)
            follow.save(self.settings.index.index_dir, names)  # what `update` refreshes from now on
            return report

    def update(
        self,
        paths: Iterable[str | Path] = (),
        *,
        progress: bool = False,
        on_progress: Progress | None = None,
        on_skip: OnSkip | None = None,
        prune: bool = False,
    ) -> BuildReport:
        """Bring the index in step with `paths` (default: the sources list, rag/ingest/follow.py).

        New articles are embedded and added, changed ones replaced, vanished ones dropped;
        articles removed with `remove` stay out; a source that cannot be read keeps what it
        gave (rag/ingest/keep.py) unless `prune`. With nothing changed, no generation is written
        (the report names the live one).
        """
        index.current(self.settings.index.index_dir)  # no index: say so before taking the lock
        with index.locked(self.settings.index.index_dir):
            m = index.read_manifest(index.current(self.settings.index.index_dir))
            names = follow.typed(paths) or follow.listed(self.settings.index.index_dir)
            report = self._index(
                names, m.excluded, progress, on_progress, on_skip, live=m, prune=prune
            )
            follow.save(self.settings.index.index_dir, names)  # old relative entries kept absolute
            return report

    def remove(self, keys: Iterable[str]) -> BuildReport:
        """Drop articles by doc_id or by the path they were read from; updates keep them out."""
        wanted = {str(k) for k in keys}
        started = time.perf_counter()
        with index.locked(self.settings.index.index_dir):
            m, articles = self.live()

            def hit(a: Article) -> bool:
                return a.doc_id in wanted or a.path in wanted or a.path.split(":")[0] in wanted

            gone = [a.doc_id for a in articles if hit(a)]
            if not gone:
                raise InputError(
                    f"no article with id or path {', '.join(sorted(wanted))}; "
                    "see `rag index list` for ids"
                )
            kept = [a for a in articles if not hit(a)]
            if not kept:
                raise InputError("removing these would leave the index empty; nothing was changed")
            excluded = tuple(sorted({*m.excluded, *gone}))
            plan = Plan(kept, list(m.sources), excluded, read=len(kept), started=started)
            return self._write(plan, progress=False, on_progress=None)

    def rewrite(
        self, *, progress: bool = False, on_progress: Progress | None = None
    ) -> BuildReport:
        """The live generation's articles again, embedded with the configured model (after
        `rag index tune`); nothing is read from the sources."""
        with index.locked(self.settings.index.index_dir):
            m, articles = self.live()
            plan = Plan(articles, list(m.sources), m.excluded, read=len(articles))
            return self._write(plan, progress, on_progress)

    def live(self) -> tuple[Manifest, list[Article]]:
        """The live generation's manifest and articles."""
        gen = index.current(self.settings.index.index_dir)
        st = store.Store(gen / index.STORE)
        try:
            return index.read_manifest(gen), st.articles()
        finally:
            st.close()

    def rollback(self) -> tuple[str, str]:
        """Switch back to the generation before the live one: (from, to) names."""
        with index.locked(self.settings.index.index_dir):
            return index.rollback(self.settings.index.index_dir)

    def stale(self, paths: Iterable[str | Path]) -> bool:
        """True when there is no usable index or `paths` hold other articles than it does."""
        s = self.settings
        try:
            m = index.read_manifest(index.current(s.index.index_dir))
        except RagError:
            return True
        if (m.model, m.chunk_size, m.chunk_overlap) != (
            s.index.model,
            s.index.chunk_size,
            s.index.chunk_overlap,
        ):
            return True
        if shards.cut(s, m) != m.shards:
            return True
        articles = gather.read([str(p) for p in paths], self.settings, False, None).articles
        return {a.doc_id: a.content_hash for a in articles} != m.hashes

    # --- the steps -----------------------------------------------------------------------------

    def _index(
        self,
        names: list[str],
        excluded: Sequence[str],
        progress: bool,
        on_progress: Progress | None,
        on_skip: OnSkip | None,
        live: Manifest | None = None,
        prune: bool = False,
    ) -> BuildReport:
        plan = gather.read(names, self.settings, progress, on_skip)
        if not prune:  # what an unreadable source gave stays indexed (rag/ingest/keep.py)
            idx = self.settings.index.index_dir
            plan.articles = keep.kept(idx, plan.articles, plan.skipped, on_skip)
        out = set(excluded)
        plan.articles = [a for a in plan.articles if a.doc_id not in out]
        plan.excluded = tuple(excluded)
        if not plan.articles:
            raise InputError(
                f"no readable articles in {shown(', '.join(names)) or 'the given paths'}; "
                "nothing was indexed and the current index is unchanged"
            )
        if live is not None and self._same(plan, live):
            return self._unchanged(plan, live)
        return self._write(plan, progress, on_progress)

    def _same(self, plan: Plan, live: Manifest) -> bool:
        """True when writing `plan` would give the live generation again."""
        s = self.settings
        return (
            {a.doc_id: a.content_hash for a in plan.articles} == live.hashes
            and tuple(plan.sources) == live.sources
            and (s.index.model, s.index.chunk_size, s.index.chunk_overlap)
            == (live.model, live.chunk_size, live.chunk_overlap)
            and s.index.index_type in ("auto", live.index_type)
            and shards.cut(s, live) == live.shards
        )

    def _unchanged(self, plan: Plan, live: Manifest) -> BuildReport:
        """The report of an update that found nothing to change (no generation written)."""
        return BuildReport(
            read=plan.read,
            skipped=tuple(plan.skipped),
            duplicates=plan.duplicates,
            articles=live.articles,
            chunks=live.chunks,
            embedded=0,
            reused=live.chunks,
            seconds=time.perf_counter() - plan.started,
            generation=index.current(self.settings.index.index_dir).name,
            unchanged=live.articles,
            shards_reused=len(live.shard_sets),
        )

    def _write(self, plan: Plan, progress: bool, on_progress: Progress | None) -> BuildReport:
        """Chunk, embed (reusing what it can), write and switch to a new generation; a full
        disk is one IndexWriteError and leaves the live generation as it was
        (rag/index/writes.py)."""
        with writes.writing(self.settings.index.index_dir):
            return self._generation(plan, progress, on_progress)

    def _generation(self, plan: Plan, progress: bool, on_progress: Progress | None) -> BuildReport:
        s = self.settings
        articles = plan.articles
        spans = [chunk.spans(a.text, s.index.chunk_size, s.index.chunk_overlap) for a in articles]
        reuse = reusable(self.settings)
        old_hashes = reuse.hashes
        vectors, embedded, used = corpus.vectors(
            articles,
            spans,
            reuse.vectors,
            self._embedder,
            self._encode_many,
            block=EMBED_BLOCK,
            progress=progress,
            on_progress=on_progress,
        )
        backend = (getattr(used, "backend", ""), getattr(used, "reason", "")) if used else None
        signatures = [
            reuse.signatures[a.content_hash]
            if a.content_hash in reuse.signatures
            else dedup.signature(a.text)
            for a in articles
        ]
        groups = (
            dedup.canonical(articles, signatures, s.index.near_duplicate, dedup.MIN_WORDS)
            if s.index.near_duplicate > 0
            else list(range(len(articles)))
        )
        partial = index.new_generation(s.index.index_dir)
        n_chunks = store.write(partial / index.STORE, articles, spans, groups, signatures)
        lead = stories.leads(spans, vectors)  # stories: the live ones kept, new articles placed
        ids = stories.assign(articles, lead, groups, stories.previous(s.index.index_dir))
        stories.write(partial, articles, ids)
        cut = shards.write(partial, articles, spans, vectors, s)  # vectors and keywords
        hashes = {a.doc_id: a.content_hash for a in articles}
        tuned_from, model_digest = tune.origin(s.index.model)
        manifest = Manifest(
            format_version=index.FORMAT_VERSION,
            model=s.index.model,
            tuned_from=tuned_from,
            model_digest=model_digest,
            dim=int(vectors.shape[1]),
            chunk_size=s.index.chunk_size,
            chunk_overlap=s.index.chunk_overlap,
            articles=len(articles),
            chunks=n_chunks,
            built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            hashes=hashes,
            sources=tuple(plan.sources),
            excluded=plan.excluded,
            index_type=cut.kind,
            index_params=cut.params,
            shards=cut.cut,
            shard_sets=cut.sets,
            backend=backend[0] if backend else reuse.backend[0],
            backend_reason=backend[1] if backend else reuse.backend[1],
        )
        gen = index.commit(partial, manifest, cut.digests)  # linked files: hashes known
        return _report(plan, n_chunks, embedded, gen.name, old_hashes, hashes, cut)


def _report(
    plan: Plan,
    n_chunks: int,
    embedded: int,
    generation: str,
    old_hashes: dict[str, str],
    hashes: dict[str, str],
    cut: shards.Written,
) -> BuildReport:
    """What a write did: read, embedded and reused, and the articles added, changed, removed and
    unchanged against the live generation's `old_hashes` (doc_id -> content hash)."""
    return BuildReport(
        read=plan.read,
        skipped=tuple(plan.skipped),
        duplicates=plan.duplicates,
        articles=len(plan.articles),
        chunks=n_chunks,
        embedded=embedded,
        reused=n_chunks - embedded,
        seconds=time.perf_counter() - plan.started,
        generation=generation,
        added=sum(d not in old_hashes for d in hashes),
        changed=sum(d in old_hashes and old_hashes[d] != h for d, h in hashes.items()),
        removed=sum(d not in hashes for d in old_hashes),
        unchanged=sum(old_hashes.get(d) == h for d, h in hashes.items()),
        shards_written=cut.written,
        shards_reused=cut.reused,
    )
