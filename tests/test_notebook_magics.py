"""examples/magics.ipynb executed by a real Jupyter kernel (nbclient + ipykernel).

After the notebook's own cells, three more run in the same kernel: a typo (one clean
UsageError line), a long fit stopped by the kernel's interrupt, and a check of what landed
in the namespace.
"""
import asyncio
import base64
import json
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_core.utils import ensure_async
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
KERNEL = "windwidgets-test"


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory):
    """A kernelspec for the interpreter running the tests, found first on JUPYTER_PATH."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "windwidgets (test)", "language": "python",
        "env": {"OMP_NUM_THREADS": "1"},  # tiny models: one thread beats two on a busy machine
    }))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(root))
        yield KERNEL


def text_of(cell) -> str:
    parts = []
    for output in cell.outputs:
        parts.append(output.get("text", ""))
        parts.extend(str(v) for k, v in output.get("data", {}).items() if k.startswith("text/"))
        parts.extend(output.get("traceback", []))
    return "".join(parts)


async def execute(client: NotebookClient, interrupt: int) -> None:
    """Run every cell; interrupt cell ``interrupt`` once its first epoch has printed."""
    async with client.async_setup_kernel():
        for index, cell in enumerate(client.nb.cells):
            if cell.cell_type != "code":
                continue
            if index != interrupt:
                await client.async_execute_cell(cell, index)
                continue
            task = asyncio.ensure_future(client.async_execute_cell(cell, index))
            while "epoch   1/" not in text_of(cell) and not task.done():
                await asyncio.sleep(0.05)
            await ensure_async(client.km.interrupt_kernel())
            await task


def test_the_magics_notebook_runs_in_a_kernel(kernel_name):
    notebook = nbformat.read(EXAMPLES / "magics.ipynb", as_version=4)
    own = len(notebook.cells)
    notebook.cells += [
        new_code_cell("%windtrain --data wind --hiden-size 8", metadata={"tags": ["raises-exception"]}),
        new_code_cell("%windtrain --data wind --target speed --model gru --window 24 --hidden-size 8 "
                      "--num-layers 1 --epochs 400 --out stopped"),
        new_code_cell("print(stopped.stop_reason, len(stopped.history), stopped.config.train.epochs)\n"
                      "print(type(run).__name__, type(forecast).__name__, forecast.shape)"),
    ]
    client = NotebookClient(notebook, kernel_name=kernel_name, timeout=120,
                            resources={"metadata": {"path": str(EXAMPLES)}})
    asyncio.run(execute(client, interrupt=own + 1))
    cells = notebook.cells
    by_source = {cell.source.split("\n")[0]: cell for cell in cells if cell.cell_type == "code"}

    train = text_of(by_source["%%windtrain --data wind --target speed --model gru --window 24 --epochs 2"])
    assert "epoch   1/2" in train and "epoch   2/2" in train and "finished 2 epochs" in train

    forecast = by_source["%windforecast run --steps 48 --plot"]
    kinds = [set(output.get("data", {})) for output in forecast.outputs]
    assert any("text/html" in k for k in kinds), kinds  # the DataFrame
    png = [o["data"]["image/png"] for o in forecast.outputs if "image/png" in o.get("data", {})]
    assert len(png) == 1 and base64.b64decode(png[0]).startswith(b"\x89PNG")

    zoo = next(o for o in by_source["%windzoo"].outputs if "text/html" in o.get("data", {}))
    assert all(f"<td>{name}</td>" in zoo["data"]["text/html"] for name in ("rnn", "lstm", "gru"))
    assert "bidirectional=false, bias=true" in zoo["data"]["text/html"]

    typo = cells[own]
    assert text_of(typo).strip() == ("UsageError: %windtrain: unknown option --hiden-size "
                                     "(did you mean --hidden-size?); %windtrain? lists them all")

    stopped = text_of(cells[own + 1])
    assert "training interrupted at epoch" in stopped and "`stopped` holds the Run with" in stopped
    reason, epochs, asked = text_of(cells[own + 2]).split("\n")[0].split()
    assert reason == "interrupted" and 1 <= int(epochs) < int(asked) == 400
    assert text_of(cells[own + 2]).split("\n")[1] == "Run DataFrame (48, 1)"
