"""Translate an Airflow task context into the core's plain run values."""

from __future__ import annotations

from typing import Any

from behavior_sync.artifacts import RunArtifacts, default_artifacts_base
from behavior_sync.config import Behavior
from behavior_sync.runs import RunOptions, RunWindow, resolve_window

ARTIFACTS_BASE_VARIABLE = "behavior_sync_artifacts_base"


def run_window(context: Any, behavior: Behavior) -> RunWindow:
    """The run's data window; manual runs (no logical date in Airflow 3) get one ending at ``run_after``."""
    dag_run = context["dag_run"]
    return resolve_window(
        context.get("data_interval_start"), context.get("data_interval_end"), dag_run.run_after, behavior.schedule
    )


def run_artifacts(context: Any, behavior: Behavior) -> RunArtifacts:
    """Artifact locations of this run; the base comes from the Airflow variable ``behavior_sync_artifacts_base``."""
    from airflow.sdk import Variable

    base = Variable.get(ARTIFACTS_BASE_VARIABLE, default=None) or default_artifacts_base()
    return RunArtifacts(base=base, behavior=behavior.slug, run_id=context["dag_run"].run_id)


def run_options(context: Any, behavior: Behavior) -> RunOptions:
    """``dry_run`` / ``full_resync`` / ``destinations`` of this run (validated against the behavior)."""
    return RunOptions.from_params(context["params"], [d.id for d in behavior.destinations])
