"""What the framework integrations share (imports no framework)."""

from __future__ import annotations

from curate.balance import BalancePlan
from curate.exceptions import CurateValueError

__all__ = ["check_constant_size"]


def check_constant_size(plan: BalancePlan, owner: str, who: str) -> None:
    """Refuse a plan whose epochs differ in size: ``who`` reads the sampler's length once,
    so longer epochs would be cut short and shorter ones fail, in silence."""
    if not plan.constant_epoch_size:
        sizes = sorted({int(plan.draw(e).sum()) for e in range(4)})
        raise CurateValueError(
            f"{owner} needs a plan with the same number of copies every epoch, but this one "
            f"({plan.method}, {plan.rounding} rounding) draws {sizes} in epochs 0-3; {who} "
            "fixes the steps per epoch at the first epoch, so later epochs would be cut short. "
            "Use a plan with whole expected copies: curate.InterClassBalancer(), "
            "repeat_factor(..., rounding='ceil') or oversample_rare with a whole factor"
        )
