"""Follow: the sources list kept in the index folder, and refreshes of it on a schedule.

    add(index_dir, ["https://example.com/feed.xml"])  # now `rag index update` refreshes it too
    listed(index_dir)                   # ['/home/me/news/seeds', 'https://example.com/feed.xml']
    Refresher(pipeline.update, every=parse_every("15m")).start()  # `rag serve --refresh 15m`

The list is `index/sources.json`, beside the generations rather than in one: what to follow is
not part of what is indexed, so changing it writes no generation, and a rollback leaves it be.
A build, and an update given paths, write it; without the file (an index from before it), the
live manifest's `sources` are the list. Each manifest still records what its generation read.
Removing a source forgets its fetch state; its articles leave the index at the next update.

Paths are kept absolute, so `rag serve` or `rag index update` from another folder read the
same files: a name typed now is taken from the current folder (`typed`); an entry kept relative
by an older version is taken from the index folder's parent (where `index/` was built from),
else from the current folder if it is there, and is written back absolute at the next update.
A name that means the current folder without naming it ("", ".", "./") is refused: give the
folder's full path if that is what you mean. URLs are kept whole (the fetch needs them), and
shown without their login or query values (rag/names.py).
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import ConfigError, IndexLockedError, IndexStateError, InputError, RagError
from rag.index import generations as generation
from rag.index.lock import locked
from rag.ingest.sources import is_url, tally
from rag.ingest.webstate import STATE, Run, State, runs
from rag.names import same_source, shown
from rag.types import BuildReport, Skipped

SOURCES = "sources.json"
RETRY_LOCKED = 60.0  # seconds until a refresh that found another update running tries again
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def listed(index_dir: Path) -> list[str]:
    """The sources `rag index update` refreshes: the list file, else the live manifest's."""
    path = index_dir / SOURCES
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        try:
            raw = list(generation.read_manifest(generation.current(index_dir)).sources)
        except RagError:
            return []
    except (OSError, ValueError) as e:
        raise IndexStateError(
            f"{path} cannot be read ({type(e).__name__}); fix it, or delete it to fall back "
            "to the sources of the last build"
        ) from e
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise IndexStateError(f"{path} is not a JSON list of sources; fix it or delete it")
    return list(dict.fromkeys(stored(x, index_dir) for x in raw if x.strip()))


def typed(names: Iterable[str | Path]) -> list[str]:
    """Sources as given now, as they are kept: URLs whole, paths absolute (from the current
    folder), each once; InputError for a name that means the current folder unsaid.

    >>> typed(["/data/news/", "https://example.com/feed.xml"])
    ['/data/news', 'https://example.com/feed.xml']
    """
    out = []
    for raw in names:
        name = str(raw)
        if is_url(name.strip()):
            out.append(name.strip())
            continue
        if not name.strip() or os.path.normpath(name.strip()) == ".":
            raise InputError(
                f"{shown(repr(name))} names no source (it would read the whole current folder); "
                "give the folder's full path if that is what you mean"
            )
        out.append(os.path.abspath(os.path.expanduser(name)))
    return list(dict.fromkeys(out))


def stored(name: str, index_dir: Path) -> str:
    """A kept entry as it is read now: URLs and absolute paths as they are; a relative path
    (kept by an older version) from the index folder's parent, else from the current folder
    when it is there and not beside the index."""
    if is_url(name) or os.path.isabs(name):
        return name
    beside = os.path.abspath(os.path.join(index_dir.absolute().parent, name))
    here = os.path.abspath(name)
    return here if not os.path.exists(beside) and os.path.exists(here) else beside


