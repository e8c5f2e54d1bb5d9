"""The ``airflow`` backend: one generated DAG file per job in the environment's DAGs folder."""

from reconciler.backends.airflow.backend import AirflowBackend

__all__ = ["AirflowBackend"]
