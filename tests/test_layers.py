"""The house's shape: the lower layers never reach up to the front ends or the Run."""
import ast
from pathlib import Path

import windwidgets as ww

PACKAGE = Path(ww.__file__).parent
LOWER = ("data", "zoo", "train", "forecast")
UPPER = {"run", "tasks", "api", "views", "magics", "dashboard"}
FRONT_ENDS = {"ipywidgets", "IPython", "matplotlib"}


def imported(path: Path) -> set:
    """The modules a file imports: top-level names, and windwidgets' own as their first part."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names.add(node.module.split(".")[0])
            else:  # relative: resolve against the file's package
                parts = path.relative_to(PACKAGE).parts[:-1][: len(path.relative_to(PACKAGE).parts) - node.level]
                target = list(parts) + (node.module.split(".") if node.module else [])
                names.add("windwidgets." + (target[0] if target else ""))
                if not node.module:
                    names |= {"windwidgets." + alias.name for alias in node.names if not parts}
    return names


def test_data_zoo_train_and_forecast_import_no_front_end_and_nothing_above_them():
    for layer in LOWER:
        for path in (PACKAGE / layer).rglob("*.py"):
            names = imported(path)
            assert not names & FRONT_ENDS, f"{path.relative_to(PACKAGE)} imports {names & FRONT_ENDS}"
            above = {n for n in names if n.startswith("windwidgets.") and n.split(".", 1)[1] in UPPER}
            assert not above, f"{path.relative_to(PACKAGE)} imports {above}"


def test_each_lower_layer_imports_only_the_layers_before_it():
    """data -> zoo -> train -> forecast: the series a model forecasts on (data/series.py) and
    the checks on new rows (data/inputs.py) know nothing of the model that reads them."""
    for i, layer in enumerate(LOWER):
        later = {"windwidgets." + name for name in LOWER[i + 1 :]}
        for path in (PACKAGE / layer).rglob("*.py"):
            names = imported(path)
            assert not names & later, f"{path.relative_to(PACKAGE)} imports {names & later}"


def import_graph(package: Path = PACKAGE) -> dict:
    """Module -> the package's modules it imports, at the top or inside a function: a lazy
    import still ties two modules together."""
    known = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        known[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for name, path in known.items():
        home = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                edges |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = home.split(".")[: len(home.split(".")) - node.level + 1] if node.level else []
                module = ".".join(base + ([node.module] if node.module else []))
                submodules = {f"{module}.{alias.name}" for alias in node.names} & set(known)
                edges |= submodules if len(submodules) == len(node.names) else {module} | submodules
        graph[name] = {m for m in edges if m in known and m != name}
    return graph


def cycles(graph: dict) -> list:
    """The groups of modules that import one another, in a circle (strongly connected)."""
    order, low, stack, found = {}, {}, [], []

    def visit(module):
        order[module] = low[module] = len(order)
        stack.append(module)
        for other in graph[module]:
            if other not in order:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], order[other])
        if low[module] == order[module]:
            group = []
            while not group or group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for module in graph:
        if module not in order:
            visit(module)
    return found


def test_no_module_imports_a_module_that_imports_it_back(tmp_path):
    assert cycles(import_graph()) == []
    planted = tmp_path / "pkg"  # the test sees a cycle when there is one
    (planted / "inner").mkdir(parents=True)
    (planted / "__init__.py").write_text("from .a import f\n")
    (planted / "a.py").write_text("def f():\n    from .inner.b import g\n")
    (planted / "inner" / "__init__.py").write_text("")
    (planted / "inner" / "b.py").write_text("from ..a import f\ndef g():\n    pass\n")
    assert cycles(import_graph(planted)) == [["pkg.a", "pkg.inner.b"]]


def test_no_file_is_over_400_lines():
    long = {str(path.relative_to(PACKAGE)): n for path in PACKAGE.rglob("*.py")
            if (n := len(path.read_text().splitlines())) > 400}
    assert not long, f"split these files: {long}"
