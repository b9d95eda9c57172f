"""Property-based tests (issue 11): whatever the data, the settings and the option strings,
each call either works or raises a windwidgets error whose message names the parameter or
the value at fault. Few examples, derandomized, tiny fits: the suite stays fast and fixed."""
import copy
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from IPython.core.error import UsageError

import windwidgets as ww
from windwidgets.config import RunConfig, keyword_owners
from windwidgets.magics import FORECAST_OPTIONS, TRAIN_EXTRA, config_options, parse_line

FEW = settings(max_examples=40, deadline=None, derandomize=True, database=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
TINY = dict(hidden_size=4, num_layers=1, epochs=1, batch_size=32, live=False)

COLUMNS = {  # name -> values for n rows
    "float": lambda rng, n: rng.normal(size=n),
    "float32": lambda rng, n: rng.normal(size=n).astype(np.float32),
    "int": lambda rng, n: rng.integers(-5, 5, n),
    "bool": lambda rng, n: rng.integers(0, 2, n).astype(bool),
    "constant": lambda rng, n: np.zeros(n),
    "words": lambda rng, n: np.resize(np.array(["calm", "gust"], dtype=object), n),
    "numbers as text": lambda rng, n: rng.normal(size=n).astype(str).astype(object),
    "complex": lambda rng, n: rng.normal(size=n) + 1j,
    "nan": lambda rng, n: np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
    "huge": lambda rng, n: rng.normal(size=n) * 1e39,
    "times": lambda rng, n: pd.date_range("2025-01-01", periods=n, freq="h").to_numpy(),
}


def hourly(n, **kwargs):
    return pd.date_range("2025-01-01", periods=n, freq="h", **kwargs)


INDEXES = {
    "range": pd.RangeIndex,
    "hourly": hourly,
    "hourly in UTC": lambda n: hourly(n, tz="UTC"),
    "reversed": lambda n: hourly(n)[::-1],
    "one label twice": lambda n: hourly(n)[np.minimum(np.arange(n), max(n - 2, 0))],
    "times as text": lambda n: pd.Index(hourly(n).strftime("%Y-%m-%d %H:%M"), dtype=object),
    "words": lambda n: pd.Index([f"r{i}" for i in range(n)], dtype=object),
    "halves": lambda n: pd.Index(np.arange(n) * 0.5),
    "a missing time": lambda n: pd.DatetimeIndex([pd.NaT if i == n // 2 else t for i, t in enumerate(hourly(n))]),
    "periods": lambda n: pd.period_range("2025-01-01", periods=n, freq="D"),
    "two time zones": lambda n: pd.Index(list(hourly(n // 2, tz="UTC")) + list(hourly(n - n // 2, tz="Asia/Tokyo")),
                                         dtype=object),
}


def mostly(usual, *others):
    """Draw ``usual`` about half the time: most examples get past the first check."""
    return st.sampled_from([usual] * max(len(others), 1) + list(others))


@st.composite
def frames(draw, names=(["a", "b", "c"], ["a", "a", "c"], [0, "b", "c"], ["c", "b", "a"]), least=1):
    rows = draw(mostly(60, 0, 1, 7, 40))
    columns = draw(mostly(*names))
    kinds = draw(st.lists(mostly("float", *sorted(COLUMNS)), min_size=least, max_size=len(columns)))
    rng = np.random.default_rng(draw(st.integers(0, 3)))
    frame = pd.DataFrame({i: COLUMNS[kind](rng, rows) for i, kind in enumerate(kinds)})
    frame.columns = columns[: len(kinds)]
    return frame.set_axis(INDEXES[draw(mostly("hourly", *sorted(INDEXES)))](rows))


@st.composite
def some_of(draw, choices: dict, most: int = 2):
    """Up to ``most`` of the settings in ``choices``, each with a drawn value."""
    names = draw(st.lists(st.sampled_from(sorted(choices)), max_size=most, unique=True))
    return {name: draw(choices[name]) for name in names}


NAMES = mostly(None, "a", "b", "c", 0, "missing", ["a", "b"], "a,c")
TRAIN_SETTINGS = some_of({
    "target": NAMES, "covariates": NAMES, "future_covariates": NAMES,
    "window": mostly(3, 1, 6, 0, -2, 2.5, "6", np.int64(4), True),
    "horizon": mostly(1, 2, 3, 0, np.int32(2)),
    "val_fraction": mostly(0.2, 0.5, 0.0, 1.0, np.float32(0.3), "0.2", float("nan")),
    "model": mostly("lstm", "gru", "rnn", "peephole_lstm", "cnn_lstm", "seq2seq", "convlstm", "lstn"),
    "scaler": mostly("standard", "minmax", None, "robust"),
    "stateful": mostly(False, True, "no", np.bool_(True)),
    "lr": mostly(1e-3, np.float32(1e-2), 0, float("inf"), "fast"),
    "options": mostly({}, {"kernel_size": 3}, "kernel_size=3", {"nope": 1}),
    "seed": mostly(0, np.int64(7), -1, "abc", 2.0),
}, most=3)


PARAMETERS = set(keyword_owners()) | {"data", "steps", "start", "future", "context", "interval", "keep_state",
                                      "new_rows", "stride"}


def names_the_fault(error: Exception, given: dict, columns=()) -> bool:
    """Does the message name a parameter given, a value given, a column or the index?"""
    message = str(error)
    clues = [f"`{name}`" for name in PARAMETERS] + ["index"]
    clues += [repr(v) for v in given.values()] + [str(c) for c in columns]
    return any(clue in message for clue in clues)


def works_or_says_why(call, given: dict, columns=()):
    """The call's result, or None after a windwidgets error that names the fault."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call()
    except ww.WindwidgetsError as error:
        assert names_the_fault(error, given, columns), f"{error!s} (given {given!r})"
        assert "\n" not in str(error).strip()
        return None


@FEW
@given(frame=frames(), chosen=TRAIN_SETTINGS)
def test_train_works_or_names_the_fault(frame, chosen):
    run = works_or_says_why(lambda: ww.train(frame, **{**TINY, "window": 6, **chosen}), chosen, frame.columns)
    if run is not None:
        forecast = run.forecast(2, start=-2)
        assert len(forecast) == 2 and np.isfinite(forecast.to_numpy()).all()


@pytest.fixture(scope="module")
def run():
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)}, index=hourly(60))
    return ww.train(data, target="a", future_covariates=["b"], window=6, **TINY)


def futures(labels):
    """Known-future covariates for the rows from ``labels[0]``: right, shifted, short or wrong."""
    return st.builds(
        lambda rows, shift, step, values, column, zone: pd.DataFrame(
            {column: values[:rows]}, index=pd.date_range(labels[0] + shift * pd.Timedelta("1h"), periods=rows,
                                                         freq=step, tz=zone)),
        rows=mostly(8, 0, 1, 3), shift=mostly(0, -2, 1), step=mostly("h", "30min", "2h"),
        values=mostly(np.zeros(8), np.full(8, np.nan), np.array(["x"] * 8, dtype=object)),
        column=mostly("b", "a", "B"), zone=mostly(None, "UTC"))


FORECAST_SETTINGS = some_of({"steps": mostly(3, 1, np.int64(2), 0, -1, 2.0, "3", 10**9),
    "start": mostly(None, 10, -5, 3, 60, 500, "2025-01-02 05:00", "soon", pd.Timestamp("2031-01-01")),
    "interval": mostly(None, 0.9, np.float32(0.5), 1.5, "90%"),
    "keep_state": mostly(False, True, "no", np.bool_(True)),
}, most=4)


@FEW
@given(chosen=FORECAST_SETTINGS, future=futures(hourly(61)[-1:]), with_future=mostly(True, False))
def test_forecast_works_or_names_the_fault(run, chosen, future, with_future):
    run.reset_state()
    given_ = {"steps": 3, **chosen, **({"future": future} if with_future else {})}
    result = works_or_says_why(lambda: run.forecast(**given_), given_, ["b"])
    if result is not None:
        assert len(result) == given_["steps"] and np.isfinite(result.to_numpy()).all()


NEW_INDEXES = {
    "next hours": lambda last, n: pd.date_range(last, periods=n + 1, freq="h")[1:],
    "a step late": lambda last, n: pd.date_range(last, periods=n + 2, freq="h")[2:],
    "half hours": lambda last, n: pd.date_range(last, periods=n + 1, freq="30min")[1:],
    "in UTC": lambda last, n: pd.date_range(last, periods=n + 1, freq="h", tz="UTC")[1:],
    "positions": lambda last, n: pd.RangeIndex(n),
    "times as text": lambda last, n: pd.Index(pd.date_range(last, periods=n + 1, freq="h")[1:].astype(str), dtype=object),
}


@FEW
@given(frame=frames(names=(["a", "b"], ["b", "a"], ["a", "c"]), least=2), rows=mostly(3, 0, 1),
       index=mostly("next hours", *sorted(NEW_INDEXES)))
def test_update_works_or_names_the_fault(run, frame, rows, index):
    follower = copy.copy(run)  # its own frame: update replaces it, the original stays as it was
    new_rows = frame.iloc[:rows].set_axis(NEW_INDEXES[index](run.frame.index[-1], min(rows, len(frame))))
    before = len(run.frame)
    if works_or_says_why(lambda: follower.update(new_rows), {"new_rows": new_rows}, ["a", "b"]) is not None:
        assert len(follower.frame) == before + len(new_rows)
        labels = pd.date_range(follower.frame.index[-1], periods=2, freq="h")[1:]
        assert np.isfinite(follower.forecast(1, future=pd.DataFrame({"b": [0.0]}, index=labels)).to_numpy()).all()
    assert len(run.frame) == before


WORDS = st.sampled_from(["3", "0", "-1", "2.5", "none", "true", "no", "speed", "a,b", "k=3", "k=", "=",
                         "'quoted text'", "[1, 2]", "--", "x=1,y=two"])
FLAGS = st.sampled_from(sorted({**TRAIN_EXTRA, **config_options()}) + ["hidden", "no_bias", "no_window", "epoch"])


@FEW
@given(parts=st.lists(st.tuples(FLAGS, st.booleans(), WORDS), max_size=4))
def test_windtrain_options_parse_or_say_which_one(parts):
    line = " ".join(f"--{flag.replace('_', '-')}{'=' if joined else ' '}{word}" for flag, joined, word in parts)
    options = {**TRAIN_EXTRA, **config_options()}
    try:
        values, _ = parse_line(line, options, "windtrain")
    except UsageError as error:
        assert "--" in str(error) or "quotes" in str(error), str(error)
        return
    values.pop("data", None), values.pop("out", None)
    works_or_says_why(lambda: RunConfig.from_kwargs(**values), values)


@FEW
@given(parts=st.lists(st.tuples(st.sampled_from(sorted(FORECAST_OPTIONS) + ["step"]), WORDS), max_size=3))
def test_windforecast_options_parse_or_say_which_one(parts):
    line = "run " + " ".join(f"--{flag} {word}" for flag, word in parts)
    try:
        parse_line(line, FORECAST_OPTIONS, "windforecast")
    except UsageError as error:
        assert "--" in str(error) or "quotes" in str(error), str(error)


@st.composite
def panels(draw):
    """A long table: 1 to 4 series with random ids, lengths, a hole or not, rows in any order."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    kind = draw(st.sampled_from(["text", "int"]))
    ids = draw(st.lists(st.integers(0, 99), min_size=1, max_size=4, unique=True))
    parts = []
    for number in ids:
        rows = draw(st.integers(40, 90))
        stamps = pd.date_range("2025-01-01", periods=rows, freq="h")
        part = pd.DataFrame({"time": stamps, "y": rng.normal(size=rows) + number,
                             "id": f"s{number}" if kind == "text" else number})
        if draw(st.booleans()):
            part.loc[part.index[rows // 2], "y"] = np.nan  # a hole, filled as fill= says
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    return table.sample(frac=1.0, random_state=int(rng.integers(1000)))


@FEW
@given(table=panels())
def test_a_window_never_holds_rows_of_two_series(table):
    settings = dict(target="y", series="id", time="time", window=6, fill="interpolate", **TINY)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fill report
        run = ww.prepare(table, **settings)
    data = run.trainer.data
    window, horizon = data.windows.shape
    for index in (data.windows.train_index, data.windows.val_index):
        for first in index.tolist():
            start, rows, _ = next(s for s in data.segments if s[0] <= first < s[0] + s[1])
            assert first + window + horizon <= start + rows  # the window and its targets in one series
    for key, part in data.parts.items():  # each series holds its own rows only, in time order
        own = table[table["id"] == key].set_index("time").sort_index()["y"].interpolate()
        np.testing.assert_allclose(part.frame["y"].to_numpy(), own.loc[part.frame.index].to_numpy())
        assert part.frame.index.is_monotonic_increasing


@pytest.fixture(scope="module")
def panel_run():
    table = pd.concat([pd.DataFrame({"time": pd.date_range("2025-01-01", periods=80, freq="h"),
                                     "y": np.sin(np.arange(80) / 4) + k, "id": f"s{k}"}) for k in range(3)])
    return ww.train(table, target="y", series="id", time="time", window=6, **TINY)


@FEW
@given(case=st.sampled_from(["hole in one", "nan", "unknown id", "no id column", "wrong column", "old rows"]),
       which=st.integers(0, 2))
def test_a_failed_panel_update_leaves_every_series_as_it_was(panel_run, case, which):
    before = {key: panel_run.member(key).frame.copy() for key in panel_run.series}
    start = before["s0"].index[-1] + pd.Timedelta("1h")
    rows = pd.concat([pd.DataFrame({"time": pd.date_range(start, periods=4, freq="h"), "y": 0.5, "id": key})
                      for key in panel_run.series], ignore_index=True)
    victim = rows.index[rows["id"] == f"s{which}"]
    if case == "hole in one":
        rows = rows.drop(index=victim[1])
    elif case == "nan":
        rows.loc[victim[2], "y"] = np.nan
    elif case == "unknown id":
        rows.loc[victim[0], "id"] = "s9"
    elif case == "no id column":
        rows = rows.drop(columns="id")
    elif case == "wrong column":
        rows = rows.rename(columns={"y": "z"})
    else:
        rows["time"] = rows["time"] - pd.Timedelta("10h")  # rows the series already has
    with pytest.raises(ww.WindwidgetsError):
        panel_run.update(rows)
    for key, frame in before.items():
        pd.testing.assert_frame_equal(panel_run.member(key).frame, frame)
