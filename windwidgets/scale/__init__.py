"""Ray for windwidgets: start it (local and on loopback by default, or a cluster), check
that it is installed, and turn a search space into trials. Ray is an optional extra."""
from .cluster import RaySession, require_ray
from .space import SearchSpace

__all__ = ["RaySession", "SearchSpace", "require_ray"]
