"""The compensation ceiling: spend less on keeping a customer than losing them would cost (source 003)."""

from __future__ import annotations

from dataclasses import dataclass

from remedies.playbook import Mode

FORMULA = "ceiling = lifetime value × margin × churn probability"
ABUSE_NOTE = (
    "abuse risk: no automatic compensation; any payment is decided after the written claim and the lawyer's review"
)


@dataclass(frozen=True)
class Budget:
    """How much compensation a plan may spend.

    `ceiling` is None when it cannot be computed; `automatic` says whether money may be offered without a person's
    approval; `arithmetic` is the computation as text (e.g. "60000 × 0.25 × 0.80 = 12000"); `note` explains it.
    """

    ceiling: float | None
    automatic: bool
    arithmetic: str | None
    note: str


def _show(value: float) -> str:
    """A number as the arithmetic shows it: whole amounts without decimals, fractions with 2 to 4 decimals."""
    if value >= 1 and float(value).is_integer():
        return f"{value:.0f}"
    whole, _, fraction = f"{value:.4f}".partition(".")
    return f"{whole}.{fraction.rstrip('0').ljust(2, '0')}"


def compensation_budget(
    mode: Mode, churn_probability: float, lifetime_value: float | None, margin: float | None
) -> Budget:
    """The compensation ceiling of a plan.

    The price of a lost customer is the profit they would bring over their lifetime (lifetime value × margin);
    weighted by the probability that they leave, it is the expected loss, and keeping them must cost less:
    ceiling = lifetime value × margin × churn probability, rounded to cents. Under abuse risk and for
    non-complaints there is no automatic compensation (ceiling 0); under human review the ceiling is only a
    reference for the reviewer.
    """
    if lifetime_value is not None and lifetime_value < 0:
        raise ValueError(f"lifetime value must not be negative, got {lifetime_value}")
    if margin is not None and not 0 <= margin <= 1:
        raise ValueError(f"margin must be a fraction between 0 and 1, got {margin}")
    if mode == "abuse":
        return Budget(0.0, False, None, ABUSE_NOTE)
    if mode == "no_action":
        return Budget(0.0, False, None, "not a complaint: no compensation")
    automatic = mode != "human_review"
    if lifetime_value is None or margin is None:
        return Budget(None, automatic, None, "no ceiling: give the customer's lifetime value and margin to compute one")
    ceiling = round(lifetime_value * margin * churn_probability, 2)
    arithmetic = f"{_show(lifetime_value)} × {_show(margin)} × {_show(churn_probability)} = {_show(ceiling)}"
    note = f"{FORMULA}: the expected profit lost if the customer leaves; spend less than this to keep them"
    if not automatic:
        note += " (a reference for the reviewer: nothing is promised before human review)"
    return Budget(ceiling, automatic, arithmetic, note)
