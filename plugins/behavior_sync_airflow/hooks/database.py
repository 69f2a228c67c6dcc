"""Hooks for the SQL databases Behavior Sync reads and writes: the warehouse and the state database."""

from __future__ import annotations

from typing import Any

from behavior_sync.connections import url_with_password
from behavior_sync_airflow.hooks.base import ValidatedConnectionHook


class _SqlAlchemyUrlHook(ValidatedConnectionHook):
    """A connection that holds a SQLAlchemy URL in its ``url`` extra and the password in the Password field."""

    def get_url(self) -> str:
        """The full SQLAlchemy URL (with password: never log it; use ``safe_url`` for messages)."""
        extras, _, password = self.settings()
        return url_with_password(extras["url"], password)

    def safe_url(self) -> str:
        """The URL with any password masked, for logs and messages."""
        from sqlalchemy.engine import make_url

        return make_url(self.get_url()).render_as_string(hide_password=True)

    def test_connection(self) -> tuple[bool, str]:
        """Run ``SELECT 1`` against the database (used by the UI's Test button)."""
        from behavior_sync.warehouse import WarehouseError, iter_record_batches

        try:
            rows = sum(batch.num_rows for batch in iter_record_batches(self.get_url(), "SELECT 1 AS ok"))
        except (WarehouseError, ValueError) as exc:
            return False, str(exc)
        return rows == 1, f"connected to {self.safe_url()}"


class WarehouseHook(_SqlAlchemyUrlHook):
    """The warehouse behaviors are extracted from (connection type ``warehouse``)."""

    conn_type = "warehouse"
    conn_name_attr = "warehouse_conn_id"
    default_conn_name = "warehouse_default"
    hook_name = "Behavior Sync warehouse (SQLAlchemy URL)"

    def batch_rows(self) -> int:
        """Rows per streamed Arrow batch (extra ``batch_rows``, default from the schema)."""
        extras: dict[str, Any] = self.settings()[0]
        return int(extras["batch_rows"])


class SyncStateHook(_SqlAlchemyUrlHook):
    """The database of sync history and the batch ledger (connection type ``sync_state``)."""

    conn_type = "sync_state"
    conn_name_attr = "sync_state_conn_id"
    default_conn_name = "sync_state_default"
    hook_name = "Behavior Sync state database (SQLAlchemy URL)"
