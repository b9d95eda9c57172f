"""`address=` checked before Ray starts: a head that does not answer is named in seconds (issue 22)."""
import socket
import time

import pytest

import windwidgets as ww
from windwidgets.errors import ConfigError
from windwidgets.scale.cluster import PROBE_SECONDS, RaySession, check_address


def closed_port() -> int:
    """A loopback port nothing listens on: bound, then let go."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_head_that_does_not_answer_is_refused_naming_address_within_the_probe():
    address = f"ray://127.0.0.1:{closed_port()}"
    began = time.monotonic()
    with pytest.raises(ConfigError, match=rf"`address` \('{address}'\) names a Ray head that does not answer "
                                          rf"\(.* within 3 s\); start it \(ray start --head\).*address=None"):
        ww.train(ww.datasets.sine(200), workers=1, address=address, window=6, epochs=1, live=False)
    assert time.monotonic() - began < 10 * PROBE_SECONDS  # not Ray's minutes of retries
    with pytest.raises(ConfigError, match=r"does not answer"):
        RaySession(f"127.0.0.1:{closed_port()}")


@pytest.mark.parametrize("address, message", [
    ("", r"`address` \(''\) must be a Ray address such as 'auto' or 'ray://head:10001', or None"),
    ("   ", r"`address` \('   '\) must be a Ray address"),
    (6379, r"`address` \(6379\) must be a Ray address"),
    ("ray://head", r"`address` \('ray://head'\) names no host and port"),
])
def test_addresses_that_are_no_address_are_refused(address, message):
    with pytest.raises(ConfigError, match=message):
        check_address(address)
    with pytest.raises(ConfigError, match=message):
        ww.train(ww.datasets.sine(200), workers=1, address=address, window=6, epochs=1, live=False)


def test_a_listening_port_and_auto_pass_the_probe():
    with socket.socket() as head:
        head.bind(("127.0.0.1", 0))
        head.listen()
        check_address(f"ray://127.0.0.1:{head.getsockname()[1]}")
    check_address("auto")
    check_address(None)
