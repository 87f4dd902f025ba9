"""Concurrent readers: answers/s and latency p50/p95 of `rag serve` with 1, 4 and 16 chats at
once (real Gradio API clients in threads against 127.0.0.1), for each queue concurrency.

Every client asks the same number of questions, one after another; the run is bounded (a fixed
number of answers, a timeout per answer).

    python -m bench.concurrency --index /tmp/news/index [--per-client 6]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.common import ROOT, WORK, free_port, log, save
from bench.query import question_set

CLIENTS = (1, 4, 16)
LIMITS = (1, 4)  # RAG_CONCURRENCY values compared


def _serve(index_dir: Path, concurrency: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    rag = Path(sys.executable).with_name("rag")
    env = {
        **os.environ,
        "RAG_CONCURRENCY": str(concurrency),
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    WORK.mkdir(parents=True, exist_ok=True)
    logfile = open(WORK / "serve-concurrency.log", "w")
    cmd = [str(rag), "serve", "--index", str(index_dir), "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=logfile, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    for _ in range(1200):
        if proc.poll() is not None:
            raise RuntimeError(f"rag serve exited with {proc.returncode}; see {logfile.name}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("rag serve did not start in 2 minutes")


def load(url: str, clients: int, per_client: int, questions: list[str]) -> dict[str, Any]:
    """`clients` threads, each with its own API client, asking `per_client` questions."""
    from gradio_client import Client

    made = [Client(url, verbose=False) for _ in range(clients)]
    made[0].predict(questions[0], [], api_name="/ask")  # warm: the model and index loaded
    times: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def work(i: int, client: Any) -> None:
        start.wait()
        for j in range(per_client):
            q = questions[(i * per_client + j) % len(questions)]
            t = time.perf_counter()
            client.predict(q, [], api_name="/ask")
            with lock:
                times.append(time.perf_counter() - t)

    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(made)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join(timeout=600)
    wall = time.perf_counter() - t0
    for c in made:
        c.close()
    times.sort()
    return {
        "clients": clients,
        "answers": len(times),
        "answers_per_s": round(len(times) / wall, 2),
        "p50_ms": round(1000 * statistics.median(times), 1),
        "p95_ms": round(1000 * times[min(len(times) - 1, int(0.95 * len(times)))], 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--per-client", type=int, default=6)
    args = ap.parse_args()
    questions = [q for q, _ in question_set()]
    runs = []
    for limit in LIMITS:
        proc, url = _serve(args.index, limit)
        try:
            for n in CLIENTS:
                per = max(2, args.per_client * 4 // n) if n > 4 else args.per_client
                r = {"concurrency": limit, **load(url, n, per, questions)}
                log(f"concurrency {limit}, {n} clients: {r}")
                runs.append(r)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    save("concurrency", {"index": str(args.index), "runs": runs})
    print(json.dumps(runs, indent=1))


if __name__ == "__main__":
    main()
