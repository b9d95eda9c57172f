"""Every bad input of issue 11 gets one message that names the value and the fix; the
inputs that were accepted with a wrong result are refused or now mean the right thing."""
import itertools
import re

import numpy as np
import pandas as pd
import pytest
import torch
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import windwidgets as ww

TINY = dict(window=6, hidden_size=4, num_layers=1, epochs=1, batch_size=16, live=False)
HOURS = pd.date_range("2025-01-01", periods=60, freq="h")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)}, index=HOURS)


@pytest.fixture(scope="module")
def run(data):
    """Forecasts "a" with "b" known ahead."""
    return ww.train(data, target="a", future_covariates=["b"], **TINY)


@pytest.fixture
def shell():
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "windwidgets")
    yield shell
    shell.run_line_magic("unload_ext", "windwidgets")


def after(index, periods, freq="h"):
    return pd.date_range(index[-1], periods=periods + 1, freq=freq)[1:]


def refused(call, *fragments, error=ww.WindwidgetsError):
    with pytest.raises(error) as caught:
        call()
    for fragment in fragments:
        assert fragment in str(caught.value), str(caught.value)
    assert "weights_only=False" not in str(caught.value)
    return str(caught.value)


# -- the index -------------------------------------------------------------------------------
MIXED_ZONES = {
    "timestamps of two zones": [pd.Timestamp("2025-01-01", tz="UTC") + pd.Timedelta(hours=i) for i in range(30)]
    + [pd.Timestamp("2025-01-02 07:00", tz="Europe/Paris") + pd.Timedelta(hours=i) for i in range(30)],
    "text across a change to summer time": list(pd.date_range("2025-03-29", periods=60, freq="h", tz="Europe/Paris")
                                                .strftime("%Y-%m-%dT%H:%M:%S%z")),
    "naive and aware timestamps": [pd.Timestamp("2025-01-01") + pd.Timedelta(hours=i) for i in range(30)]
    + [pd.Timestamp("2025-01-02 06:00", tz="UTC") + pd.Timedelta(hours=i) for i in range(30)],
}


@pytest.mark.parametrize("name", ["timestamps of two zones", "text across a change to summer time"])
def test_times_at_several_offsets_are_read_as_instants_in_utc_with_a_warning(data, name):
    labels = MIXED_ZONES[name]
    mixed = data.set_axis(pd.Index(labels, dtype=object))
    with pytest.warns(UserWarning, match=r"the index holds times at several UTC offsets or zones .*read as instants "
                                         r"in UTC.*df.index = pd.to_datetime\(df.index, utc=True\)"):
        run = ww.train(mixed, **TINY)
    assert str(run.frame.index.tz) == "UTC"
    assert run.frame.index[0] == pd.Timestamp(labels[0]).tz_convert("UTC")
    assert run.forecast(1).index[0] == run.frame.index[-1] + pd.Timedelta(hours=1)


def test_naive_and_aware_times_together_are_refused_with_a_fix_that_works(data):
    mixed = data.set_axis(pd.Index(MIXED_ZONES["naive and aware timestamps"], dtype=object))
    refused(lambda: ww.train(mixed, **TINY), "mixes times with a time zone or UTC offset and times without one",
            "df.index = pd.to_datetime(df.index, utc=True) if the bare ones are UTC")
    mixed.index = pd.to_datetime(mixed.index, utc=True)  # the fix, as the message writes it
    assert len(ww.train(mixed, **TINY).history) == 1


def test_missing_times_in_the_index(data):
    labels = HOURS.tolist()
    labels[5] = pd.NaT
    refused(lambda: ww.train(data.set_axis(pd.DatetimeIndex(labels)), **TINY),
            "1 missing label(s) (NaT or NaN, first at position 5)", "df = df[df.index.notna()]")


@pytest.mark.parametrize("target", [None, "a"])
def test_two_columns_of_one_name(data, target):
    twice = data.set_axis(["a", "a"], axis=1)
    refused(lambda: ww.train(twice, target=target, **TINY), "more than one column named a",
            "df.columns.duplicated()")


def test_no_numeric_column_to_forecast():
    text = pd.DataFrame({"note": ["calm"] * 60}, index=HOURS)
    refused(lambda: ww.train(text, **TINY), "`target` is None", "has none", "note (", "pd.to_numeric")


# -- values ----------------------------------------------------------------------------------
def test_a_complex_covariate_is_refused_not_cast(data):
    refused(lambda: ww.train(data.assign(c=data["b"] + 1j), target="a", covariates=["c"], **TINY),
            "column(s) c hold complex numbers", "df['c'].real")


def test_values_beyond_float32_are_named(data):
    refused(lambda: ww.train(data.assign(a=data["a"] * 1e39), target="a", **TINY),
            "column 'a' holds", "beyond the float32 numbers", "df['a'] / 1e30")


def test_values_within_float32_but_too_wide_to_scale(data):
    wide = data.assign(a=np.where(np.arange(60) % 10, -3e38, 3e38))  # 3e38 - mean overflows
    refused(lambda: ww.train(wide, target="a", **TINY), "span too wide a range to scale", "-3e+38")


