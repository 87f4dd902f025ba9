"""Ingest: files, folders, JSONL, feeds and pages into Articles; polite fetching; the sources
list."""
