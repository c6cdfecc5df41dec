"""The import graph the layout promises (ARCHITECTURE.md): no cycles, and models never import the product."""

import ast
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("image_captioning", "custom_architectures")


def module_name(path):
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules():
    return {module_name(path): path for package in PACKAGES for path in (PROJECT_ROOT / package).rglob("*.py")}


def imported_modules(path, known):
    """Project modules imported anywhere in the file (function-level imports count too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in known)
    return found


def import_graph():
    modules = project_modules()
    graph = {name: imported_modules(path, modules) for name, path in modules.items()}
    # A package's __init__ re-exports its modules: importing `a.b` from outside means importing `a` too.
    for name in list(graph):
        graph[name] = {target for target in graph[name] if target != name}
    return graph


def cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def is_package_init(name, graph):
    return any(other.startswith(name + ".") for other in graph)


def test_no_module_imports_one_that_imports_it_back():
    graph = import_graph()
    # A package __init__ that re-exports its own submodules is not a cycle of jobs; leave it out.
    without_inits = {
        name: {t for t in targets if not (is_package_init(t, graph) and name.startswith(t + "."))}
        for name, targets in graph.items()
    }
    assert cycles(without_inits) == []


def test_models_never_import_the_product():
    graph = import_graph()
    leaks = {name: sorted(t for t in targets if t.startswith("image_captioning"))
             for name, targets in graph.items() if name.startswith("custom_architectures")}
    assert {name: targets for name, targets in leaks.items() if targets} == {}


def test_cycle_finder_sees_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
