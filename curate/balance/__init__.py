"""Rebalancing plans: the integer-program balancer, baselines and the plan type they share."""

from curate.balance import baselines
from curate.balance._balancer import InterClassBalancer
from curate.balance._frontier import frontier
from curate.balance._persist import manifest_indices
from curate.balance._plan import BalancePlan, PlanStatus
from curate.balance._quality import (
    coefficient_of_variation,
    imbalance_ratio,
    kl_to_uniform,
    plan_quality,
)
from curate.balance._solvers import available_solvers

__all__ = [
    "BalancePlan",
    "InterClassBalancer",
    "PlanStatus",
    "available_solvers",
    "baselines",
    "coefficient_of_variation",
    "frontier",
    "imbalance_ratio",
    "kl_to_uniform",
    "manifest_indices",
    "plan_quality",
]
