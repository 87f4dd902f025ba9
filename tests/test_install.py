"""Issue 25, items 15 and 16: the install. lxml_html_clean is a base dependency, pinned with its
hash in the plain install's lock; CI runs the plain install's smoke test before `make test`;
the llama-cpp-python build is announced and says every minute that it is still going."""

from __future__ import annotations

import importlib.util
import threading
import time
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

from tests.conftest import ROOT


def lock_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lock", ROOT / "requirements" / "lock.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_html_cleaning_is_a_base_dependency_locked_with_its_hash() -> None:
    lock = lock_module()
    assert any(r.startswith("lxml-html-clean") for r in lock.wanted("base"))  # not an extra's
    block = lock.blocks((ROOT / "requirements" / "base.txt").read_text())["lxml_html_clean"]
    assert "==" in block and "--hash=sha256:" in block


def test_ci_runs_the_plain_install_smoke_test_before_the_tests() -> None:
    steps = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert steps.index("make smoke-base") < steps.index("make test")
    assert "tests/smoke_base.py" in (ROOT / "Makefile").read_text()


def test_the_slow_build_is_announced_with_a_line_every_minute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = lock_module()

    class Minute(threading.Event):  # a minute of the ticker lasts 20 ms here
        def wait(self, timeout: float | None = None) -> bool:
            return super().wait(None if timeout is None else 0.02)

    monkeypatch.setattr(lock, "threading", SimpleNamespace(Event=Minute, Thread=threading.Thread))
    ran: list[list[str]] = []
    monkeypatch.setattr(lock, "run", lambda cmd: ran.append(cmd) or time.sleep(0.2) or True)
    monkeypatch.setattr(lock, "installed", lambda name: None)
    text = "llama-cpp-python==0.3.36 \\\n  --hash=sha256:ab\nclick==8.1.8 \\\n  --hash=sha256:cd\n"
    lock.build_slow(["pip", "install"], text, tmp_path)
    out = capsys.readouterr().out
    assert out.startswith("building llama_cpp_python 0.3.36 from source: llama.cpp, in C++: about")
    assert "a line every minute" in out and "still building llama_cpp_python 0.3.36..." in out
    (cmd,) = ran  # one build, of llama-cpp-python alone, hashed, never from pip's cache
    assert "--no-cache-dir" in cmd and "--require-hashes" in cmd
