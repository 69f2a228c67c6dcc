"""Warehouse extraction: behavior SQL -> Arrow record batches -> a run-scoped Parquet snapshot.

Pure core (no Airflow). Modules:

* ``sources``     ``iter_record_batches``: DuckDB natively (Arrow end to end), anything else through
                  SQLAlchemy 2 with server-side streaming
* ``sql_params``  ``:name`` parameters, bound the same way on both paths
* ``arrow_rows``  DB-API rows -> record batches with one stable schema (the SQLAlchemy path)
* ``snapshot``    ``extract_to_parquet``: atomic, idempotent Parquet write through pyarrow.fs
* ``errors``      ``WarehouseError``: messages without row values or passwords
"""

from __future__ import annotations

from behavior_sync.warehouse.errors import WarehouseError
from behavior_sync.warehouse.snapshot import ExtractResult, extract_to_parquet
from behavior_sync.warehouse.sources import iter_record_batches

__all__ = ["ExtractResult", "WarehouseError", "extract_to_parquet", "iter_record_batches"]
