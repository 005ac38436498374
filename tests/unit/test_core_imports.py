"""core/ knows no room: nothing under chalicelib/core imports a room, the entry-point wiring or
any other chalicelib module outside core — at module level or inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "functions" / "chalicelib" / "core"


def _imported_modules(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return names


def test_no_core_module_imports_anything_of_chalicelib_outside_core() -> None:
    outside = {
        path.name: sorted(name for name in _imported_modules(path.read_text())
                          if name.startswith("chalicelib") and not name.startswith("chalicelib.core"))
        for path in CORE.glob("*.py")
    }
    assert {name: found for name, found in outside.items() if found} == {}


def test_the_check_sees_an_import_inside_a_function() -> None:
    assert "chalicelib.wiring" in _imported_modules("def f():\n    import chalicelib.wiring\n")
