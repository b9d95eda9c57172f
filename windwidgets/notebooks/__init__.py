"""Run example notebooks outside a browser: execute one in a fresh kernel, keep its pictures,
write an HTML report. ``python -m windwidgets demo`` and the tests of ``examples/`` use this.

The notebooks read one environment variable, ``WINDWIDGETS_QUICK``: set to 1 it shrinks
data and epochs so a notebook runs in seconds (CI); unset, the settings are the real ones.
nbclient and nbconvert are imported only here, and only when a notebook runs.
"""
from __future__ import annotations

import base64
import os
import re
from importlib import resources
from pathlib import Path

QUICK = "WINDWIDGETS_QUICK"  # "1": small data and few epochs, for CI and a first look
DEMO = "quickstart.ipynb"  # the notebook `python -m windwidgets demo` runs, shipped in this folder
PICTURES = {"image/png": ("png", True), "image/svg+xml": ("svg", False)}  # mime: suffix, base64


def demo_notebook() -> Path:
    """The quickstart notebook shipped with the package (examples/quickstart.ipynb)."""
    return Path(str(resources.files(__package__) / DEMO))


def _needs():
    try:
        import nbclient  # noqa: F401
        import nbconvert  # noqa: F401
        import nbformat  # noqa: F401
    except ImportError as error:
        raise SystemExit(f"running a notebook needs {error.name}: pip install 'windwidgets[demo]'") from None


def execute(path, quick: bool = False, cwd=None, timeout: int = 600, kernel: str = "python3",
            prelude: str | None = None):
    """Run the notebook at ``path`` top to bottom in a new kernel; the executed notebook.

    ``quick`` sets ``WINDWIDGETS_QUICK=1`` for the kernel; ``cwd`` is where it runs (default:
    the notebook's folder); ``prelude`` is code run first in the same kernel and not kept in
    the notebook (the tests turn warnings into errors with it). A failing cell raises
    nbclient's ``CellExecutionError`` with the cell and its traceback.
    """
    _needs()
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    if prelude:
        notebook.cells.insert(0, nbformat.v4.new_code_cell(prelude))
    env = {**os.environ, QUICK: "1"} if quick else {k: v for k, v in os.environ.items() if k != QUICK}
    # the kernel's own start-up notes (one warns of plain TCP on this machine's loopback) would
    # read as the notebook's problems; its errors still show
    client = NotebookClient(notebook, kernel_name=kernel, timeout=timeout,
                            extra_arguments=["--IPKernelApp.log_level=ERROR"],
                            resources={"metadata": {"path": str(cwd or Path(path).parent)}})
    try:
        client.execute(env=env)
    except Exception as error:  # the cells that ran keep their outputs: a report can show them
        error.notebook = notebook
        raise
    finally:
        if prelude:
            notebook.cells.pop(0)
    return notebook


def pictures(notebook) -> list[tuple[str, bytes]]:
    """The images the notebook's cells show, as (file name, bytes).

    A cell named in its metadata (``"figure": "forecast"``) gives ``forecast.png``, then
    ``forecast-2.png``; others are named after their cell's number."""
    found, seen = [], {}
    for number, cell in enumerate(notebook.cells, start=1):
        base = re.sub(r"[^\w-]", "_", cell.metadata.get("figure", f"cell{number:02d}"))
        for output in cell.get("outputs", []):
            for mime, (suffix, encoded) in PICTURES.items():
                if mime in output.get("data", {}):
                    data = output["data"][mime]
                    data = "".join(data) if isinstance(data, list) else data
                    seen[base] = seen.get(base, 0) + 1
                    name = base if seen[base] == 1 else f"{base}-{seen[base]}"
                    found.append((f"{name}.{suffix}", base64.b64decode(data) if encoded else data.encode()))
    return found


def last_printed(notebook) -> str:
    """What the last code cell printed: the quickstart's verdict."""
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    outputs = cells[-1].get("outputs", []) if cells else []
    return "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream").strip()


def report(path, out, quick: bool = False) -> dict:
    """Execute a notebook and write, under ``out``: the executed notebook, an HTML report and
    every picture in ``figures/``. Returns the paths written (keys: notebook, html, figures)
    and ``result``, what the last cell printed.

    When a cell fails, what ran is written all the same, then the error is raised again
    with the paths on it (``error.written``)."""
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    try:
        notebook = execute(path, quick=quick, cwd=out)
    except Exception as error:
        if hasattr(error, "notebook"):
            error.written = _write(error.notebook, Path(path).stem, out)
        raise
    return _write(notebook, Path(path).stem, out)


def _write(notebook, stem: str, out: Path) -> dict:
    import nbformat
    from nbconvert import HTMLExporter

    figures = out / "figures"
    figures.mkdir(exist_ok=True)
    for old in figures.iterdir():  # pictures of an earlier run would pass for this one's
        if old.suffix in (".png", ".svg"):
            old.unlink()
    written = {"notebook": out / f"{stem}.ipynb", "html": out / f"{stem}.html", "figures": [],
               "result": last_printed(notebook)}
    nbformat.write(notebook, written["notebook"])
    html, _ = HTMLExporter().from_notebook_node(notebook)
    written["html"].write_text(html, encoding="utf-8")
    for name, data in pictures(notebook):
        (figures / name).write_bytes(data)
        written["figures"].append(figures / name)
    return written
