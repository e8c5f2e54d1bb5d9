"""Tests of the crontab backend (real crontab command, file target, fenced block)."""
