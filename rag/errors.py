"""Errors: one tree; every message says what to do next.

RagError
├── ConfigError         a setting or flag has a bad value
├── InputError          a question or file the user gave cannot be used
├── ModelError          the embedding model cannot be loaded
├── IndexMissingError   no index yet: run `rag index build`
├── IndexMismatchError  index built with another model/format: rebuild
├── IndexCorruptError   an index file is damaged: rebuild
├── IndexLockedError    another build is running
└── LLMError            the language model cannot be reached, refuses the key or fails:
                        the pipeline falls back to the extractive answer
"""


class RagError(Exception):
    """Base class: `str(err)` is a one-line message for the user."""


class ConfigError(RagError):
    pass


class InputError(RagError):
    pass


class ModelError(RagError):
    pass


class IndexMissingError(RagError):
    pass


class IndexMismatchError(RagError):
    pass


class IndexCorruptError(RagError):
    pass


class IndexLockedError(RagError):
    pass


class LLMError(RagError):
    pass
