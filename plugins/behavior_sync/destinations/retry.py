"""Bounds and waits of the destination clients' own retries (the inner of the two retry layers).

Shared by every destination client: ``Action``/``ErrorRule`` are the rows of their error tables,
``RetryPolicy`` bounds tries and waits, ``backoff_seconds`` is the
capped exponential wait before a retry, ``jittered`` spreads retries of parallel workers, and
``ThrottleBudget`` caps the total time one client spends waiting out rate limits (then the task
fails and Airflow's task retries, the outer layer, take over). Waits are injected (``sleep``) by
the clients so tests run instantly.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass


class Action(enum.Enum):
    """What a client does with an error (the action column of a destination's error table)."""

    RETRY = "retry"  # transient: retried a bounded number of times with backoff
    THROTTLE = "throttle"  # rate limited: wait (within a time budget), then resume
    FAIL = "fail"  # needs a person: the task fails with the advice


@dataclass(frozen=True)
class ErrorRule:
    """One row of an error table: the action and the advice shown to the user."""

    action: Action
    advice: str


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds of the client's retries (seconds). ``attempts`` counts tries of one call on transient errors."""

    attempts: int = 5
    backoff_seconds: float = 2.0
    max_backoff_seconds: float = 60.0
    throttle_budget_seconds: float = 900.0
    timeout_seconds: float = 300.0


def backoff_seconds(policy: RetryPolicy, attempt: int) -> float:
    """The wait after failed try number ``attempt`` (1-based): doubling from ``backoff_seconds``, capped."""
    return min(policy.max_backoff_seconds, policy.backoff_seconds * 2.0 ** (attempt - 1))


def jittered(seconds: float) -> float:
    """``seconds`` scaled by a random factor in [0.5, 1.0] (full-jitter style, never longer)."""
    factor: float = random.uniform(0.5, 1.0)
    return seconds * factor


class ThrottleBudget:
    """Total seconds a client may wait on rate limits (``RetryPolicy.throttle_budget_seconds``)."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.limit = policy.throttle_budget_seconds
        self.spent = 0.0

    def spend(self, seconds: float) -> bool:
        """Books a wait of ``seconds``; False (nothing booked) when it would exceed the budget."""
        if self.spent + seconds > self.limit:
            return False
        self.spent += seconds
        return True
