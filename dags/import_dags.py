"""Airflow DAGs importing HubSpot list membership into the warehouse: one per file in include/imports/.

Parsing reads only those YAML files (no connections or queries); a broken file becomes a visible
placeholder DAG. Behavior SQL can then use the tables (e.g. ``hubspot_loyal_regulars``).
"""

from __future__ import annotations

from behavior_sync_airflow.import_dags import declare_import_dags

declare_import_dags(globals())
