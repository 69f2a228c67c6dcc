"""The Meta Custom Audiences destination: one engine batch -> pre-hashed multi-key uploads.

``send`` (the engine's ``Destination`` verb) pivots a batch to Meta rows and sends them:
add -> POST /{id}/users in an upload session, remove -> DELETE /{id}/users in parts that fit a URL,
replace (a full re-sync) -> POST /{id}/usersreplace in one session across the plan's batches.
Session ids derive from (behavior, destination, run, op), so a retried task continues the same
session. Rows Meta reports invalid become rejections; when Meta counts more invalid rows than it
samples, an add or remove is split in halves and re-sent (both are idempotent) to find them. A
failure of the whole batch raises ``MetaError``: the batch stays unacknowledged and is re-sent.
After the load, ``session_report`` reads the run's add or replace session back (``GET /{id}/sessions``):
received, matched and invalid rows and the match rate, or pending while Meta still says "uploading"
(removals carry no session).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from behavior_sync.destinations import AudienceReport
from behavior_sync.destinations.meta_audience import (
    AudienceSpec,
    LoadKey,
    read_report,
    resolve_audience,
)
from behavior_sync.destinations.meta_client import MetaClient
from behavior_sync.destinations.meta_errors import MetaError
from behavior_sync.destinations.meta_readback import session_report
from behavior_sync.destinations.meta_rows import MAX_POST_ROWS, MetaRows, delete_chunks, invalid_rows, pivot, reject_row
from behavior_sync.sync.execute import BatchContext
from behavior_sync.sync.ledger import BatchResult, Rejection
from behavior_sync.sync.objects import DestinationObjects
from behavior_sync.sync.plan import Capabilities

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MetaTarget:
    """Where a load goes: the audience wanted, whose it is, and the run (it keys upload sessions)."""

    spec: AudienceSpec
    key: LoadKey
    run_id: str


class MetaDestination:
    """Loads one behavior's plan into its Meta audience (implements ``Destination``). Not thread-safe."""

    def __init__(
        self, client: MetaClient, objects: DestinationObjects, target: MetaTarget, capabilities: Capabilities
    ) -> None:
        self.capabilities = capabilities
        self._client = client
        self._objects = objects
        self._target = target
        self._audience_id: str | None = None

    def send(self, rows: pa.Table, context: BatchContext) -> BatchResult:
        """Applies one batch; returns accepted rows (identifier rows) and rejections. Raises ``MetaError``."""
        audience_id = self._audience(context.op)
        meta_rows = pivot(rows)
        if context.op == "remove":
            rejections = [r for part in delete_chunks(meta_rows) for r in self._send(audience_id, "remove", part, {})]
        else:
            rejections = self._send(audience_id, context.op, self._postable(meta_rows), self._session(context))
        log.info(
            "%s: %s batch %d: %d members, %d rejected rows",
            self._client.label,
            context.op,
            context.number,
            len(meta_rows),
            len(rejections),
        )
        return BatchResult(accepted=rows.num_rows - len(rejections), rejections=tuple(rejections))

    def report(self) -> AudienceReport | None:
        """The audience's size bounds and statuses as Meta reports them now; None (logged) when Meta cannot
        say, e.g. throttled or the audience is gone: a load that worked is not failed by its report."""
        try:
            return read_report(self._client, self._audience("report"))
        except MetaError as exc:
            log.warning("%s: no audience report: %s", self._client.label, exc)
            return None

    def session_report(self) -> dict[str, Any] | None:
        """This run's upload sessions as Meta reports them now (``meta_readback.session_report``: counts, match
        rate, pending sessions); None (logged) when Meta cannot say: a load that worked is not failed by it."""
        ids = {str(self._session_id(op)) for op in ("add", "replace")}
        try:
            return session_report(self._client.audience_sessions(self._audience("report")), ids)
        except MetaError as exc:
            log.warning("%s: upload sessions not read: %s", self._client.label, exc)
            return None

    def _audience(self, op: str) -> str:
        if self._audience_id is None:
            target = self._target
            self._audience_id = resolve_audience(self._client, self._objects, target.key, target.spec, op)
        return self._audience_id

    def _session_id(self, op: str) -> int:
        """The upload session of this run's ``op`` batches: derived from (behavior, destination, run, op), so a
        retried task continues it."""
        seed = f"{self._target.key.behavior}/{self._target.key.destination_id}/{self._target.run_id}/{op}"
        return int(hashlib.sha256(seed.encode()).hexdigest()[:13], 16) + 1

    def _session(self, context: BatchContext) -> dict[str, object]:
        return {
            "session_id": self._session_id(context.op),
            "batch_seq": context.number + 1,
            "last_batch_flag": context.is_last,
            "estimated_num_total": context.total_rows,
        }

    def _send(self, audience_id: str, op: str, rows: MetaRows, session: dict[str, object]) -> list[Rejection]:
        """Sends ``rows``; the rejections Meta reports, isolated by halving when it does not name them all."""
        answer = self._client.upload(audience_id, op, rows.schema, rows.data, session)
        invalid = invalid_rows(rows, answer)
        if not invalid.unidentified:
            return list(invalid.rejections)
        if op == "replace":
            raise MetaError(
                f"{self._client.label}: Meta refused {invalid.unidentified} rows of a full re-sync without saying "
                "which; a replace cannot be re-sent in parts: run a normal sync (without full_resync)"
            )
        if len(rows) == 1:
            return reject_row(rows, 0, "no reason given")
        half = len(rows) // 2
        return self._send(audience_id, op, rows.part(0, half), {}) + self._send(
            audience_id, op, rows.part(half, len(rows)), {}
        )

    def _postable(self, rows: MetaRows) -> MetaRows:
        """``rows`` when Meta takes them in one POST; raises MetaError above 10,000 rows."""
        if len(rows) > MAX_POST_ROWS:
            raise MetaError(
                f"{self._client.label}: a batch pivots to {len(rows)} Meta rows, above the {MAX_POST_ROWS} Meta "
                "takes per request: lower add_batch_members for Meta in behavior_sync_airflow/destination_registry.py"
            )
        return rows
