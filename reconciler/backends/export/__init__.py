"""The ``export`` backend: one plan JSON per job in a hand-off folder (Informatica, any
external scheduler); :mod:`.folder` is the managed-files machinery it shares with ``airflow``."""

from reconciler.backends.export.backend import ExportBackend

__all__ = ["ExportBackend"]
