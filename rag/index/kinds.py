"""Kinds: which vector index kind a size gets, and each kind's build and search settings.

Measured on the scaling benchmark (bench/README.md); rag/index/vectors.py builds and searches
with them, and the manifest records the ones a generation was built with.
"""

from __future__ import annotations

from rag.config import INDEX_TYPES
from rag.errors import ConfigError

EXACT_MAX = 50_000  # "auto": exact search up to this many vectors, IVF above (bench/README.md)
HNSW_M = 32  # graph neighbours per node (2 * M on the bottom level)
HNSW_EF_CONSTRUCTION = 64
HNSW_EF_SEARCH = 64
IVF_NPROBE = 32  # cells searched: at least this, and at least 1/128 of them (1M: 32 of 4,000)
RERANK = 50  # approximate kinds fetch at least this many candidates, then re-score them exactly
SCAN_SHARE = 0.1  # approximate kinds under a filter keeping at most this share: linear scan
MAX_EF = 1024  # cap on the widened HNSW search under a filter


def choose(n: int, kind: str = "auto") -> str:
    """The index kind for `n` vectors: `kind` itself unless it is "auto".

    >>> choose(50_000), choose(5_000_000), choose(10, "hnsw")
    ('flat', 'ivf', 'hnsw')
    """
    if kind not in INDEX_TYPES:
        raise ConfigError(f"index type {kind!r} is not one of {', '.join(INDEX_TYPES)}")
    if kind != "auto":
        return kind
    return "flat" if n <= EXACT_MAX else "ivf"


def ivf_lists(n: int) -> int:
    """k-means cells for `n` vectors: about 4 sqrt(n), with at least 39 training points each."""
    return max(1, min(int(4 * n**0.5), n // 39))
