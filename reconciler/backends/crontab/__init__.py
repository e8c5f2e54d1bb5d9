"""The crontab backend (Debian ``cron``): importing this package registers ``crontab``."""

from reconciler.backends.crontab.backend import CrontabBackend

__all__ = ["CrontabBackend"]
