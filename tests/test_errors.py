import numpy as np
import pytest

from windwidgets.errors import ConfigError, ModelError, check_whole


def test_check_whole_takes_whole_numbers_only_and_says_the_fix():
    assert check_whole("workers", np.int64(3)) == 3 and type(check_whole("workers", np.int64(3))) is int
    assert check_whole("free_steps", 0, minimum=0) == 0
    for value in (True, 2.0, "2", None, 0):
        with pytest.raises(ConfigError, match=rf"`workers` \({value!r}\) must be a whole number of at least 1$"):
            check_whole("workers", value)
    with pytest.raises(ModelError, match=r"^convlstm option `kernel_size` \(-1\) must be a whole number, e.g. 3$"):
        check_whole("kernel_size", -1, minimum=0, error=ModelError, hint=", e.g. 3", prefix="convlstm option")
