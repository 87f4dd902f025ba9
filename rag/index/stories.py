"""Stories: articles about one event, across outlets and days, grouped under ids that stay put
across updates (`assign`), kept beside the index in `stories.json`, shown as a timeline.

An article joins the story of the most similar article published at most `DAYS` days from it
when their leads (the vectors of their first chunks: title and opening) are close, at least
`STRONG` cosine with an uncommon name in common, or at least `WEAK` with `NAMES` of them;
near-duplicate copies always share a story; digests ("5 things to know") stay alone. Articles
already in a story keep it: an update only places the new ones, so stories never reshuffle.
A new story's id comes from its first article's doc_id.

    ids = assign(articles, leads(spans, vectors), groups, previous(index_dir))
    write(partial_generation, articles, ids)       # stories.json, checksummed with the rest
    held = Cache().get(generation, store)          # its stories in memory
    timeline(held, store, "s0b1c2d3e4f")           # Story: its articles, oldest first
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from rag.errors import InputError, RagError
from rag.index.generations import current
from rag.index.store import Store
from rag.ingest.records import outlet
from rag.text import STOP, sentences
from rag.types import Article, StoryRef

FILE = "stories.json"
VERSION = 1
DAYS = 4  # an article joins a story through an article at most this many days apart
STRONG = 0.78  # cosine of two leads that puts them in one story (with one uncommon name shared)
WEAK = 0.6  # ... or with at least NAMES uncommon names shared
NAMES = 2
COMMON = 0.05  # names in more than this share (and 10) of articles ("CNN", "Trump") don't count
LEAD_CHARS = 600  # names are read from the title and this much of the text
# a capitalised word that does not open a sentence or a line
_CAP = re.compile(r"(?<![.!?:\n]\s)(?<![\n\"“])(?<!^)\b[A-Z][\w'’-]+")
_PLAIN = STOP | frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday here get thing things what why "
    "how new first last photos video live updates opinion analysis".split()
)
# digests (many events in one article) neither join a story nor take others in
DIGEST = re.compile(
    r"\b(things (you need )?to know|daily briefing|morning briefing|evening briefing|"
    r"news quiz|week in review|what you missed|it's \w+day's news|around our 50 states)\b",
    re.I,
)


@dataclass(frozen=True)
class Entry:
    """One article of a story's timeline."""

    doc_id: str
    published: date | None
    outlet: str
    title: str
    url: str
    sentence: str  # its key sentence: the first real sentence of its text


@dataclass(frozen=True)
class Story:
    """A story: its id and its articles, oldest first (undated ones last)."""

    id: str
    entries: tuple[Entry, ...]

    @property
    def outlets(self) -> int:
        return len({e.outlet for e in self.entries if e.outlet})

    @property
    def first(self) -> date | None:
        return min((e.published for e in self.entries if e.published), default=None)

    @property
    def latest(self) -> date | None:
        return max((e.published for e in self.entries if e.published), default=None)


def story_id(doc_id: str) -> str:
    """The id of a story whose first article is `doc_id`: "s" and 10 hex digits."""
    return "s" + hashlib.sha1(doc_id.encode()).hexdigest()[:10]


def leads(spans: Sequence[Sequence[tuple[int, int]]], vectors: np.ndarray) -> np.ndarray:
    """Each article's first chunk vector (zeros for an article without chunks)."""
    first = np.cumsum([0, *(len(s) for s in spans)])[:-1]
    out = np.zeros((len(spans), vectors.shape[1]), dtype=np.float32)
    has = np.array([len(s) > 0 for s in spans], dtype=bool)
    out[has] = vectors[first[has]]
    return out


def names(a: Article) -> set[str]:
    """Capitalised words of the opening that do not start a sentence or line (and of the title,
    those the opening has too), lower case, possessives dropped.

    >>> a = Article("d", "Lyon Hosts Summit", "Leaders met in Lyon. Then Ada Lind's team left.")
    >>> sorted(names(a))
    ['ada', 'lind', 'lyon']
    """
    out = set()
    for m in _CAP.finditer(a.text[:LEAD_CHARS]):
        w = re.sub(r"['’]s?$", "", m.group().lower())
        if len(w) > 2 and w not in _PLAIN:
            out.add(w)
    lead = a.text[:LEAD_CHARS].lower()
    for m in re.finditer(r"\b[A-Z][\w'’-]+", a.title):
        w = re.sub(r"['’]s?$", "", m.group().lower())
        if len(w) > 2 and w not in _PLAIN and w in lead:
            out.add(w)
    return out


def assign(
    articles: Sequence[Article],
    lead: np.ndarray,
    groups: Sequence[int],
    previous: dict[str, str],
    *,
    days: int = DAYS,
    strong: float = STRONG,
    weak: float = WEAK,
) -> list[str]:
    """A story id for each article: its previous one when `previous` has it, else the story of
    its near-duplicate group (`groups[i]`: the group's canonical article), else that of the
    closest article close enough (see the module docstring), else a new story."""
    n = len(articles)
    ids = [previous.get(a.doc_id, "") for a in articles]
    day = np.array([a.published.toordinal() if a.published else 0 for a in articles])
    digest = [bool(DIGEST.search(a.title)) for a in articles]
    done = np.array([bool(x) and not d for x, d in zip(ids, digest, strict=True)], dtype=bool)
    said = [names(a) for a in articles]
    df = Counter(w for s in said for w in s)
    common = {w for w, c in df.items() if c > max(10, COMMON * n)}
    said = [s - common for s in said]
    group_story: dict[int, str] = {}
    for i in range(n):
        if ids[i]:
            group_story.setdefault(int(groups[i]), ids[i])
    order = sorted((i for i in range(n) if not ids[i]), key=lambda i: (day[i] == 0, day[i], i))
    for i in order:
        story = group_story.get(int(groups[i]), "")
        if not story and not digest[i]:
            story = _closest(i, lead, day, done, said, ids, days, strong, weak)
        ids[i] = story or story_id(articles[i].doc_id)
        done[i] = not digest[i]  # placed: others may join it
        group_story.setdefault(int(groups[i]), ids[i])
    return ids


