"""Triggers: poll a vendor for work the worker already submitted (style rule 12: the trigger only reads).

``DataManagerRequestsTrigger`` polls Google for the requests a load sent, until Google settled every
one: with ``api`` ``data_manager`` the Data Manager API's ``requestStatus:retrieve`` per request id,
with ``google_ads_api`` the ``offline_user_data_job`` status (GoogleAdsService.Search) per job resource
name (PENDING/RUNNING: not yet; SUCCESS/FAILED: settled), each job's outcome counting the members it
carried (``members``, aligned with the ids; a job without a count, or every job of a trigger serialized
before counts existed, counts 1). Its arguments are JSON primitives (connection id, request ids, poll
interval, label, api, member counts); it submits nothing. Status reads run in a thread (the SDK client
is synchronous, and its imports are slow), so the triggerer's event loop never blocks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent


class DataManagerRequestsTrigger(BaseTrigger):
    """Fires once every request is settled (``{"status": "done", "outcomes": [...]}`` in request order) or
    when Google refuses the status read (``{"status": "error", "message": ...}``; no identifiers, no tokens)."""

    def __init__(
        self,
        conn_id: str,
        request_ids: list[str],
        poll_seconds: float,
        label: str,
        api: str = "data_manager",
        members: list[int | None] | None = None,
    ) -> None:
        super().__init__()
        self.api = api
        self.conn_id = conn_id
        self.request_ids = list(request_ids)
        self.poll_seconds = poll_seconds
        self.label = label
        counts = members if members is not None else [None] * len(self.request_ids)
        self.members = [1 if count is None else count for count in counts]  # unknown counts weigh 1

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Class path and JSON-serializable arguments."""
        kwargs = {
            "conn_id": self.conn_id,
            "request_ids": self.request_ids,
            "poll_seconds": self.poll_seconds,
            "label": self.label,
            "api": self.api,
            "members": self.members,
        }
        return ("behavior_sync_airflow.triggers.DataManagerRequestsTrigger", kwargs)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Polls every ``poll_seconds`` until no request is PROCESSING."""
        settled: dict[str, dict[str, Any]] = {}
        while True:
            pending = [i for i in self.request_ids if i not in settled]
            found, error = await asyncio.to_thread(self._poll, pending)
            if error is not None:
                yield TriggerEvent({"status": "error", "message": error})
                return
            settled |= found
            if len(settled) == len(self.request_ids):
                yield TriggerEvent({"status": "done", "outcomes": [settled[i] for i in self.request_ids]})
                return
            self.log.info("%s: %d of %d requests still processing", self.label, len(pending), len(self.request_ids))
            await asyncio.sleep(self.poll_seconds)

    def _poll(self, request_ids: list[str]) -> tuple[dict[str, dict[str, Any]], str | None]:
        """``_settled`` and, when Google refuses the read, its message instead (blocking: runs in a thread, so
        the SDK imports never block the triggerer's event loop)."""
        from behavior_sync.destinations.google_dm_errors import GoogleAdsError

        try:
            return self._settled(request_ids), None
        except GoogleAdsError as exc:
            return {}, str(exc)

    def _settled(self, request_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The outcomes of the requests of ``request_ids`` that Google settled (blocking: runs in a thread)."""
        from behavior_sync.destinations.google_dm_status import read_outcome
        from behavior_sync_airflow.hooks.destinations import GoogleAdsHook

        hook = GoogleAdsHook(self.conn_id)
        if self.api == "google_ads_api":
            jobs = hook.google_ads_api_client(self.label)
            members = dict(zip(self.request_ids, self.members, strict=True))
            outcomes = {i: jobs.job_outcome(i, members[i]) for i in request_ids}
        else:
            client = hook.data_manager_client(self.label)
            outcomes = {i: read_outcome(i, client.request_status(i)) for i in request_ids}
        return {i: outcome.as_dict() for i, outcome in outcomes.items() if outcome is not None}
