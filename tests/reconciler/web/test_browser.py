"""The web UI in a real browser: Debian's chromium, headless, driven by Selenium, against a real
``reconcile serve`` (a Temporal dev server, the crontab file target and the export backend).

The overview lists the environment; the environment page lists dev's jobs across crontab,
Temporal and export with their next runs and sorts and filters them; a job description holding
``<script>alert(1)</script>`` is text in the DOM and no dialog opens; a hand edit of a live
crontab entry shows as drift on the job page within one refresh; no page logs a console error
(a Content-Security-Policy violation would be one). With ``--actions-token-ref``, the job page's
Pause asks why (dismissed: nothing sent), refuses without the actions token (prompt dismissed, or
a wrong one) and changes nothing; with it, the page shows the job paused from the web UI with
the reason given, as text.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler import audit
from tests.reconciler.controller.conftest import Site, repo, site, temporal_server  # noqa: F401
from tests.reconciler.gitops.conftest import edit
from tools import browser

pytestmark = pytest.mark.skipif(browser.missing() is not None, reason=str(browser.missing()))

XSS = "<script>alert(1)</script>"
EXPORT = ("--backend", "export")
TOKEN = secrets.token_urlsafe(16)
ACTIONS_TOKEN_REF = "env:SALAM_TEST_UI_TOKEN"


@pytest.fixture
def chromium() -> Iterator[Any]:
    with browser.chromium() as driver:
        yield driver


def _open(driver: Any, served: Site, path: str) -> str:
    """Load a page; its visible text, after checking no dialog opened and nothing was logged."""
    from selenium.common.exceptions import NoAlertPresentException

    driver.get(f"http://127.0.0.1:{served.port}{path}")
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert  # noqa: B018 (the property raises when no dialog is open)
    assert browser.console_errors(driver) == [], path
    return str(driver.find_element("tag name", "body").text)


def _rows(driver: Any) -> list[str]:
    cells = driver.find_elements("css selector", "#jobs tbody tr:not([hidden]) td:first-child")
    return [cell.text for cell in cells]


def test_overview_environment_and_job_pages_with_an_xss_description(
    site: Site,  # noqa: F811
    chromium: Any,
) -> None:
    job = site.work / "environments/dev/jobs/subscriptions.yaml"
    job.write_text(
        re.sub(r"(?m)^description: .*$", f"description: '{XSS} hourly'", job.read_text())
    )
    site.push("a description with a script in it")
    site.start("sync.mode=apply", extra=EXPORT)
    site.wait(lambda s: s["sync_state"] == "synced", "the first apply")
    site.passes(1)  # the pages show the last comparison: one after the apply

    overview = _open(chromium, site, "/")
    assert "dev" in overview and "synced" in overview and "branch head" in overview

    page = _open(chromium, site, "/env/dev")
    assert sorted(_rows(chromium)) == [
        "miniboss_bss",
        "payments",
        "subscriptions",
        "tariff_catalog",
        "usage_records",
    ]
    assert "Asia/Kolkata" in page and " UTC)" in page
    assert chromium.find_elements("css selector", "svg.calendar rect.run")
    chromium.find_element("xpath", "//th[text()='Job']").click()
    chromium.find_element("xpath", "//th[text()='Job']").click()
    assert _rows(chromium) == sorted(_rows(chromium), reverse=True)  # descending after 2 clicks
    chromium.find_element("id", "filter").send_keys("temporal")
    assert sorted(_rows(chromium)) == ["miniboss_bss", "usage_records"]

    text = _open(chromium, site, "/env/dev/job/subscriptions")
    description = chromium.find_element("css selector", "p.description")
    assert description.text == f"{XSS} hourly"
    assert chromium.find_elements("css selector", "main script") == []
    assert "live matches the plan" in text
    chromium.find_element("css selector", "details summary").click()  # the plan, folded
    plan = chromium.find_element("css selector", "pre.plan").text
    assert '"schedule_id": "salam-dev-subscriptions"' in plan
    assert "reconcile drift --env dev --job subscriptions" in text
    _open(chromium, site, "/env/dev/history")
    assert "applied" in chromium.find_element("id", "history").text
    assert site.stop() == 0


def test_a_hand_edit_shows_as_drift_on_the_job_page_within_one_refresh(
    site: Site,  # noqa: F811
    chromium: Any,
) -> None:
    edit(site.work, "dev", "subscriptions", '"0 * * * *"', '"15 * * * *"')
    site.push("subscriptions at a quarter past")
    site.start("sync.mode=apply", extra=EXPORT)
    site.wait(lambda s: s["sync_state"] == "synced", "the first apply")
    site.passes(1)  # the pages show the last comparison: one after the apply
    before = _open(chromium, site, "/env/dev/job/subscriptions")
    assert "live matches the plan" in before

    site.crontab.write_text(site.crontab.read_text().replace("45 * * * *", "50 * * * *"))
    site.passes(2)  # a whole pass after the edit
    chromium.refresh()
    after = _open(chromium, site, "/env/dev/job/subscriptions")
    assert "modified" in after
    assert '~ schedule: "50 * * * *" -> "45 * * * *"' in after
    assert "modified" in _open(chromium, site, "/env/dev")
    assert "modified: 1" in _open(chromium, site, "/")
    assert site.stop() == 0


@pytest.fixture
def acting(site: Site, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Site, str]]:  # noqa: F811
    """``reconcile serve --actions-token-ref``: the pages open on loopback as ever; an action's
    POST carries only the token the person typed."""
    monkeypatch.setenv("SALAM_TEST_UI_TOKEN", TOKEN)
    actions = (*EXPORT, "--actions-token-ref", ACTIONS_TOKEN_REF)
    site.start("sync.mode=apply", "sync.self_heal=true", extra=actions)
    site.wait(lambda s: s["sync_state"] == "synced", "the first apply")
    site.passes(1)
    yield site, f"http://127.0.0.1:{site.port}"


def _click_and_answer(driver: Any, *answers: str | None) -> None:
    """Click the job page's action button and answer its prompts in turn (None: dismiss)."""
    from selenium.webdriver.support.wait import WebDriverWait

    driver.find_element("css selector", "button[data-action]").click()
    for answer in answers:
        prompt = WebDriverWait(driver, 10).until(lambda d: d.switch_to.alert)
        if answer is None:
            prompt.dismiss()
        else:
            prompt.send_keys(answer)
            prompt.accept()


