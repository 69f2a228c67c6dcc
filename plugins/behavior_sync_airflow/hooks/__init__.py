"""Hooks: turn an Airflow connection into validated settings and clients."""
