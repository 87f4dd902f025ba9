"""Errors: one tree; every message says what to do next.

RagError
├── ConfigError             a setting or flag has a bad value
├── InputError              a question or file the user gave cannot be used
├── ModelError              the embedding model cannot be loaded
├── IndexStateError         the index on disk cannot be used as it is
│   ├── IndexMissingError   no index yet: run `rag index build`
│   ├── IndexMismatchError  index built with another model/format: rebuild
│   ├── IndexCorruptError   an index file is damaged: rebuild or `rag index rollback`
│   ├── IndexLockedError    another build is running
│   └── IndexWriteError     a new generation cannot be written (disk full, a file over the
│                           size limit, an I/O error): the live index is unchanged
├── LLMError                the language model cannot be reached, refuses the key or fails:
│                           the reader falls back to the extractive answer
├── ClusterError            a build on Ray cannot start or fails (Ray missing, no cluster)
└── FetchError              a URL cannot be fetched (HTTP status, timeout, size, robots.txt):
                            that one source or page is skipped, the rest go on

Only the edges (the CLI, the UI) turn these into messages.
"""

__all__ = [
    "ClusterError",
    "ConfigError",
    "FetchError",
    "IndexCorruptError",
    "IndexLockedError",
    "IndexMismatchError",
    "IndexMissingError",
    "IndexStateError",
    "IndexWriteError",
    "InputError",
    "LLMError",
    "ModelError",
    "RagError",
]


class RagError(Exception):
    """Base class: `str(err)` is a one-line message for the user."""


class ConfigError(RagError):
    pass


class InputError(RagError):
    pass


class ModelError(RagError):
    pass


class IndexStateError(RagError):
    """The index folder cannot be used as it is (missing, other model, damaged, busy)."""


class IndexMissingError(IndexStateError):
    pass


class IndexMismatchError(IndexStateError):
    pass


class IndexCorruptError(IndexStateError):
    pass


class IndexLockedError(IndexStateError):
    pass


class IndexWriteError(IndexStateError):
    pass


class LLMError(RagError):
    pass


class ClusterError(RagError):
    pass


class FetchError(RagError):
    """`str(err)` is "URL: why"; `url` and `reason` apart, for a `Skipped` line."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason

    def __reduce__(self) -> tuple[type, tuple[str, str]]:  # pickles with both arguments
        return (type(self), (self.url, self.reason))


def brief(e: BaseException | str, limit: int = 200, *, last: bool = False) -> str:
    """What went wrong, in one line for a message: the first non-empty line of `e` (the last
    with `last`, where a library ends its report with the cause), cut to `limit` characters;
    an exception that says nothing gives its class name.

    >>> brief(ValueError("bad value\\nat line 3")), brief(OSError()), brief("a\\nb", last=True)
    ('bad value', 'OSError', 'b')
    """
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    if not lines:
        return type(e).__name__ if isinstance(e, BaseException) else ""
    return (lines[-1] if last else lines[0])[:limit]
