"""Search: a question to ranked, date-aware, outlet-aware hits (dense + BM25, rescored)."""
