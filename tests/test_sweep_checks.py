"""`ww.sweep` checks every value of its space against the data, and its own arguments,
before Ray starts (issue 22)."""
import sys

import pytest

import windwidgets as ww
from windwidgets.errors import ConfigError, DataError
from windwidgets.scale.space import SearchSpace

TINY = dict(hidden_size=4, num_layers=1, epochs=1, batch_size=16)


@pytest.fixture
def data():
    return ww.datasets.sine(120)


def ray_started() -> bool:
    ray = sys.modules.get("ray")
    return ray is not None and ray.is_initialized()


def test_every_list_value_and_both_range_ends_are_points_to_check():
    space = SearchSpace({"window": [6, 12, 6], "hidden_size": {"uniform": [4, 64]}, "options": [{}, {"a": 1}]})
    points = [(name, value) for name, value, _ in space.points()]
    assert points == [(None, None), ("window", 12), ("options", {"a": 1}), ("hidden_size", 64)]
    assert space.points()[3][2] == {"window": 6, "options": {}, "hidden_size": 64}


@pytest.mark.parametrize("space, shown", [
    ({"window": [6, 500]}, r"`space` gives 'window' the value 500, which fails on the data: `window` \+ `horizon` "
                           r"\(500 \+ 1\) is longer than the training part"),
    ({"window": {"uniform": [6, 500]}}, r"`space` gives 'window' the value 500, which fails on the data"),
    ({"target": ["y", "speed"]}, r"`space` gives 'target' the value 'speed', which fails on the data: `target` names "
                                 r"column 'speed', which is not in the data"),
])
def test_a_value_past_the_first_that_fails_on_the_data_is_named_before_ray_starts(data, space, shown):
    with pytest.raises(DataError, match=shown):
        ww.sweep(data, space, live=False, **TINY)
    assert not ray_started()


@pytest.mark.parametrize("arguments, message", [
    (dict(live="yes"), r"`live` \('yes'\) is not one of 'auto', 'widgets', 'text', False, True"),
    (dict(keep_ray="no"), r"`keep_ray` \('no'\) must be True or False"),
])
def test_the_sweeps_own_arguments_are_checked_as_ww_train_checks_its_own(data, arguments, message):
    with pytest.raises(ConfigError, match=message):
        ww.sweep(data, {"window": [6, 12]}, **{"live": False, **arguments}, **TINY)
    assert not ray_started()


@pytest.mark.parametrize("space, fixed", [({"lr": [1e-3, 1e-2]}, {"refit": True}), ({"refit": [False, True]}, {})])
def test_a_sweep_refuses_refit_whose_weights_its_trials_never_send(data, space, fixed):
    # a trial reports the weights of its best epoch as it goes; a refit after the last one would be lost,
    # and sweep.best would be a validated model whose settings say refit=True
    with pytest.raises(ConfigError, match=r"`refit=True` in a sweep: .*ww.train\(data, \*\*result.settings\(trial\), "
                                          r"refit=True\)"):
        ww.sweep(data, space, live=False, **TINY, **fixed)
    assert not ray_started()
