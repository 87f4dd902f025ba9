"""The tree shows the flow: no import circles, nothing under rag/ imports ui/, no module over
350 lines, no function over 80 lines, and `rag.__all__` is what the package offers."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import rag

ROOT = Path(rag.__file__).parent
MAX_MODULE_LINES = 350
MAX_FUNCTION_LINES = 80


def _modules() -> dict[str, Path]:
    """Every module of rag/, by dotted name -> file."""
    found = {"rag": ROOT / "__init__.py"}
    for m in pkgutil.walk_packages([str(ROOT)], "rag."):
        spec = importlib.util.find_spec(m.name)
        assert spec and spec.origin, m.name
        found[m.name] = Path(spec.origin)
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The rag modules `name` imports, at any depth of its code (lazy imports included);
    a package's own __init__ is not counted (importing a module always runs its parents)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            base = node.module
            targets = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES]
            out.update(targets or [base])
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    parents = {name.rsplit(".", k)[0] for k in range(1, name.count(".") + 1)}
    return {t for t in out if t in MODULES and t != name and t not in parents | {"rag"}}


def _graph() -> dict[str, set[str]]:
    return {name: _imports(name, path) for name, path in MODULES.items()}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_every_module_imports_on_its_own() -> None:
    for name in MODULES:
        importlib.import_module(name)


def test_no_import_circles() -> None:
    assert _circles(_graph()) == []


def test_nothing_in_rag_imports_ui() -> None:
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            assert not any(n == "ui" or n.startswith("ui.") for n in names), name


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_and_functions_are_small(name: str) -> None:
    source = MODULES[name].read_text()
    assert len(source.splitlines()) <= MAX_MODULE_LINES, f"{name} is over {MAX_MODULE_LINES}"
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            size = node.end_lineno - node.lineno + 1  # type: ignore[operator]
            assert size <= MAX_FUNCTION_LINES, f"{name}:{node.name} is {size} lines"


def test_every_module_says_its_job() -> None:
    for name, path in MODULES.items():
        doc = ast.get_docstring(ast.parse(path.read_text()))
        assert doc and doc.strip(), f"{name} has no docstring naming its job"


def test_all_lists_the_public_names() -> None:
    """`rag.__all__` is exactly the classes `import rag` offers, Pipeline (loaded on first use,
    so `import rag` stays light) and the whole error tree; nothing heavy is imported."""
    code = (
        "import inspect, sys, rag\n"
        "print(sorted(n for n, v in vars(rag).items() "
        "if inspect.isclass(v) and v.__module__.startswith('rag')))\n"
        "print(sorted(m for m in ('torch', 'faiss', 'gradio', 'sentence_transformers') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    offered, heavy = (ast.literal_eval(line) for line in out.stdout.splitlines())
    assert heavy == []
    assert len(set(rag.__all__)) == len(rag.__all__)
    assert sorted(rag.__all__) == sorted({*offered, "Pipeline"})
    assert set(rag.errors.__all__) <= set(rag.__all__)
    assert all(getattr(rag, name) is not None for name in rag.__all__)
