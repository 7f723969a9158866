"""Dependencies point one way: no import cycle between `app/` packages and modules, the HTTP
edge (`app/edge/`) knows no domain, and the kit (`app/kit/`) knows neither. Imports are read with
`ast`, inside functions too, so a cycle cannot hide behind a function-level import."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"


def _unit_of(module: str) -> str | None:
    """`app.projects.service` belongs to `app.projects`; `app.main` is its own unit."""
    parts = module.split(".")
    if parts[0] != "app" or len(parts) < 2:
        return None
    return ".".join(parts[:2])


def _module_name(path: Path) -> str:
    relative = path.relative_to(APP.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            # `from app import projects` imports the package `app.projects`.
            found.update(f"{target}.{alias.name}" for alias in node.names if target == "app")
    return found


def dependency_graph() -> dict[str, set[str]]:
    """Unit -> the units it imports (a unit is a package under `app/` or a top-level module)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(APP.rglob("*.py")):
        unit = _unit_of(_module_name(path))
        if unit is None:
            continue
        edges = graph.setdefault(unit, set())
        for imported in _imports(path):
            target = _unit_of(imported)
            if target is not None and target != unit:
                edges.add(target)
    # `from app import __version__` names a value, not a unit.
    return {unit: {target for target in edges if target in graph} for unit, edges in graph.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path that ends where it starts, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(unit: str) -> list[str] | None:
        state[unit] = 1
        path.append(unit)
        for target in sorted(graph.get(unit, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[unit] = 2
        return None

    for unit in sorted(graph):
        if unit not in state and (cycle := visit(unit)):
            return cycle
    return None


# Not domains: the shared building blocks and the HTTP plumbing.
SHARED = {"app.kit", "app.edge"}


def domain_packages() -> set[str]:
    return {f"app.{path.parent.name}" for path in APP.glob("*/__init__.py")} - SHARED


def test_the_graph_sees_every_domain_and_its_imports() -> None:
    graph = dependency_graph()
    assert {"app.projects", "app.flows", "app.global_connections", "app.platforms", "app.admin"} <= domain_packages()
    # The composition roots wire every domain (the server's, and the command line's for the drift
    # report, which is a client of servers), so the reader must see those edges.
    assert domain_packages() - {"app.admin"} <= graph["app.main"] | graph["app.cli"] | {"app.platforms"}
    assert "app.kit" in graph["app.projects"]


def test_find_cycle_reports_a_cycle_and_accepts_a_layering() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle_between_app_units() -> None:
    cycle = find_cycle(dependency_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_http_edge_imports_no_domain() -> None:
    assert dependency_graph()["app.edge"] & domain_packages() == set()


def test_the_kit_imports_no_domain_and_no_http_plumbing() -> None:
    assert dependency_graph()["app.kit"] & (domain_packages() | {"app.edge"}) == set()
