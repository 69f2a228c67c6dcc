"""Retry bounds shared by the destination clients: backoff with jitter and a per-client throttle budget.

Two retry layers (style rule 10): a client retries transient errors ``attempts`` times with
exponential backoff and waits out the vendor's rate limits within ``throttle_budget_seconds``;
Airflow's task retries are the outer layer. Waits are injected (``sleep``) so tests never sleep.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds of the client's retries (seconds). ``attempts`` counts tries of one call on transient errors."""

    attempts: int = 5
    backoff_seconds: float = 2.0
    max_backoff_seconds: float = 60.0
    throttle_budget_seconds: float = 900.0
    timeout_seconds: float = 300.0

    def backoff(self, attempt: int) -> float:
        """Exponential backoff before try ``attempt + 1`` (``attempt`` >= 1), capped, without jitter."""
        return float(min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (attempt - 1)))

    def jittered(self, attempt: int) -> float:
        """``backoff(attempt)`` scaled by a random factor in [0.5, 1) so retrying workers spread out."""
        return self.backoff(attempt) * random.uniform(0.5, 1.0)


class ThrottleBudget:
    """Seconds a client may spend waiting out rate limits in one task (``RetryPolicy.throttle_budget_seconds``)."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.limit = policy.throttle_budget_seconds
        self.spent = 0.0

    def take(self, delay: float) -> bool:
        """Spends ``delay`` seconds when the budget allows it and returns True; else False (nothing spent)."""
        if self.spent + delay > self.limit:
            return False
        self.spent += delay
        return True
