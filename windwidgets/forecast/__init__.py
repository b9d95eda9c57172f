"""Rollouts and metrics."""
from .metrics import point_metrics
from .rollout import future_index, rollout, season_of

__all__ = ["future_index", "point_metrics", "rollout", "season_of"]
