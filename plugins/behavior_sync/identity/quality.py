"""The data-quality gate: a Great Expectations suite (include/schemas/quality/snapshot_gate.json) on a snapshot.

The suite runs on aggregates, not rows: one row of metrics computed by the validate step over the
whole snapshot (``ValidationSummary.metrics``) and a zero-row frame carrying the snapshot's column
names. Its cost is therefore independent of the snapshot's size, and no identifier value ever
reaches Great Expectations (whose results quote unexpected values). GX Core runs in an ephemeral
context and is imported only here, inside the task (its import costs ~3 s).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from behavior_sync.paths import schemas_dir

SUITE_FILE = "quality/snapshot_gate.json"


@dataclass(frozen=True)
class GateCheck:
    """One expectation's outcome: what was checked, the bound, what was observed."""

    expectation: str
    column: str
    success: bool
    observed: Any
    bound: str
    explains: str


@dataclass(frozen=True)
class GateResult:
    """The gate's outcome (plain data: safe for logs, XCom and history)."""

    success: bool
    checks: tuple[GateCheck, ...]
    seconds: float  # validation time, without the one-off import of Great Expectations

    def failures(self) -> list[GateCheck]:
        """The checks that failed."""
        return [check for check in self.checks if not check.success]

    def message(self) -> str:
        """One line per failed expectation with its bound and observed value ('' when passed)."""
        return "\n".join(
            f"- {c.expectation} on {c.column}: expected {c.bound}, observed {c.observed} ({c.explains})"
            for c in self.failures()
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-serializable form."""
        return {"success": self.success, "seconds": self.seconds, "checks": [asdict(c) for c in self.checks]}


@cache
def suite_spec() -> dict[str, Any]:
    """The suite file as a dict."""
    spec: dict[str, Any] = json.loads((schemas_dir() / SUITE_FILE).read_text(encoding="utf-8"))
    return spec


def run_gate(
    metrics: Mapping[str, float],
    columns: Sequence[str],
    required_columns: Sequence[str],
    thresholds: Mapping[str, float],
) -> GateResult:
    """Runs the suite on ``metrics`` (one value per metric) and the snapshot's ``columns``.

    ``thresholds`` fill the suite's ``$PARAMETER`` values (``min_identifiable_share``...). Never raises
    for a failed expectation: the caller decides (the validate task fails with ``message()``).
    """
    import great_expectations  # noqa: F401 - imported before the clock starts: ``seconds`` is the validation
    import pandas as pd

    started = time.monotonic()
    params = {**thresholds, "required_columns": sorted(required_columns)}
    frames = {"metrics": pd.DataFrame([dict(metrics)]), "columns": pd.DataFrame(columns=list(columns))}
    checks: list[GateCheck] = []
    for batch, frame in frames.items():
        configs = [e for e in suite_spec()["expectations"] if e["meta"]["batch"] == batch]
        results = _validate(frame, configs, params)
        checks += [_check(config, result, metrics, params) for config, result in zip(configs, results, strict=True)]
    return GateResult(all(c.success for c in checks), tuple(checks), round(time.monotonic() - started, 3))


def _validate(frame: Any, configs: list[dict[str, Any]], params: Mapping[str, Any]) -> list[Any]:
    """GX results of ``configs`` on ``frame``, in the order of ``configs``."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = (
        context.data_sources.add_pandas("snapshot_gate")
        .add_dataframe_asset("aggregates")
        .add_batch_definition_whole_dataframe("all")
    )
    suite = gx.ExpectationSuite(name=suite_spec()["name"])
    for config in configs:
        suite.add_expectation(ExpectationConfiguration(**config).to_domain_obj())
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(suite, expectation_parameters=dict(params))
    return list(result.results)


def _resolve(value: Any, params: Mapping[str, Any]) -> Any:
    return params[value["$PARAMETER"]] if isinstance(value, dict) and "$PARAMETER" in value else value


def _check(
    config: Mapping[str, Any], result: Any, metrics: Mapping[str, float], params: Mapping[str, Any]
) -> GateCheck:
    kwargs = config["kwargs"]
    if "column_set" in kwargs:
        missing = sorted(((result.result or {}).get("details") or {}).get("mismatched", {}).get("missing") or [])
        required = _resolve(kwargs["column_set"], params)
        return GateCheck(
            config["type"],
            "(table)",
            bool(result.success),
            f"missing {missing}" if missing else "all present",
            f"columns {', '.join(required)}",
            config["meta"]["explains"],
        )
    low, high = _resolve(kwargs.get("min_value"), params), _resolve(kwargs.get("max_value"), params)
    bound = " and ".join(
        part for part in (f">= {low}" if low is not None else "", f"<= {high}" if high is not None else "") if part
    )
    column = kwargs["column"]
    return GateCheck(
        config["type"], column, bool(result.success), metrics.get(column), bound, config["meta"]["explains"]
    )
