"""A global model over a large panel, against one series of the same total rows.

Both are fitted, forecast and backtested in this process, one after the other (the one
series first), with the same model (GRU 16, window 48, horizon 1, batch 128, one torch
thread). Times are CPU seconds of the process (``time.process_time``): with one thread
that is the wall time on a quiet machine, and it stays steady on a shared one.

- prepare: ``ww.prepare`` (split, regularise, scale, encode and window every series);
- training: windows per second over ``--batches`` batches (the first 10 left out), and the
  seconds an epoch takes at that rate plus one validation pass (an epoch of 10 million rows
  takes minutes, so it is not run to the end);
- forecast: a 24-step forecast of every series (one call), and the same series by series
  (a sample of 50 timed, scaled to all);
- backtest: 24-step forecasts every 24 rows of every series' validation part (one call; and
  series by series, as above), and ``evaluate`` of the same;
- peak: the process's peak resident memory while the case ran (Linux: the high-water mark
  is reset before each case; elsewhere it is the peak of the whole process so far).

Targets (issue 25): panel backtest at most 1.2x one series; 10,000 x 1,000 panel under 2 GB;
windows per second within 1.3x one series.

    .venv/bin/python benchmarks/panel_scale.py --series 2000 --rows 500     # quick, a minute or two
    .venv/bin/python benchmarks/panel_scale.py --series 10000 --rows 1000
    .venv/bin/python benchmarks/panel_scale.py --series 1000 --rows 10000
"""
import argparse
import ctypes
import gc
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).parent))
import windwidgets as ww  # noqa: E402
from common import table  # noqa: E402
from windwidgets.train import Event  # noqa: E402

SETTINGS = dict(target="load", model="gru", hidden_size=16, num_layers=1, window=48, horizon=1, batch_size=128,
                epochs=1, live=False, threads=1)


def synthetic(series: int, rows: int, seed: int = 0) -> pd.DataFrame:
    """A long table of ``series`` hourly series of ``rows`` rows: a daily cycle with its own
    phase and level per series, and noise; ids are whole numbers. One series: no id column."""
    rng = np.random.default_rng(seed)
    hours = np.arange(rows)
    phase, level = rng.uniform(0, 2 * np.pi, (series, 1)), rng.uniform(5, 15, (series, 1))
    load = level + 3 * np.sin(2 * np.pi * hours / 24 + phase) + rng.normal(0, 0.5, (series, rows))  # (series, rows)
    times = pd.date_range("2024-01-01", periods=rows, freq="h")
    if series == 1:
        return pd.DataFrame({"load": load[0].astype(np.float32)}, index=times.rename("time"))
    return pd.DataFrame({"turbine": np.repeat(np.arange(series), rows), "time": np.tile(times, series),
                         "load": load.ravel().astype(np.float32)})


def reset_peak() -> None:
    """Give freed memory back and restart the high-water mark of resident memory (Linux)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seconds(function) -> tuple:
    """(CPU seconds of ``function()``, its result): with one torch thread that is its wall
    time on a quiet machine, and far steadier than wall time on a shared one."""
    start = time.process_time()
    result = function()
    return time.process_time() - start, result


def fastest(function, repeats: int) -> tuple:
    """(the fastest of ``repeats`` calls in seconds, the first call's result)."""
    best, result = seconds(function)
    for _ in range(repeats - 1):
        best = min(best, seconds(function)[0])
    return best, result


def case(series: int, rows: int, batches: int, steps: int, repeats: int) -> dict:
    reset_peak()
    data = synthetic(series, rows)
    settings = dict(SETTINGS, series="turbine", time="time") if series > 1 else SETTINGS
    out = {}
    out["prepare s"], run = seconds(lambda: ww.prepare(data, **settings))
    del data
    marks = []

    def watch(event, progress):
        if event is Event.BATCH_END:
            marks.append((time.process_time(), progress.samples))
            if progress.batch >= batches:
                run.stop()

    run.trainer.events.subscribe(watch)
    out["fit s"], _ = seconds(run.fit)
    (t0, n0), (t1, n1) = marks[min(10, len(marks) - 2)], marks[-1]
    out["windows/s"] = (n1 - n0) / (t1 - t0)
    out["validate s"], _ = fastest(run.trainer.validate, repeats)
    train_windows = len(run.trainer.data.windows.train_index)
    out["epoch s"] = train_windows / out["windows/s"] + out["validate s"]
    out["forecast s"], forecast = fastest(lambda: run.forecast(steps), repeats)
    out["backtest s"], backtest = fastest(lambda: run.backtest(steps, stride=steps), repeats)
    out["evaluate s"], _ = seconds(lambda: run.evaluate(steps, stride=steps))
    origins = sum(len(b.origins) for b in backtest.by_series.values()) if series > 1 else len(backtest.origins)
    out["forecast rows"], out["backtest origins"] = len(forecast), origins
    if series > 1:  # what the same calls cost series by series, from a sample of the series
        sample = run.series[:: max(1, series // 50)]
        out["forecast one by one s"] = seconds(lambda: [run.member(key).forecast(steps) for key in sample])[0] \
            * series / len(sample)
        out["backtest one by one s"] = seconds(
            lambda: [run.member(key).forecaster.backtest(steps, steps) for key in sample])[0] * series / len(sample)
    out["peak MB"] = peak_mb()
    del run, forecast, backtest
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=500, help="rows of each series")
    parser.add_argument("--batches", type=int, default=150, help="training batches timed")
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=3, help="forecasts, backtests and validations: the fastest")
    args = parser.parse_args()
    torch.set_num_threads(1)
    case(2, 300, 12, args.steps, 1)  # imports and first calls, paid before anything is timed
    one = case(1, args.series * args.rows, args.batches, args.steps, args.repeats)
    panel = case(args.series, args.rows, args.batches, args.steps, args.repeats)
    lines = [{"measure": name, "one series": one.get(name, float("nan")), "panel": panel[name],
              "panel / one": panel[name] / one[name] if one.get(name) else float("nan")} for name in panel]
    print(f"{args.series:,} series x {args.rows:,} rows against one series of {args.series * args.rows:,} rows "
          f"(GRU 16, window 48, batch 128, one torch thread, {args.steps}-step forecasts and backtest)")
    print(table(lines))
    per_window = 1 / panel["windows/s"] / (1 / one["windows/s"])
    print(f"targets: backtest <= 1.2x one series: {panel['backtest s'] / one['backtest s']:.2f}x; "
          f"time per window <= 1.3x: {per_window:.2f}x; panel peak < 2048 MB: {panel['peak MB']:.0f} MB")


if __name__ == "__main__":
    main()
