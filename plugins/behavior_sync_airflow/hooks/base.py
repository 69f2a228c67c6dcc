"""Base hook: one Airflow connection -> validated, allowlisted settings."""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.sdk import BaseHook

from behavior_sync.connections import validated_extras


class ValidatedConnectionHook(BaseHook):
    """Reads ``conn_id`` and validates its extras against the connection type's JSON Schema.

    Subclasses set ``conn_type``, ``conn_name_attr``, ``default_conn_name`` and ``hook_name``.
    """

    conn_type: ClassVar[str]
    conn_name_attr: ClassVar[str] = "conn_id"
    default_conn_name: ClassVar[str]

    def __init__(self, conn_id: str | None = None, **named: str | None) -> None:
        """Reads ``conn_id``, else the id passed under the keyword ``conn_name_attr`` names (how Airflow's
        ``Connection.get_hook`` builds a hook, e.g. for the connection form's Test button), else
        ``default_conn_name``. Raises ``TypeError`` for any other keyword."""
        unknown = sorted(set(named) - {self.conn_name_attr})
        if unknown:
            raise TypeError(f"{type(self).__name__}() got unexpected keywords {unknown}")
        super().__init__()
        self.conn_id = conn_id or named.get(self.conn_name_attr) or self.default_conn_name

    def settings(self) -> tuple[dict[str, Any], str | None, str | None]:
        """(validated extras, host or None, secret from the password field or None).

        Raises ``ConnectionSettingsError`` for bad extras and ``AirflowNotFoundException`` for a missing connection.
        """
        conn = self.get_connection(self.conn_id)
        extras = validated_extras(self.conn_type, self.conn_id, conn.extra_dejson)
        return extras, conn.host or None, conn.password or None
