"""Cluster: a build's chunks embedded on a Ray cluster (Ray Data, one embedder per actor).

`rag index build|update PATHS --ray [auto|local|ADDRESS]` (or RAG_RAY_ADDRESS) gives the chunk
texts a build must embed to `RayEncoder`; the rest is the local build (rag/build.py): the same
reading, chunking, reuse of unchanged articles' vectors, manifest and atomic switch::

    driver:   texts to embed, sorted by length -> rows of EMBED_BLOCK  # {ids, texts}
    Ray Data: map_batches(_Worker, ActorPoolStrategy(size=N), num_cpus=c) # an embedder each
    driver:   {id, vector} batches -> vectors in chunk-id order

A row holds the texts of one model call of the local loop, so every worker call sees exactly
those texts: int8 ONNX scales activations per batch, and another grouping moves vectors by up to
0.03, where this one gives the local vectors. The ONNX export is made once, on the driver (in
the index's models/ folder); its bytes and the tokenizer go to the workers through the object
store, so a worker needs rag-news installed but no model folder, export or cache (with the
torch backend each worker loads the model itself). A worker that dies is restarted and its rows
retried (Ray Data's actor defaults: max_restarts=-1, max_task_retries=-1).

Reading and chunking stay on the driver: they are 0.2 % of a build (bench/results/build.json:
1.0 s of 586 s for the news corpus), embedding is the rest.

Only this module imports ray, and only when a build runs on it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import Settings

# not rag.build: workers import this module, and only need the embedder
from rag.embed import embedder as embed
from rag.embed import models
from rag.errors import ClusterError, ModelError, RagError, brief

INSTALL = "pip install 'rag-news[ray]'"
_RAISED = re.compile(r"^rag\.errors\.\w+: (.+)$", re.MULTILINE)  # in a worker's traceback
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
NAMED = ("auto", "local")  # ray.init: an existing cluster else a new one; always a new one


@dataclass(frozen=True)
class Spec:
    """How each worker makes its embedder: the backend the driver chose, and its settings."""

    model: str
    backend: str  # "onnx-int8", "onnx" or "torch"
    batch_size: int
    threads: int  # the worker's CPUs: ONNX Runtime threads
    tokens: int = 512  # the model's input limit (ONNX)


class _Worker:
    """A Ray actor's embedder. Each call gets one row: one EMBED_BLOCK of chunk texts."""

    def __init__(self, spec: Spec, files: Any, fail_once: str = "") -> None:
        try:
            self.embedder = self._load(spec, files)
        except RagError:
            raise
        except Exception as e:  # a damaged file, a missing library: the driver shows one line
            raise ModelError(
                f"a Ray worker cannot load the embedding model ({_one_line(e)})"
            ) from e
        self.fail_once = fail_once

    @staticmethod
    def _load(spec: Spec, files: Any) -> embed.Embedder:
        if spec.backend == "torch":  # needs the model on the worker (the packaged one is)
            return embed.SentenceTransformerEmbedder(spec.model, spec.batch_size)
        import ray

        onnx, tokenizer = ray.get(files)  # the export's bytes, tokenizer.json's text
        return embed.OnnxEmbedder.from_bytes(
            spec.model,
            onnx,
            tokenizer,
            spec.tokens,
            batch_size=spec.batch_size,
            backend=spec.backend,
            threads=spec.threads,
        )

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self.fail_once:
            _fail_once(Path(self.fail_once))
        ids = [np.asarray(i, dtype=np.int64) for i in batch["ids"]]
        vecs = [self.embedder.encode([str(t) for t in texts]) for texts in batch["texts"]]
        return {"id": np.concatenate(ids), "vector": np.concatenate(vecs)}  # n, n x dim


def _fail_once(marker: Path) -> None:
    """Kill this worker process the first time any worker gets here (a test of Ray's retries)."""
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return
    os._exit(1)


