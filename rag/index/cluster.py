"""Cluster: a sharded generation's shards searched on Ray actors (`rag serve --ray`).

One actor per group of shards, each a `rag.index.shards.Group` (the code the local threads run),
groups balanced by chunk count; each actor loads its shards itself from the generation folder,
so every node must see that folder at the same path (a shared file system). The reader's
fan-out (rag/index/fanout.py) sends each call to the actors holding the shards it needs and merges
what comes back::

    reader:  query -> ShardSet (rag/index/fanout.py) -> Group.search/df/scores/vectors.remote(...)
    actors:  Group(gen, ["2024-07", "2024-08", ...]) each; results -> merged top hits

A new generation gets new actors; Ray ends the old ones when the last handle to them is gone.
Like rag/embed/cluster.py, this imports ray only when it is used.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag import errors
from rag.embed.cluster import _one_line, check_address, connect, ray_module
from rag.errors import ClusterError, RagError
from rag.index.fanout import Handle, balance
from rag.index.shards import Group


class _Remote:
    """A `Group` on a Ray actor."""

    def __init__(self, ray: Any, actor: Any, keys: list[str]) -> None:
        self.ray, self.actor, self.keys = ray, actor, tuple(keys)

    def submit(self, method: str, *args: Any) -> Callable[[], Any]:
        ref = getattr(self.actor, method).remote(*args)
        return lambda: _get(self.ray, ref)


def _get(ray: Any, ref: Any) -> Any:
    """`ray.get(ref)`, a failure on Ray in one line."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as e:
        raise ClusterError(f"the shard search on Ray failed ({_one_line(e)})") from None


class _Actor(Group):
    """A `Group` as a Ray actor. Shards that cannot be loaded (a damaged file) are reported by
    `ready`, not raised: Ray would log the traceback and restart the actor for nothing."""

    def __init__(self, gen: Path, keys: list[str], chunks: int, dim: int) -> None:
        self.problem = ("", "")
        try:
            super().__init__(gen, keys, chunks, dim)
        except RagError as e:
            self.problem = (type(e).__name__, str(e))

    def ready(self) -> tuple[str, str]:
        """("", "") once its shards are loaded, else the error's class name and message."""
        return self.problem


class RayHost:
    """`rag.index.fanout.Host` on a Ray cluster: `address` as for builds ("auto", "local",
    "host:6379", "ray://host:10001"); `actors`: groups of shards (default: the cluster's CPUs).
    A cluster this process is already connected to is used as it is.

    >>> reader.host = RayHost("auto")  # doctest: +SKIP
    """

    def __init__(self, address: str = "auto", actors: int | None = None) -> None:
        check_address(address)
        if actors is not None and actors < 1:
            raise ClusterError("--ray-workers must be at least 1")
        self.ray = ray_module(data=False)  # Ray missing: say so before anything is loaded
        self.address, self.actors = address, actors

    def open(self, gen: Path, sizes: dict[str, int], chunks: int, dim: int) -> list[Handle]:
        """Start one actor per group of shards, each loading its shards from `gen`."""
        ray = self.ray
        connect(ray, self.address)  # kept connected: the actors serve until the process ends
        cpus = int(ray.cluster_resources().get("CPU", 1))
        actor = ray.remote(_Actor).options(  # searches only read: safe to retry
            scheduling_strategy="SPREAD", max_restarts=2, max_task_retries=2
        )
        groups = balance(sizes, self.actors or cpus)
        handles = [_Remote(ray, actor.remote(gen, keys, chunks, dim), keys) for keys in groups]
        for name, message in [h.submit("ready")() for h in handles]:
            if name:
                kind = getattr(errors, name, None)
                raise (kind if isinstance(kind, type) else ClusterError)(message)
        return list(handles)
