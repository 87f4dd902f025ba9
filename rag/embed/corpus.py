"""Corpus: one vector per chunk of a build, reused where the article is unchanged, the rest
embedded in blocks by the embedder (or all at once by an `EncodeMany`, e.g. on Ray)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
from tqdm import tqdm

from rag.embed.embedder import Embedder
from rag.ingest import chunk
from rag.types import Article

Progress = Callable[[str, int, int], None]  # (stage, done, total)


class EncodeMany(Protocol):
    """Embeds every text of a build at once, elsewhere (rag/embed/cluster.py: on Ray): texts ->
    one row each, in order. It must give the vectors of the embedder called on blocks of
    `rag.build.EMBED_BLOCK` texts."""

    def __call__(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray: ...


def vectors(
    articles: Sequence[Article],
    spans: Sequence[Sequence[tuple[int, int]]],
    old: dict[str, np.ndarray],
    embedder: Callable[[], Embedder],
    encode_many: EncodeMany | None,
    *,
    block: int,
    progress: bool,
    on_progress: Progress | None,
) -> tuple[np.ndarray, int, object | None]:
    """One vector per chunk of `articles` (cut at `spans`), in chunk-id order: (vectors, how
    many were embedded, the embedder or `encode_many` used; None when every vector was reused).

    `old`: content hash -> the vectors of an unchanged article's chunks, reused as they are.
    The rest go to `encode_many` all at once when given, else to `embedder()` (called only
    when something is left to embed) `block` texts at a time."""
    parts: list[np.ndarray] = []  # chunk id -> vector (a placeholder until embedded)
    todo: list[tuple[int, str]] = []  # (chunk id, text to embed)
    empty = np.zeros(0, np.float32)
    for a, sp in zip(articles, spans, strict=True):
        reused = old.get(a.content_hash)
        if reused is not None and len(reused) == len(sp):
            parts.extend(reused)
            continue
        for b, e in sp:
            todo.append((len(parts), chunk.embed_text(a, b, e)))
            parts.append(empty)
    todo.sort(key=lambda t: len(t[1]))  # similar lengths together: less padding
    if encode_many is not None and todo:
        vecs = encode_many([t for _, t in todo], progress=progress)
        for (i, _), v in zip(todo, vecs, strict=True):
            parts[i] = v
        if on_progress:
            on_progress("embed", len(todo), len(todo))
        used: object = encode_many
        return np.ascontiguousarray(np.stack(parts), dtype=np.float32), len(todo), used
    bar = tqdm(total=len(todo), desc="chunks embedded", unit=" chunk", disable=not progress)
    model = embedder() if todo else None
    for lo in range(0, len(todo), block):
        texts = todo[lo : lo + block]
        vecs = model.encode([t for _, t in texts])  # type: ignore[union-attr]
        for (i, _), v in zip(texts, vecs, strict=True):
            parts[i] = v
        bar.update(len(texts))
        if on_progress:
            on_progress("embed", lo + len(texts), len(todo))
    bar.close()
    return np.ascontiguousarray(np.stack(parts), dtype=np.float32), len(todo), model