class RayEncoder:
    """`encode_many` for `rag.build.Indexer`: embeds a build's texts on a Ray cluster.

    `address`: "auto" (the cluster in RAY_ADDRESS or the last one started on this machine, else a
    new local one), "local" (a new local one), or an address ("host:6379", "ray://host:10001").
    A cluster this process is already connected to (the caller ran `ray.init`) is used as it is;
    one this encoder connected to or started is left after each build. `workers`: actors
    (default: the cluster's CPUs / `cpus_per_worker`). `fail_once`: a marker file; the first
    worker call that creates it kills its worker (for the tests of Ray's retries).

    >>> Indexer(settings, embedder, RayEncoder(settings, "auto")).build(["news"])  # doctest: +SKIP
    """

    def __init__(
        self,
        settings: Settings,
        address: str = "auto",
        *,
        workers: int | None = None,
        cpus_per_worker: int = 1,
        fail_once: Path | None = None,
    ) -> None:
        check_address(address)
        if (workers is not None and workers < 1) or cpus_per_worker < 1:
            raise ClusterError("--ray-workers and the CPUs per worker must be at least 1")
        ray_module()  # Ray missing: say how to install it before anything is read
        self.settings = settings
        self.address = address
        self.workers = workers
        self.cpus = cpus_per_worker
        self.fail_once = fail_once
        self.backend = ""  # what the workers ran, and why (into the manifest, as a local build)
        self.reason = ""
        self.used = 0  # workers of the last call

    def __call__(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """One vector per text, in order: the vectors the local build's loop would give."""
        from rag import build

        spec, onnx, tokenizer = self._prepare()
        size = build.EMBED_BLOCK  # chunks per model call, as in the local loop
        rows = [
            {"ids": np.arange(lo, min(lo + size, len(texts))), "texts": list(texts[lo : lo + size])}
            for lo in range(0, len(texts), size)
        ]
        with _connected(self.address, progress) as ray:
            cpus = int(ray.cluster_resources().get("CPU", 1))
            self.used = max(1, min(self.workers or cpus // self.cpus, len(rows)))
            ids, vecs = _embed(ray, rows, spec, onnx, tokenizer, self, progress)
        if len(ids) != len(texts) or not np.array_equal(np.sort(ids), np.arange(len(texts))):
            raise ClusterError(
                f"the Ray workers returned {len(ids)} vectors for {len(texts)} chunks; "
                "build again (the index is unchanged)"
            )
        out = np.empty_like(vecs)
        out[ids] = vecs
        return out

    def _prepare(self) -> tuple[Spec, bytes, str]:
        """The backend, chosen (and exported) once here; for ONNX, the file's bytes and the
        tokenizer.json text the workers load."""
        s = self.settings
        if s.index.backend != "torch":
            e = embed.load(
                s.index.model, s.index.batch_size, s.index.backend, s.index.index_dir / "models"
            )
            self.backend, self.reason = getattr(e, "backend", ""), getattr(e, "reason", "")
            if isinstance(e, embed.OnnxEmbedder):  # else "auto" fell back to torch
                path = Path(models.resolve(s.index.model))
                spec = Spec(
                    s.index.model, e.backend, s.index.batch_size, self.cpus, embed.max_tokens(path)
                )
                return spec, e.file.read_bytes(), (path / "tokenizer.json").read_text()
        else:
            self.backend, self.reason = "torch", "asked for"
        return Spec(s.index.model, "torch", s.index.batch_size, self.cpus), b"", ""


def check_address(address: str) -> None:
    """A ClusterError unless `address` is auto, local or has a port (host:port, ray://...).

    >>> check_address("ray://head:10001")
    >>> check_address("news/")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    rag.errors.ClusterError: --ray takes auto, local or ..., not 'news/' (give the paths ...)
    """
    if address in NAMED or ":" in address:
        return
    raise ClusterError(
        "--ray takes auto, local or an address like host:6379 or ray://host:10001, "
        f"not {address!r} (give the paths before --ray)"
    )


def ray_module(data: bool = True) -> Any:
    """The ray module (with Ray Data when `data`), or a one-line ClusterError saying how to
    install it."""
    try:
        import ray

        if data:
            import ray.data  # noqa: F401  (the [data] extra: pyarrow, pandas)
    except ImportError as e:
        what = "Ray Data" if data else "Ray"
        missing = f" ({e.name} is missing)" if data and e.name and e.name != "ray" else ""
        raise ClusterError(f"--ray needs {what}{missing}: {INSTALL}") from None
    return ray


def connect(ray: Any, address: str, level: int = logging.WARNING) -> bool:
    """Connect `ray` to the cluster at `address` ("auto": a running one, else a new local
    one) unless this process already is; True when this call connected (and should shut
    down). A failure is one line."""
    if ray.is_initialized():
        return False
    try:
        ray.init(
            address=None if address == "auto" else address,
            include_dashboard=False,
            logging_level=level,
        )
    except Exception as e:  # ConnectionError, ValueError, RuntimeError...: one line
        raise ClusterError(
            f"cannot reach the Ray cluster at {address} ({_one_line(e)}); start one with "
            "`ray start --head` or use --ray auto"
        ) from e
    return True


@contextlib.contextmanager
def _connected(address: str, progress: bool) -> Iterator[Any]:
    """Ray, connected to `address` for the block (an existing connection is kept as it is);
    without `progress`, only Ray's errors are shown."""
    ray = ray_module()
    if not connect(ray, address, logging.WARNING if progress else logging.ERROR):
        yield ray
        return
    try:
        yield ray
    finally:
        ray.shutdown()


def _embed(
    ray: Any,
    rows: list[dict[str, Any]],
    spec: Spec,
    onnx: bytes,
    tokenizer: str,
    encoder: RayEncoder,
    progress: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """The Ray Data pipeline: rows -> actor pool -> (chunk ids, vectors), in any order."""
    from ray.data import ActorPoolStrategy, DataContext

    ctx, log = DataContext.get_current(), logging.getLogger("ray.data")
    was = (ctx.enable_progress_bars, ctx.print_on_execution_start, log.level)
    ctx.enable_progress_bars = ctx.print_on_execution_start = progress
    log.setLevel(log.level if progress else logging.ERROR)
    files = ray.put((onnx, tokenizer))  # held here to the end: restarted workers get it again
    try:
        ds = ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
            _Worker,
            batch_size=1,  # one row, one model call
            # a row is seconds of work: the next goes to whichever actor is free
            compute=ActorPoolStrategy(size=encoder.used, max_tasks_in_flight_per_actor=1),
            num_cpus=encoder.cpus,
            fn_constructor_kwargs={
                "spec": spec,
                "files": files,
                "fail_once": str(encoder.fail_once or ""),
            },
        )
        got = list(ds.iter_batches(batch_size=None, batch_format="numpy"))
    except ray.exceptions.RayError as e:
        raise ClusterError(
            f"the build on Ray failed ({_one_line(e)}); the index is unchanged"
        ) from e
    finally:
        ctx.enable_progress_bars, ctx.print_on_execution_start, _ = was
        log.setLevel(was[2])
        del files
    if not got:
        return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
    ids = np.concatenate([b["id"] for b in got]).astype(np.int64)
    vecs = np.concatenate([b["vector"] for b in got]).astype(np.float32)
    return ids, vecs


def _one_line(e: BaseException) -> str:
    """One line for `e`: the message of a RagError a worker raised (Ray passes on its traceback
    as text), else the traceback's last line, which names the error.

    >>> _one_line(RuntimeError("Traceback...\\n  File x\\nrag.errors.ModelError: no model"))
    'no model'
    """
    text = _ANSI.sub("", str(e)).strip()
    raised = _RAISED.findall(text)
    if raised:
        return str(raised[-1]).strip()
    return brief(text, last=True) or type(e).__name__
