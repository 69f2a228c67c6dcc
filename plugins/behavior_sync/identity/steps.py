"""The identity steps of a behavior run, as the Airflow layer calls them (plain values in and out)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from behavior_sync import parquet_io
from behavior_sync.artifacts import RunArtifacts
from behavior_sync.identity.engine import IdentityError, scrubbed
from behavior_sync.identity.prepare import PreparedSummary, PrepareTarget, prepare_destinations
from behavior_sync.identity.quality import GateResult, run_gate
from behavior_sync.identity.spec import IdentitySpec
from behavior_sync.identity.validate import ValidationSummary, validate_snapshot
from behavior_sync.sync.state import StateStore


class QualityGateFailed(Exception):
    """The snapshot failed the data-quality gate: no destination may be touched."""


@dataclass(frozen=True)
class ValidateOutcome:
    """What the validate step produced: counts and the gate's result (no identifier values)."""

    summary: ValidationSummary
    gate: GateResult

    def as_dict(self) -> dict[str, Any]:
        """JSON-serializable form for XCom and history."""
        return {"summary": self.summary.as_dict(), "gate": self.gate.as_dict()}


def validate_step(behavior: Any, artifacts: RunArtifacts, snapshot_uri: str | None = None) -> ValidateOutcome:
    """Validates the run's snapshot, writes identities + quarantine, then runs the quality gate on the counts.

    ``behavior`` is a ``behavior_sync.config.Behavior``. Raises ``IdentityError`` on engine/storage
    failures. A failed gate does not raise here: ``check_gate`` does, after the caller recorded it.
    """
    uri = snapshot_uri or artifacts.snapshot_uri
    spec = IdentitySpec.from_behavior(behavior)
    summary = validate_snapshot(uri, artifacts.identity_dir, spec)
    with scrubbed("read the snapshot's columns"):
        columns = parquet_io.read_dataset(uri).schema.names
    gate = run_gate(summary.metrics, columns, behavior.required_columns(), dict(behavior.quality))
    return ValidateOutcome(summary, gate)


def check_gate(behavior_slug: str, gate: GateResult) -> None:
    """Raises ``QualityGateFailed`` naming the behavior, the failed expectations and observed values."""
    if not gate.success:
        raise QualityGateFailed(
            f"data-quality gate failed for behavior {behavior_slug!r}; nothing was sent to any destination:\n"
            f"{gate.message()}\nFix the behavior's query or data, or adjust its `quality` thresholds."
        )


def prepare_step(
    behavior: Any,
    artifacts: RunArtifacts,
    destination_ids: Iterable[str],
    store: StateStore | None = None,
    full_resync: bool = False,
) -> dict[str, PreparedSummary]:
    """Prepares the identifiers of each chosen destination from the run's identities; returns counts per id.

    With a state ``store`` (and not ``full_resync``), a destination whose committed state carries
    member fingerprints is prepared incrementally: only members that changed since are prepared. With a
    store, what earlier runs got acknowledged but never committed is folded into each destination's
    state first (``sync.fold``), so the fingerprints and the plan start from what the destination holds.
    """
    from behavior_sync.sync.fold import fold_open_plans

    spec = IdentitySpec.from_behavior(behavior)
    identities = f"{artifacts.identity_dir}/identities.parquet"
    targets = {}
    for destination_id in destination_ids:
        if store is not None:
            fold_open_plans(store, behavior.slug, destination_id, artifacts.run_id)
        state = None if store is None or full_resync else store.current(behavior.slug, destination_id)
        base: dict[str, Any] = {}
        if state is not None and state.members_uri is not None:
            base = {"base_version": state.version, "base_members_uri": state.members_uri}
        targets[destination_id] = PrepareTarget(
            artifacts.prepared_uri(destination_id),
            artifacts.prepared_members_uri(destination_id),
            summary_uri=artifacts.prepared_summary_uri(destination_id),
            **base,
        )
    return prepare_destinations(identities, spec, targets)


__all__ = ["IdentityError", "QualityGateFailed", "ValidateOutcome", "check_gate", "prepare_step", "validate_step"]
