import pytest

from windwidgets.config import CHOICES, RunConfig, describe, field_docs, keyword_owners
from windwidgets.errors import ConfigError


def test_keywords_spread_over_sections():
    config = RunConfig.from_kwargs(window=24, hidden_size=16, epochs=3, target="speed")
    assert (config.data.window, config.model.hidden_size, config.train.epochs) == (24, 16, 3)
    assert config.data.target == "speed"


def test_unknown_keyword_suggests_the_nearest_name():
    with pytest.raises(ConfigError, match=r"unknown setting 'hiden_size' \(did you mean 'hidden_size'\?\)"):
        RunConfig.from_kwargs(hiden_size=3)


@pytest.mark.parametrize("settings, message", [
    (dict(window=0), r"`window` \(0\) must be a whole number of at least 1"),
    (dict(window=2.5), r"`window` \(2.5\)"),
    (dict(val_fraction=1.0), r"`val_fraction` \(1.0\) must lie strictly between 0 and 1"),
    (dict(scaler="quantile"), r"`scaler` \('quantile'\) is not one of 'standard', 'minmax', 'robust', None"),
    (dict(nonlinearity="rleu"), r"did you mean 'relu'"),
    (dict(lr=0), r"`lr` \(0\) must be positive"),
    (dict(clip_grad=-1), r"`clip_grad` \(-1\) must be positive, or None"),
    (dict(dropout=1.5), r"`dropout` \(1.5\) must be in \[0, 1\)"),
    (dict(val_fraction="0.3"), r"`val_fraction` \('0.3'\) must be a number, such as 0.2"),
    (dict(lr="abc"), r"`lr` \('abc'\) must be a number, such as 0.001"),
    (dict(bidirectional="no"), r"`bidirectional` \('no'\) must be True or False"),
])
def test_nonsense_numbers_are_refused_with_the_value_and_the_fix(settings, message):
    with pytest.raises(ConfigError, match=message):
        RunConfig.from_kwargs(**settings)


def test_every_field_has_a_comment_and_round_trips():
    docs = field_docs()
    assert set(docs) == set(keyword_owners())
    assert all(comment for _, comment in docs.values()), [k for k, (_, c) in docs.items() if not c]
    config = RunConfig.from_kwargs(window=7, covariates=["a"])
    assert RunConfig.from_dict(config.to_dict()) == config


def test_a_fields_interval_takes_its_closed_ends_only():
    RunConfig.from_kwargs(dropout=0.0, clip_grad=float("inf"))  # "[0, 1)" and "(0, inf]"
    with pytest.raises(ConfigError, match=r"`dropout` \(1.0\) must be in \[0, 1\); try 0.1 or 0.2"):
        RunConfig.from_kwargs(dropout=1.0)
    with pytest.raises(ConfigError, match=r"`lr` \(inf\) must be positive and finite"):
        RunConfig.from_kwargs(lr=float("inf"))


def test_choices_and_checks_come_from_the_fields():
    settings = describe()
    assert CHOICES == {name: s.choices for name, s in settings.items() if s.choices}
    assert all(s.default in s.choices for s in settings.values() if s.choices)
    assert (settings["free_steps"].minimum, settings["season"].optional, settings["live"].optional) == (0, True, False)
    RunConfig.from_kwargs(free_steps=0, season=None)
    with pytest.raises(ConfigError, match=r"`live` \(None\) is not one of"):
        RunConfig.from_kwargs(live=None)


def test_help_of_train_gives_every_default_and_how_the_defaults_were_chosen():
    import windwidgets as ww

    doc = ww.train.__doc__
    for name, (default, comment) in field_docs().items():
        assert f"{name} : default {default!r}\n    {comment}" in doc
        assert ww.train.__signature__.parameters[name].default == default
    notes = doc.split("Notes\n-----\n")[1]
    assert "benchmarks/real_wind.py" in notes
    for name in ("forecast_steps", "horizon", "mode", "loss", "hidden_size", "calendar"):
        assert f"``{name}" in notes, name


def test_sizes_have_upper_bounds_with_the_cap_in_the_message():
    import os

    with pytest.raises(ConfigError, match=r"`ensemble` \(1000000\) is above 64 members.*pass at most 64"):
        RunConfig.from_kwargs(ensemble=10**6)
    assert RunConfig.from_kwargs(ensemble=64).model.ensemble == 64
    most = os.cpu_count() * 4
    with pytest.raises(ConfigError, match=rf"`threads` \(1000000\) is more than 4 per CPU core of this machine "
                                          rf"\({os.cpu_count()} cores\); pass at most {most}, or 'auto'"):
        RunConfig.from_kwargs(threads=10**6)
    assert RunConfig.from_kwargs(threads=most).train.threads == most
    with pytest.raises(ConfigError, match=r"`threads` \(0\) must be 'auto' or a whole number of at least 1"):
        RunConfig.from_kwargs(threads=0)
