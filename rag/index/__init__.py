"""Index: generations on disk, FAISS vectors, BM25, the SQLite store, shards, stories."""
