"""One-sided bounds in the magics and `none` in a TOML body, as the README writes them (issue 22)."""
import pytest
from IPython.core.error import UsageError

from windwidgets.config import RunConfig
from windwidgets.magic_options import parse_body, parse_line
from windwidgets.magics import config_options


@pytest.mark.parametrize("line, bounds", [
    ("--bounds power=[0,none]", {"power": [0, None]}),
    ("--bounds power=[none,2050]", {"power": [None, 2050]}),
    ("--bounds power=[0,]", {"power": [0, None]}),
    ("--bounds power=[,2050],speed=[0,inf]", {"power": [None, 2050], "speed": [0, float("inf")]}),
    ('--bounds "power=[0, None]"', {"power": [0, None]}),
])
def test_one_sided_bounds_on_the_line(line, bounds):
    values, _ = parse_line(line, config_options(), "windtrain")
    assert values == {"bounds": bounds}
    # what ww.train takes; a run's config holds each pair as a tuple, read-only
    assert RunConfig.from_kwargs(**values).data.bounds == {k: tuple(v) for k, v in bounds.items()}


@pytest.mark.parametrize("body, expected", [
    ("bounds = {power = [0, none]}", {"bounds": {"power": [0, None]}}),
    ('bounds = {power = [none, 2050]}\n[train]\nepochs = 3', {"bounds": {"power": [None, 2050]}, "epochs": 3}),
    ('bounds = {power = [0, "none"]}', {"bounds": {"power": [0, None]}}),
    ("scaler = none  # none: the raw values", {"scaler": None}),
    ('target = "none_of_them"\nseason = none', {"target": "none_of_them", "season": None}),
])
def test_none_in_a_toml_body(body, expected):
    assert parse_body(body, config_options()) == expected


def test_none_where_none_is_no_value_is_refused_in_one_line():
    with pytest.raises(UsageError, match=r"--epochs takes a whole number, not 'none'"):
        parse_body("epochs = none", config_options())


def test_a_freq_pandas_cannot_step_by_is_one_line_in_the_magic_and_bounds_train():
    from IPython.core.interactiveshell import InteractiveShell

    import windwidgets as ww

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "windwidgets")
    try:
        shell.user_ns["df"] = ww.datasets.wind(days=5)
        with pytest.raises(UsageError, match=r"^`freq` \('0h'\) is a step of zero length; pass a positive one"):
            shell.run_line_magic("windtrain", "--data df --freq 0h --epochs 1")
        shell.run_cell_magic("windtrain", "--data df --target speed --window 6 --hidden-size 4 --num-layers 1 "
                             "--epochs 1 --live false", "bounds = {speed = [0, none]}\n")
        assert shell.user_ns["run"].config.data.bounds == {"speed": (0, None)}
        assert (shell.user_ns["run"].forecast(4)["speed"] >= 0).all()
    finally:
        shell.run_line_magic("unload_ext", "windwidgets")
