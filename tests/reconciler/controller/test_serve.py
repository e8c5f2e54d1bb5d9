"""``reconcile serve`` end to end: a pushed commit is applied within an interval, detect mode
never writes, self-heal (on and off), a deny window, a rollback pin, back-off, SIGTERM, the
HTTP endpoint, and one process keeping two environments."""

from __future__ import annotations

import json
import re
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from reconciler import audit, journal, lock
from tests.conftest import run_reconcile
from tests.reconciler.controller.conftest import WAIT_SECONDS, Site
from tests.reconciler.gitops.conftest import edit, git

# subscriptions' schedule (crontab), and a new one; in Asia/Kolkata, so :30 and :45 on a UTC host
HOURLY, QUARTER = '"0 * * * *"', '"15 * * * *"'
A, B = "30 * * * *", "45 * * * *"


def _state(site: Site) -> str:
    return str(site.clone / ".salam/state/dev")


def _crontab_schedule(site: Site, env: str = "dev") -> str:
    lines = (site.clone / f".salam/cron/salam-{env}.cron").read_text().splitlines()
    line = next(x for x in lines if "subscriptions" in x and not x.startswith("#"))
    return " ".join(line.split()[:5])


def test_a_pushed_commit_is_applied_and_self_heal_off_only_reports_a_hand_edit(
    site: Site,
) -> None:
    first = git(site.work, "rev-parse", "HEAD")
    site.start("sync.mode=apply")
    status = site.wait(lambda s: s["revision_applied"] == first, "the first revision applied")
    assert status["sync_state"] == "synced" and status["drift"] == {}
    assert len(site.live()) == 3  # subscriptions (crontab), miniboss_bss + usage_records
    assert _crontab_schedule(site) == A

    edit(site.work, "dev", "subscriptions", HOURLY, QUARTER)
    second = site.push("B: subscriptions at a quarter past")
    site.wait(lambda s: s["revision_applied"] == second, "the pushed commit applied")
    assert _crontab_schedule(site) == B

    site.crontab.write_text(site.crontab.read_text().replace(B, "50 * * * *"))
    status = site.passes(2)
    assert status["sync_state"] == "out-of-sync"
    assert "self_heal is off" in status["blocked"]
    assert sum(status["drift"].values()) == 1
    assert _crontab_schedule(site) == "50 * * * *"  # reported, not corrected
    assert site.stop() == 0

    site.start("sync.mode=apply", "sync.self_heal=true")  # a restart resumes from the audit log
    status = site.wait(lambda s: s["sync_state"] == "synced", "self-heal")
    assert status["revision_applied"] == second
    assert _crontab_schedule(site) == B
    assert [e["revision"] for e in audit.history(site.clone / ".salam/state/dev")] == [
        first,
        second,
        second,
    ]
    assert site.stop() == 0


def test_detect_mode_never_writes(site: Site) -> None:
    site.start("sync.mode=detect")
    status = site.wait(lambda s: s["drift"], "drift counts")
    assert status["sync_state"] == "out-of-sync" and status["drift"] == {"missing": 3}
    assert "detect mode" in status["blocked"]
    edit(site.work, "dev", "subscriptions", HOURLY, QUARTER)
    head = site.push("B")
    site.wait(lambda s: s["branch_head"] == head, "the new head fetched")
    site.passes(1)
    assert site.live() == {}
    assert not site.crontab.exists()
    assert audit.history(site.clone / ".salam/state/dev") == []
    assert site.stop() == 0


def test_a_deny_window_blocks_the_apply_until_it_closes(crontab_site: Site) -> None:
    site = crontab_site
    if datetime.now(UTC).second > 40:  # the window below lasts until the minute ends
        time.sleep(61 - datetime.now(UTC).second)
    now = datetime.now(UTC)
    window = f'[{{kind: deny, schedule: "{now.minute} {now.hour} * * *", duration: 1m}}]'
    site.start("sync.mode=apply", f"sync.windows={window}")
    status = site.status()
    assert status["sync_state"] == "out-of-sync"
    assert "deny window open" in status["blocked"]
    assert not site.crontab.exists()
    closes_in = 60 - datetime.now(UTC).second  # the window ends with the minute
    site.wait(
        lambda s: s["sync_state"] == "synced",
        "the apply after the window closed",
        seconds=closes_in + WAIT_SECONDS,
    )
    assert _crontab_schedule(site) == A
    assert site.stop() == 0


