import numpy as np
import pandas as pd
import pytest
import torch

import windwidgets as ww


@pytest.fixture(autouse=True, scope="session")
def one_thread():
    """The tests' models are tiny: one thread trains them fastest, and two threads spin
    against each other when anything else shares the cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def small_wind():
    """Three weeks of hourly wind: enough for a window of 24 and a quick fit."""
    return ww.datasets.wind(days=21)


@pytest.fixture
def tiny_settings():
    """Settings for fits that only need to run, not to be good."""
    return dict(hidden_size=8, num_layers=1, window=12, epochs=2, batch_size=32, live=False)


@pytest.fixture
def frame():
    index = pd.date_range("2025-01-01", periods=200, freq="h")
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200),
                         "c": rng.normal(size=200)}, index=index)


@pytest.fixture(autouse=True)
def zoo_as_it_was():
    """Models a test registers leave the zoo when it ends, so no test sees another's."""
    before = set(ww.zoo.names())
    yield
    for name in set(ww.zoo.names()) - before:
        ww.zoo.unregister(name)


def pytest_collection_modifyitems(items):
    """Tests that start Ray carry the ``ray`` marker: ``pytest -m "not ray and not browser"``
    is the fast run."""
    for item in items:
        if "ray_session" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.ray)
