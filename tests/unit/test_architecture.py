"""The module structure: no import cycles in the provider, and no code shared with the sandbox."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "airflow_provider_vimmerse"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_level_imports(path: Path) -> set[str]:
    """Imports a module makes when it is loaded or type-checked (function bodies excluded)."""
    names: set[str] = set()
    pending = list(ast.parse(path.read_text()).body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, (ast.If, ast.Try)):
            pending.extend(node.body + node.orelse + getattr(node, "handlers", []) + getattr(node, "finalbody", []))
        elif isinstance(node, ast.ExceptHandler):
            pending.extend(node.body)
    return names


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {
        name: {dep for dep in _module_level_imports(path) if dep in modules and dep != name}
        for name, path in modules.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "active"
        for dep in sorted(graph[node]):
            if state.get(dep) == "active":
                found.append([*trail[trail.index(dep) :], dep])
            elif dep not in state:
                visit(dep, [*trail, dep])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_import_cycles_in_the_provider():
    assert _cycles(_graph()) == []


def test_provider_and_sandbox_share_no_code():
    provider = {dep for path in PACKAGE.rglob("*.py") for dep in _module_level_imports(path)}
    assert not any(dep.startswith("vimmerse_sandbox") for dep in provider)
    sandbox_imports = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for path in (ROOT / "sandbox").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in (node.names if isinstance(node, ast.Import) else [None])
    }
    offending = {
        name for name in sandbox_imports if name and name.split(".")[0] in ("airflow", "airflow_provider_vimmerse")
    }
    assert offending == set()


def _public_modules() -> list[Path]:
    return [
        path
        for path in PACKAGE.rglob("*.py")
        if not any(part.startswith("_") and part != "__init__.py" for part in path.relative_to(PACKAGE).parts)
        and path.read_text().strip()
    ]


def test_every_public_module_declares_its_public_names_and_they_are_few():
    import importlib

    total = 0
    for path in _public_modules():
        name = _module_name(path)
        if name == "airflow_provider_vimmerse":
            continue
        module = importlib.import_module(name)
        assert hasattr(module, "__all__"), f"{name} has no __all__"
        assert all(hasattr(module, entry) for entry in module.__all__), name
        total += len(module.__all__)
    assert 0 < total <= 60


def test_no_module_is_over_450_lines():
    long = {
        str(path.relative_to(ROOT)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text().splitlines())) > 450
    }
    assert long == {}


def _private(name: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in name.split("."))


def _foreign_underscore_uses(path: Path) -> set[str]:
    """Another package's underscore (private) modules and names that this module imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and not node.module.startswith("airflow_provider_vimmerse"):
            found.update(f"{node.module}.{a.name}" for a in node.names if _private(a.name))
            if _private(node.module):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if _private(a.name))
    return found


def test_nothing_imports_another_packages_underscore_names():
    offending = {str(path.relative_to(ROOT)): _foreign_underscore_uses(path) for path in PACKAGE.rglob("*.py")}
    assert {path: names for path, names in offending.items() if names} == {}


def test_the_underscore_finder_sees_one():
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        module = Path(folder) / "m.py"
        module.write_text("from fsspec._registry import x\nfrom a.b import _c\n")
        assert _foreign_underscore_uses(module) == {"fsspec._registry", "a.b._c"}