def test_a_rollback_pin_holds_until_git_catches_up(crontab_site: Site) -> None:
    site = crontab_site
    first = git(site.work, "rev-parse", "HEAD")
    site.start("sync.mode=apply", "sync.self_heal=true")
    site.wait(lambda s: s["revision_applied"] == first, "A applied")
    edit(site.work, "dev", "subscriptions", HOURLY, QUARTER)
    second = site.push("B")
    site.wait(lambda s: s["revision_applied"] == second, "B applied")

    result = run_reconcile(
        "rollback", "--env", "dev", "--to", first[:10], "--root", str(site.clone),
        "--backend", "crontab", "--lock-timeout", "10",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "pinned" in result.stdout
    status = site.passes(3)
    assert status["pinned"]["revision"] == first and status["target_revision"] == first
    assert status["branch_head"] == second and status["sync_state"] == "synced"
    assert _crontab_schedule(site) == A  # the pin holds: B is not re-applied
    history = run_reconcile("history", "--env", "dev", "--root", str(site.clone))
    assert f"Pinned to {first[:10]}" in history.stdout

    git(site.work, "revert", "--no-edit", "HEAD")  # git catches up: B reverted
    third = site.push("revert B")
    status = site.wait(lambda s: s["pinned"] is None, "the pin lifted")
    assert status["target_revision"] == third
    assert _crontab_schedule(site) == A
    assert not (site.clone / ".salam/state/dev/pin.json").exists()
    assert site.stop() == 0


def test_a_failing_backend_backs_off_exponentially_with_a_cap(crontab_site: Site) -> None:
    site = crontab_site
    site.start("sync.mode=apply", "sync.max_backoff=4s", "crontab.target.file=/proc/salam.cron")
    status = site.wait(lambda s: s["failures"] >= 4, "four failures")
    assert status["sync_state"] == "failed" and status["last_error"]
    assert status["attempts"] == status["failures"]  # every attempt failed, none in between
    waited = _gap(status["last_check"], status["next_sync"])
    assert waited == 4  # 1s * 2^(4-1) = 8s, capped at 4s
    status = site.wait(lambda s: s["failures"] >= 5, "a fifth failure")
    assert _gap(status["last_check"], status["next_sync"]) == 4
    assert site.stop() == 0


def _gap(start: str, end: str) -> int:
    return round((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())


def test_sigterm_mid_apply_finishes_the_apply_then_exits(site: Site) -> None:
    state = site.clone / ".salam/state/dev"
    with lock.hold(state / "apply.lock", timeout=5):  # the apply step starts, and waits here
        process = site.start("sync.mode=apply", first_pass=False)
        site.wait(lambda s: s["phase"] == "applying", "the apply step")
        process.send_signal(signal.SIGTERM)
        assert process.poll() is None  # the step under way is not cut short
    assert process.wait(timeout=60) == 0
    assert "stopped" in site.log()
    assert journal.leftovers(state / "journal") == []
    assert [e["outcome"] for e in audit.history(state)] == ["applied"]
    assert len(site.live()) == 3

    site.start("sync.mode=apply")  # a restart resumes: nothing left to do
    status = site.wait(lambda s: s["sync_state"] == "synced", "in sync after the restart")
    assert status["last_apply"] is None and len(audit.history(state)) == 1
    assert site.stop() == 0


def test_http_endpoints_and_the_webhook(crontab_site: Site) -> None:
    site = crontab_site
    site.start("sync.mode=apply", "sync.interval=1h")
    assert site.get("/healthz") == (200, {"status": "ok"})
    assert site.get("/readyz") == (200, {"ready": True})
    code, document = site.get("/status")
    assert code == 200 and document["environments"]["dev"]["mode"] == "apply"
    assert site.get("/status/nope")[0] == 404
    edit(site.work, "dev", "subscriptions", HOURLY, QUARTER)
    head = site.push("B")
    assert site.get("/webhook/git", method="POST")[0] == 202
    site.wait(lambda s: s["revision_applied"] == head, "the webhook's fetch")
    assert re.match(r"\d{4}-", json.dumps(site.status()["next_sync"]).strip('"'))
    assert site.stop() == 0


def test_worktree_follows_the_files_as_they_are(crontab_site: Site) -> None:
    site = crontab_site
    site.start("sync.mode=apply", extra=("--worktree",))
    status = site.wait(lambda s: s["sync_state"] == "synced", "the work tree applied")
    assert status["branch_head"] is None and status["revision_applied"].startswith("worktree:")
    assert _crontab_schedule(site) == A
    edit(site.clone, "dev", "subscriptions", HOURLY, QUARTER)  # not committed: followed anyway
    site.wait(lambda s: s["revision_applied"] != status["revision_applied"], "the edit applied")
    assert _crontab_schedule(site) == B
    assert site.stop() == 0


def test_one_controller_keeps_two_environments_each_on_its_own_policy(
    repo: Callable[..., Path],
) -> None:
    site = Site(repo("dev", "uat"), None, "")
    try:
        first = git(site.work, "rev-parse", "HEAD")
        # uat's applies hold a Lease in its cluster, which a host without one cannot reach
        site.start("sync.mode=apply", "kubernetes.lease=null", envs=("dev", "uat"))
        for env in ("dev", "uat"):
            site.wait(lambda s: s["revision_applied"] == first, f"{env} applied", env)
        assert _crontab_schedule(site) == _crontab_schedule(site, "uat") == A

        edit(site.work, "uat", "subscriptions", HOURLY, QUARTER)
        second = site.push("B: uat's subscriptions at a quarter past")
        site.wait(lambda s: s["revision_applied"] == second, "uat's commit applied", "uat")
        dev = site.wait(lambda s: s["branch_head"] == second, "dev sees the new head")
        assert dev["sync_state"] == "synced" and dev["last_apply"]["revision"] == first
        assert _crontab_schedule(site) == A  # dev's line: its configs did not change
        assert _crontab_schedule(site, "uat") == B
        code, document = site.get("/status")
        assert code == 200 and set(document["environments"]) == {"dev", "uat"}
        assert site.stop() == 0
    finally:
        site.close()
