"""What the Google Ads sandbox holds: Customer Match user lists and offline user data jobs.

A job collects operations while PENDING; ``RunOfflineUserDataJob`` makes it RUNNING, and once
``processing_delay_seconds`` have passed on the sandbox clock ``settle`` applies its operations to the
list (remove_all first, then its creates or its removes) and marks it SUCCESS, or, for a job run under a
``job_fails`` fault, marks it FAILED without applying any. Operations added twice (a retried request)
are applied twice, which changes nothing: members are sets. A list's size and match rate are computed
from its members and the configured universe when it is read.
Not thread-safe on its own: callers hold ``lock``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.common.customer_match import Membership

PENDING, RUNNING, SUCCESS, FAILED = "PENDING", "RUNNING", "SUCCESS", "FAILED"
CREATE, REMOVE = "create", "remove"


@dataclass
class UserListRecord:
    """One CRM-based user list (enum values as the API's integers)."""

    customer_id: str
    list_id: int
    name: str
    description: str
    upload_key_type: int
    membership_life_span: int
    app_id: str = ""
    members: Membership = field(default_factory=Membership)

    @property
    def resource_name(self) -> str:
        """``customers/{customer_id}/userLists/{id}``."""
        return f"customers/{self.customer_id}/userLists/{self.list_id}"


@dataclass
class Job:
    """One offline user data job of type CUSTOMER_MATCH_USER_LIST.

        ``kind`` is CREATE or REMOVE once an operation of that kind was added ("" before); ``operations``
        are (kind, identifiers) pairs in arrival order; ``consent`` maps ``ad_user_data`` and
        ``ad_personalization`` to ConsentStatus integers (0 when unset); ``uploaded`` and ``matched`` count the
    distinct members a run adds and those of them in the universe; ``fails``: the job ends FAILED.
    """

    customer_id: str
    job_id: int
    user_list: str
    consent: dict[str, int]
    status: str = PENDING
    kind: str = ""
    remove_all: bool = False
    operations: list[tuple[str, frozenset[str]]] = field(default_factory=list)
    started_at: float | None = None
    uploaded: int = 0
    matched: int = 0
    fails: bool = False

    @property
    def resource_name(self) -> str:
        """``customers/{customer_id}/offlineUserDataJobs/{id}``."""
        return f"customers/{self.customer_id}/offlineUserDataJobs/{self.job_id}"

    @property
    def operation_name(self) -> str:
        """The long-running operation name answered by Run: ``customers/{cid}/operations/{id}``."""
        return f"customers/{self.customer_id}/operations/{self.job_id}"


class Store:
    """User lists and jobs by resource name."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.user_lists: dict[str, UserListRecord] = {}
        self.jobs: dict[str, Job] = {}
        self._next_id = 7_000_000_001

    def new_id(self) -> int:
        """A fresh numeric id (lists and jobs share the sequence)."""
        self._next_id += 1
        return self._next_id - 1

    def job_by_operation(self, operation_name: str) -> Job | None:
        """The job whose Run answered ``operation_name``, if any."""
        return next((job for job in self.jobs.values() if job.operation_name == operation_name), None)

    def settle(self, now: float, delay: float) -> int:
        """Finish every RUNNING job started ``delay`` seconds ago or more, oldest first (SUCCESS with its operations
        applied, or FAILED with none when it ``fails``); returns how many."""
        due = [j for j in self.jobs.values() if j.status == RUNNING and (j.started_at or 0.0) + delay <= now]
        for job in sorted(due, key=lambda j: j.started_at or 0.0):
            if not job.fails:
                self._apply(job)
            job.status = FAILED if job.fails else SUCCESS
            job.operations = []
        return len(due)

    def _apply(self, job: Job) -> None:
        user_list = self.user_lists.get(job.user_list)
        if user_list is None:
            return
        if job.remove_all:
            user_list.members.clear()
        for kind, member in job.operations:
            if kind == CREATE:
                user_list.members.add(member)
            else:
                user_list.members.remove(member)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready snapshot for the state file."""
        lists = [
            {**{k: v for k, v in ul.__dict__.items() if k != "members"}, "members": ul.members.sorted_members()}
            for ul in self.user_lists.values()
        ]
        jobs = [
            {**job.__dict__, "operations": [[kind, sorted(member)] for kind, member in job.operations]}
            for job in self.jobs.values()
        ]
        return {"next_id": self._next_id, "user_lists": lists, "jobs": jobs}

    def load_json(self, document: Mapping[str, Any]) -> None:
        """Replace the contents with a ``to_json`` snapshot."""
        self._next_id = int(document.get("next_id", self._next_id))
        self.user_lists = {}
        for item in document.get("user_lists", []):
            fields = {k: v for k, v in item.items() if k != "members"}
            record = UserListRecord(**fields, members=Membership(item.get("members", [])))
            self.user_lists[record.resource_name] = record
        self.jobs = {}
        for item in document.get("jobs", []):
            operations = [(kind, frozenset(member)) for kind, member in item.get("operations", [])]
            job = Job(**{**item, "operations": operations})
            self.jobs[job.resource_name] = job
