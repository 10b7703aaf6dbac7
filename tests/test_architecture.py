"""The layout rules of docs/architecture.md, checked from the source with the stdlib `ast` module.

Every import counts, including the ones inside functions (they are lazy for cold start, but they are
still dependencies a reader must follow). Packages are the folders directly under `chalicelib/`; a
top-level module (`config.py`, `bootstrap.py`) counts as a package of its own.
"""
from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "chalicelib"
MAX_LINES = 400

# Layers, lowest first; a package may import its own layer and those below it, never above.
FOUNDATION = {"core": 0, "config": 0, "secrets": 1, "telemetry": 1, "db": 2, "schemas": 1, "http": 3}
COMPOSITION = {"bootstrap", "ops_routes"}
PRIVATE_TRANSACTION_FIELDS = ("_TransactWrite", "_condition_check_items", "_delete_items", "_put_items",
                              "_update_items")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@lru_cache(maxsize=1)
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(LIB.rglob("*.py"))}


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "chalicelib"


def _imported_names(module: str) -> list[tuple[str, str]]:
    """(module imported, name taken from it or '') for every import in `module`."""
    path = _modules()[module]
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - (0 if is_package else 1)]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.append((submodule, "") if submodule in _modules() else (base, alias.name))
    return [(m, n) for m, n in found if m.split(".")[0] == "chalicelib"]


def _resolve(target: str) -> str | None:
    while target not in _modules() and "." in target:
        target = target.rsplit(".", 1)[0]
    return target if target in _modules() else None


@lru_cache(maxsize=1)
def _module_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in _modules()}
    for module in _modules():
        for target, _name in _imported_names(module):
            resolved = _resolve(target)
            if resolved and resolved != module:
                graph[module].add(resolved)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_is_over_400_lines():
    long = {m: n for m, p in _modules().items() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}, f"split these by use case: {long}"


def test_every_module_says_why_it_exists():
    missing = [m for m, p in _modules().items()
               if p.read_text().strip() and ast.get_docstring(ast.parse(p.read_text())) is None]
    assert missing == []


def test_no_import_cycle_between_modules():
    assert _cycles(_module_graph()) == []


def test_no_import_cycle_between_packages():
    packages: dict[str, set[str]] = {}
    for module, targets in _module_graph().items():
        packages.setdefault(_package(module), set()).update(
            _package(t) for t in targets if _package(t) != _package(module))
    assert _cycles(packages) == []


def test_layers_point_one_way():
    """core <- db <- aggregates <- routes and http; http, schemas and db import no aggregate."""
    wrong = []
    for module, targets in _module_graph().items():
        source = _package(module)
        if source not in FOUNDATION:
            continue
        for target in targets:
            package = _package(target)
            if package in COMPOSITION or package not in FOUNDATION or FOUNDATION[package] > FOUNDATION[source]:
                if not (source == "http" and package == "http"):
                    wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_services_do_not_import_the_http_edge():
    wrong = [f"{m} -> {t}" for m, targets in _module_graph().items() for t in targets
             if _package(t) == "http" and _package(m) not in FOUNDATION and not m.endswith(".routes")
             and m not in ("chalicelib.ops_routes",)]
    assert wrong == []


def test_nothing_in_chalicelib_imports_the_composition_module():
    importers = [m for m, targets in _module_graph().items() if "chalicelib.bootstrap" in targets]
    assert importers == [], "ports and services must not choose adapters: only app.py, scripts and tests do"


def test_private_transaction_fields_are_read_only_in_db_transact():
    offenders = [m for m, p in _modules().items() if m != "chalicelib.db.transact"
                 and any(field in p.read_text() for field in PRIVATE_TRANSACTION_FIELDS)]
    assert offenders == []


def test_no_aggregate_uses_another_aggregates_item_classes():
    """Row classes (`...Item`) stay inside the aggregate that owns them; others get models or functions."""
    offenders = []
    for module in _modules():
        owner = _package(module)
        if owner in FOUNDATION or owner in COMPOSITION:
            continue
        for target, name in _imported_names(module):
            resolved = _resolve(target)
            if resolved and _package(resolved) not in (owner, "db") and name.endswith("Item"):
                offenders.append(f"{module} uses {resolved}.{name}")
    assert offenders == []


def test_test_helpers_are_not_named_like_test_modules():
    """A `test_*.py` file holds tests; builders and fakes live in factories.py / fakes.py."""
    helpers = []
    for path in (ROOT / "tests").rglob("test_*.py"):
        tree = ast.parse(path.read_text())
        names = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        if not any(name.startswith(("test_", "Test")) for name in names):
            helpers.append(str(path.relative_to(ROOT)))
    assert helpers == []
