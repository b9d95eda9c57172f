"""The live panel in a real JupyterLab, driven by a real headless Chromium (Playwright).

The test starts ``jupyter lab`` on 127.0.0.1 with a free port in a temporary folder holding
a notebook, opens it, waits for the kernel through ``window.jupyterapp``, runs a training
cell (``%%windtrain``), watches the panel render and its loss chart change while the fit runs, presses Stop,
and checks in the next cell that the Run ended with ``stop_reason == "stopped"``. Then it opens
the dashboard, trains twice from it, stopping each fit with its Stop button, and finds both
Runs in the compare table. The server,
its kernel and the browser are ended whatever happens. Screenshots go to ``artifacts/``.

While the fit runs, the forecast preview's title must name at least four successive epochs
(a new preview at each new best epoch, else every few seconds), and Stop must still answer.

Needs Debian's ``chromium`` (``scripts/test.sh`` installs it); Playwright's own browser
download is not used. Without it the test is skipped, except under ``CI=true``, where it fails.
"""
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.browser
IN_CI = os.environ.get("CI") == "true"  # there the browser test must run: a missing browser fails it
CHROMIUM = shutil.which("chromium")
MISSING = None if CHROMIUM else "chromium is not installed; run 'apt-get install chromium' (scripts/test.sh does)"
try:
    from playwright import sync_api
except ImportError:
    sync_api = None
    MISSING = MISSING or "playwright is not installed; pip install 'windwidgets[test]'"
if MISSING and not IN_CI:
    pytest.skip(MISSING, allow_module_level=True)

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
CELLS = [
    "%load_ext windwidgets\nimport os\nimport windwidgets as ww\n\n"
    "wind = ww.datasets.wind(days=60)\nos.getpid()",
    "%%windtrain --data wind --target speed --model lstm --window 24 --hidden-size 32 --num-layers 1\n"
    "epochs = 400\nbatch_size = 16",
    "run.wait()\nprint('ended:', run.stop_reason, len(run.history))",
    "board = ww.Dashboard(wind, name='wind', target='speed', window=24, hidden_size=16, num_layers=1,\n"
    "                     epochs=400, batch_size=16)\nboard",
    "board.wait()\nprint('board:', *[r.stop_reason for r in board.runs])",
]
KERNEL_READY = """() => {
    const app = window.jupyterapp;
    const panel = app && app.shell.currentWidget;
    const kernel = panel && panel.sessionContext && panel.sessionContext.session
        && panel.sessionContext.session.kernel;
    return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle'
        && panel.content.widgets.length === %d;
}""" % len(CELLS)
RUN_CELL = """(index) => {
    const app = window.jupyterapp;
    app.shell.currentWidget.content.activeCellIndex = index;
    return app.commands.execute('notebook:run-cell');
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server of its own, in a folder with the notebook; ended afterwards."""
    if MISSING:  # only under CI=true: elsewhere the module was skipped
        pytest.fail(f"CI=true and the browser test cannot run: {MISSING}", pytrace=False)
    root = tmp_path_factory.mktemp("lab")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "live.ipynb")
    settings = root / ".settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(root / ".settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(root / ".workspaces"),
           "JUPYTER_RUNTIME_DIR": str(root / ".runtime")}
    log = open(root / "server.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
         f"--port={port}", f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}",
         "--LabApp.expose_app_in_browser=True", "--ServerApp.port_retries=0"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    lab = {"url": url, "token": token, "root": root, "kernel_pids": []}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("jupyter lab did not start:\n" + (root / "server.log").read_text())
                time.sleep(0.3)
        yield lab
    finally:
        server.send_signal(signal.SIGTERM)  # the server shuts its kernels down on the way out
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        for pid in lab["kernel_pids"]:  # in case the shutdown left the kernel behind
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()


@pytest.fixture(scope="module")
def page(lab):
    playwright = sync_api.sync_playwright().start()
    browser = None
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        yield page
    finally:
        if browser is not None:
            browser.close()
        playwright.stop()


def output_of(page, index: int):
    return page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-Cell-outputArea")


