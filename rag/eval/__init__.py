"""Eval: `rag eval`: question files run against an index and scored."""
