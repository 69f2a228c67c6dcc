"""Read-back as a destination capability: what a destination holds for a behavior, as exactly as its API allows.

Three kinds (docs/adr/0015-reconcile-read-back-drift-and-repair.md):

* ``ExactReadBack`` (HubSpot lists and contact properties): the destination can be listed, so it answers
  every key value it holds for the behavior; the reconcile step compares them with the committed state
  value by value.
* ``SampledReadBack`` (CleverTap): profiles can only be read one identity at a time, so the reconcile step
  asks about a random sample of committed key values and the destination answers which of them it lacks.
* ``CountReadBack`` (Meta, Google): the API reports an approximate size only; the destination answers it
  with the vendor's rounding and match rate as a range the reconcile step compares with the committed count.

Key values cross this interface in memory only (never logged, never stored): the reconcile step writes
counts to the state database and hashed keys to run artifacts. Readers raise the vendor's error type
(``MetaError``, ``HubSpotError``, ``GoogleAdsError``, ``CleverTapError``) when the vendor cannot answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa

VALUE_SCHEMA = pa.schema([("value", pa.string())])


class Method(StrEnum):
    """How a destination's holdings were compared with the committed state."""

    EXACT = "exact"
    SAMPLED = "sampled"
    COUNT = "count"


@dataclass(frozen=True)
class HeldValues:
    """What an exact read-back found: the key values held for the behavior (``VALUE_SCHEMA``), how many
    members it holds without a key value (never ours: we add by key value), and notes (counts, flags)."""

    values: pa.Table
    unaddressable: int = 0
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportedCount:
    """An approximate size: the true count lies in [``low``, ``high``] by the vendor's rounding
    (``rounding`` says how), and counts only matched members, a share in [``match_low``, ``match_high``] of
    those uploaded. ``zero_below``: the vendor may report 0 for lists smaller than this (0: never)."""

    low: int
    high: int
    rounding: str
    match_low: float = 1.0
    match_high: float = 1.0
    zero_below: int = 0
    notes: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class ExactReadBack(Protocol):
    """A destination whose holdings can be listed; ``key_type`` is the state's identifier type it keys on."""

    key_type: str

    def held(self, committed: Callable[[], Sequence[str]]) -> HeldValues:
        """Every key value the destination holds for the behavior. ``committed()`` gives the committed key values
        (a destination that cannot list by membership, e.g. a contact property, looks them up)."""
        ...


@runtime_checkable
class SampledReadBack(Protocol):
    """A destination that can only be asked one key value at a time."""

    key_type: str

    def lacking(self, sample: Sequence[str]) -> list[str]:
        """The values of ``sample`` the destination does not hold for the behavior."""
        ...


@runtime_checkable
class CountReadBack(Protocol):
    """A destination that reports an approximate size only."""

    def count(self) -> ReportedCount:
        """The size the vendor reports now, as a range with its rounding and match rate."""
        ...


ReadBack = ExactReadBack | SampledReadBack | CountReadBack
# The read-back each destination type has (a capability, as data).
METHODS = {"hubspot": Method.EXACT, "clevertap": Method.SAMPLED, "meta": Method.COUNT, "google_ads": Method.COUNT}


def values_table(values: Sequence[str]) -> pa.Table:
    """``values`` as a ``VALUE_SCHEMA`` table."""
    return pa.table({"value": pa.array(list(values), pa.string())}, schema=VALUE_SCHEMA)


def two_digit_range(size: int) -> tuple[int, int]:
    """The true counts a size rounded down to two significant digits may stand for: [size, next step)."""
    if size <= 0:
        return 0, 0
    step = 10 ** max(len(str(size)) - 2, 0)
    return size, size + step - 1
