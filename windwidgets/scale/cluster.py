"""Starting Ray for a sweep: on this machine bound to loopback, or on a cluster by address."""
from __future__ import annotations

import os
import socket

from ..errors import ConfigError, check_whole

INSTALL = 'pip install "windwidgets[ray]"  (or: pip install "ray[tune,train]")'
LOOPBACK = "127.0.0.1"
LOCAL_ONLY = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
PROBE_SECONDS = 3.0  # a head that has not answered by then is not there: Ray itself would wait minutes


def require_ray(what: str = "ww.sweep"):
    """The ``ray`` module, or an error that says what to install."""
    try:
        import ray
        from ray import tune  # noqa: F401  the extra installs both
    except ImportError:
        raise ImportError(f"{what} runs on Ray, which is not installed here; install it with {INSTALL}, "
                          "then restart the kernel") from None
    return ray


class RaySession:
    """Ray for the length of a sweep: joins a running Ray, or starts one, and shuts down only
    the one it started (unless ``keep`` asks to leave it for the next sweep).

    Parameters
    ----------
    address : None starts Ray on this machine (or joins the one ``RAY_ADDRESS`` names);
        "auto" or "ray://host:10001" joins a cluster. A cluster that uses token authentication
        (``RAY_AUTH_MODE=token``) reads the token from its usual environment variable.
    num_cpus : CPUs a local Ray may use; None lets Ray count them.
    keep : leave a Ray this session started running after the sweep, for the next one.
    """

    def __init__(self, address: str | None = None, num_cpus: int | None = None, keep: bool = False):
        if num_cpus is not None:
            num_cpus = check_whole("num_cpus", num_cpus, hint=", or None to let Ray count the CPUs")
        check_address(address)
        self.address, self.num_cpus, self.keep = address, num_cpus, keep
        self.started = False

    def __enter__(self):
        address = self.address or os.environ.get("RAY_ADDRESS") or None
        if address is None:
            # Local: Ray's processes bind to loopback only when this is off (it is what Ray does
            # on Windows and macOS); they read it at import, so it is set before Ray starts them.
            os.environ.setdefault(LOCAL_ONLY, "0")
        ray = require_ray()
        if ray.is_initialized():
            return self
        if address is None:
            _local_only_here()
            ray.init(num_cpus=self.num_cpus, include_dashboard=False, _node_ip_address=LOOPBACK,
                     configure_logging=False, log_to_driver=False)  # trials print nothing; errors come back
        else:
            ray.init(address=address)
        self.started = True
        return self

    def __exit__(self, *exc) -> None:
        if self.started and not self.keep:
            require_ray().shutdown()

    def cpus(self) -> int:
        """CPUs Ray has for trials."""
        return max(1, int(require_ray().cluster_resources().get("CPU", 1)))


def check_address(address) -> None:
    """Refuse an ``address`` that is no Ray address, or whose head does not answer within
    :data:`PROBE_SECONDS` (Ray's own connection retries run for minutes, then exit the process)."""
    example = "such as 'auto' or 'ray://head:10001', or None for Ray on this machine"
    if address is None or address in ("auto", "local"):
        return  # "auto" finds the address itself, and says so at once when there is none
    if not isinstance(address, str) or not address.strip():
        raise ConfigError(f"`address` ({address!r}) must be a Ray address {example}")
    host, _, port = address.split("://", 1)[-1].rstrip("/").rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"`address` ({address!r}) names no host and port; pass a Ray address {example}")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_SECONDS).close()
    except OSError as error:
        raise ConfigError(
            f"`address` ({address!r}) names a Ray head that does not answer ({error.strerror or error} within "
            f"{PROBE_SECONDS:g} s); start it (ray start --head), check the host and port, or pass "
            "address=None to run Ray on this machine"
        ) from None


def _local_only_here() -> None:
    """The same switch for a ``ray`` imported in this process before it was set (Ray reads it
    into a constant at import; its services look the constant up when they start)."""
    if os.environ.get(LOCAL_ONLY) != "0":
        return  # the person asked for Ray's cluster behaviour on purpose
    try:
        from ray._private import ray_constants
    except ImportError:  # pragma: no cover - another layout of Ray's internals
        return
    ray_constants.ENABLE_RAY_CLUSTER = False


def first_line(error) -> str:
    """The line of a (remote) traceback that names the error: the exception's own line comes
    last in one Ray relays."""
    text = str(getattr(error, "cause", None) or error)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error" in line:
            return line
    return lines[-1] if lines else repr(error)
