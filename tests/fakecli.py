"""The real `rag` command (click's CliRunner) over the fake embedder, for the sources tests.

rag = fake_cli(monkeypatch)
out = rag("index", "build", str(folder), "--index", str(index_dir))
out.exit_code, out.stdout, out.stderr
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner, Result

from rag import Pipeline, Settings
from tests.conftest import FakeEmbedder

# what the fake embedder needs (no gate, the old floor) and quick fetching
FAKE = {
    "model": "fake",
    "min_score": 0.3,
    "gate": "off",
    "fetch_host_interval": 0.0,
    "fetch_backoff": 0.01,
    "fetch_timeout": 5.0,
}


def fake_cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """`rag ARGS...` run in-process; every command's pipeline uses the fake embedder."""
    from rag.cli import main as cli
    from rag.cli import sources as cli_follow

    def make(**opts: Any) -> Pipeline:
        given = {k: v for k, v in opts.items() if v is not None}
        return Pipeline(Settings.load(env={}, **{**FAKE, **given}), FakeEmbedder())

    monkeypatch.setattr(cli, "pipeline", make)
    monkeypatch.setattr(cli_follow, "pipeline", make)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli.main, [str(a) for a in args])
