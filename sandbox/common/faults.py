"""Fault injection shared by the sandboxes: random errors and latency, plus scripted faults.

Two mechanisms, both vendor-neutral (the vendor sandbox turns a ``Fault`` into its own error body):

* ``FaultConfig`` — a random error rate, the HTTP statuses to draw from, a fixed latency plus
  jitter, and a seed. With a seed the sequence of outcomes is deterministic for a given order
  of calls: each call draws exactly one number for the error decision, one for the status when it
  fails, and one for the jitter when jitter is configured.
* ``ScriptedFault`` — "the next N calls matching this pattern fail like this", for tests such as
  "throttled once, then success" or "a burst of five 503s". Scripted faults are consumed in the
  order they were added and take precedence over random ones.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class FaultConfig:
    """Random faults: ``error_rate`` in [0, 1], latencies in milliseconds, optional seed."""

    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 503)
    latency_ms: int = 0
    latency_jitter_ms: int = 0
    seed: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError(f"error_rate must be within [0, 1], got {self.error_rate}")
        if self.latency_ms < 0 or self.latency_jitter_ms < 0:
            raise ValueError("latencies must be >= 0")
        if not self.error_statuses:
            raise ValueError("error_statuses must not be empty")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> FaultConfig:
        """Build from JSON-like data; unknown keys raise ``ValueError``."""
        unknown = set(data) - {"error_rate", "error_statuses", "latency_ms", "latency_jitter_ms", "seed"}
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        statuses = tuple(int(s) for s in data.get("error_statuses", cls.error_statuses))
        seed = data.get("seed")
        return cls(
            error_rate=float(data.get("error_rate", 0.0)),
            error_statuses=statuses,
            latency_ms=int(data.get("latency_ms", 0)),
            latency_jitter_ms=int(data.get("latency_jitter_ms", 0)),
            seed=None if seed is None else int(seed),
        )


@dataclass(frozen=True)
class ScriptedFault:
    """Fail the next ``count`` calls whose ``"METHOD /path"`` matches ``match`` (``re.search``).

    ``spec`` is vendor-specific (e.g. Meta: ``code``, ``error_subcode``, ``http_status``).
    """

    match: str
    count: int
    spec: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError("count must be >= 1")
        re.compile(self.match)  # raises re.error early on a bad pattern

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (for inspection endpoints)."""
        return {"match": self.match, "remaining": self.count, **self.spec}


@dataclass(frozen=True)
class Fault:
    """A fault to apply to one call: the HTTP status and the vendor spec (empty for random ones)."""

    status: int
    spec: Mapping[str, Any]
    scripted: bool


class FaultInjector:
    """Decides, per call, whether to inject a fault and how long to delay. Thread-safe."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self._config = config or FaultConfig()
        self._rng = random.Random(self._config.seed)
        self._scripted: list[ScriptedFault] = []

    @property
    def config(self) -> FaultConfig:
        """The random-fault settings in force."""
        return self._config

    def configure(self, config: FaultConfig) -> None:
        """Replace the random-fault settings and reseed (scripted faults are kept)."""
        with self._lock:
            self._config = config
            self._rng = random.Random(config.seed)

    def script(self, fault: ScriptedFault) -> None:
        """Queue a scripted fault after those already queued."""
        with self._lock:
            self._scripted.append(fault)

    def clear_scripted(self) -> None:
        """Drop every pending scripted fault."""
        with self._lock:
            self._scripted.clear()

    def pending(self) -> list[dict[str, Any]]:
        """The scripted faults still queued, oldest first."""
        with self._lock:
            return [fault.as_dict() for fault in self._scripted]

    def next_fault(self, method: str, path: str, default_status: int = 400) -> Fault | None:
        """The fault for this call, if any; consumes one use of a matching scripted fault."""
        with self._lock:
            scripted = self._take_scripted(f"{method.upper()} {path}")
            if scripted is not None:
                status = int(scripted.spec.get("http_status", default_status))
                return Fault(status, scripted.spec, scripted=True)
            if self._rng.random() < self._config.error_rate:
                return Fault(self._rng.choice(self._config.error_statuses), {}, scripted=False)
            return None

    def latency_seconds(self) -> float:
        """The delay to add to this call, in seconds (fixed part plus seeded jitter)."""
        with self._lock:
            jitter = self._rng.uniform(0, self._config.latency_jitter_ms) if self._config.latency_jitter_ms else 0.0
            return (self._config.latency_ms + jitter) / 1000.0

    def _take_scripted(self, target: str) -> ScriptedFault | None:
        for index, fault in enumerate(self._scripted):
            if re.search(fault.match, target):
                if fault.count == 1:
                    del self._scripted[index]
                else:
                    self._scripted[index] = replace(fault, count=fault.count - 1)
                return fault
        return None