def _closest(
    i: int,
    lead: np.ndarray,
    day: np.ndarray,
    done: np.ndarray,
    said: list[set[str]],
    ids: list[str],
    days: int,
    strong: float,
    weak: float,
) -> str:
    """The story of the placed article most like article i, if one is like it enough."""
    if day[i]:
        near = done & (np.abs(day - day[i]) <= days) & (day != 0)
    else:  # undated: any placed article, on a strong likeness only
        near = done.copy()
    cand = np.flatnonzero(near)
    if not len(cand) or not lead[i].any():
        return ""
    sims = lead[cand] @ lead[i]
    best, story = 0.0, ""
    for k in np.flatnonzero(sims >= weak):
        j, sim = int(cand[k]), float(sims[k])
        shared = len(said[i] & said[j])
        if day[i]:
            ok = (sim >= strong and shared >= 1) or shared >= NAMES
        else:
            ok = sim >= strong and shared >= NAMES
        if ok and sim > best:
            best, story = sim, ids[j]
    return story


# --- on disk ----------------------------------------------------------------------------------


def write(folder: Path, articles: Sequence[Article], ids: Sequence[str]) -> None:
    """Write `stories.json` (doc_id -> story id) into a generation folder."""
    body = {
        "version": VERSION,
        "days": DAYS,
        "stories": {a.doc_id: s for a, s in zip(articles, ids, strict=True)},
    }
    (folder / FILE).write_text(json.dumps(body, separators=(",", ":")))


def previous(index_dir: Path) -> dict[str, str]:
    """The live generation's stories ({} when there is no usable index)."""
    try:
        return read(current(index_dir))
    except RagError:
        return {}


def read(gen: Path | None) -> dict[str, str]:
    """A generation's doc_id -> story id ({} when it has none, or the file is unreadable)."""
    if gen is None:
        return {}
    try:
        body = json.loads((gen / FILE).read_text())
        raw = body.get("stories", {}) if body.get("version") == VERSION else {}
        return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    except (OSError, ValueError, AttributeError):
        return {}


@dataclass(frozen=True)
class Held:
    """One generation's stories in memory."""

    story: dict[str, str]  # doc_id -> story id
    members: dict[str, list[int]]  # story id -> article rows
    outlets: dict[str, int]  # story id -> distinct outlets


def _hold(gen: Path, store: Store) -> Held:
    """Generation `gen`'s stories.json with the rows of their articles in `store`."""
    story = read(gen)
    members: dict[str, list[int]] = {}
    for doc_id, s in story.items():
        row = store.row_of.get(doc_id)
        if row is not None:
            members.setdefault(s, []).append(row)
    outlets = {
        s: len({store.article_source[r] for r in rows if store.article_source[r]})
        for s, rows in members.items()
    }
    return Held(story, members, outlets)


class Cache:
    """The stories of the last `keep` generations read, by folder (a folder never changes once
    written), behind a lock: the threads answering at once share one."""

    def __init__(self, keep: int = 4) -> None:
        self.keep = keep
        self._held: dict[str, Held] = {}  # generation folder -> its stories
        self._lock = threading.Lock()

    def get(self, gen: Path, store: Store) -> Held:
        """Generation `gen`'s stories (read from its stories.json the first time)."""
        key = str(gen)
        with self._lock:
            if key not in self._held:
                while len(self._held) >= self.keep:
                    self._held.pop(next(iter(self._held)))
                self._held[key] = _hold(gen, store)
            return self._held[key]

    def clear(self) -> None:
        """Forget every generation's stories (they are read again when next asked for)."""
        with self._lock:
            self._held.clear()


def refs(held: Held, doc_ids: Sequence[str]) -> tuple[StoryRef, ...]:
    """The stories of `doc_ids` (each once; none for an index built without stories)."""
    out = []
    for d in dict.fromkeys(doc_ids):
        s = held.story.get(d)
        if s:
            out.append(StoryRef(d, s, len(held.members.get(s, ())), held.outlets.get(s, 0)))
    return tuple(out)


def key_sentence(a: Article) -> str:
    """The article's first sentence of at least 8 words that is not its title again."""
    title = " ".join(a.title.lower().split())
    for s, e in sentences(a.text, 0, min(len(a.text), 4000)):
        text = " ".join(a.text[s:e].split())
        low = text.lower()
        if len(text.split()) >= 8 and not (title and (low in title or title in low)):
            return text[:400]
    return " ".join(a.text.split())[:200]


def timeline(held: Held, store: Store, key: str) -> Story:
    """The story with id `key`, or the story of the article with doc_id `key` (`held`: the
    stories of the generation `store` belongs to)."""
    if not held.story:
        raise InputError("this index has no stories; run `rag index build` to add them")
    sid = key if key in held.members else held.story.get(key, "")
    if not sid:
        raise InputError(f"no story or article {key!r}; see `rag index list` for article ids")
    arts = store.rows(held.members[sid])
    arts.sort(key=lambda a: (a.published is None, a.published or date.min, a.doc_id))
    entries = tuple(
        Entry(a.doc_id, a.published, outlet(a), a.title, a.url, key_sentence(a)) for a in arts
    )
    return Story(sid, entries)
