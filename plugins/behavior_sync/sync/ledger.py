"""The batch ledger: which batches of a plan a destination acknowledged, and which rows it rejected.

Rows are keyed by (behavior, destination, run, plan base version, op, batch number): a retried or
re-run load task of the same run and plan skips acknowledged batches, so nothing is applied twice.
A batch is marked ``sending`` before the call and ``acknowledged`` with its row results after, in
one transaction with its rejections; in between, a destination may record finer progress (``mark``:
any other status of at most 16 characters), which a new attempt keeps and reads back. Rejections
hold the SHA-256 of the member key, the identifier type and the vendor's code and message: never
identifier values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from behavior_sync.statedb import StateDatabase, batch_ledger, now, rejections

SENDING = "sending"
ACKNOWLEDGED = "acknowledged"


@dataclass(frozen=True)
class Rejection:
    """One row a destination refused: member key (raw, never stored), identifier type, vendor code, message."""

    member_key: str
    id_type: str
    code: str
    message: str


@dataclass(frozen=True)
class BatchResult:
    """A destination's answer to one batch: rows accepted and rows rejected."""

    accepted: int
    rejections: tuple[Rejection, ...] = ()


def member_key_hash(member_key: str) -> str:
    """SHA-256 hex of a member key: how keys appear in the state database and logs."""
    return hashlib.sha256(member_key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LedgerEntry:
    """One batch's ledger row."""

    op: str
    batch_no: int
    rows: int
    status: str
    attempts: int
    accepted: int | None
    rejected: int | None


class Ledger:
    """The ledger of one plan (behavior, destination, run, plan base version)."""

    def __init__(self, db: StateDatabase, behavior: str, destination_id: str, run_id: str, plan_base: int) -> None:
        self.db = db
        self.key = {"behavior": behavior, "destination_id": destination_id, "run_id": run_id, "plan_base": plan_base}

    def _where(self, table: sa.Table) -> sa.ColumnElement[bool]:
        return sa.and_(*(table.c[name] == value for name, value in self.key.items()))

    def entries(self) -> list[LedgerEntry]:
        """Every batch started for this plan, in (op, batch) order."""
        columns = [batch_ledger.c[n] for n in ("op", "batch_no", "rows", "status", "attempts", "accepted", "rejected")]
        query = (
            sa.select(*columns).where(self._where(batch_ledger)).order_by(batch_ledger.c.op, batch_ledger.c.batch_no)
        )
        with self.db.engine.connect() as conn:
            return [LedgerEntry(*row) for row in conn.execute(query)]

    def acknowledged(self) -> set[tuple[str, int]]:
        """(op, batch number) of the batches the destination acknowledged."""
        return self.applied(())

    def applied(self, stages: Iterable[str]) -> set[tuple[str, int]]:
        """(op, batch number) of the batches acknowledged or left in one of ``stages`` (a destination's
        ``Capabilities.applied_stages``: they may have taken effect, so they are never sent again)."""
        done = {ACKNOWLEDGED, *stages}
        return {(e.op, e.batch_no) for e in self.entries() if e.status in done}

    def in_doubt(self) -> set[tuple[str, int]]:
        """(op, batch number) of the batches left ``sending``: sent, but no answer was recorded."""
        return {(e.op, e.batch_no) for e in self.entries() if e.status == SENDING}

    def start(self, op: str, batch_no: int, rows: int) -> int:
        """Marks a batch ``sending`` (a new attempt); returns the attempt number."""
        where = self._where(batch_ledger) & (batch_ledger.c.op == op) & (batch_ledger.c.batch_no == batch_no)
        with self.db.engine.begin() as conn:
            attempts = conn.execute(sa.select(batch_ledger.c.attempts).where(where)).scalar()
            if attempts is None:
                values = self.key | {"op": op, "batch_no": batch_no, "rows": rows, "status": SENDING}
                conn.execute(batch_ledger.insert().values(**values, attempts=1, started_at=now()))
                return 1
            conn.execute(batch_ledger.update().where(where).values(attempts=attempts + 1, started_at=now()))
            return int(attempts) + 1

    def mark(self, op: str, batch_no: int, stage: str, rejections: Sequence[Rejection] | None = None) -> None:
        """Records a started batch's progress (a destination-defined stage, not ``acknowledged``) and, unless
        None, the rows refused so far, in one transaction; a later ``start`` keeps the stage. Raises ValueError
        for ``acknowledged`` or a stage longer than 16 characters."""
        if stage == ACKNOWLEDGED or not 0 < len(stage) <= 16:
            raise ValueError(f"not a batch stage: {stage!r}")
        self._record(op, batch_no, {"status": stage}, rejections)

    def acknowledge(self, op: str, batch_no: int, result: BatchResult) -> None:
        """Records the destination's answer to a batch, with its rejections, in one transaction."""
        values = {"status": ACKNOWLEDGED, "accepted": result.accepted, "rejected": len(result.rejections)}
        self._record(op, batch_no, values | {"acknowledged_at": now()}, result.rejections)

    def _record(self, op: str, batch_no: int, values: dict[str, object], refused: Sequence[Rejection] | None) -> None:
        """Updates the batch's ledger row with ``values`` and replaces its rejections by ``refused`` (None: kept)."""
        where = self._where(batch_ledger) & (batch_ledger.c.op == op) & (batch_ledger.c.batch_no == batch_no)
        rows = [
            self.key
            | {"op": op, "batch_no": batch_no, "member_key_hash": member_key_hash(r.member_key), "id_type": r.id_type}
            | {"vendor_code": r.code[:64], "message": r.message[:1000]}
            for r in refused or ()
        ]
        with self.db.engine.begin() as conn:
            if refused is not None:
                conn.execute(
                    sa.delete(rejections).where(
                        self._where(rejections) & (rejections.c.op == op) & (rejections.c.batch_no == batch_no)
                    )
                )
            if rows:
                conn.execute(rejections.insert(), rows)
            conn.execute(batch_ledger.update().where(where).values(**values))

    def rejected(self, op: str) -> Sequence[tuple[str, str]]:
        """(member key hash, identifier type) of the rows rejected in ``op`` batches of this plan."""
        query = sa.select(rejections.c.member_key_hash, rejections.c.id_type).where(
            self._where(rejections) & (rejections.c.op == op)
        )
        with self.db.engine.connect() as conn:
            return [(row[0], row[1]) for row in conn.execute(query)]

    def rejection_codes(self) -> dict[str, int]:
        """Rejected rows of this plan by vendor code."""
        query = (
            sa.select(rejections.c.vendor_code, sa.func.count())
            .where(self._where(rejections))
            .group_by(rejections.c.vendor_code)
        )
        with self.db.engine.connect() as conn:
            return {str(code): int(n) for code, n in conn.execute(query)}
