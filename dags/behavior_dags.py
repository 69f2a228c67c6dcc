"""Airflow DAGs of Behavior Sync: one per behavior file in include/behaviors/.

Parsing reads only those YAML files (no connections, variables or queries), and a
broken file becomes a visible placeholder DAG instead of an import error that would
stop every behavior's schedule. Check files with `python -m behavior_sync validate`.
"""

from __future__ import annotations

from behavior_sync_airflow.dag_factory import declare_behavior_dags

declare_behavior_dags(globals())
