"""Promotion of what one environment ran to the next (``reconcile promote``): the image digest,
the job definitions and the re-rendered plans, as one change in the working tree."""
