"""The examples in the models' docstrings run and show what they claim."""
import doctest
import importlib

import pytest
import torch

import windwidgets as ww


@pytest.mark.parametrize("name", ["recurrent", "peephole", "convlstm", "cnn_lstm", "seq2seq", "ensemble"])
def test_model_docstring_examples(name):
    module = importlib.import_module(f"windwidgets.zoo.{name}")
    result = doctest.testmod(module, extraglobs={"torch": torch, "ww": ww}, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
