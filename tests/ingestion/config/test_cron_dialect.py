"""One cron dialect per backend, decided by ``reconcile validate``, checked against real tools.

Debian's ``crontab`` (in a private mount namespace, so no real crontab changes) installs every
expression the crontab dialect accepts and refuses the ones it refuses for that reason;
``croniter`` (Airflow's parser) reads every expression the airflow dialect accepts as cron does.
Validation refuses what the job's backend cannot run, naming backend, construct and a hint; it
passes names such as WED and JUL everywhere; a Temporal job in a daylight-saving zone gets a
warning listing the days the clocks change under its runs (the Temporal server is the oracle
for those days: tests/reconciler/backends/temporal/test_cron_dialect.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cronsim
import pytest

from ingestion.config.modes import Mode
from ingestion.cron import dialect, transitions
from tests.conftest import own_table_prefix, run_reconcile

# Valid 5-field cron (cronsim) and what Debian's crontab does with each: True = installs it.
DEBIAN = {
    "0 6 * * WED": True,
    "0 6 * JUL *": True,
    "0 6 * jul wed": True,
    "0 6 * * MON-FRI": True,
    "0 6 1 JAN-MAR/2 *": True,
    "0 0 * * 7": True,
    "0 0 * * 0-7": True,
    "0 0 * * 1-5/2": True,
    "0 0 */2 * 1": True,
    "0 0 1 * 1": True,
    "15 23 L * *": False,
    "0 6 * * 5L": False,
    "0 6 LW * *": False,
    "0 6 1,L * *": False,
    "5/10 * * * *": False,
    "0 0 * * MON/2": False,
    "0 6 * * FRI#2": True,  # installed, but cron drops '#2' and runs every Friday
}
MISREAD_BY_DEBIAN = {"0 6 * * FRI#2"}
CRONITER = [
    "15 23 L * *",
    "0 6 1,L * *",
    "0 6 * * FRI#2",
    "0 6 * * fri#2,mon#1",
    "0 6 * * 5L",
    "0 6 LW * *",
    "0 6 * * 1,5#2",
    "5/10 * * * *",
    "0 0 * * 1/2",
    "0 0 * * 3/4",
    "0 0 */2 * 1",
    "0 0 1-31/2 * 1",
    "0 0 1 * 1",
    "0 0 * * 7",
    "0 0 * * 5-7",
    "0 6 * JUL WED",
]
JOB = """name: {name}
owner: bss-data-platform
source:
  jdbc_url: jdbc:postgresql://bss.dev.internal:5432/miniboss
  driver: org.postgresql.Driver
  user: ingest_reader
  password_ref: env:BSS_JDBC_PASSWORD
  tables:
    - name: customers
      primary_key: [customer_id]
load:
  mode: full
target:
  namespace: bss_raw
  table_prefix: {prefix}
