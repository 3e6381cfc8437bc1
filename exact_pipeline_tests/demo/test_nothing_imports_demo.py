"""The demo sits on top of the product: no product module imports `exact_pipeline.demo` when it is
loaded. Only the demo itself and the bench may; commands that serve or seed the demo import it
inside the command, when they run."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import exact_pipeline

PACKAGE = Path(exact_pipeline.__file__).parent
DEMO = "exact_pipeline.demo"
# The demo package and the bench (which seeds and times the demo company) stand above it all.
ABOVE_THE_PRODUCT = ("demo/", "bench")  # bench.py and its parts, bench_*.py


def product_modules() -> Iterator[Path]:
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if not relative.startswith(ABOVE_THE_PRODUCT):
            yield path


def imports_on_load(tree: ast.Module, package: str) -> Iterator[tuple[int, str]]:
    """(line, module) of every import executed when the module loads: everything outside
    function bodies (class bodies and `if`/`try` blocks run on load too)."""
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            yield node.lineno, base
            yield from ((node.lineno, f"{base}.{alias.name}") for alias in node.names)
        pending.extend(ast.iter_child_nodes(node))


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join([*parts, *([node.module] if node.module else [])])


def _package_of(path: Path) -> str:
    """The package a relative import starts from (for `__init__.py` too: its folder)."""
    return ".".join(path.relative_to(PACKAGE.parent).parts[:-1])


def test_no_product_module_imports_the_demo_on_load() -> None:
    arrows = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
        for path in product_modules()
        for line, module in imports_on_load(ast.parse(path.read_text()), _package_of(path))
        if module == DEMO or module.startswith(f"{DEMO}.")
    ]
    assert not arrows, "\n".join(arrows)


def test_the_walk_sees_module_level_imports_and_skips_function_bodies() -> None:
    source = (
        "import exact_pipeline.demo.catalog\n"
        "from exact_pipeline import demo\n"
        "from .. import demo as d\n"
        "try:\n    from exact_pipeline.demo.seed import seed_billing\nexcept ImportError:\n"
        "    pass\n"
        "def command():\n    from exact_pipeline.demo.launcher import run_demo\n"
    )
    found = imports_on_load(ast.parse(source), "exact_pipeline.sandbox")
    assert {line for line, module in found if module.startswith(DEMO)} == {1, 2, 3, 5}
