"""Rollouts, streams, backtests, baselines, intervals and metrics."""
from ..data.series import season_of
from .backtest import Backtest, Evaluation
from .metrics import point_metrics
from .rollout import future_index, rollout
from .stream import Stream

__all__ = ["Backtest", "Evaluation", "Stream", "future_index", "point_metrics", "rollout", "season_of"]
