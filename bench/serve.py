"""Memory and cold start of `rag serve`: seconds from starting the command to the first
answer received through the Gradio API, the server's peak RSS after answering questions,
and the index's size on disk.

    python -m bench.serve --index /tmp/news/index
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.common import ROOT, WORK, free_port, index_args, log, memory, save
from bench.query import question_set
from rag.index import vectors as index


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _answer_text(history: Any) -> str:
    content = history[-1]["content"]
    return content if isinstance(content, str) else " ".join(p.get("text", "") for p in content)


def run(index_dir: Path, backend: str, questions: int = 30) -> dict[str, Any]:
    from gradio_client import Client

    gen = index.current(index_dir)
    manifest = index.read_manifest(gen)
    port = free_port()
    rag = Path(sys.executable).with_name("rag")
    cmd = [str(rag), "serve", "--index", str(index_dir), "--port", str(port)]
    for src in manifest.sources:
        cmd += ["--sources", src]
    env = {**os.environ, "RAG_BACKEND": backend, "GRADIO_ANALYTICS_ENABLED": "False"}
    logfile = open(WORK / "serve.log", "w")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=logfile, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/"
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"rag serve exited with {proc.returncode}; see {logfile.name}")
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        up = time.perf_counter() - t0
        up_cpu = cpu_seconds(proc.pid)
        client = Client(url, verbose=False)
        qs = [q for q, _ in question_set()]
        history, _, _ = client.predict(qs[0], [], api_name="/ask")
        first = time.perf_counter() - t0
        first_cpu = cpu_seconds(proc.pid)
        log(f"serve: listening after {up:.1f} s, first answer after {first:.1f} s")
        times = []
        for q in qs[1:questions]:
            t = time.perf_counter()
            client.predict(q, [], api_name="/ask")
            times.append(time.perf_counter() - t)
        mem = memory(proc.pid)
        client.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        logfile.close()
    disk = sum(f.stat().st_size for f in gen.rglob("*") if f.is_file())
    files = {
        str(f.relative_to(gen)): round(f.stat().st_size / 1e6, 1)
        for f in sorted(gen.iterdir())
        if f.is_file() or f.is_dir()
    }
    for f in gen.iterdir():
        if f.is_dir():
            files[f.name] = round(
                sum(x.stat().st_size for x in f.rglob("*") if x.is_file()) / 1e6, 1
            )
    return {
        "index": str(index_dir),
        "chunks": manifest.chunks,
        "index_type": manifest.index_type,
        "backend": backend,
        "listening_s": round(up, 2),
        "first_answer_s": round(first, 2),
        "listening_cpu_s": round(up_cpu, 2),  # the work, whatever the machine's load
        "first_answer_cpu_s": round(first_cpu, 2),
        # not the text: it quotes the corpus, which must not be copied into the repo
        "first_answer_cited": 'class="cite"' in _answer_text(history),
        "answers": len(times) + 1,
        "answer_via_http_p50_ms": round(1000 * sorted(times)[len(times) // 2], 1)
        if times
        else None,
        "peak_rss_mb": mem.get("peak_mb"),
        "rss_mb": mem.get("rss_mb"),
        "rss_anon_mb": mem.get("anon_mb"),
        "rss_file_mb": mem.get("file_mb"),
        "index_disk_mb": round(disk / 1e6, 1),
        "index_files_mb": files,
    }


def main() -> None:
    args = index_args(__doc__, "questions", 30)
    save("serve", run(args.index, args.backend, args.questions))
    print(json.dumps(json.loads((ROOT / "bench/results/serve.json").read_text()), indent=1))


if __name__ == "__main__":
    main()
