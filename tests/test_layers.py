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
