"""The package's layers import downwards only: no import circles between subpackages (#18)."""

import ast
from collections import defaultdict
from pathlib import Path

import muse_explore

PACKAGE = Path(muse_explore.__file__).parent


def import_graph() -> dict[str, set[str]]:
    """Subpackage (or top-level module) -> the ones it imports from, lazy imports included."""
    graph = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).parts
        src = "__init__" if rel == ("__init__.py",) else rel[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("muse_explore"):
                parts = node.module.split(".")
                dst = parts[1] if len(parts) > 1 else "__init__"
                if dst != src:
                    graph[src].add(dst)
    return graph


def test_no_import_circles_between_subpackages():
    graph = import_graph()
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycle = stack[stack.index(nxt) :] + [nxt]
                raise AssertionError("import circle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_the_named_upward_arrows_are_gone():
    graph = import_graph()
    for src, dst in [
        ("data", "pooling"),
        ("pooling", "backbones"),
        ("reference", "analysis"),
        ("models", "__init__"),
        ("cli", "testing"),
    ]:
        assert dst not in graph[src], f"{src} imports {dst}"
