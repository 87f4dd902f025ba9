"""Backend choice: which runtime ``backend="auto"`` embeds with on this CPU, and why.

Int8 ONNX runs about 2x float32 ONNX (3.6x PyTorch) where the CPU has int8 dot-product
instructions (AVX-512 VNNI, AVX-VNNI, AMX; bench/results/backends.json), so those CPUs take it
without a test. Elsewhere (AVX2 only, ARM, flags unknown) int8 may lose to float32, so both ONNX
files are timed once on a fixed made-up sample (about 2 s) and the faster is remembered in
``backend.json`` beside the export, keyed by the CPU model, its flags and the export's
fingerprint: once per machine. PyTorch is no candidate: it takes 10 s from start to the first
vector (ONNX: under 1 s) and runs the same float32 network 1.8x slower than ONNX here.

>>> by_flags({"avx2", "avx512_vnni"})[0]
'onnx-int8'
>>> by_flags({"sse4_2", "avx2"}) is None
True
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import statistics
import time
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

INT8_FLAGS = ("amx_int8", "avx512_vnni", "avx_vnni")  # /proc/cpuinfo names, best first
CACHE = "backend.json"
KEEP = 8  # machines remembered per export folder (an index on a shared disk)

_WORDS = (
    "the gardener said on saturday that the apple trees in the orchard would be pruned in the "
    "spring after the frost had passed and the bees returned to the hives while the baker "
    "warned that flour and butter could cost more as the mill kept its old stones turning and "
    "the club approved a fund for benches paths lamps and a pond where children sail boats "
    "painters reported the mural went well and the choir will sing at the fair on sunday"
).split()


def sample(n: int = 12, words: int = 130) -> list[str]:
    """`n` made-up news-like texts of about 800 characters, the same on every machine."""
    out, x = [], 7
    for _ in range(n):
        picked = []
        for _ in range(words):
            x = (1103515245 * x + 12345) % 2**31  # a fixed linear congruential sequence
            picked.append(_WORDS[x % len(_WORDS)])
        out.append(" ".join(picked).capitalize() + ".")
    return out


@dataclass(frozen=True)
class Cpu:
    """The CPU as /proc/cpuinfo names it: model name and feature flags (empty when unknown)."""

    model: str
    flags: frozenset[str]

    def key(self, fingerprint: str) -> str:
        """Changes with the CPU model, its flags or the export being timed."""
        text = f"{self.model}|{' '.join(sorted(self.flags))}|{fingerprint}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def cpu(cpuinfo: Path = Path("/proc/cpuinfo")) -> Cpu:
    """This machine's CPU (the first processor listed; x86 ``flags`` or ARM ``Features``)."""
    model, flags = "", ""
    with contextlib.suppress(OSError):
        for line in cpuinfo.read_text(errors="replace").splitlines():
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name in ("model name", "hardware", "cpu model") and not model:
                model = value.strip()
            elif name in ("flags", "features") and not flags:
                flags = value
            if model and flags:
                break
    return Cpu(model or platform.processor() or platform.machine(), frozenset(flags.split()))


def by_flags(flags: Collection[str]) -> tuple[str, str] | None:
    """("onnx-int8", why) when the flags promise fast int8; None when only a timing can tell."""
    fast = [f for f in INT8_FLAGS if f in flags]
    if not fast:
        return None
    return "onnx-int8", f"the CPU has {fast[0]}: int8 ONNX runs about 2x float32 there"


def choose(
    machine: Cpu,
    folders: Sequence[Path],
    fingerprint: str,
    timers: Mapping[str, Callable[[], float]],
) -> tuple[str, str]:
    """(backend, why): by the CPU flags, else the remembered timing, else timing each of
    `timers` (backend -> seconds for the sample) and remembering the fastest in each folder."""
    hit = by_flags(machine.flags)
    if hit:
        return hit
    key = machine.key(fingerprint)
    for folder in folders:
        entry = _read(folder / CACHE).get(key)
        if isinstance(entry, dict) and entry.get("backend") in timers:
            return str(entry["backend"]), str(entry.get("reason", "remembered timing"))
    seconds = {name: timer() for name, timer in timers.items()}
    best = min(seconds, key=lambda name: seconds[name])
    times = ", ".join(f"{n} {s:.3f} s" for n, s in sorted(seconds.items(), key=lambda x: x[1]))
    flags = "no int8 dot-product flags" if machine.flags else "CPU flags unknown"
    reason = f"timed on this CPU ({flags}): {times} for the calibration sample"
    entry = {"backend": best, "reason": reason, "cpu": machine.model, "seconds": seconds}
    for folder in dict.fromkeys(folders):
        _write(folder / CACHE, key, entry)
    return best, reason


class _Encoder(Protocol):
    def encode(self, texts: Sequence[str], *, progress: bool = False) -> Any: ...


def seconds_for_sample(embedder: _Encoder, repeats: int = 3) -> float:
    """Median seconds `embedder` takes for `sample()`, after a warm-up."""
    texts = sample()
    embedder.encode(texts[:4])
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        embedder.encode(texts)
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def _read(file: Path) -> dict[str, Any]:
    """key -> remembered choice; {} when missing or unreadable (it is only a cache)."""
    try:
        out = json.loads(file.read_text())
    except (OSError, ValueError):
        return {}
    return out if isinstance(out, dict) else {}


def _write(file: Path, key: str, entry: dict[str, Any]) -> None:
    """Remember `entry` under `key`, keeping the last KEEP machines (best effort, atomic)."""
    known = {k: v for k, v in _read(file).items() if k != key}
    known = dict(list(known.items())[-(KEEP - 1) :]) | {key: entry}
    with contextlib.suppress(OSError):
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(f".{uuid.uuid4().hex}.json")
        tmp.write_text(json.dumps(known, indent=1) + "\n")
        os.replace(tmp, file)
