"""Training time with the live views against none. Target: under 3% of the fit in the panel.

The fit of benchmarks/train_speed.py (wind speed, 120 days, window 48, 2-layer LSTM with
hidden 64, batch 64, seeded), timed from the call to the end of the fit, twice over:

1. In this process: live=False against the widget panel (its charts, forecast previews and
   final image; with no kernel its widget messages go nowhere) and the text view.
2. In a Jupyter kernel, as a notebook runs it: live=False (the fit in the cell's thread)
   against live="auto", which there is the panel with the fit in a background thread and every
   widget message sent to the front end's socket (`run.wait()` ends the timing). The row
   "live=False, in a thread" separates the cost of the thread from the cost of the panel.

The panel previews the forecast at each new best epoch and otherwise every 2 s, and redraws
its charts at most every 0.3 s, within 1.5% and 0.5% of the fit (``LiveView.PREVIEW_BUDGET``,
``DRAW_BUDGET``); the last lines say how often previews and redraws came, and what share of
the fit each took. The first preview (epoch 1) comes before its cost is known, so in a fit of
a few seconds it alone may be over 1%: the default 12 epochs (as the quickstart's quick
setting) last about 15 s.

The variants alternate, and the fastest of --repeats runs counts (the least disturbed by
other work on the machine). Torch runs on --threads threads (default 1): on a machine shared
with other work, two OpenMP threads make a small LSTM's epochs jump between one and five
times their time, which drowns the view's cost; what is measured is the view, not that.

    .venv/bin/python benchmarks/live_overhead.py [--epochs 12] [--repeats 3] [--threads 1] [--no-kernel]
"""
import argparse
import contextlib
import io
import json
import os
import time

import torch

import windwidgets as ww
from windwidgets.api import fit
from windwidgets.config import RunConfig
from common import table

SETTINGS = dict(target="speed", model="lstm", window=48, hidden_size=64, num_layers=2,
                batch_size=64, seed=0)


def in_process(epochs: int, repeats: int, days: int) -> list[dict]:
    wind = ww.datasets.wind(days=days)
    variants = {
        "live=False": dict(live=False),
        "widget panel": dict(live="widgets"),
        "text view": dict(live="text"),
    }
    best = {name: float("inf") for name in variants}
    in_view, paces = [], []
    for _ in range(repeats):
        for name, live in variants.items():
            config = RunConfig.from_kwargs(**SETTINGS, epochs=epochs, **live)
            show = (lambda panel: None) if name == "widget panel" else None  # placed nowhere
            with contextlib.redirect_stdout(io.StringIO()):  # the text view's lines count, unseen
                start = time.perf_counter()
                run = fit(wind, config, show=show).wait()
                seconds = time.perf_counter() - start
            best[name] = min(best[name], seconds)
            in_view += [view.seconds / seconds for view in live_views(run)]
            paces += [pace_of(view, seconds) for view in live_views(run)]
    return rows("this process", best, "live=False", {"widget panel": min(in_view)}), paces


def pace_of(view, seconds: float) -> dict:
    """How often a panel previewed and redrew during a fit of ``seconds``, at what share."""
    p, d = view.preview_pace, view.draw_pace
    return {"fit seconds": seconds, "previews": p.runs, "s between previews": seconds / max(p.runs, 1),
            "preview share": f"{p.seconds / seconds:.2%}", "preview median s": p.cost(),
            "redraws": d.runs, "redraw share": f"{d.seconds / seconds:.2%}", "redraw median s": d.cost()}


def live_views(run) -> list:
    """The live panels listening to a Run's fit (a look inside, for measuring only)."""
    from windwidgets.views.live import LiveView

    return [s for s in run.trainer.events._subscribers if isinstance(s, LiveView)]


KERNEL_CODE = """
import json, threading, time
import torch
import windwidgets as ww
torch.set_num_threads({threads})
wind = ww.datasets.wind(days={days})
settings = dict({settings}, epochs={epochs})

def in_thread():
    thread = threading.Thread(target=lambda: ww.train(wind, live=False, **settings))
    thread.start()
    thread.join()

variants = {{
    "live=False": lambda: ww.train(wind, live=False, **settings) and None,
    "live=False, in a thread": in_thread,
    "live='auto' (panel, background)": lambda: ww.train(wind, live="auto", **settings).wait(),
}}
best = {{name: float("inf") for name in variants}}
in_view = []
for _ in range({repeats}):
    for name, variant in variants.items():
        start = time.perf_counter()
        run = variant()
        seconds = time.perf_counter() - start
        best[name] = min(best[name], seconds)
        if run is not None:
            in_view += [s.seconds / seconds for s in run.trainer.events._subscribers
                        if hasattr(s, "draws")]
print("RESULT" + json.dumps([best, min(in_view)]))
"""


def in_kernel(epochs: int, repeats: int, days: int, threads: int) -> list[dict]:
    from jupyter_client.manager import start_new_kernel

    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    manager, client = start_new_kernel(kernel_name="python3", env=env)
    printed = []

    def collect(message):
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])
        elif message["msg_type"] == "error":
            printed.append("\n".join(message["content"]["traceback"]))

    try:
        code = KERNEL_CODE.format(days=days, settings=SETTINGS, epochs=epochs, repeats=repeats,
                                  threads=threads)
        client.execute_interactive(code, output_hook=collect, timeout=3600)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    text = "".join(printed)
    if "RESULT" not in text:
        raise RuntimeError(f"the kernel did not report its timings:\n{text}")
    best, in_view = json.loads(text.split("RESULT", 1)[1].splitlines()[0])
    return rows("Jupyter kernel", best, "live=False", {"live='auto' (panel, background)": in_view})


def rows(where: str, best: dict, baseline: str, in_view: dict) -> list[dict]:
    """One row per variant; "in the view": the share of the fit spent in the panel's own
    event handlers (drawing, previews, widget messages), measured inside the fit itself, so
    it holds however busy the machine is, unlike the ratio of two timings."""
    return [{"where": where, "view": name, "seconds": seconds, "ratio": seconds / best[baseline],
             "in the view": f"{in_view[name]:.2%}" if name in in_view else ""}
            for name, seconds in best.items()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default)")
    parser.add_argument("--no-kernel", action="store_true", help="skip the Jupyter kernel part")
    args = parser.parse_args()
    threads = args.threads or torch.get_num_threads()
    torch.set_num_threads(threads)
    results, paces = in_process(args.epochs, args.repeats, args.days)
    if not args.no_kernel:
        results += in_kernel(args.epochs, args.repeats, args.days, threads)
    print(f"{args.epochs} epochs of a 2-layer LSTM (hidden 64) on {args.days * 24} rows, "
          f"{threads} torch thread(s), fastest of {args.repeats}")
    print(table(results))
    print("the panel's previews and redraws, fit by fit (this process):")
    print(table(paces))
    panel = [r for r in results if r["in the view"]]
    print("live panel: " + "; ".join(
        f"{r['where']}: ratio {r['ratio']:.3f}, {r['in the view']} of the fit in the view" for r in panel)
        + " (target: under 3%)")


if __name__ == "__main__":
    main()
