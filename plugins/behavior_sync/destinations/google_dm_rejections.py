"""Google's per-reason counts of records it did not apply, as rows of ``bsync_rejections``.

A request Google settles as PARTIAL_SUCCESS names no records: its ``ErrorInfo.errorCounts`` only say how
many failed for each reason (https://developers.google.com/data-manager/api/devguides/diagnostics). Each
counted record becomes one rejection row of the batch that sent the request, with the reason as vendor
code, identifier type ``COUNTED`` and a member key hash that is no member's (SHA-256 of "<request id>:
<reason>:<n>"). So history ``errors`` and the rejections by code count them like any rejection, while the
commit, which leaves out rejected rows by member key hash and identifier type, keeps every member: Google
applied the rest and does not say which failed (a full re-sync sends them again). FAILED requests are not
written: their batch is taken back from the commit whole and sent again next run. Idempotent: a retried
wait step replaces the rows it wrote.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import sqlalchemy as sa

from behavior_sync.destinations.google_dm_status import RequestLog, RequestOutcome
from behavior_sync.statedb import rejections
from behavior_sync.sync.ledger import Ledger, member_key_hash

COUNTED = "google_counted"  # identifier type of the rows Google counted without naming them
_MESSAGE = "Google counted {n} records of request {request} as not applied for this reason and named none"


def record_counted_rejections(
    ledger: Ledger, log: RequestLog, batches: Sequence[tuple[str, int]], outcomes: Sequence[RequestOutcome]
) -> int:
    """Replaces the ``COUNTED`` rejection rows of ``ledger``'s plan by one per record that ``outcomes`` settled
    as PARTIAL_SUCCESS counted as failed, under the batch (op, number) of ``batches`` whose request log holds
    the request; returns how many rows."""
    partial = {o.request_id: o for o in outcomes if o.status == "PARTIAL_SUCCESS"}
    rows = [
        ledger.key | {"op": op, "batch_no": number} | row
        for op, number in batches
        for sent in log.read([(op, number)])
        if sent.request_id in partial
        for row in _rows(partial[sent.request_id])
    ]
    counted = sa.and_(*(rejections.c[name] == value for name, value in ledger.key.items()))
    with ledger.db.engine.begin() as conn:
        conn.execute(sa.delete(rejections).where(counted & (rejections.c.id_type == COUNTED)))
        if rows:
            conn.execute(rejections.insert(), rows)
    return len(rows)


def _rows(outcome: RequestOutcome) -> Iterator[dict[str, str]]:
    """One rejection row (no plan key) per record the outcome counts as failed."""
    for reason, count in sorted(outcome.errors.items()):
        message = _MESSAGE.format(n=count, request=outcome.request_id)
        for n in range(count):
            key_hash = member_key_hash(f"{outcome.request_id}:{reason}:{n}")
            yield {"member_key_hash": key_hash, "id_type": COUNTED, "vendor_code": reason[:64], "message": message}
