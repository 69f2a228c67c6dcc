"""Airflow DAG of Behavior Sync's campaign-performance read-back: ``behavior_sync__performance``.

Daily, it reads the vendors' reporting (Meta Insights, Google Ads metrics, HubSpot e-mail statistics) of the
audiences the behaviors created into the state database. Parsing reads only include/behaviors/*.yaml.
"""

from __future__ import annotations

from behavior_sync_airflow.performance_operators import declare_performance_dag

declare_performance_dag(globals())
