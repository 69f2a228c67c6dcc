"""Operators of the identity steps: validate (per-row checks + quality gate) and prepare (per destination)."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from behavior_sync.config import Behavior
from behavior_sync_airflow.run_context import run_artifacts, run_options

IDENTITY_XCOM_KEY = "identity"


class ValidateIdentifiersOperator(BaseOperator):
    """Validates the run's snapshot: identities + quarantine Parquet, then the data-quality gate.

    Pushes the counts and the gate's result (XCom key ``identity``) before failing on a failed gate,
    so the record tasks can write them to history. Fails without retries on a failed gate (data does
    not fix itself between attempts). Idempotent: a retry rewrites the same files.
    """

    ui_color = "#fcf3cf"

    def __init__(self, *, behavior: Behavior, extract_task_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.behavior, self.extract_task_id = behavior, extract_task_id

    def execute(self, context: Any) -> dict[str, Any]:
        from behavior_sync.identity.steps import QualityGateFailed, check_gate, validate_step

        extract = context["ti"].xcom_pull(task_ids=self.extract_task_id)
        outcome = validate_step(self.behavior, run_artifacts(context, self.behavior), extract["snapshot_uri"])
        context["ti"].xcom_push(key=IDENTITY_XCOM_KEY, value=outcome.as_dict())
        summary = outcome.summary
        self.log.info(
            "validated %d rows -> %d members (dropped %s) in %.2f s; invalid identifiers: %s",
            summary.rows,
            summary.members,
            dict(summary.dropped),
            summary.seconds,
            _invalid_counts(summary.fields),
        )
        for dest_id, counts in summary.destinations.items():
            self.log.info(
                "%s: %d usable, %d quarantined %s", dest_id, counts["usable"], counts["quarantined"], counts["reasons"]
            )
        self.log.info(
            "quality gate: %s in %.2f s", "passed" if outcome.gate.success else "FAILED", outcome.gate.seconds
        )
        try:
            check_gate(self.behavior.slug, outcome.gate)
        except QualityGateFailed as exc:
            raise AirflowFailException(str(exc)) from None
        return {"identities_uri": summary.identities_uri, "members": summary.members}


class PrepareIdentifiersOperator(BaseOperator):
    """Normalizes and hashes identifiers per destination chosen for this run; XCom: counts and paths only.

    Incremental: a destination whose committed state has member fingerprints gets only the members
    that changed since prepared (all of them with ``full_resync``).
    """

    ui_color = "#fdebd0"

    def __init__(self, *, behavior: Behavior, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.behavior = behavior

    def execute(self, context: Any) -> dict[str, Any]:
        from behavior_sync.identity.steps import prepare_step
        from behavior_sync_airflow.sync_operators import state_store

        options = run_options(context, self.behavior)
        with state_store(context, self.behavior) as store:
            prepared = prepare_step(
                self.behavior, run_artifacts(context, self.behavior), options.destinations, store, options.full_resync
            )
        for dest_id, summary in prepared.items():
            self.log.info(
                "%s: %d members, %d prepared (%s) -> %d identifiers %s in %.2f s",
                dest_id,
                summary.members,
                summary.changed_members,
                f"changed since state v{summary.base_version}" if summary.base_version else "all",
                summary.rows,
                dict(summary.by_type),
                summary.seconds,
            )
        return {dest_id: summary.as_dict() for dest_id, summary in prepared.items()}


def _invalid_counts(fields: Any) -> dict[str, int]:
    """Invalid identifier counts by reason code, over all fields."""
    out: dict[str, int] = {}
    for counts in fields.values():
        for reason, n in counts["invalid"].items():
            out[reason] = out.get(reason, 0) + n
    return out


def identity_details(
    identity: dict[str, Any] | None, prepared: dict[str, Any] | None, destination_id: str
) -> dict[str, Any]:
    """The identity part of a destination's history details (counts and codes only)."""
    if identity is None:
        return {}
    summary, gate = identity["summary"], identity["gate"]
    dest = summary["destinations"].get(destination_id, {})
    return {
        "members": summary["members"],
        "dropped": summary["dropped"],
        "invalid_identifiers": _invalid_counts(summary["fields"]),
        "usable": dest.get("usable"),
        "quarantined": dest.get("quarantined"),
        "quarantine_reasons": dest.get("reasons", {}),
        "quality_gate": {"success": gate["success"], "failed": [c for c in gate["checks"] if not c["success"]]},
        "prepared": (prepared or {}).get(destination_id),
    }
