"""Salam's reconciler: compares orchestration plans with live schedulers, applies, rolls back.

Imports :mod:`ingestion.config` and :mod:`ingestion.plan` (pure Python); never Spark.
"""
