"""Rebalancing plans: the integer-program balancer, baselines and the plan type they share."""

from curate.balance._plan import BalancePlan, PlanStatus

__all__ = ["BalancePlan", "PlanStatus"]
