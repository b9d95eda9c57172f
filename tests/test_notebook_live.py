"""examples/live.ipynb in a real kernel (nbclient): the live panel's stored widget state and
the final image that replaces it in the saved notebook."""
import base64
import io
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest
from matplotlib.image import imread

nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "live.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live")
    shutil.copy(NOTEBOOK, folder)
    nb = nbformat.read(folder / NOTEBOOK.name, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=True,
                                     resources={"metadata": {"path": str(folder)}})
    client.execute()
    return nb


def models(nb, name):
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    return [m["state"] for m in state.values() if m["model_name"] == name]


def test_the_training_cell_keeps_the_final_image_not_a_widget(executed):
    training = next(c for c in executed.cells if "ww.train(" in c.source)
    (output,) = training.outputs  # one output, updated in place: no bars spamming the notebook
    assert output.output_type == "display_data"
    assert "application/vnd.jupyter.widget-view+json" not in output.data
    assert re.match(r"windwidgets: finished 4 epochs; kept the weights of epoch \d "
                    r"\(val loss [\d.]+\) in [\d.]+s on cpu", output.data["text/plain"])
    image = imread(io.BytesIO(base64.b64decode(output.data["image/png"])), format="png")
    assert image.shape[:2] == (378, 900)  # 10 x 4.2 inches at 90 dpi: loss, gradients, forecast
    rgb = (image[..., :3] * 255).round().astype(int).reshape(-1, 3)
    for colour in ([31, 119, 180], [255, 127, 14], [44, 160, 44]):  # train, validation/forecast, truth
        assert (np.abs(rgb - colour).max(axis=1) < 12).sum() > 100, colour


def test_the_stored_widget_state_is_the_finished_panel(executed):
    (bar,) = models(executed, "IntProgressModel")
    assert bar["value"] == bar["max"] > 4 and bar["bar_style"] == "success"
    (button,) = models(executed, "ButtonModel")
    assert button["description"] == "done" and button["disabled"] is True
    texts = [m["value"] for m in models(executed, "HTMLModel")]
    assert any(t.startswith("finished 4 epochs; kept the weights") for t in texts)
    assert any(t.startswith("epoch 4/4 &middot; batch") for t in texts)
    (loss_chart,) = [t for t in texts if "loss by epoch" in t]
    epochs_drawn = [len(p.split()) for p in re.findall(r"points='([^']*)'", loss_chart)]
    assert epochs_drawn.count(4) == 2  # train and validation, one point per epoch
    (forecast_chart,) = [t for t in texts if "free-running forecast" in t]
    assert "truth" in forecast_chart and "forecast" in forecast_chart
    (image,) = models(executed, "ImageModel")
    assert image["format"] == "png"


def test_later_cells_see_the_finished_run(executed):
    waited = next(c for c in executed.cells if c.source.strip() == "run.wait()")
    (result,) = waited.outputs
    assert "epochs</th><td style='text-align:left'>4, best" in result.data["text/html"]
    history = next(c for c in executed.cells if c.source.strip() == "run.history")
    assert history.outputs[0].data["text/plain"].count("\n") == 4  # header + 4 epochs
