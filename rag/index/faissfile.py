"""FAISS file: a saved vector index read back, refused when what is cheap to see is damaged.

What is checked here, at every load (header, metric, counts, a flat file's size, IVF cells and
list ids, HNSW graph sizes, `vectors.npy`'s header and shape), and what only `rag index verify`
sees, is listed in rag/index/generations.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faiss

from rag.errors import IndexCorruptError
from rag.index.generations import REBUILD
from rag.index.rows import Rows


def read(path: Path, chunks: int | None = None, dim: int | None = None) -> faiss.Index:
    """The FAISS index saved at `path`, flat codes memory-mapped; IndexCorruptError when it
    cannot be read, shows damage, or has not `chunks` vectors of `dim` dimensions (when given)."""
    try:
        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
    except (RuntimeError, MemoryError, ValueError) as e:  # MemoryError: a damaged count
        raise IndexCorruptError(f"{path}: cannot read the vector index; {REBUILD}") from e
    problem = _damage(index, path)
    if problem is None and chunks is not None and index.ntotal != chunks:
        problem = f"{index.ntotal} vectors for {chunks} chunks"
    if problem is None and dim is not None and index.d != dim:
        problem = f"{index.d} dimensions, the manifest says {dim}"
    if problem:
        raise IndexCorruptError(f"{path} is damaged ({problem}); {REBUILD}")
    return index


def stored(path: Path, index: faiss.Index) -> Rows:
    """The float vectors saved beside the index at `path` (`vectors.npy`, read by position),
    checked against its shape."""
    npy = path.with_suffix(".npy")
    try:
        rows = Rows(npy)
    except Exception as e:  # numpy's header parser raises several kinds on damage
        raise IndexCorruptError(f"{npy}: cannot read the stored vectors; {REBUILD}") from e
    if rows.shape != (index.ntotal, index.d):
        raise IndexCorruptError(f"{npy} does not match {path.name}; {REBUILD}")
    return rows


def _damage(index: faiss.Index, path: Path) -> str | None:
    """What is visibly wrong with a freshly read index (None: nothing cheap to see)."""
    n, d = int(index.ntotal), int(index.d)
    if d < 1 or n < 0 or index.metric_type != faiss.METRIC_INNER_PRODUCT:
        return "header"
    inner: Any = faiss.downcast_index(index)  # the swig stubs lack most of what is read here
    if type(inner) is faiss.IndexFlatIP:  # header, then n * d float32
        header = len(faiss.serialize_index(faiss.IndexFlatIP(d)))
        if path.stat().st_size != header + 4 * n * d:
            return "size does not match its vector count"
    elif isinstance(inner, faiss.IndexIVF):
        if not 1 <= inner.nprobe <= inner.nlist or inner.quantizer.ntotal != inner.nlist:
            return "cells"
        lists: Any = inner.invlists
        total = 0
        for cell in range(inner.nlist):
            size = lists.list_size(cell)
            if size:
                ids = faiss.rev_swig_ptr(lists.get_ids(cell), size)
                if int(ids.min()) < 0 or int(ids.max()) >= n:
                    return "an id out of range"
                total += size
        if total != n:
            return "list sizes"
    elif isinstance(inner, faiss.IndexHNSW):
        graph: Any = inner.hnsw
        offsets = faiss.vector_to_array(graph.offsets)
        if (
            inner.storage.ntotal != n
            or len(offsets) != n + 1
            or graph.levels.size() != n
            or int(offsets[-1]) != graph.neighbors.size()
            or not -1 <= graph.entry_point < max(n, 1)
        ):
            return "graph"
    return None
