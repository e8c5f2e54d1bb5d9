"""Orchestration plans: the deterministic, secret-free JSON rendered from one job config.

:func:`ingestion.plan.render.render` builds a plan; :mod:`ingestion.plan.canonical` turns it
into bytes and a digest; :mod:`ingestion.plan.gitstamp` records the git revision it came from.
"""
