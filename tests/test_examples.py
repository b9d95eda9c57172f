"""Every example notebook runs top to bottom in a real kernel (nbclient), in quick mode
(WINDWIDGETS_QUICK=1), with warnings turned into errors; each ends in a cell that checks a
number of its own and raises AssertionError when it does not hold, which fails the run here.
``python -m windwidgets demo`` runs the quickstart and writes its report.
"""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import windwidgets as ww

pytest.importorskip("nbclient")
pytest.importorskip("nbconvert")
import nbformat  # noqa: E402

from windwidgets.notebooks import QUICK, execute  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TESTED_ELSEWHERE = {
    "magics.ipynb": "tests/test_notebook_magics.py",
    "live.ipynb": "tests/test_notebook_live.py",
    "quickstart.ipynb": "test_the_demo_runs_the_quickstart_and_writes_its_report, below",
}
STORIES = sorted(p.name for p in EXAMPLES.glob("*.ipynb") if p.name not in TESTED_ELSEWHERE)
# Warnings raise, in the notebooks' code and in the library; deprecations that other
# packages (the kernel itself among them) announce, which a notebook cannot act on, stay warnings.
# The library's notice that MAPE is left out where the truth reaches zero (calm hours of real
# wind) is what a notebook should show, not a failure.
MAPE_SKIPPED = r"MAPE (of .* )?is skipped"
STRICT = f"""\
import warnings
warnings.simplefilter("error")
for category in (DeprecationWarning, PendingDeprecationWarning):
    warnings.filterwarnings("default", category=category, module="(?!windwidgets)")
warnings.filterwarnings("default", message={MAPE_SKIPPED!r})
"""


def skip_reason(name: str) -> str | None:
    if name == "real_wind.ipynb":
        if not hasattr(ww.datasets, "tmy_wind"):
            return ("real_wind.ipynb needs ww.datasets.tmy_wind(), which this version does not have "
                    "yet (the real-data work adds it); it runs here once it lands")
        try:
            import pvlib  # noqa: F401
        except ImportError:
            return "real_wind.ipynb reads pvlib's Sand Point file and pvlib is not installed ('windwidgets[wind]')"
    if name == "soft_sensor.ipynb":
        if importlib.util.find_spec("bibmon") is None:
            return ("soft_sensor.ipynb reads the real plant file that bibmon ships, and bibmon is not installed "
                    "('windwidgets[plant]')")
        if importlib.util.find_spec("sklearn") is None:
            return "soft_sensor.ipynb fits its anchors (ridge, a gradient-boosted tree) with scikit-learn, which is not installed"
    return None


def outputs(cell, kind=None):
    return [o for o in cell.get("outputs", []) if kind is None or o.get("output_type") == kind]


def check_executed(notebook) -> None:
    """Ran to the end, nothing on stderr, a picture shown, and the final check printed its number."""
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "a cell did not run"
    errors = [o["text"] for c in code for o in outputs(c, "stream")
              if o["name"] == "stderr" and not re.search(MAPE_SKIPPED, o["text"])]
    assert not errors, errors
    assert any("image/png" in o.get("data", {}) for c in code for o in outputs(c)), "no picture"
    final = code[-1]
    assert "raise AssertionError" in final.source  # the notebook's own check, loud on failure
    assert outputs(final, "stream") and any(ch.isdigit() for ch in final.outputs[0]["text"])


def test_every_notebook_is_run_by_a_test():
    assert {p.name for p in EXAMPLES.glob("*.ipynb")} == set(STORIES) | set(TESTED_ELSEWHERE)
    assert len(STORIES) >= 6


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.ipynb")))
def test_notebooks_are_committed_without_outputs(name):
    notebook = nbformat.read(EXAMPLES / name, as_version=4)
    assert not any(c.get("outputs") or c.get("execution_count") for c in notebook.cells if c.cell_type == "code")
    assert "widgets" not in notebook.metadata


@pytest.mark.parametrize("name", [n for n in STORIES])
def test_the_notebook_runs_and_its_check_holds(name, tmp_path):
    if skip_reason(name):
        pytest.skip(skip_reason(name))
    first = next(c for c in nbformat.read(EXAMPLES / name, as_version=4).cells if c.cell_type == "code")
    assert QUICK in first.source  # the small settings are chosen in the first code cell
    notebook = execute(EXAMPLES / name, quick=True, cwd=tmp_path, prelude=STRICT)
    check_executed(notebook)


def test_the_demo_runs_the_quickstart_and_writes_its_report(tmp_path):
    out = tmp_path / "report"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "windwidgets", "demo", "--quick", "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    pictures = sorted(p.name for p in (out / "figures").iterdir())
    assert {"live_panel.svg", "forecast.png", "error_by_lead.png"} <= set(pictures), pictures
    for name in pictures:
        assert f"picture:  {out / 'figures' / name}" in done.stdout
        if name.endswith(".png"):
            assert (out / "figures" / name).read_bytes().startswith(b"\x89PNG")
    assert f"report:   {out / 'quickstart.html'}" in done.stdout
    html = (out / "quickstart.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "Quickstart: an LSTM forecasts the wind" in html
    assert html.count("data:image/png;base64,") >= 2
    notebook = nbformat.read(out / "quickstart.ipynb", as_version=4)
    check_executed(notebook)
    assert "MAE over 24 h: model" in notebook.cells[-1].outputs[0]["text"]


def test_the_demo_explains_itself():
    done = subprocess.run([sys.executable, "-m", "windwidgets", "demo", "--help"], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert done.returncode == 0 and "--out DIR" in done.stdout and "--quick" in done.stdout
    assert "quickstart notebook" in done.stdout


def test_the_package_ships_the_quickstart_it_runs():
    from windwidgets.notebooks import demo_notebook

    assert demo_notebook().read_bytes() == (EXAMPLES / "quickstart.ipynb").read_bytes()


def test_a_notebook_whose_check_fails_still_leaves_its_report(tmp_path):
    from windwidgets.notebooks import report

    failing = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import os\nprint(os.environ.get('WINDWIDGETS_QUICK'))"),
        nbformat.v4.new_code_cell("raise AssertionError('the model does not beat persistence')"),
    ])
    nbformat.write(failing, tmp_path / "failing.ipynb")
    with pytest.raises(Exception, match="does not beat persistence") as caught:
        report(tmp_path / "failing.ipynb", tmp_path / "out", quick=True)
    assert caught.value.written["html"] == tmp_path / "out" / "failing.html"
    ran = nbformat.read(tmp_path / "out" / "failing.ipynb", as_version=4)
    assert ran.cells[0].outputs[0]["text"] == "1\n"  # quick mode reached the kernel
    assert "AssertionError" in "".join(ran.cells[1].outputs[0]["traceback"])
