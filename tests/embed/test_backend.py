"""Choosing the embedding backend: by CPU flags, else by a timing remembered per machine."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from rag.embed import backend
from rag.embed import embedder as embed
from rag.embed.backend import Cpu

AVX2 = frozenset({"sse4_2", "avx", "avx2", "fma"})


@pytest.mark.parametrize(
    "flags,want",
    [
        (AVX2 | {"avx512f", "avx512_vnni"}, "onnx-int8"),
        (AVX2 | {"avx_vnni"}, "onnx-int8"),  # Alder Lake and later
        (AVX2 | {"amx_tile", "amx_int8"}, "onnx-int8"),
        (AVX2 | {"avx512f", "avx512bw"}, None),  # Skylake-SP: AVX-512 without VNNI
        (AVX2, None),
        (frozenset({"fp", "asimd", "asimddp"}), None),  # ARM: a timing decides
        (frozenset(), None),  # unknown
    ],
)
def test_flags_pick_int8_only_where_it_is_known_fast(flags: frozenset[str], want: str) -> None:
    got = backend.by_flags(flags)
    assert (got[0] if got else None) == want
    if got:
        assert got[1].startswith("the CPU has ")


def test_cpu_reads_model_and_flags(tmp_path: Path) -> None:
    x86 = tmp_path / "x86"
    x86.write_text(
        "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\n"
        "flags\t\t: fpu avx2 avx512_vnni\n\nprocessor\t: 1\nmodel name\t: other\nflags\t\t: fpu\n"
    )
    assert backend.cpu(x86) == Cpu(
        "Intel(R) Xeon(R) Processor", frozenset({"fpu", "avx2", "avx512_vnni"})
    )
    arm = tmp_path / "arm"
    arm.write_text("processor\t: 0\nFeatures\t: fp asimd asimddp\nCPU part\t: 0xd0c\n")
    assert backend.cpu(arm).flags == {"fp", "asimd", "asimddp"}
    assert backend.cpu(tmp_path / "missing").flags == frozenset()


class Timers:
    """Fake timings: backend -> seconds, counting the calls."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds
        self.calls: list[str] = []

    def timers(self) -> dict[str, Callable[[], float]]:
        return {name: functools.partial(self.time, name) for name in self.seconds}

    def time(self, name: str) -> float:
        self.calls.append(name)
        return self.seconds[name]


def test_vnni_takes_int8_without_timing(tmp_path: Path) -> None:
    t = Timers({"onnx-int8": 9.0, "onnx": 1.0})
    name, reason = backend.choose(Cpu("x", AVX2 | {"avx512_vnni"}), [tmp_path], "fp1", t.timers())
    assert (name, t.calls) == ("onnx-int8", [])
    assert "avx512_vnni" in reason and not (tmp_path / backend.CACHE).exists()


def test_timing_runs_once_per_machine_and_export(tmp_path: Path) -> None:
    a, b = tmp_path / "index-models", tmp_path / "user-cache"
    avx2 = Cpu("AMD EPYC 7B13", AVX2)
    t = Timers({"onnx-int8": 0.9, "onnx": 0.6})
    name, reason = backend.choose(avx2, [a, b], "fp1", t.timers())
    assert (name, sorted(t.calls)) == ("onnx", ["onnx", "onnx-int8"])
    assert "timed on this CPU" in reason and "onnx 0.600 s" in reason
    for folder in (a, b):  # remembered beside the export and in the user cache
        (entry,) = json.loads((folder / backend.CACHE).read_text()).values()
        assert entry["backend"] == "onnx" and entry["cpu"] == "AMD EPYC 7B13"

    t.calls.clear()
    assert backend.choose(avx2, [a, b], "fp1", t.timers()) == (name, reason)
    assert t.calls == []  # reused
    (a / backend.CACHE).unlink()
    assert backend.choose(avx2, [a, b], "fp1", t.timers())[0] == "onnx"
    assert t.calls == []  # found in the second folder

    t.seconds = {"onnx-int8": 0.5, "onnx": 0.6}
    for machine, fingerprint in [
        (Cpu("AMD EPYC 7B13", AVX2 | {"sha_ni"}), "fp1"),  # other flags
        (Cpu("AMD EPYC 9B14", AVX2), "fp1"),  # other CPU model
        (avx2, "fp2"),  # another export
    ]:
        t.calls.clear()
        assert backend.choose(machine, [a, b], fingerprint, t.timers())[0] == "onnx-int8"
        assert sorted(t.calls) == ["onnx", "onnx-int8"]
    assert len(json.loads((b / backend.CACHE).read_text())) == 4  # one entry per key


def test_a_damaged_cache_is_timed_again(tmp_path: Path) -> None:
    (tmp_path / backend.CACHE).write_text("{not json")
    t = Timers({"onnx-int8": 0.5, "onnx": 0.6})
    assert backend.choose(Cpu("x", AVX2), [tmp_path], "fp", t.timers())[0] == "onnx-int8"
    assert len(t.calls) == 2
    assert json.loads((tmp_path / backend.CACHE).read_text())  # rewritten whole


def test_the_cache_keeps_a_few_machines(tmp_path: Path) -> None:
    t = Timers({"onnx-int8": 0.5, "onnx": 0.6})
    for i in range(backend.KEEP + 3):
        backend.choose(Cpu(f"cpu {i}", AVX2), [tmp_path], "fp", t.timers())
    kept = json.loads((tmp_path / backend.CACHE).read_text())
    assert [e["cpu"] for e in kept.values()][-1] == f"cpu {backend.KEEP + 2}"
    assert len(kept) == backend.KEEP


def test_the_sample_is_fixed_and_news_sized() -> None:
    texts = backend.sample()
    assert texts == backend.sample() and len(set(texts)) == len(texts) == 12
    assert 600 <= np.mean([len(t) for t in texts]) <= 1000


def test_seconds_for_sample_warms_up_then_times_the_sample() -> None:
    sizes: list[int] = []

    class Counting:
        def encode(self, texts: Sequence[str], *, progress: bool = False) -> None:
            sizes.append(len(texts))

    assert backend.seconds_for_sample(Counting(), repeats=3) >= 0
    assert sizes == [4, 12, 12, 12]


def test_auto_on_an_avx2_cpu_times_both_and_keeps_the_winner(tmp_path: Path, monkeypatch) -> None:
    made: list[bool] = []

    class FakeOnnx:
        def __init__(self, model: str, batch_size: int, *, quantize: bool, cache_dir: Path) -> None:
            made.append(quantize)
            self.backend = "onnx-int8" if quantize else "onnx"
            self.reason = "asked for"

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(backend, "cpu", lambda: Cpu("AVX2 only", AVX2))
    monkeypatch.setattr(embed, "OnnxEmbedder", FakeOnnx)
    monkeypatch.setattr(
        backend, "seconds_for_sample", lambda e: {"onnx-int8": 2.0}.get(e.backend, 1.0)
    )
    cache = tmp_path / "index" / "models"
    e = embed.load(backend="auto", cache_dir=cache)
    assert e.backend == "onnx" and "timed on this CPU" in e.reason  # type: ignore[attr-defined]
    assert sorted(made) == [False, True]  # each built once, the winner reused
    made.clear()
    again = embed.load(backend="auto", cache_dir=cache)
    assert again.backend == "onnx" and made == [False]  # type: ignore[attr-defined]
    assert list(cache.glob(f"*/{backend.CACHE}"))
