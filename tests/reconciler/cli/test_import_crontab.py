"""``reconcile import --from crontab`` on the real crontab file target of a copy of dev: a
hand-written crontab round-trips — import (dry-run writes nothing and shows the files) → the
result validates → a dry-run shows only adopt → apply → in sync, the schedule unchanged and every
other line byte for byte; unrecognised commands and missing configs are reported, never guessed;
a config kept outside the environment is reported, not copied (a copy would run twice)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import run_reconcile

pytestmark = pytest.mark.integration
CRON_FILE = Path(".salam/cron/salam-dev.cron")
JOB = Path("environments/dev/jobs/subscriptions.yaml")
OTHERS = "# hand-written\nMAILTO=ops@example.com\n0 5 * * * /usr/local/bin/backup.sh --all\n"
MISSING = "15 * * * * python3 -m ingestion run --config environments/dev/jobs/nope.yaml\n"


def line(root: Path, config: str = str(JOB)) -> str:
    return (
        f"30 2 * * * cd {root} && flock -n /tmp/subs.lock scripts/spark-submit --master "
        f"'local[*]' ingestion/entrypoints/spark_submit.py run --config {config} "
        ">> /var/log/subs.log 2>&1\n"
    )


def cli(root: Path, *args: str) -> tuple[int, str]:
    result = run_reconcile(*args, "--env", "dev", "--root", str(root))
    return result.exit_code, result.output


@pytest.fixture
def team(project: Callable[..., Path]) -> Path:
    root = project("dev")
    (root / CRON_FILE).parent.mkdir(parents=True)
    (root / CRON_FILE).write_text(OTHERS + line(root) + MISSING)
    return root


def test_import_round_trips_a_hand_written_crontab(team: Path) -> None:
    config = (team / JOB).read_text()
    crontab = (team / CRON_FILE).read_text()
    code, output = cli(team, "import", "--from", "crontab", "--dry-run")
    assert code == 0, output
    assert f"~ {JOB}  (job subscriptions: runtime from crontab/file:{CRON_FILE}/line-4)" in output
    assert "expression: 30 2 * * *" in output and "adopt: true" in output
    assert "line-3: not imported: `backup.sh` is not spark-submit" in output
    assert "line-5: not imported: it runs environments/dev/jobs/nope.yaml, which does not" in output
    assert (team / JOB).read_text() == config  # a dry run writes nothing

    code, output = cli(team, "import", "--from", "crontab", "--output", "json")
    assert code == 0, output
    document = json.loads(output)
    assert [w["path"] for w in document["written"]] == [str(JOB)]
    assert len(document["not_imported"]) == 2
    written = (team / JOB).read_text()
    head = config[: config.index("runtime:")]
    assert written.startswith(head)  # everything but runtime, byte for byte
    assert "log_file: /var/log/subs.log" in written
    assert cli(team, "validate")[0] == 0

    code, output = cli(team, "--backend", "crontab", "--dry-run", "--output", "json")
    assert code == 0, output
    changes = json.loads(output)["change_set"]["changes"]
    assert [(c["action"], c["job"]) for c in changes] == [("adopt", "subscriptions")]
    assert {f["path"] for f in changes[0]["fields"]} == {"command"}  # Salam's flock wrapper
    code, output = cli(team, "--backend", "crontab")
    assert code == 0, output
    after = (team / CRON_FILE).read_text()
    assert after.startswith(OTHERS + MISSING)  # other lines kept, the adopted one moved
    assert (
        "\n30 2 * * * cd " in after and "--config environments/dev/jobs/subscriptions.yaml" in after
    )
    assert crontab.count("30 2 * * *") == after.count("30 2 * * *") == 1
    code, output = cli(team, "--backend", "crontab", "--dry-run", "--exit-code")
    assert code == 0 and "in sync" in output, output


def test_a_config_outside_the_environment_is_reported_not_copied(
    team: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "legacy" / "subscriptions.yaml"
    elsewhere.parent.mkdir()
    elsewhere.write_text((team / JOB).read_text())
    (team / CRON_FILE).write_text(line(team, str(elsewhere)))
    code, output = cli(team, "import", "--from", "crontab")
    assert code == 0, output
    assert "outside environments/dev/jobs/: move the config there" in output
    assert "0 job config(s) written; 1 schedule(s) not imported." in output


def test_nothing_recognised_writes_nothing(team: Path) -> None:
    (team / CRON_FILE).write_text(OTHERS)
    code, output = cli(team, "import", "--from", "crontab")
    assert code == 0, output
    assert "0 job config(s) written; 1 schedule(s) not imported." in output