def test_large_values_within_float32_train_to_finite_forecasts(data):
    large = data.assign(a=3e38 + 1e37 * data["a"].clip(-3, 3))
    assert np.isfinite(ww.train(large, target="a", **TINY).forecast(3).to_numpy()).all()


# -- settings --------------------------------------------------------------------------------
@pytest.mark.parametrize("settings, fragments", [
    (dict(lr=float("inf")), ["`lr` (inf) must be positive and finite"]),
    (dict(model="cnn_lstm", options="kernel_size=3"), ["`options` ('kernel_size=3') must be a dict",
                                                       "options={'kernel_size': 3}"]),
    (dict(target="a", covariates={"b": 1}), ["`covariates` ({'b': 1}) must be a column name or a list"]),
    (dict(model="cnn_lstm", options={"kernel": 3}), ["model 'cnn_lstm' has no option 'kernel'",
                                                     "did you mean 'kernel_size'",
                                                     "its options are channels, kernel_size, conv_layers"]),
    (dict(options={"hidden_size": 3}), ["model 'lstm' has no option 'hidden_size'", "takes no options",
                                        "pass hidden_size=... to train"]),
    (dict(seed="abc"), ["`seed` ('abc') must be a whole number"]),
])
def test_settings_of_the_wrong_kind(data, settings, fragments):
    refused(lambda: ww.train(data, **{**TINY, **settings}), *fragments)


def test_numpy_numbers_are_settings_like_any_other(data, tmp_path):
    run = ww.train(data, target=np.array(["a"]), **{**TINY, "window": np.int64(6), "epochs": np.int32(1),
                                                      "lr": np.float32(1e-3), "bias": np.bool_(True)})
    assert run.config.data.window == 6 and type(run.config.data.window) is int
    assert ww.load(run.save(tmp_path / "run.pt")).config == run.config  # a plain file


# -- forecasts -------------------------------------------------------------------------------
def test_keep_state_must_be_a_boolean(run):
    future = pd.DataFrame({"b": 0.0}, index=after(HOURS, 3))
    refused(lambda: run.forecast(3, future=future, keep_state="no"), "`keep_state` ('no') must be True or False")
    assert run._stream is None


def test_huge_steps_are_refused_with_the_bound(run, data):
    refused(lambda: run.forecast(10**12), "`steps` (1,000,000,000,000)", "at most 1,000,000")
    yearly = ww.train(data.set_axis(pd.date_range("1900-01-01", periods=60, freq="YS")), target="a", **TINY)
    refused(lambda: yearly.forecast(10**6), "`steps` (1,000,000)", "run past the last time pandas can hold")


def test_text_in_future_or_new_rows_is_named_by_column(run):
    labels = after(HOURS, 3)
    refused(lambda: run.forecast(3, future=pd.DataFrame({"b": ["1", "x", "2"]}, index=labels)),
            "`future` column 'b' is not numeric", "'x'", "pd.to_numeric(future['b'])")
    refused(lambda: run.update(pd.DataFrame({"a": [1.0], "b": ["calm"]}, index=labels[:1])),
            "`new_rows` column 'b' is not numeric", "'calm'", "pd.to_numeric(new_rows['b'])")


def test_repeated_future_timestamps_are_not_called_a_gap(run):
    labels = after(HOURS, 3)
    message = refused(lambda: run.forecast(3, future=pd.DataFrame({"b": 0.0}, index=labels.append(labels[-1:]))),
                      "1 repeated timestamp(s)", "future.index.duplicated()")
    assert "gap" not in message


def test_a_time_zone_against_naive_data_is_named(run):
    aware = after(HOURS, 3).tz_localize("UTC")
    refused(lambda: run.forecast(3, future=pd.DataFrame({"b": 0.0}, index=aware)),
            "times with time zone UTC", "the data's times have no time zone", "tz_localize(None)")
    refused(lambda: run.update(pd.DataFrame({"a": 0.0, "b": 0.0}, index=aware)), "`new_rows` has times with")


def test_rows_at_another_step_say_their_step(run):
    halves = after(HOURS, 6, "30min")
    refused(lambda: run.update(pd.DataFrame({"a": 0.0, "b": 0.0}, index=halves)),
            "steps of 0 days 01:00:00", "move in steps of 0 days 00:30:00")
    refused(lambda: run.forecast(3, future=pd.DataFrame({"b": 0.0}, index=halves)),
            "`future` is at steps of 0 days 00:30:00, the data at steps of 0 days 01:00:00")


@pytest.mark.parametrize("rows", [0, 1])
def test_too_few_rows_ask_for_more_data_not_a_smaller_window(data, rows):
    message = refused(lambda: ww.train(data.iloc[:rows], **TINY), f"the data has {rows} row",
                      "need at least 9", "pass more data")
    assert "window of at most" not in message