def test_live_panel_in_jupyterlab(lab, page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{lab['url']}/lab/tree/live.ipynb?token={lab['token']}")
    page.wait_for_function(KERNEL_READY, timeout=90_000)

    page.evaluate(RUN_CELL, 0)
    pid = output_of(page, 0).locator(".jp-OutputArea-output")
    pid.wait_for(timeout=60_000)
    lab["kernel_pids"].append(int(pid.inner_text().strip()))

    page.evaluate(RUN_CELL, 1)
    panel = output_of(page, 1).locator(".windwidgets-live")
    panel.wait_for(state="visible", timeout=60_000)
    assert "Loading widget" not in output_of(page, 1).inner_text()
    stop = panel.locator(".windwidgets-stop-button")
    assert stop.is_enabled() and "Stop" in stop.inner_text()
    page.wait_for_function("""() => {
        const app = window.jupyterapp;
        const k = app.shell.currentWidget.sessionContext.session.kernel;
        return k.status === 'idle';
    }""", timeout=30_000)  # the cell has returned while the fit goes on

    chart = panel.locator(".windwidgets-loss-chart svg")
    chart.locator("polyline").first.wait_for(timeout=60_000)
    first = chart.inner_html()
    page.wait_for_function(
        """(first) => {
            const svg = document.querySelector('.windwidgets-live .windwidgets-loss-chart svg');
            return svg && svg.innerHTML !== first && svg.querySelectorAll('polyline').length >= 2;
        }""", arg=first, timeout=60_000)  # redrawn in place while training: epochs drawn too
    assert panel.count() == 1  # the same panel, not a new output
    panel.locator(".windwidgets-forecast-chart polyline").nth(2).wait_for(timeout=60_000)
    epochs = preview_epochs(page, 4, timeout=75)
    assert len(epochs) >= 4 and epochs == sorted(epochs), epochs  # advanced three times at least
    panel.screenshot(path=str(ARTIFACTS / "live_panel.png"))

    stop.click()
    final = output_of(page, 1).locator("img[src^='data:image/svg+xml']")  # how Lab shows SVG
    final.wait_for(timeout=60_000)
    assert output_of(page, 1).locator(".windwidgets-live").count() == 0  # replaced by the image
    image = urllib.parse.unquote(final.get_attribute("src"))
    assert re.search(r"stopped at epoch \d+ on request; kept the weights of epoch \d+", image)
    output_of(page, 1).screenshot(path=str(ARTIFACTS / "live_final.png"))
    page.screenshot(path=str(ARTIFACTS / "live_notebook.png"))

    page.evaluate(RUN_CELL, 2)
    ended = output_of(page, 2).locator(".jp-OutputArea-output", has_text="ended:")
    ended.wait_for(timeout=60_000)
    reason, epochs = ended.inner_text().split()[1:3]
    assert reason == "stopped" and 1 <= int(epochs) < 400

    dashboard_trains_stops_and_compares(page)


PREVIEW_TITLE = """() => {
    const title = document.querySelector('.windwidgets-live .windwidgets-forecast-chart svg text');
    return title ? title.textContent : '';
}"""


def preview_epochs(page, wanted: int, timeout: float) -> list[int]:
    """The epochs the forecast preview's title names as the fit goes on, each once, until
    ``wanted`` were seen or ``timeout`` seconds passed."""
    seen, deadline = [], time.monotonic() + timeout
    while len(seen) < wanted and time.monotonic() < deadline:
        found = re.search(r"free-running forecast, epoch (\d+)", page.evaluate(PREVIEW_TITLE))
        if found and (not seen or int(found.group(1)) != seen[-1]):
            seen.append(int(found.group(1)))
        time.sleep(0.25)
    return seen


def dashboard_trains_stops_and_compares(page):
    """The dashboard of cell 3: Train starts a fit (and is disabled while it runs), Stop
    ends it, twice; the compare tab then lists the two Runs."""
    page.evaluate(RUN_CELL, 3)
    board = output_of(page, 3).locator(".windwidgets-dashboard")
    board.wait_for(state="visible", timeout=60_000)
    train, stop = board.locator(".windwidgets-train-button"), board.locator(".windwidgets-board-stop")
    assert train.is_enabled() and stop.is_disabled()
    board.screenshot(path=str(ARTIFACTS / "dashboard.png"))
    for fit in (1, 2):
        train.click()
        board.locator(".windwidgets-board-stop:not([disabled])").wait_for(timeout=60_000)  # fit running
        assert train.is_disabled()
        board.locator(".windwidgets-live .windwidgets-loss-chart polyline").first.wait_for(timeout=60_000)
        stop.click()
        board.locator(".windwidgets-train-button:not([disabled])").wait_for(timeout=60_000)  # answered
    board.locator(".lm-TabBar-tab", has_text="compare").click()
    rows = board.locator(".windwidgets-compare tbody tr")
    page.wait_for_function("(n) => document.querySelectorAll('.windwidgets-compare tbody tr').length === n",
                           arg=2, timeout=30_000)
    assert rows.count() == 2 and "lstm" in rows.nth(1).inner_text()
    board.locator(".windwidgets-overlay select").select_option(index=[0, 1])
    board.locator("img.windwidgets-compare-plot").wait_for(state="visible", timeout=30_000)
    board.screenshot(path=str(ARTIFACTS / "dashboard_compare.png"))
    board.locator(".lm-TabBar-tab", has_text="code").click()
    assert board.locator("textarea").first.input_value().startswith("%%windtrain --data wind --out run1")
    board.screenshot(path=str(ARTIFACTS / "dashboard_code.png"))

    page.evaluate(RUN_CELL, 4)
    ended = output_of(page, 4).locator(".jp-OutputArea-output", has_text="board:")
    ended.wait_for(timeout=60_000)
    assert ended.inner_text().split()[1:] == ["stopped", "stopped"]
