"""The Behavior Sync page in the Airflow UI: a FastAPI app served by the api-server behind Airflow's login."""