runtime:
  orchestration:
{block}"""
BLOCKS = {
    Mode.PLAIN_CRON: '    mode: plain_cron\n    cron:\n      expression: "{cron}"\n',
    Mode.TEMPORAL: (
        "    mode: temporal\n    temporal:\n      schedule:\n"
        '        cron: "{cron}"\n        timezone: {zone}\n'
    ),
    Mode.KUBERNETES: (
        '    mode: kubernetes\n    kubernetes:\n      schedule:\n        cron: "{cron}"\n'
    ),
    Mode.AIRFLOW: '    mode: airflow\n    external:\n      expression: "{cron}"\n',
    Mode.EXTERNAL_SCHEDULER: (
        '    mode: external_scheduler\n    external:\n      expression: "{cron}"\n'
    ),
}


def write_job(root: Path, name: str, mode: Mode, cron: str, zone: str = "UTC") -> None:
    block = BLOCKS[mode].format(cron=cron, zone=zone)
    (root / "environments/dev/jobs" / f"{name}.yaml").write_text(
        JOB.format(name=name, prefix=own_table_prefix(name), block=block)
    )


def validate(root: Path) -> tuple[int, dict[str, list[dict[str, object]]]]:
    result = run_reconcile("validate", "--env", "dev", "--root", str(root), "--output", "json")
    document = json.loads(result.stdout)
    by_file: dict[str, list[dict[str, object]]] = {}
    for found in document["diagnostics"]:
        by_file.setdefault(Path(str(found["file"])).stem, []).append(found)
    return result.exit_code, by_file


def test_every_mode_has_its_backends_dialect() -> None:
    assert {dialect.Dialect.of(mode.backend) for mode in Mode} == set(dialect.Dialect)


def test_the_table_is_valid_cron() -> None:
    for expression in [*DEBIAN, *CRONITER]:
        assert dialect.cron_problem(expression) is None, expression


def debian_installs(expressions: list[str]) -> dict[str, bool]:
    """Whether Debian's ``crontab -`` installs a line with each expression (as root, in a
    private mount namespace whose crontab spool is an empty tmpfs)."""
    script = (
        "set -e; mount -t tmpfs -o mode=1730 salam-spool /var/spool/cron/crontabs; set +e\n"
        'while IFS= read -r e; do printf "%s true\\n" "$e" | crontab - >/dev/null 2>&1;'
        ' echo "$?"; done\n'
    )
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        input="".join(f"{e}\n" for e in expressions),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    codes = done.stdout.split()
    assert len(codes) == len(expressions), done.stdout + done.stderr
    return {e: code == "0" for e, code in zip(expressions, codes, strict=True)}


@pytest.mark.integration
def test_debian_crontab_installs_what_the_crontab_dialect_accepts() -> None:
    if os.geteuid() != 0 or not shutil.which("crontab") or not shutil.which("unshare"):
        pytest.skip("needs root, Debian's cron (crontab) and util-linux (unshare)")
    installs = debian_installs(list(DEBIAN))
    assert installs == DEBIAN
    accepted = {e for e in DEBIAN if not dialect.backend_problems(e, "crontab")}
    assert accepted == {e for e, ok in DEBIAN.items() if ok} - MISREAD_BY_DEBIAN


def test_croniter_reads_what_the_airflow_dialect_accepts_as_cron_does() -> None:
    croniter = pytest.importorskip("croniter")
    start = datetime(2026, 11, 28, 10, tzinfo=UTC)
    for expression in CRONITER:
        expected = list(_take(cronsim.CronSim(expression, start), 40))
        try:
            reader = croniter.croniter(expression, start)
            found: list[datetime] | None = [reader.get_next(datetime) for _ in range(40)]
        except croniter.CroniterError:
            found = None
        accepted = not dialect.backend_problems(expression, "airflow")
        assert accepted == (found == expected), (expression, found and found[:3], expected[:3])


def _take(moments: cronsim.CronSim, count: int) -> list[datetime]:
    return [next(moments) for _ in range(count)]


@pytest.mark.parametrize(
    ("expression", "runs"),
    [
        ("0 6 * JUL WED", True),
        ("5/10 * * * *", True),  # robfig reads N/step as N-max/step, as cron does
        ("0 0 1 * 1", True),  # both day fields restricted: either matches, as in cron
        ("0 0 * * 0-6", True),
        ("0 0 * * 7", False),  # day-of-week ends at 6: the API server refuses the CronJob
        ("0 0 * * 5-7", False),
        ("0 0 * * MON/2", False),  # robfig stops at 6: cron's Sunday would be dropped
        ("0 0 */2 * 1", False),  # robfig ORs a stepped '*' with the other field
        ("15 23 L * *", False),
        ("0 6 * * FRI#2", False),
    ],
)
def test_the_kubernetes_dialect_follows_robfig_cron(expression: str, runs: bool) -> None:
    """robfig/cron v3 as Kubernetes validates and runs a CronJob schedule (no Go toolchain or
    API server here: the rules come from its parser, spec.go bounds and dayMatches)."""
    assert (not dialect.backend_problems(expression, "kubernetes")) == runs


def test_names_pass_validation_in_every_mode(project: Callable[..., Path]) -> None:
    root = project("dev", jobs=False)
    for mode in BLOCKS:
        write_job(root, f"named_{mode.value}", mode, "15 4 * JUL WED")
    code, found = validate(root)
    assert code == 0, found
    assert not any(stem.startswith("named_") for stem in found), found


def test_what_a_backend_cannot_run_is_refused_naming_backend_and_hint(
    project: Callable[..., Path],
) -> None:
    root = project("dev", jobs=False)
    write_job(root, "last_day", Mode.PLAIN_CRON, "15 23 L * *")
    write_job(root, "last_day_elsewhere", Mode.EXTERNAL_SCHEDULER, "15 23 L * *")
    write_job(root, "sunday_on_k8s", Mode.KUBERNETES, "0 3 * * 7")
    code, found = validate(root)
    assert code == 3
    (refused,) = found["last_day"]
    assert refused["code"] == "unsupported-cron"
    assert str(refused["summary"]).startswith("the crontab backend (Debian cron) cannot run 'L'")
    assert "28-31" in str(refused["hint"])
    assert "last_day_elsewhere" not in found  # the external scheduler's cron has 'L'
    assert found["sunday_on_k8s"][0]["hint"] == "write 0 for Sunday"


def test_a_temporal_job_where_the_clocks_change_gets_a_warning_with_the_days(
    project: Callable[..., Path],
) -> None:
    root = project("dev", jobs=False)
    write_job(root, "new_york", Mode.TEMPORAL, "30 2 * * *", "America/New_York")
    write_job(root, "berlin_morning", Mode.TEMPORAL, "0 6 * * *", "Europe/Berlin")
    code, found = validate(root)
    assert code == 0, found
    assert "berlin_morning" not in found  # its runs never meet a clock change
    (warning,) = found["new_york"]
    assert (warning["severity"], warning["code"]) == ("warning", "clock-change")
    assert warning["path"] == "$.runtime.orchestration.temporal.schedule.timezone"
    today = datetime.now(UTC).date()
    days = [t.day for t in transitions.affected("30 2 * * *", "America/New_York", today)]
    assert days and all(today <= d < today + timedelta(days=366) for d in days)
    assert all(f"{d.isoformat()} 02:30 does not exist" in str(warning["summary"]) for d in days)
    assert "Temporal skips" in str(warning["summary"])