# -- files -----------------------------------------------------------------------------------
def damaged_files(folder, good):
    payload = torch.load(good, weights_only=True)
    no_config = {k: v for k, v in payload.items() if k != "config"}
    wrong_shapes = {**payload, "config": {**payload["config"], "model": {**payload["config"]["model"],
                                                                         "hidden_size": 9}}}
    for name, value in (("no_config.pt", no_config), ("wrong_shapes.pt", wrong_shapes),
                        ("newer.pt", {**payload, "format": "windwidgets.run/9"})):
        torch.save(value, folder / name)
    (folder / "noise.pt").write_bytes(np.random.default_rng(0).bytes(4000))
    (folder / "table.csv").write_text("a,b\n1,2\n")
    (folder / "cut.pt").write_bytes(good.read_bytes()[:3000])
    (folder / "empty.pt").write_bytes(b"")
    torch.save({"code": re.compile("x")}, folder / "pickled.pt")


@pytest.mark.parametrize("name, fragments", [
    ("noise.pt", ["is not a windwidgets run file"]),
    ("table.csv", ["is not a windwidgets run file, or it is damaged"]),
    ("cut.pt", ["is not a windwidgets run file, or it is damaged"]),
    ("empty.pt", ["is not a windwidgets run file, or it is damaged"]),
    ("no_config.pt", ["is damaged or from another version", "lacks its 'config' part"]),
    ("wrong_shapes.pt", ["is damaged or from another version", "weights do not fit"]),
    ("newer.pt", ["another version of windwidgets", "'windwidgets.run/9'"]),
    ("pickled.pt", ["is not a windwidgets run file", "will not run code from a file"]),
])
def test_unreadable_files_get_one_message_naming_the_file(run, tmp_path, name, fragments):
    damaged_files(tmp_path, run.save(tmp_path / "good.pt"))
    message = refused(lambda: ww.load(tmp_path / name), str(tmp_path / name), *fragments, error=ww.ModelError)
    assert "weights_only" not in message and "\n" not in message


def test_load_of_none_or_of_nothing(tmp_path):
    refused(lambda: ww.load(None), "`path` (None) must be the path of a file", error=ww.ModelError)
    refused(lambda: ww.load(tmp_path / "absent.pt"), "absent.pt' does not exist", error=ww.ModelError)


@pytest.mark.parametrize("index", [HOURS.append(after(HOURS, 140)), pd.RangeIndex(200)], ids=["times", "positions"])
def test_positions_after_a_reload_mean_the_same_rows_or_are_refused(tmp_path, index):
    rng = np.random.default_rng(1)
    series = pd.DataFrame({"y": rng.normal(size=200).cumsum()}, index=index)
    run = ww.train(series, **TINY)
    loaded = ww.load(run.save(tmp_path / "run.pt"))
    assert loaded.offset > 60  # the file kept the last rows only
    pd.testing.assert_frame_equal(loaded.forecast(5, start=180), run.forecast(5, start=180))
    refused(lambda: loaded.forecast(5, start=60), "`start` (60) is a position in the data",
            f"without its first {loaded.offset} rows", "a negative position")
    again = ww.load(loaded.save(tmp_path / "again.pt"))
    pd.testing.assert_frame_equal(again.forecast(5, start=180), run.forecast(5, start=180))


def test_windforecast_start_on_a_classifier_is_a_usage_error(shell):
    rng = np.random.default_rng(0)
    sequences, labels = rng.normal(size=(40, 5, 1)), np.arange(40) % 2
    shell.user_ns["classifier"] = ww.train((sequences, labels), task="classify", **TINY)
    with pytest.raises(UsageError, match="a classifier .* predicts classes"):
        shell.run_line_magic("windforecast", "classifier --steps 3 --start 2")


# -- issue 12 --------------------------------------------------------------------------------
@pytest.mark.parametrize("order", list(itertools.permutations("abc")), ids="".join)
def test_evaluate_and_backtest_read_columns_in_any_order(order):
    rng = np.random.default_rng(2)
    table = pd.DataFrame({c: rng.normal(size=60) for c in order})
    run = ww.train(table, target="b", covariates=["c"], future_covariates=["a"], **TINY)
    assert np.isfinite(run.evaluate()["mae"])
    assert len(run.backtest(2).frame)
    context = table.iloc[-20:]
    stream = run.forecast(2, context=context, future=table.iloc[:2][["a"]], keep_state=True)
    pd.testing.assert_frame_equal(stream, run.forecast(2, context=context[list("abc")], future=table.iloc[:2][["a"]]),
                                  check_index_type=False)


# -- found while hardening -------------------------------------------------------------------
def test_arguments_are_named_as_the_caller_wrote_them(run, data):
    refused(lambda: run.forecast(3, context=[1.0, 2.0]), "`context` is a list")
    refused(lambda: run.update({"a": [1.0]}), "`new_rows` is a dict")
    refused(lambda: run.forecast(3, start=[1]), "`start` ([1]) is not a label")
    refused(lambda: ww.train(data, model="seq2seq", options={"teacher_forcing": "often"}, **TINY),
            "seq2seq option `teacher_forcing` ('often') must be a number")


def test_windforecast_start_in_digits_is_a_position_of_timestamped_data(run, shell):
    shell.user_ns["hourly"] = run
    shell.run_line_magic("windforecast", "hourly --steps 2 --start 40 --out from_40")
    pd.testing.assert_frame_equal(shell.user_ns["from_40"], run.forecast(2, start=40))
