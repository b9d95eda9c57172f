"""examples/live.ipynb in a real kernel (nbclient): the live panel's stored widget state and
the final SVG image that replaces it in the saved notebook."""
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from xml.etree import ElementTree

nbclient = pytest.importorskip("nbclient")

SVG = "{http://www.w3.org/2000/svg}"
NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "live.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live")
    shutil.copy(NOTEBOOK, folder)
    nb = nbformat.read(folder / NOTEBOOK.name, as_version=4)
    # a click on the dashboard's Train button, as the front end would send it
    nb.cells.append(nbformat.v4.new_code_cell(
        "board.train_button.click()\nboard.wait()\nprint(len(board.runs), board.runs[0].stop_reason, "
        "len(board.runs[0].history))"))
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
    outcome = output.data["text/plain"]
    assert re.match(r"windwidgets: finished 4 epochs; kept the weights of epoch \d "
                    r"\(val forecast [\d.]+, val loss [\d.]+\) in [\d.]+s on cpu", outcome)
    image = ElementTree.fromstring(output.data["image/svg+xml"])
    assert image.get("width") == "810"  # the loss and gradient charts beside the forecast
    texts = [t.text for t in image.iter(f"{SVG}text")]
    assert texts[:2] == ["lstm, hidden 16 x 1 layers", outcome.removeprefix("windwidgets: ")]
    assert {"train", "validation", "truth", "forecast", "gradient norm"} <= set(texts)
    lines = {p.get("stroke"): len(p.get("points").split()) for p in image.iter(f"{SVG}polyline")}
    assert lines["#ff7f0e"] > 40  # the forecast preview, drawn last in its colour


def test_the_stored_widget_state_is_the_finished_panel(executed):
    bar, board_bar = models(executed, "IntProgressModel")  # ww.train's, then the dashboard's
    assert bar["value"] == bar["max"] > 4 and bar["bar_style"] == "success"
    button, train_button, stop_button, board_button = models(executed, "ButtonModel")
    assert button["description"] == "done" and button["disabled"] is True
    assert train_button["description"] == "Train" and board_button["description"] == "done"
    assert train_button["disabled"] is False and stop_button["disabled"] is True  # the fit has ended
    assert board_bar["value"] == board_bar["max"] > 3
    texts = [m["value"] for m in models(executed, "HTMLModel")]
    assert any(t.startswith("finished 4 epochs; kept the weights") for t in texts)
    assert any(t.startswith("epoch 4/4 &middot; batch") for t in texts)
    loss_chart = [t for t in texts if "loss by epoch" in t][0]  # ww.train's panel
    epochs_drawn = [len(p.split()) for p in re.findall(r"points='([^']*)'", loss_chart)]
    assert epochs_drawn.count(4) == 2  # train and validation, one point per epoch
    forecast_chart = [t for t in texts if "free-running forecast" in t][0]
    assert "truth" in forecast_chart and "forecast" in forecast_chart


def test_later_cells_see_the_finished_run(executed):
    waited = next(c for c in executed.cells if c.source.strip() == "run.wait()")
    (result,) = waited.outputs
    assert "epochs</th><td style='text-align:left'>4, best" in result.data["text/html"]
    history = next(c for c in executed.cells if c.source.strip() == "run.history")
    assert history.outputs[0].data["text/plain"].count("\n") == 4  # header + 4 epochs


def test_the_dashboard_trains_in_the_kernel(executed):
    clicked = executed.cells[-1]
    assert clicked.outputs[0]["text"] == "1 None 3\n"  # one Run, not stopped, 3 epochs
    board = [m for m in models(executed, "HTMLModel") if "dashboard.runs" in m["value"]]
    assert len(board) == 1
    assert re.search(r"<td>0</td>\s*<td>lstm</td>\s*<td>hidden_size=16 num_layers=1</td>(\s*<td>[\d.]+</td>){4}"
                     r"\s*<td>3</td>", board[0]["value"])
