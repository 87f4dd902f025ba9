"""Memo: an encode function that encodes each text once (`Memo(embedder.encode)`).

A question across outlets reads each part's passages and then the whole question's: the same
sentences, several times over. One memo per question keeps every vector it made, so a
sentence is encoded once, and the new ones of each call in one batch.

    >>> calls = []
    >>> m = Memo(lambda ts: calls.append(list(ts)) or np.ones((len(ts), 2), np.float32))
    >>> m(["a", "b"]).shape, m(["b", "c", "c"]).shape, calls
    ((2, 2), (3, 2), [['a', 'b'], ['c']])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Encode = Callable[[Sequence[str]], np.ndarray]


class Memo:
    """`encode` with each text's vector kept (unbounded: make one per question)."""

    def __init__(self, encode: Encode) -> None:
        self._encode = encode
        self._vectors: dict[str, np.ndarray] = {}

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if new:
            self._vectors.update(zip(new, self._encode(new), strict=True))
        if not texts:
            return self._encode(texts)
        return np.stack([self._vectors[t] for t in texts])
