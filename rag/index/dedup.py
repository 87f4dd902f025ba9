"""Dedup: group near-duplicate articles (one story carried by several outlets) with MinHash LSH."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import xxhash
from datasketch import MinHash, MinHashLSH

from rag.types import Article

NUM_PERM = 64
SHINGLE = 5  # words per shingle
SCHEME = "affine32"
MIN_WORDS = 50  # shorter texts (scraping noise, cookie banners) are never grouped
_WORD = re.compile(r"\w+")


def _hash(b: bytes) -> int:
    return xxhash.xxh32_intdigest(b)


def signature(text: str) -> np.ndarray:
    """MinHash of the article's word 5-shingles (lower-cased), as uint64 values.

    Two texts' signatures agree in about the share of positions equal to the Jaccard
    similarity of their shingle sets.
    """
    words = _WORD.findall(text.lower())
    shingles = {" ".join(words[i : i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}
    m = MinHash(num_perm=NUM_PERM, hashfunc=_hash, scheme=SCHEME)
    m.update_batch(s.encode() for s in shingles)
    return np.asarray(m.hashvalues, dtype=np.uint64)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float(np.mean(a == b))


def canonical(
    articles: Sequence[Article],
    signatures: Sequence[np.ndarray],
    threshold: float,
    min_words: int = MIN_WORDS,
) -> list[int]:
    """For each article, the index of its group's canonical article (itself if alone).

    Articles of at least `min_words` words whose shingle overlap reaches `threshold` are grouped
    (transitively); the canonical one is the earliest published, then the first read.
    """
    n = len(articles)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # a loose LSH finds candidates (few misses); the signature estimate then decides
    lsh = MinHashLSH(threshold=max(0.2, threshold - 0.3), num_perm=NUM_PERM)
    hashes = [MinHash(num_perm=NUM_PERM, hashvalues=s, scheme=SCHEME) for s in signatures]
    for i, m in enumerate(hashes):
        if len(_WORD.findall(articles[i].text)) < min_words:
            continue
        for j in lsh.query(m):
            if similarity(signatures[i], signatures[int(j)]) >= threshold:
                parent[find(i)] = find(int(j))
        lsh.insert(str(i), m)
    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(find(i), []).append(i)
    out = list(range(n))
    for group in members.values():
        first = min(group, key=lambda i: (articles[i].published is None, articles[i].published, i))
        for i in group:
            out[i] = first
    return out
