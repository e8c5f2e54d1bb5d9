"""Job configs and environments: loading, schema validation, defaults and cross-field checks.

Callers use :func:`ingestion.config.loader.load_environment` (a whole environment directory)
or :func:`ingestion.config.loader.load_job` (one job config file); both raise
:class:`ingestion.config.diagnostics.ConfigError` carrying every problem found at once.
"""
