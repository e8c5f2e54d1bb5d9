"""Cron as Salam speaks it: the 5-field dialect, each backend's cron, and the crontab entry.

:mod:`ingestion.cron.dialect` validates expressions and zones, says what each backend's cron
cannot run as cron means it, and translates an expression into the host's zone;
:mod:`ingestion.cron.transitions` finds the runs that meet a clock change;
:mod:`ingestion.cron.entry` is one job's crontab entry as a structured value, rendered to text
in one place. Pure stdlib plus ``cronsim``; config validation, plan rendering, the crontab
backend and the Temporal backend all build on it.
"""
