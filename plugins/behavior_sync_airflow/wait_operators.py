"""The wait step of destinations whose vendor processes uploads asynchronously (Google Customer Match).

Between load and commit: the worker reads which requests (Data Manager) or jobs (Google Ads API)
the load sent, with the members each carried (the run's request log of the acknowledged batches; the
Google Ads API's match rate is weighted by those counts), writes the run's history row as
``pending`` and defers to a trigger that only polls Google; when every request is settled the
worker resumes, reads the list's size and returns (XCom) the processing report: statuses, match
rate, size and the product document's warnings, which the record task puts into history. A batch
with a request Google settled as FAILED (accepted, then nothing applied) is taken back from the
commit (ledger stage ``vendor_failed``): the state does not move for its rows, so the next run sends
them again; history says how many (``details.processing.uncommitted_batches``). Records a
PARTIAL_SUCCESS request counted as not applied become rejection rows per reason
(``google_dm_rejections``; ``details.processing.rejected_records``), and the report carries Google's
error and warning counts per reason and the ingest answers' field warnings. While a full re-sync
(a replace plan: RemoveAllAudienceMembers, then the re-ingest) is processed, the pending history row says
the list is emptied until Google has processed it; a full re-sync with a batch taken back leaves the list
marked emptied, so only another full re-sync loads it (``google_dm.mark_emptied``). Poll
interval: Airflow variable ``behavior_sync_google_poll_seconds`` (default 1800: Google advises
waiting about 30 minutes before polling); the wait gives up (task failure) after ``WAIT_TIMEOUT``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException, AirflowSkipException

from behavior_sync_airflow.record import RecordUpstream, record_pending
from behavior_sync_airflow.sync_operators import _DestinationOperator, state_store

if TYPE_CHECKING:
    from behavior_sync.destinations.google_dm_status import ListSize, RequestLog, SentRequest
    from behavior_sync.sync.ledger import Ledger
    from behavior_sync.sync.plan import SyncPlan

WAITING_TYPES = frozenset({"google_ads"})  # destination types that get a wait task
POLL_VARIABLE = "behavior_sync_google_poll_seconds"
EMPTIED_NOTE = (
    "this full re-sync emptied the list (RemoveAllAudienceMembers): it holds only the members Google has "
    "re-ingested so far until Google has processed the re-ingest"
)
DEFAULT_POLL_SECONDS = 1800.0
WAIT_TIMEOUT = dt.timedelta(hours=48)  # Google: matching may take up to 48 hours


class WaitForGoogleProcessingOperator(_DestinationOperator):
    """Defers until Google settled the requests of this run's load (see the module docstring)."""

    ui_color = "#fdebd0"

    def __init__(self, *, upstream: RecordUpstream, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.upstream = upstream

    def execute(self, context: Any) -> None:
        """Records ``pending`` and defers; skips when the load sent nothing."""
        from airflow.sdk import Variable

        from behavior_sync_airflow.triggers import DataManagerRequestsTrigger

        plan = self.plan_xcom(context)
        if plan is None or plan["status"] != "planned":
            raise AirflowSkipException(f"nothing to wait for ({(plan or {}).get('status', 'no plan')})")
        sent = self._sent_requests(context)
        if not sent:
            raise AirflowSkipException("the load sent no request: nothing to wait for")
        message = f"Google is processing {len(sent)} requests; the list changes when they are settled"
        message += f"; {EMPTIED_NOTE}" if self._plan(context).replace else ""
        record_pending(context, self.behavior, self.destination, self.upstream, message)
        self.log.info("%s: waiting for %d requests", self.destination.id, len(sent))
        trigger = DataManagerRequestsTrigger(
            self.destination.connection,
            [r.request_id for r in sent],
            float(Variable.get(POLL_VARIABLE, default=DEFAULT_POLL_SECONDS)),
            f"behavior {self.behavior.slug}, destination {self.destination.id}",
            self._api,
            [r.members for r in sent],
        )
        self.defer(trigger=trigger, method_name="execute_complete", timeout=WAIT_TIMEOUT)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        """The processing report (statuses, match rate, list size, warnings, Google's error and warning counts,
        field warnings, records written as rejections, batches taken back from the commit because Google failed
        a request of theirs); fails when Google refused the poll."""
        from behavior_sync.destinations.google_dm_status import RequestOutcome, processing_report, reason_counts

        if event["status"] != "done":
            raise AirflowException(event["message"])
        outcomes = [RequestOutcome(**o) for o in event["outcomes"]]
        rejected, taken_back = self._settle_ledger(context, outcomes)
        warned = reason_counts(item for sent in self._sent_requests(context) for item in sent.field_warnings.items())
        report = processing_report(outcomes, self._list_size(context), warned)
        report |= {"uncommitted_batches": taken_back, "rejected_records": rejected}
        self.log.info("%s: Google settled the load: %s", self.destination.id, report)
        return report

    def _settle_ledger(self, context: Any, outcomes: list[Any]) -> tuple[int, int]:
        """Writes the records Google counted as not applied as rejections, and marks the acknowledged batches with
        a FAILED request ``VENDOR_FAILED`` in the ledger (the commit then leaves their rows out, and the next run
        sends them again; a full re-sync leaves its list marked emptied); returns (rejection rows, batches)."""
        from behavior_sync.destinations.google_dm import mark_emptied
        from behavior_sync.destinations.google_dm_rejections import record_counted_rejections
        from behavior_sync.destinations.google_dm_status import VENDOR_FAILED, failed_batches
        from behavior_sync.sync.objects import DestinationObjects
        from behavior_sync.sync.steps import ledger_of

        plan, log = self._plan(context), self._request_log(context)
        with state_store(context, self.behavior) as store:
            ledger = ledger_of(store.db, plan)
            batches = _acknowledged(plan, ledger)
            rejected = record_counted_rejections(ledger, log, batches, outcomes)
            failed = failed_batches(log, batches, outcomes)
            for op, number in failed:
                ledger.mark(op, number, VENDOR_FAILED)
            if failed and plan.replace:
                mark_emptied(DestinationObjects(store.db), self.behavior.slug, self.destination.id)
        if failed:
            self.log.warning(
                "%s: Google failed requests of %d batches: not committed", self.destination.id, len(failed)
            )
        return rejected, len(failed)

    @property
    def _api(self) -> str:
        """The destination's Google API: ``data_manager`` (default) or ``google_ads_api``."""
        return str(self.destination.settings.get("api") or "data_manager")

    def _sent_requests(self, context: Any) -> list[SentRequest]:
        """The requests of the plan's acknowledged batches (ids and member counts), in plan order."""
        from behavior_sync.sync.steps import ledger_of

        plan = self._plan(context)
        with state_store(context, self.behavior) as store:
            batches = _acknowledged(plan, ledger_of(store.db, plan))
        return self._request_log(context).read(batches)

    def _plan(self, context: Any) -> SyncPlan:
        """The run's plan (the plan task's XCom names it)."""
        from behavior_sync.sync.plan import read_plan

        return read_plan(str((self.plan_xcom(context) or {})["plan_uri"]))

    def _request_log(self, context: Any) -> RequestLog:
        """The run's request log of this destination."""
        from behavior_sync.destinations.google_dm_status import RequestLog
        from behavior_sync_airflow.run_context import run_artifacts

        return RequestLog(f"{run_artifacts(context, self.behavior).destination_dir(self.destination.id)}/requests")

    def _list_size(self, context: Any) -> ListSize | None:
        """The list's size as Google reports it now, or None (logged) when it cannot be read."""
        from behavior_sync.destinations.google_dm import KIND
        from behavior_sync.destinations.google_dm_errors import GoogleAdsError
        from behavior_sync.destinations.google_dm_status import list_size
        from behavior_sync.sync.objects import DestinationObjects
        from behavior_sync_airflow.hooks.destinations import GoogleAdsHook

        with state_store(context, self.behavior) as store:
            stored = DestinationObjects(store.db).recall(self.behavior.slug, self.destination.id, KIND)
        try:
            client = GoogleAdsHook(self.destination.connection).client_for(self._api)
            user_list = None if stored is None else client.get_user_list(stored.object_id)
        except GoogleAdsError as exc:
            self.log.warning("%s: list size not read: %s", self.destination.id, exc)
            return None
        return None if user_list is None else list_size(user_list)


def _acknowledged(plan: SyncPlan, ledger: Ledger) -> list[tuple[str, int]]:
    """The plan's batches (op, number) the ledger holds acknowledged, in plan order."""
    acknowledged = ledger.acknowledged()
    return [(b.op, b.number) for b in plan.batches if (b.op, b.number) in acknowledged]
