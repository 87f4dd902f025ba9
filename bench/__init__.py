"""Benchmarks: build throughput, query latency, memory, cold start, index scaling (run.py)."""
