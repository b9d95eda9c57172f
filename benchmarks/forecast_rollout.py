"""Multi-step and covariate rollouts, batched backtests and streams.

1. Rollouts of ``--steps`` steps by models with horizon 1 and horizon 24 (blocks), with no
   covariates, with the 13 reactor auxiliaries as past-only covariates (forecast alongside,
   so the rollout needs nothing from the future), and as known-future covariates.
2. A backtest of ``--origins`` forecasts of 48 steps: one batched rollout for all origins
   against one ``forecast(start=...)`` per origin. Target: batched >= 10x faster.
3. A live feed: ``update(one row)`` then ``forecast(24, keep_state=True)`` per new row, against
   ``forecast(24)`` re-reading the window each time.
4. A panel of ``--panel`` series x rows (``series="station"``): seconds per epoch and for a
   48-step backtest every 24 rows of every series, next to one series of the same length.

Every model is a 2-layer GRU, hidden 64, trained for one epoch (speed does not depend on fit).

    .venv/bin/python benchmarks/forecast_rollout.py [--steps 5000] [--origins 400] [--device auto]
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import windwidgets as ww  # noqa: E402
from common import table, timed  # noqa: E402
from windwidgets.data.reactor import AUXILIARIES  # noqa: E402


def train(data, **settings):
    base = dict(model="gru", window=48, hidden_size=64, num_layers=2, epochs=1, batch_size=128,
                live=False)
    return ww.train(data, **{**base, **settings})


def rollouts(reactor, steps: int, device: str) -> list:
    ahead = ww.datasets.reactor(n=steps + 10, seed=1).set_axis(
        reactor.index[-1] + (1 + np.arange(steps + 10)) * (reactor.index[1] - reactor.index[0]))
    rows = []
    for horizon in (1, 24):
        for kind, settings, future in (
            ("none", {}, None),
            ("13 past-only", {"covariates": list(AUXILIARIES)}, None),
            ("13 known-future", {"future_covariates": list(AUXILIARIES)}, ahead),
        ):
            run = train(reactor, target="key", horizon=horizon, device=device, **settings)
            seconds = timed(lambda: run.forecast(steps, future=future), repeats=2)
            rows.append({"horizon": horizon, "covariates": kind, "steps": steps, "seconds": seconds,
                         "us/step": 1e6 * seconds / steps})
    return rows


def backtests(wind, origins: int, device: str) -> list:
    run = train(wind, target="speed", horizon=24, device=device)
    stride = max(1, (len(wind) - run.n_train - 48) // origins)
    batched = timed(lambda: run.backtest(48, stride=stride), repeats=2)
    count = len(run.backtest(48, stride=stride).origins)
    starts = run.n_train + stride * np.arange(count)
    one_by_one = timed(lambda: [run.forecast(48, start=int(s)) for s in starts], repeats=1)
    return [{"origins": count, "steps": 48, "batched s": batched, "one by one s": one_by_one,
             "speed-up": one_by_one / batched}]


def streams(wind, rows: int, device: str) -> list:
    train_part, live = wind.iloc[:-rows], wind.iloc[-rows:]
    run = train(train_part, target="speed", covariates=["pressure", "temperature"], device=device)

    def follow(keep_state: bool):
        run.frame = train_part[list(run.layout.inputs)]
        run.reset_state()
        start = time.perf_counter()
        for i in range(rows):
            run.update(live.iloc[i : i + 1])
            run.forecast(24, keep_state=keep_state)
        return (time.perf_counter() - start) / rows

    kept, reread = follow(True), follow(False)
    return [{"new rows": rows, "keep_state ms/row": 1e3 * kept, "re-read ms/row": 1e3 * reread,
             "speed-up": reread / kept}]


def panels(series: int, rows: int, device: str) -> list:
    """One global model over a panel against one series as long as all of its rows."""
    days = rows // 24
    panel = ww.datasets.wind(days=days, stations=series)
    single = ww.datasets.wind(days=days * series)
    small = dict(hidden_size=16, num_layers=1, device=device, forecast_steps=1)  # speed, not fit
    out = []
    for name, data, settings in (("panel", panel, {"series": "station", "time": "time"}),
                                 ("one series", single, {})):
        start = time.perf_counter()
        run = train(data, target="speed", **small, **settings)
        fit = time.perf_counter() - start
        backtest = timed(lambda: run.backtest(48, stride=24), repeats=1)
        out.append({"data": name, "rows": len(data), "fit s (1 epoch)": fit, "backtest s": backtest})
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--origins", type=int, default=400)
    parser.add_argument("--feed", type=int, default=200)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--panel", default="100x2000", help="series x rows of the panel section")
    args = parser.parse_args()
    reactor = ww.datasets.reactor()
    wind = ww.datasets.wind(days=120)
    print(f"device: {ww.api.resolve_device(args.device)}")
    print("\nRollouts (reactor key):")
    print(table(rollouts(reactor, args.steps, args.device)))
    print("\nBacktest (wind, horizon 24):")
    print(table(backtests(wind, args.origins, args.device)))
    print("\nLive feed (wind, horizon 1, 2 past-only covariates):")
    print(table(streams(wind, args.feed, args.device)))
    series, rows = (int(n) for n in args.panel.split("x"))
    print(f"\nPanel ({series} series x {rows} rows, GRU 16, one epoch) against one series as long:")
    print(table(panels(series, rows, args.device)))


if __name__ == "__main__":
    main()
