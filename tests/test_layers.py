"""Import contract: every module's imports follow the layer rules (read with ast, not run)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import inpaint_studio

PACKAGE = Path(inpaint_studio.__file__).resolve().parent
QT = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "qtawesome")
UI_ENGINE_MODULES = ("inpaint_studio.engines.base", "inpaint_studio.engines.registry",
                     "inpaint_studio.engines.device", "inpaint_studio.engines.weights")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, top_level_only: bool = False) -> list[tuple[int, list[str]]]:
    """(line, names) per import statement; ``from a import b`` names both a and a.b.

    ``top_level_only``: just the imports that run on import (not inside a function).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    nodes = set(ast.walk(tree))
    if top_level_only:
        for fn in [n for n in nodes if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]:
            nodes -= set(ast.walk(fn))
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found.append((node.lineno, [alias.name for alias in node.names]))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[:len(parts) - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            found.append((node.lineno, [base] + [f"{base}.{alias.name}" for alias in node.names]))
    return sorted(found)


def is_under(name: str, roots) -> bool:
    return any(name == r or name.startswith(r + ".") for r in roots)


def layer_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE).parts
    return rel[0] if len(rel) > 1 else path.stem


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


DOWN = {  # inpaint_studio packages each layer must not import
    "core": ("fileio", "commands", "pipeline", "engines", "workers", "ui", "cli", "app", "training", "paths"),
    "fileio": ("commands", "pipeline", "engines", "workers", "ui", "cli", "app", "training", "paths"),
    "commands": ("fileio", "pipeline", "engines", "workers", "ui", "cli", "app", "training"),
    "pipeline": ("commands", "engines", "workers", "ui", "cli", "app", "training"),
    "engines": ("commands", "workers", "ui", "cli", "app"),
    "workers": ("ui", "cli", "app"),
    "ui": ("cli", "app"),
}


def rules(layer: str, rel: str, top_level: bool) -> list[tuple[tuple[str, ...], str]]:
    """(forbidden module roots, reason) for one import statement of module ``rel``."""
    out = [(tuple(f"inpaint_studio.{p}" for p in DOWN.get(layer, ())), "imports point downward")]
    if layer in ("commands", "pipeline", "fileio"):
        out.append((QT + ("torch",), f"{layer}: no Qt/torch"))
    if layer == "engines":
        out.append((QT, "engines: no Qt"))
    if layer == "workers":
        out.append((("PyQt5", "PyQt6", "qtawesome", "PySide6.QtGui", "PySide6.QtWidgets",
                     "PySide6.QtNetwork", "PySide6.QtOpenGL", "PySide6.QtSvg"),
                    "workers: only QtCore"))
    if layer == "ui":
        out.append((("torch",), "ui never imports torch"))
    if layer not in ("engines", "training"):
        out.append((("torch",), "torch only inside engines (and training)"))
    if layer == "training":
        out.append((QT, "training: no Qt"))
    if rel == "cli.py" and top_level:
        out.append((QT, "cli: no Qt at module level"))
    return out


def core_allows(name: str) -> bool:
    """core imports the standard library, numpy and inpaint_studio (DOWN says which part)."""
    root = name.split(".")[0]
    return root in sys.stdlib_module_names or root in ("numpy", "inpaint_studio")


def ui_engine_violation(names: list[str]) -> bool:
    """ui may use the engine contract and registry, never a concrete engine module."""
    return any(is_under(n, ["inpaint_studio.engines"]) and n != "inpaint_studio.engines"
               and not is_under(n, UI_ENGINE_MODULES) for n in names)


def violations(path: Path) -> list[str]:
    layer = layer_of(path)
    rel = path.relative_to(PACKAGE).as_posix()
    top = {line for line, _ in imports(path, top_level_only=True)}
    bad = []
    for line, names in imports(path):
        reasons = [why for roots, why in rules(layer, rel, line in top)
                   if any(is_under(n, roots) for n in names)]
        if layer == "core" and not core_allows(names[0]):
            reasons.append("core: numpy and the standard library only")
        if layer == "ui" and ui_engine_violation(names):
            reasons.append("ui never imports concrete engines")
        bad += [f"{rel}:{line}: {names[0]} ({why})" for why in reasons]
    return bad


