"""Types: the frozen dataclasses that cross module boundaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Article:
    """One news article; `text` is the exact text that offsets point into."""

    doc_id: str
    title: str
    text: str
    published: date | None = None
    outlet: str = ""  # e.g. "cnn.com" (an input file or feed is a source; this is who published)
    url: str = ""
    path: str = ""  # where it was read from
    author: str = ""
    content_hash: str = ""  # sha256 of title + text + metadata: changes when the article does


@dataclass(frozen=True)
class Skipped:
    """A file (or record) that could not be read, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class Note(Skipped):
    """Not a skip: the article at `path` was read and kept; `reason` says what to know."""


@dataclass(frozen=True)
class Chunk:
    """A passage: `text == article.text[start:end]`; `id` is its FAISS id."""

    id: int
    doc_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its article and scores (ranks are 1-based, None when absent)."""

    chunk: Chunk
    article: Article
    score: float
    rank: int = 0
    dense_rank: int | None = None
    keyword_rank: int | None = None
    similarity: float = 0.0  # cosine similarity of question and passage
    also: tuple[Article, ...] = ()  # near-duplicate copies of the article (other outlets, URLs)
    part: int = (
        0  # which part of a question across outlets found it (rag/search/across.py; 0: whole)
    )


@dataclass(frozen=True)
class Citation:
    """Citation `[n]`: the hit and the supporting sentence (offsets into the article text)."""

    n: int
    hit: Hit
    sentence_start: int
    sentence_end: int
    supported: bool = True


@dataclass(frozen=True)
class Side:
    """One side of a disagreement: the value as written, and the citations that give it."""

    value: str  # "31 countries"
    citations: tuple[int, ...]  # answer citation numbers, e.g. (1, 4)


@dataclass(frozen=True)
class Disagreement:
    """Cited articles that give different values for the same thing; sides newest first."""

    about: str  # "the number of countries", "the place", "the date"
    sides: tuple[Side, ...]


@dataclass(frozen=True)
class StoryRef:
    """The story (event cluster, rag/index/stories.py) an article belongs to, for a card's link."""

    doc_id: str
    story: str  # the story id, e.g. "s3f9a0c1e2b"
    articles: int  # articles in the story
    outlets: int  # distinct outlets among them


@dataclass(frozen=True)
class Part:
    """One part of a question across articles (rag/search/parts.py): the outlet and dates it names,
    and the article that answers it (none found: `doc_id` "")."""

    named: str  # the outlet as the question names it ("" = none named)
    claim: str  # the question's words for this part
    doc_id: str = ""
    outlet: str = ""  # the answering article's outlet, as indexed
    published: date | None = None
    title: str = ""
    citation: int = 0  # its [n] in the answer (0 = not cited)
    says: str = ""  # the sentence of that article that answers the part
    date_from: date | None = None  # the dates the question gives this part
    date_to: date | None = None


@dataclass(frozen=True)
class Answer:
    """An answer whose sentences carry `[n]` markers pointing at `citations`."""

    question: str
    text: str
    refused: bool
    citations: tuple[Citation, ...] = ()
    hits: tuple[Hit, ...] = field(default=())  # everything retrieved, cited or not
    standalone: str = ""  # the question as searched (a follow-up rewritten); "" = `question`
    llm: str = ""  # the model that wrote `text` ("" = extractive)
    unsupported: tuple[tuple[int, int], ...] = ()  # spans of `text`: sentences not backed
    note: str = ""  # one line for the user, e.g. why the extractive answer is shown instead
    confidence: float | None = None  # the gate's probability that the passages answer (0..1)
    disagreements: tuple[
        Disagreement, ...
    ] = ()  # where cited articles differ (rag/answer/disagree.py)
    as_of: date | None = None  # the newest cited article's date: what the answer is as of
    stories: tuple[StoryRef, ...] = ()  # the hits' stories, by doc_id (rag/index/stories.py)
    parts: tuple[Part, ...] = ()  # a question across outlets, part by part (rag/search/across.py)


@dataclass(frozen=True)
class Manifest:
    """What `manifest.json` says about one generation of the index."""

    format_version: int
    model: str
    dim: int
    chunk_size: int
    chunk_overlap: int
    articles: int
    chunks: int
    built_at: str  # ISO timestamp, UTC
    index_type: str = (
        "flat-ip"  # "flat", "hnsw", ... (rag/index/vectors.py); "flat-ip" before kinds
    )
    index_params: dict[str, int] = field(default_factory=dict)  # e.g. {"M": 32, "ef_search": 64}
    hashes: dict[str, str] = field(default_factory=dict)  # doc_id -> content hash
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256
    sources: tuple[str, ...] = ()  # the paths the build read
    excluded: tuple[str, ...] = ()  # doc_ids removed by hand: updates keep them out
    backend: str = ""  # the embedding runtime that wrote the vectors: torch, onnx, onnx-int8
    backend_reason: str = ""  # why `auto` chose it, in a line
    tuned_from: str = ""  # `model` is a folder `rag index tune` wrote from this model ("": not)
    model_digest: str = ""  # SHA-256 over the tuned model's files (rag/embed/tune.py)
    shards: str = (
        "none"  # "month": vectors and keywords cut by publication month (rag/index/shards.py)
    )
    shard_sets: dict[str, str] = field(default_factory=dict)  # shard -> what it was built from


@dataclass(frozen=True)
class BuildReport:
    """What a build did: counts, problems, and where the result lives."""

    read: int  # articles read from the sources
    skipped: tuple[Skipped, ...]
    duplicates: int  # exact copies (same normalised text) indexed once
    articles: int
    chunks: int
    embedded: int  # chunks sent to the model
    reused: int  # chunks whose vectors came from the previous generation
    seconds: float
    generation: str
    added: int = 0  # compared with the previous generation, by doc_id and content hash
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    shards_written: int = 0  # sharded indexes: shards built, and shards linked unchanged
    shards_reused: int = 0
