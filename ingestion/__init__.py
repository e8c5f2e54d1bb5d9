"""Salam's ingestion side: job configs, orchestration plans, the Spark job and the Temporal worker.

Nothing here imports :mod:`reconciler`; the reconciler builds on :mod:`ingestion.config` and
:mod:`ingestion.plan`, which are pure Python (no Spark import at plan time).
"""

__version__ = "0.1.0"