def test_there_are_modules_to_check():
    layers = {layer_of(p) for p in sources()}
    assert {"core", "pipeline", "engines", "cli"} <= layers


def test_core_loads_only_numpy_and_the_standard_library():
    code = ("import pkgutil, importlib, sys\n"
            "before = set(sys.modules)\n"  # what site loaded at start-up (.pth hooks)
            "import inpaint_studio.core as core\n"
            "for m in pkgutil.iter_modules(core.__path__):\n"
            "    importlib.import_module('inpaint_studio.core.' + m.name)\n"
            "roots = {m.split('.')[0] for m in set(sys.modules) - before}\n"
            "print(sorted(r for r in roots if r not in sys.stdlib_module_names))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['inpaint_studio', 'numpy']"


def test_import_layers():
    problems = [v for path in sources() for v in violations(path)]
    assert problems == []


def test_checker_catches_violations(tmp_path, monkeypatch):
    fake = tmp_path / "inpaint_studio"
    for rel, text in {
        "core/bad.py": "import cv2\nfrom PIL import Image\nfrom inpaint_studio.pipeline import run\n",
        "core/lazy.py": ("import json\nimport numpy.typing\nfrom inpaint_studio.core import types\n"
                         "def read():\n    import tifffile\n    from inpaint_studio import fileio\n"),
        "fileio/bad.py": ("from PySide6.QtGui import QImage\nfrom inpaint_studio.pipeline import run\n"
                          "def f():\n    import torch\n"),
        "fileio/fine.py": "import cv2\nfrom PIL import Image\nfrom inpaint_studio.core import pixels\n",
        "commands/bad.py": "from inpaint_studio import fileio\n",
        "pipeline/fine.py": "from inpaint_studio.fileio import load_image\n",
        "pipeline/bad.py": "def f():\n    import torch\n",
        "engines/bad.py": "from PySide6.QtWidgets import QWidget\n",
        "workers/bad.py": "from PySide6.QtCore import QObject\nfrom PySide6.QtGui import QImage\n",
        "ui/bad.py": ("from inpaint_studio.engines import patchmatch\n"
                      "from inpaint_studio.engines.registry import create\n"),
        "ui/also_bad.py": "from inpaint_studio.engines.gated.net import Net\n",
        "workers/torchy.py": "def oom():\n    import torch\n",
        "training/qt.py": "from PySide6.QtCore import QObject\n",
        "ui/fine.py": "from inpaint_studio.engines import registry\nfrom inpaint_studio.engines.base import Engine\n",
        "cli.py": "from PySide6 import QtWidgets\ndef edit():\n    from PySide6 import QtCore\n",
    }.items():
        (fake / rel).parent.mkdir(parents=True, exist_ok=True)
        (fake / rel).write_text(text)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    found = {path.relative_to(fake).as_posix(): [v.split(": ", 1)[1] for v in violations(path)]
             for path in sorted(fake.rglob("*.py"))}
    assert found == {
        "core/bad.py": ["cv2 (core: numpy and the standard library only)",
                        "PIL (core: numpy and the standard library only)",
                        "inpaint_studio.pipeline (imports point downward)"],
        "core/lazy.py": ["tifffile (core: numpy and the standard library only)",  # inside a function too
                         "inpaint_studio (imports point downward)"],
        "fileio/bad.py": ["PySide6.QtGui (fileio: no Qt/torch)", "inpaint_studio.pipeline (imports point downward)",
                          "torch (fileio: no Qt/torch)", "torch (torch only inside engines (and training))"],
        "fileio/fine.py": [],
        "commands/bad.py": ["inpaint_studio (imports point downward)"],
        "pipeline/fine.py": [],
        "pipeline/bad.py": ["torch (pipeline: no Qt/torch)",
                            "torch (torch only inside engines (and training))"],
        "workers/torchy.py": ["torch (torch only inside engines (and training))"],
        "training/qt.py": ["PySide6.QtCore (training: no Qt)"],
        "engines/bad.py": ["PySide6.QtWidgets (engines: no Qt)"],
        "workers/bad.py": ["PySide6.QtGui (workers: only QtCore)"],
        "ui/bad.py": ["inpaint_studio.engines (ui never imports concrete engines)"],
        "ui/also_bad.py": ["inpaint_studio.engines.gated.net (ui never imports concrete engines)"],
        "ui/fine.py": [],
        "cli.py": ["PySide6 (cli: no Qt at module level)"],
    }


def test_cli_and_engine_listing_do_not_import_torch_or_qt():
    code = ("import sys\n"
            "from inpaint_studio import cli\n"
            "from inpaint_studio.engines import registry\n"
            "assert cli.main(['engines']) == 0\n"
            "[registry.readiness(n) for n in registry.engine_names()]\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6'))\n"
            "print('LOADED', bad)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "LOADED []" in proc.stdout


@pytest.mark.parametrize("module", ["inpaint_studio.pipeline.run", "inpaint_studio.engines.registry",
                                    "inpaint_studio.engines.host"])
def test_modules_import_without_torch(module):
    code = f"import sys, {module}\nprint('torch' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


# ---------------------------------------------------------------- import cycles


def type_checking_lines(path: Path) -> set[int]:
    """Lines of imports under ``if TYPE_CHECKING:`` (never run, so they close no cycle)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            lines |= {n.lineno for stmt in node.body for n in ast.walk(stmt)
                      if isinstance(n, (ast.Import, ast.ImportFrom))}
    return lines


def import_graph() -> dict[str, set[str]]:
    """module -> the package's modules it imports anywhere in its text (module level or
    inside a function, which runs later but still closes a circle), TYPE_CHECKING aside.
    ``from a import b`` points to ``a.b`` when that is a module, else to ``a``."""
    paths = {module_name(p): p for p in sources()}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        skip = type_checking_lines(path)
        targets = set()
        for line, names in imports(path):
            if line in skip:
                continue
            base, members = names[0], names[1:]
            found = [m for m in members if m in paths]
            targets.update(found or ([base] if base in paths else []))
        graph[name] = targets - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle: Tarjan's strongly connected components with more than one
    module (or a module importing itself), each sorted, the list sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def test_cycle_finder_on_a_small_graph():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"a", "e"},
             "f": {"g"}, "g": {"f"}, "h": {"d"}}
    assert cycles(graph) == [["a", "b", "c"], ["e"], ["f", "g"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []  # a chain is no circle


def test_no_import_cycles():
    graph = import_graph()
    assert "inpaint_studio.pipeline.hires" in graph["inpaint_studio.pipeline.run"]  # the graph is real
    assert cycles(graph) == []


def test_cycle_check_reads_function_local_imports(tmp_path, monkeypatch):
    fake = tmp_path / "inpaint_studio"
    files = {
        "__init__.py": "",
        "pipeline/__init__.py": "",
        # the circle issue 18 found: run imports hires, hires imports run inside a function
        "pipeline/run.py": "from inpaint_studio.pipeline import hires\ndef fill_crop(): pass\n",
        "pipeline/hires.py": "def f():\n    from inpaint_studio.pipeline import run\n    run.fill_crop()\n",
        # a back-import only for type checkers runs never
        "engines/__init__.py": "",
        "engines/registry.py": "from inpaint_studio.engines import weights\n",
        "engines/weights.py": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                               "    from inpaint_studio.engines.registry import ENGINES\n"),
        # a name from a module (not a submodule) points to that module
        "core/__init__.py": "",
        "core/a.py": "from inpaint_studio.core.b import thing\n",
        "core/b.py": "import numpy\nthing = 1\n",
    }
    for rel, text in files.items():
        (fake / rel).parent.mkdir(parents=True, exist_ok=True)
        (fake / rel).write_text(text)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    graph = import_graph()
    assert graph["inpaint_studio.core.a"] == {"inpaint_studio.core.b"}
    assert graph["inpaint_studio.engines.weights"] == set()
    assert cycles(graph) == [["inpaint_studio.pipeline.hires", "inpaint_studio.pipeline.run"]]
