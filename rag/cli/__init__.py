"""CLI: the `rag` command and its groups; RagError becomes one line and exit code 1."""
