"""Reuse: what the live generation offers the next build (content hashes, MinHash
signatures, and chunk vectors by content hash when the model and chunk settings match)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.config import Settings
from rag.errors import RagError
from rag.index import shards, store
from rag.index import vectors as index


@dataclass(frozen=True)
class Reuse:
    """What a build can take from the live generation."""

    hashes: dict[str, str]  # doc_id -> content hash
    vectors: dict[str, np.ndarray]  # content hash -> the article's chunk vectors
    signatures: dict[str, np.ndarray]  # content hash -> MinHash signature
    backend: tuple[str, str] = ("", "")  # the runtime that embedded them, and why


def reusable(s: Settings) -> Reuse:
    """What the live generation offers the next build: its content hashes by doc_id, its
    MinHash signatures, and its vectors by content hash when its model and chunk settings
    match ours (else no vectors are reused: a full re-embed)."""
    try:
        gen = index.current(s.index.index_dir)
        m = index.read_manifest(gen)
        st = store.Store(gen / index.STORE)
    except RagError:  # no index yet, or a damaged one: nothing to reuse
        return Reuse({}, {}, {})
    was = (m.backend, m.backend_reason)
    try:
        signatures = st.signatures()
        if (m.model, m.chunk_size, m.chunk_overlap) != (
            s.index.model,
            s.index.chunk_size,
            s.index.chunk_overlap,
        ):
            return Reuse(m.hashes, {}, signatures, was)
        try:
            vecs = shards.all_vectors(gen, m)
        except RagError:
            return Reuse(m.hashes, {}, signatures, was)
        out: dict[str, np.ndarray] = {}
        order = np.argsort(st.chunk_article, kind="stable")
        bounds = np.searchsorted(st.chunk_article[order], np.arange(len(st.doc_ids) + 1))
        for row, doc_id in enumerate(st.doc_ids):
            out[m.hashes.get(doc_id, "")] = vecs[order[bounds[row] : bounds[row + 1]]]
        out.pop("", None)
        return Reuse(m.hashes, out, signatures, was)
    except RagError:  # a damaged store: reuse nothing, re-embed everything
        return Reuse(m.hashes, {}, {}, was)
    finally:
        st.close()
