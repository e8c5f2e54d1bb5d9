"""What the ingestion job, the worker and the reconciler share; pure stdlib except the Temporal
connection and the command-line usage helper.

:mod:`references` resolves secret references (``env:NAME``, ``file:/path``) where the process
runs; :mod:`webhook` POSTs a JSON document to a webhook URL without ever echoing it;
:mod:`temporal` turns the ``temporal`` section of ``environment.yaml`` into a client (the one
module here that imports ``temporalio``, so it is never imported by this package itself);
:mod:`usage` makes both programs answer a usage error with JSON when JSON was asked for. The
reconciler may import this package by contract; it imports nothing else of :mod:`ingestion`'s
job or worker.
"""