def _said(driver: Any) -> str:
    """What the page says beside the action button once the action has answered."""
    from selenium.webdriver.support.wait import WebDriverWait

    shown = driver.find_element("css selector", "output.action-status")
    WebDriverWait(driver, 10).until(lambda d: shown.text not in ("", "working…"))
    return str(shown.text)


def _button(driver: Any) -> str:
    return str(driver.find_element("css selector", "button[data-action]").text)


def test_pause_needs_the_token_then_shows_paused(acting: tuple[Site, str], chromium: Any) -> None:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.wait import WebDriverWait

    served, front = acting
    chromium.get(f"{front}/env/dev/job/usage_records")
    assert browser.console_errors(chromium) == []
    assert _button(chromium) == "Pause"

    _click_and_answer(chromium, None)  # why pause? dismissed: cancelled
    assert _said(chromium) == "not sent: cancelled"
    _click_and_answer(chromium, "an incident", None)  # the token prompt dismissed
    assert _said(chromium) == "not sent: actions need the bearer token"
    _click_and_answer(chromium, "an incident", "not-the-token")
    refused = _said(chromium)
    assert refused.startswith("refused (401): missing or wrong token")
    errors = browser.console_errors(chromium)
    assert errors and all("401" in error for error in errors)  # the refused POST, nothing else
    assert not any(s["paused"] for s in served.status()["schedules"])
    assert [e["action"] for e in audit.history(served.clone / ".salam/state/dev")] == [None]

    _click_and_answer(chromium, "source <b>upgrade</b>", TOKEN)
    stale = (StaleElementReferenceException, NoSuchElementException)
    WebDriverWait(chromium, 60, ignored_exceptions=stale).until(lambda d: _button(d) == "Resume")
    text = chromium.find_element("tag name", "body").text
    assert "yes: paused from the web UI: source <b>upgrade</b>" in text  # the note, as text
    assert browser.console_errors(chromium) == []
    history = audit.history(served.clone / ".salam/state/dev")
    assert [(e["action"], e["via"]) for e in history] == [(None, None), ("pause", "ui")]
    assert served.stop() == 0
