"""The pages against real live state: a project's dev environment on the crontab file target
and the export backend (no server needed), read through :class:`LocalViews` — what
``reconcile ui`` serves — and dispatched without a socket."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingestion.shared import lineage
from ingestion.shared.httpserve import HttpServer, Response
from reconciler import engine
from reconciler.web import routes, security, views
from tests.conftest import run_reconcile
from tests.reconciler.test_health import event_line

BACKENDS = ("crontab", "export")
XSS = "<script>alert(1)</script>"


@pytest.fixture
def root(project: Callable[..., Path]) -> Path:
    made = project("dev")
    job = made / "environments/dev/jobs/subscriptions.yaml"
    described = f"description: '{XSS} Subscription lifecycle'\n"
    job.write_text(re.sub(r"^description: .*\n", described, job.read_text(), flags=re.M))
    return made


def _server(root: Path, token: str | None = None, envs: tuple[str, ...] = ("dev",)) -> HttpServer:
    def options(env: str) -> engine.ReconcileOptions:
        return engine.ReconcileOptions(root=root, env=env, backends=BACKENDS)

    server = HttpServer("127.0.0.1", 0)
    server.httpd.server_close()  # dispatch only
    routes.mount(server, views.LocalViews(list(envs), options), token)
    return server


def _get(server: HttpServer, path: str, headers: dict[str, str] | None = None) -> Response:
    return server.dispatch("GET", path, headers or {})


def _apply(root: Path) -> None:
    args = ["--env", "dev", "--root", str(root), "--lock-timeout", "5"]
    for name in BACKENDS:
        args += ["--backend", name]
    assert run_reconcile(*args).exit_code == 0


def test_overview_environment_and_job_before_anything_is_live(root: Path) -> None:
    server = _server(root)
    overview = _get(server, "/").body.decode()
    assert '<a href="/env/dev">dev</a>' in overview and "missing: 3" in overview
    page = _get(server, "/env/dev").body.decode()
    for job in ("subscriptions", "payments", "tariff_catalog"):
        assert f'<a href="/env/dev/job/{job}">{job}</a>' in page
    assert "every hour at :00, Asia/Kolkata" in page and "IST (" in page
    assert '<svg viewBox="0 0 1000' in page and 'class="lane crontab"' in page
    job = _get(server, "/env/dev/job/subscriptions").body.decode()
    assert "+ crontab/file:.salam/cron/salam-dev.cron/subscriptions" in job
    assert '"schedule_id": "salam-dev-subscriptions"' in job.replace("&quot;", '"')
    assert "reconcile drift --env dev --job subscriptions" in job


def test_a_description_with_a_script_renders_as_text(root: Path) -> None:
    job = _get(_server(root), "/env/dev/job/subscriptions").body.decode()
    assert XSS not in job
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Subscription lifecycle" in job


def test_a_hand_edit_shows_as_drift_with_the_cli_renderer_and_the_apply_in_history(
    root: Path,
) -> None:
    _apply(root)
    crontab = root / ".salam/cron/salam-dev.cron"
    crontab.write_text(crontab.read_text().replace("30 * * * *", "50 * * * *"))
    server = _server(root)
    job = _get(server, "/env/dev/job/subscriptions").body.decode()
    assert '<span class="badge modified">modified</span>' in job
    assert "~ schedule: &quot;50 * * * *&quot; -&gt; &quot;30 * * * *&quot;" in job
    assert "Applies that touched this job" in job and "create crontab/" in job
    history = _get(server, "/env/dev/history").body.decode()
    assert "applied" in history and getpass_user() in history
    status = json.loads(_get(server, "/status/dev").body)
    assert status["drift"] == {"modified": 1} and status["sync_state"] == "out-of-sync"


def test_unknown_environments_jobs_and_files_are_404(root: Path) -> None:
    server = _server(root)
    for path in ("/env/uat", "/env/dev/job/nope", "/env/dev/other", "/static/../x", "/x"):
        assert _get(server, path).code == 404, path


def test_a_token_guards_every_route_but_the_probes(root: Path) -> None:
    server = _server(root, token="s3cret-token")
    server.route("GET", "/healthz", lambda request: Response.json({"status": "ok"}))
    assert _get(server, "/").code == 401 and _get(server, "/status").code == 401
    assert _get(server, "/", {"authorization": "Bearer wrong"}).code == 401
    assert _get(server, "/", {"authorization": "Bearer s3cret-token"}).code == 200
    assert _get(server, "/healthz").code == 200


def test_every_response_carries_the_csp(root: Path) -> None:
    server = _server(root)
    assert ("Content-Security-Policy", security.CSP) in server.headers
    assert "default-src 'self'" in security.CSP and "unsafe-inline" not in security.CSP


@pytest.mark.parametrize(
    ("host", "token", "proxy", "refused"),
    [
        ("127.0.0.1", None, False, False),
        ("::1", None, False, False),
        ("localhost", None, False, False),
        ("0.0.0.0", None, False, True),
        ("10.1.2.3", None, False, True),
        ("0.0.0.0", "t", False, False),
        ("0.0.0.0", None, True, False),
    ],
)
def test_beyond_loopback_needs_a_token_or_a_proxy(
    host: str, token: str | None, proxy: bool, refused: bool
) -> None:
    assert (security.exposure_error(host, token, proxy) is not None) is refused


def test_reconcile_ui_refuses_to_listen_beyond_loopback_without_a_token(root: Path) -> None:
    result = run_reconcile("ui", "--env", "dev", "--root", str(root), "--listen", "0.0.0.0:0")
    assert result.exit_code == 1
    assert "not a loopback address" in result.output


def test_compare_shows_the_cli_comparison_and_the_overview_links_to_it(
    project: Callable[..., Path],
) -> None:
    root = project("dev", "uat")
    server = _server(root)
    assert 'href="/compare?from=dev&amp;to=uat"' in _get(server, "/").body.decode()
    page = _get(server, "/compare?from=dev&to=uat").body.decode()
    assert "Compare dev → uat" in page and "reconcile compare --from dev --to uat" in page
    assert '<option value="uat" selected>uat</option>' in page
    assert "execution_command[2]: &quot;local[*]&quot; → &quot;yarn&quot;" in page
    served = json.loads(_get(server, "/compare?from=dev&to=uat&format=json").body)
    cli = run_reconcile(
        "compare", "--from", "dev", "--to", "uat", "--root", str(root), "-o", "json"
    )
    assert served["jobs"] == json.loads(cli.output)["jobs"] and served["summary"]["differs"] > 0


def test_compare_without_both_environments_is_the_form_and_unknown_ones_are_404(
    project: Callable[..., Path],
) -> None:
    server = _server(project("dev", "uat"))
    form = _get(server, "/compare").body.decode()
    assert '<form action="/compare" method="get"' in form and "reconcile compare" not in form
    assert _get(server, "/compare?from=dev&to=prod").code == 404
    assert _get(server, "/compare?from=../dev&to=uat").code == 404


def test_a_compare_of_an_environment_that_does_not_load_shows_the_error(
    project: Callable[..., Path],
) -> None:
    root = project("dev", "uat")
    (root / "environments/uat/environment.yaml").write_text("sync: [unclosed\n")
    response = _get(_server(root), "/compare?from=dev&to=uat")
    assert response.code == 422 and 'class="reason"' in response.body.decode()


def test_the_overview_shows_the_open_alerts_the_controller_recorded(root: Path) -> None:
    state = root / ".salam/state/dev"
    state.mkdir(parents=True)
    alert = {"key": "dev/run-failed/payments", "kind": "run-failed", "subject": "payments",
             "summary": f"last run failed {XSS}", "since": "2026-12-07T10:05:00+00:00"}  # fmt: skip
    (state / "alerts.json").write_text(json.dumps({"open": [alert]}))
    page = _get(_server(root), "/").body.decode()
    assert '<span class="badge run-failed">run-failed</span> <code>payments</code>' in page
    assert "last run failed &lt;script&gt;" in page and "2026-12-07 10:05:00" in page
    status = json.loads(_get(_server(root), "/status/dev").body)
    assert [a["key"] for a in status["alerts"]] == ["dev/run-failed/payments"]


def test_recent_runs_and_watermarks_from_the_events_file(root: Path) -> None:
    at = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
    ids = [lineage.uuid7() for _ in range(3)]
    table = ("dev_subscriptions", at - timedelta(hours=1))
    lines = [
        event_line("START", "subscriptions", ids[0], at),
        event_line("COMPLETE", "subscriptions", ids[0], at + timedelta(minutes=4), rows=1234,
                   watermark=table),
        event_line("START", "subscriptions", ids[1], at + timedelta(hours=1)),
        event_line("FAIL", "subscriptions", ids[1], at + timedelta(hours=1, minutes=2)),
        event_line("START", "subscriptions", ids[2], at + timedelta(hours=2)),
    ]  # fmt: skip
    events = root / ".salam/events/dev.jsonl"
    events.parent.mkdir(parents=True)
    events.write_text("".join(lines))
    server = _server(root)
    job = _get(server, "/env/dev/job/subscriptions").body.decode()
    runs = job[job.index("<h2>Recent runs</h2>") :]
    assert [runs.index(f"<code>{run_id}</code>") for run_id in reversed(ids)] == sorted(
        runs.index(f"<code>{run_id}</code>") for run_id in ids
    )  # newest first
    for shown in ("badge running", "badge failed", "badge succeeded", "1,234"):
        assert shown in runs
    assert "<code>dev_subscriptions</code> <time" in runs and "2026-12-07 03:00:00" in runs
    page = _get(server, "/env/dev").body.decode()
    assert '<ul class="watermarks"><li><code>dev_subscriptions</code>' in page


def getpass_user() -> str:
    import getpass

    return getpass.getuser()
