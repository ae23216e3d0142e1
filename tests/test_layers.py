"""The structure drawn from the imports: no import circle anywhere in portal/, bench/ or app.py (imports inside
functions included), and every module of portal/ in one layer, importing only from its own layer or those below.

A new module must be given a layer here; a new import that points upwards, or closes a circle, fails.
`python -m tests.test_layers` prints the same findings, for .ci/run to show before the suite.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# From the top down. A module may import from its own layer and from any layer below it.
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("entry", frozenset({"app", "portal.__main__"})),
    ("pages", frozenset({
        "portal.account", "portal.admin", "portal.export", "portal.home", "portal.language", "portal.messages",
        "portal.passkeys", "portal.counting", "portal.impact", "portal.feedback", "portal.profiles",
        "portal.people", "portal.pwa", "portal.recovery_codes", "portal.reminders", "portal.safety",
        "portal.settings_page", "portal.sharing", "portal.sign_in",
    })),
    ("registry", frozenset({"portal.parts"})),
    ("parts", frozenset({"portal.appointments", "portal.checkins", "portal.documents", "portal.goals",
                       "portal.journal", "portal.life_areas", "portal.safety_plan"})),
    ("shared by parts and pages", frozenset({
        "portal.shares", "portal.middleware", "portal.help_lines", "portal.uploads",
    })),
    ("rule", frozenset({"portal.policy"})),
    ("web", frozenset({
        "portal.viewer", "portal.forms", "portal.web", "portal.links", "portal.survivor_part", "portal.push",
        "portal.outbox", "portal.reminder_times", "portal.static_files",
    })),
    ("base", frozenset({
        "portal", "portal.backup", "portal.config", "portal.crypto", "portal.dates", "portal.db", "portal.disguise",
        "portal.i18n", "portal.keys", "portal.limits", "portal.models", "portal.organisation", "portal.passwords",
        "portal.sessions",
        "portal.reads", "portal.fragments", "portal.sqlite_loop", "portal.storage", "portal.timezones", "portal.users",
    })),
)


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(root: Path, packages: Iterable[str] = ("portal", "bench"),
            files: Iterable[str] = ("app.py",)) -> dict[str, set[str]]:
    """Each module's imports of our own modules, wherever in the module they are (functions included)."""
    paths = [path for package in packages for path in sorted((root / package).rglob("*.py"))]
    paths += [root / name for name in files if (root / name).exists()]
    names = {module_name(root, path): path for path in paths}
    graph: dict[str, set[str]] = {}
    for name, path in names.items():
        found: set[str] = set()
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    kept = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*kept, *filter(None, [base])])
                found.add(base)
                found.update(f"{base}.{alias.name}" for alias in node.names)
        graph[name] = {target for target in found if target in names and target != name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles: strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def layer_problems(graph: dict[str, set[str]], layers: tuple[tuple[str, frozenset[str]], ...] = LAYERS) -> list[str]:
    """Modules of portal/ without a layer, and imports that point to a higher layer."""
    rank = {module: depth for depth, (_name, modules) in enumerate(layers) for module in modules}
    title = {module: name for name, modules in layers for module in modules}
    problems = [f"{module}: not in any layer (tests/test_layers.py)" for module in sorted(graph)
                if (module == "app" or module.startswith("portal")) and module not in rank]
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            if target.startswith(("bench", "tests")) and not module.startswith(("bench", "tests")):
                problems.append(f"{module} imports {target}: the portal never imports the benchmark or the tests")
            elif module in rank and target in rank and rank[target] < rank[module]:
                problems.append(f"{module} ({title[module]}) imports {target} ({title[target]}), a layer above it")
    return problems


def test_there_is_no_import_circle():
    found = circles(imports(ROOT))
    assert not found, "import circles: " + "; ".join(" <-> ".join(group) for group in found)


def test_every_module_imports_only_from_its_layer_or_below():
    assert layer_problems(imports(ROOT)) == []


def test_a_layer_names_only_modules_that_exist():
    graph = imports(ROOT)
    assert [module for _name, modules in LAYERS for module in sorted(modules) if module not in graph] == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_checks_find_a_circle_through_a_function_and_an_import_upwards(tmp_path):
    root = _tree(tmp_path, {
        "portal/__init__.py": "",
        "portal/models.py": "def later():\n    from portal import policy\n",
        "portal/policy.py": "from portal.models import later\n",
        "portal/new.py": "from . import models\n",
        "bench/__init__.py": "",
        "bench/__main__.py": "from bench.growth import run\n",
        "bench/growth.py": "def run():\n    from bench.__main__ import main\n",
    })
    graph = imports(root)
    assert graph["portal.new"] == {"portal", "portal.models"}
    assert circles(graph) == [["bench.__main__", "bench.growth"], ["portal.models", "portal.policy"]]
    assert layer_problems(graph) == [
        "portal.new: not in any layer (tests/test_layers.py)",
        "portal.models (base) imports portal.policy (rule), a layer above it",
    ]


if __name__ == "__main__":
    graph = imports(ROOT)
    findings = [" <-> ".join(group) for group in circles(graph)] + layer_problems(graph)
    for finding in findings:
        print(finding)
    print(f"import layers: {len(graph)} modules, {len(findings)} findings")
    sys.exit(1 if findings else 0)
