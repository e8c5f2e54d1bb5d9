"""Recognising Salam's ingestion in commands written by hand: what is read, what is refused."""

from __future__ import annotations

import pytest

from ingestion.plan import recognise
from ingestion.plan.recognise import Unrecognised


@pytest.mark.parametrize(
    ("line", "config", "runner", "workdir", "log_file"),
    [
        (
            "cd /srv/salam && flock -n /tmp/o.lock spark-submit --master 'local[2]' --conf "
            "a=b /srv/salam/ingestion/entrypoints/spark_submit.py run --config "
            "environments/dev/jobs/orders.yaml >> /var/log/orders.log 2>&1",
            "environments/dev/jobs/orders.yaml", "spark-submit", "/srv/salam",
            "/var/log/orders.log",
        ),
        ("python3 -m ingestion run --config jobs/a.yaml", "jobs/a.yaml", "python", None, None),
        ("python -m ingestion --config=jobs/a.yaml", "jobs/a.yaml", "python", None, None),
        ("TZ=UTC ingest run --config 'x y.yaml' > out.log", "x y.yaml", "ingest", None, "out.log"),
        ("flock -w 10 l ingest run --config a\\%b.yaml", "a%b.yaml", "ingest", None, None),
    ],
)  # fmt: skip
def test_recognised(
    line: str, config: str, runner: str, workdir: str | None, log_file: str | None
) -> None:
    found = recognise.command_line(line)
    assert (found.config, found.runner, found.workdir, found.log_file) == (
        config, runner, workdir, log_file,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("/usr/local/bin/backup.sh --all", "`backup.sh` is not"),
        ("spark-submit other_app.py run --config a.yaml", "runs no ingestion/entrypoints"),
        ("ingest plan --config a.yaml", "is not given `run`"),
        ("ingest run --config a.yaml --dump-orchestration-plan", "expected only `--config FILE`"),
        ("ingest run --config a.yaml; rm -rf /tmp/x", "more than one command"),
        ("ingest run --config 'unterminated", "cannot split"),
    ],
)
def test_unrecognised_is_reported_never_guessed(line: str, why: str) -> None:
    with pytest.raises(Unrecognised, match=why):
        recognise.command_line(line)


def test_config_under_the_project_root() -> None:
    found = recognise.command_line(
        "cd /srv/salam && ingest run --config environments/dev/jobs/a.yaml"
    )
    assert found.config_under("/srv/salam") == "environments/dev/jobs/a.yaml"
    assert found.config_under("/elsewhere") is None
    absolute = recognise.argv(["ingest", "run", "--config", "/srv/salam/environments/x.yaml"])
    assert absolute.config_under("/srv/salam/") == "environments/x.yaml"
