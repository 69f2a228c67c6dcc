"""The Airflow layer of Behavior Sync: hooks, operators, the DAG factory and the provider info."""