def save(index_dir: Path, names: Iterable[str]) -> None:
    """Write the list atomically (call holding the index lock)."""
    path = index_dir / SOURCES
    tmp = path.with_name(SOURCES + ".tmp")
    tmp.write_text(json.dumps(list(dict.fromkeys(names)), indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def add(index_dir: Path, names: Sequence[str]) -> list[str]:
    """Append `names` (URLs, files or folders) to the list; the list after."""
    given = typed(names)
    for name in given:
        if is_url(name) and not name.lower().startswith(("http://", "https://")):
            raise InputError(f"{shown(name)}: only http and https URLs can be followed")
        if not is_url(name) and not Path(name).exists():
            raise InputError(
                f"{shown(name)}: no such file or folder (give a path or an http(s) URL)"
            )
    with locked(index_dir):
        now = listed(index_dir)
        new = [*now, *(n for n in given if n not in now)]
        save(index_dir, new)
    return new


def remove(index_dir: Path, names: Sequence[str]) -> list[str]:
    """Take `names` off the list and forget what their fetches saw; the list after. A name is
    an entry as kept, as shown (`rag index sources list`), or a path from here."""
    with locked(index_dir):
        now = listed(index_dir)
        gone = {n for n in now for given in names if _names(given, n)}
        missing = [g for g in names if not any(_names(g, n) for n in now)]
        if missing:
            raise InputError(
                f"{shown(', '.join(missing))} is not in the sources list; `rag index sources "
                "list` shows it"
            )
        new = [n for n in now if n not in gone]
        names = sorted(gone)
        save(index_dir, new)
        if (index_dir / STATE).is_file():
            with State(index_dir / STATE) as state:
                state.forget([n for n in names if is_url(n)])
    return new


def _names(given: str, name: str) -> bool:
    """True when `given` (typed in `rag index sources remove`) names the kept entry `name`."""
    if same_source(given, name):
        return True
    return bool(given.strip()) and not is_url(given) and os.path.abspath(given) == name


@dataclass(frozen=True)
class Source:
    """One line of the sources table."""

    name: str  # as kept: the full URL (never shown; `label` is)
    kind: str  # "feed", "page", "URL" (not fetched yet), "folder", "file", "missing"
    run: Run | None = None  # its last fetch (URL sources)

    @property
    def label(self) -> str:
        """The name as it may be shown: no login or query values, no control characters."""
        return shown(self.name)


def table(index_dir: Path) -> list[Source]:
    """The sources list with what each last fetch saw."""
    last = runs(index_dir)
    out = []
    for name in listed(index_dir):
        if is_url(name):
            run = last.get(name)
            out.append(Source(name, (run.kind if run else "") or "URL", run))
        else:
            path = Path(name)
            out.append(
                Source(name, "folder" if path.is_dir() else "file" if path.exists() else "missing")
            )
    return out


# --- schedules -----------------------------------------------------------------------------------


def parse_every(text: str | None) -> float | None:
    """Seconds in "30s", "15m", "1h", "1h30m" or "1d"; None for "off", "0" or "".

    >>> parse_every("1h30m"), parse_every("off")
    (5400.0, None)
    """
    value = (text or "").strip().lower().replace(" ", "")
    if value in ("", "off", "0", "never", "none"):
        return None
    if not re.fullmatch(f"(?:{_PART.pattern})+", value):
        raise ConfigError(f"{text!r} is not a duration: give one like 30s, 15m, 1h or 1h30m")
    seconds = sum(float(n) * _UNIT[unit] for n, unit in _PART.findall(value))
    if seconds < 1:
        raise ConfigError(f"{text!r} is too short: refresh at most once a second")
    return seconds


def every_text(seconds: float | None) -> str:
    """5400 -> "1h30m"; None -> "off"."""
    if not seconds:
        return "off"
    left, parts = int(round(seconds)), []
    for unit in "dhms":
        n, left = divmod(left, _UNIT[unit])
        if n:
            parts.append(f"{n}{unit}")
    return "".join(parts) or "1s"


def report_line(r: BuildReport, skipped: Sequence[Skipped] = ()) -> str:
    line = f"{r.added} added, {r.changed} changed, {r.removed} removed, {r.unchanged} unchanged"
    return line + (f"; {tally(skipped)}" if skipped else "")


def run_every(
    step: Callable[[], Any],
    every: float,
    rounds: int | None = None,
    sleep: Callable[[float], Any] = time.sleep,
) -> int:
    """Call `step` every `every` seconds (start to start), `rounds` times (None: until
    interrupted); how many calls were made. `rag index update --every` runs on it."""
    done = 0
    while rounds is None or done < rounds:
        started = time.monotonic()
        step()
        done += 1
        if rounds is not None and done >= rounds:
            break
        sleep(max(0.0, every - (time.monotonic() - started)))
    return done


@dataclass(frozen=True)
class Result:
    """How a background refresh went."""

    at: float  # time.time() it ended
    line: str  # what it did, or why it did not
    ok: bool


class Refresher:
    """Calls `update(on_skip=...)` every `every` seconds in a background thread, which waits
    idle (no polling) in between. `every=None`: not at all until `set_every`. The first
    refresh comes one interval after `start`, or at once with `at_once`. `log` gets a line per
    refresh (default: stderr). A refresh that fails is reported and the schedule goes on.
    """

    def __init__(
        self,
        update: Callable[..., BuildReport],
        every: float | None = None,
        *,
        at_once: bool = False,
        log: Callable[[str], Any] | None = None,
    ) -> None:
        self._update = update
        self._log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.every = every
        self.next_at: float | None = None  # time.time() of the next refresh (None: none planned)
        self.last: Result | None = None
        self.running = False
        self.refreshes = 0  # refreshes done (and failed)
        self._at_once = at_once
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Refresher:
        with self._lock:
            if self.every and self.next_at is None:
                self.next_at = time.time() + (0 if self._at_once else self.every)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="refresh", daemon=True)
                self._thread.start()
        return self

    def set_every(self, every: float | None) -> None:
        """Refresh every `every` seconds from now on (None: stop refreshing)."""
        with self._lock:
            self.every = every
            self.next_at = time.time() + every if every else None
        self.start()._wake.set()

    def refresh_now(self) -> None:
        """Refresh as soon as the thread can (then on the schedule again)."""
        with self._lock:
            self.next_at = time.time()
        self.start()._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                due = self.next_at
            wait = None if due is None else due - time.time()
            if wait is None or wait > 0:
                self._wake.wait(wait)
                self._wake.clear()
                continue
            self.run_once()

    def run_once(self) -> Result:
        """One refresh, now, in this thread."""
        started = time.time()
        skipped: list[Skipped] = []
        self.running = True
        retry = None
        try:
            report = self._update(on_skip=skipped.append)
            result = Result(time.time(), "refreshed: " + report_line(report, skipped), True)
        except IndexLockedError:
            result = Result(time.time(), "refresh skipped: another update was running", False)
            retry = RETRY_LOCKED
        except RagError as e:
            result = Result(time.time(), f"refresh failed: {e}", False)
        except Exception as e:  # noqa: BLE001  (the thread must live on; say what happened)
            result = Result(time.time(), f"refresh failed ({type(e).__name__}: {e})", False)
        finally:
            self.running = False
        with self._lock:
            self.last = result
            self.refreshes += 1
            step = min(retry, self.every) if retry and self.every else self.every
            self.next_at = max(time.time(), started + step) if step else None
        for item in skipped:
            self._log(shown(f"refresh: {item.path}: {item.reason}"))
        self._log(shown(result.line))
        return result
