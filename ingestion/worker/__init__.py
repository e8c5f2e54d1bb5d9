"""The Temporal worker: ``IngestionWorkflow`` and the activities that run a plan's command.

:mod:`workflow` is deterministic and free of I/O; :mod:`activities` runs the subprocess and
sends alerts; :mod:`service` wires them into a worker polling an environment's task queues,
connected by :mod:`ingestion.shared.temporal` (which the reconciler's Temporal backend shares).
"""
