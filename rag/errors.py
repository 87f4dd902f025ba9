"""Errors: one tree; every message says what to do next.

RagError
├── ConfigError             a setting or flag has a bad value
├── InputError              a question or file the user gave cannot be used
├── ModelError              the embedding model cannot be loaded
├── IndexStateError         the index on disk cannot be used as it is
│   ├── IndexMissingError   no index yet: run `rag index build`
│   ├── IndexMismatchError  index built with another model/format: rebuild
│   ├── IndexCorruptError   an index file is damaged: rebuild or `rag index rollback`
│   └── IndexLockedError    another build is running
└── LLMError                the language model cannot be reached, refuses the key or fails:
                            the reader falls back to the extractive answer

Only the edges (the CLI, the UI) turn these into messages.
"""

__all__ = [
    "ConfigError",
    "IndexCorruptError",
    "IndexLockedError",
    "IndexMismatchError",
    "IndexMissingError",
    "IndexStateError",
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


class LLMError(RagError):
    pass
