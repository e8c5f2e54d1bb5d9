"""The controller's alerts: one notification when an incident opens, one when it resolves.

The loop (:mod:`.loop`) hands :meth:`Alerter.update` the incidents it found after each pass
(:mod:`.incidents`). A key not open before is notified as opened, an open key no longer found as
resolved; an incident still open sends nothing. A notification goes to the webhook
(Slack-compatible JSON: ``text`` plus the incident's fields, by :func:`reconciler.alerts.post`)
and by e-mail to ``email`` through the environment's ``smtp`` (:mod:`ingestion.shared.mail`)
— from environment.yaml's ``alerts``, key by key over ``defaults.alerts`` (:class:`Settings`).
The open set is written atomically to ``alerts.json`` in the environment's state directory
after every change, so a restarted controller neither sends again nor forgets. A notification
that fails on any channel is not recorded and is tried again on the next pass (a channel that
went out may then repeat). Secrets are references resolved at send time; messages and logs name
references only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ingestion.config import canary, durations
from ingestion.shared import mail, references
from reconciler import alerts, atomicfile
from reconciler.controller.incidents import Incident
from reconciler.controller.status import OpenAlert, now, stamp

log = logging.getLogger("salam.controller")
STATE_FILE = "alerts.json"
OPENED, RESOLVED = "opened", "resolved"


@dataclass(frozen=True)
class Settings:
    """Where an environment's alerts go, and its canary's grace (seconds; None: no canary)."""

    webhook: str | None = None
    email: tuple[str, ...] = ()
    smtp: Mapping[str, Any] | None = None
    canary_grace: float | None = None

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> Settings:
        inherited = (settings.get("defaults") or {}).get("alerts") or {}
        section = {**inherited, **(settings.get("alerts") or {})}  # key by key, as jobs do
        found = canary.settings_of(settings)
        grace = found.get("grace", canary.DEFAULT_GRACE) if found is not None else None
        return cls(
            section.get("webhook"),
            tuple(section.get("email") or ()),
            settings.get("smtp"),
            None if grace is None else float(durations.seconds(str(grace))),
        )


class Alerter:
    """The open alerts of one environment, kept in ``state_dir``."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / STATE_FILE
        self.open: dict[str, OpenAlert] = _read(self.path)

    def listed(self) -> tuple[OpenAlert, ...]:
        """The open alerts, by key (the status model's ``alerts``)."""
        return tuple(self.open[key] for key in sorted(self.open))

    def update(self, found: Sequence[Incident], settings: Settings) -> None:
        """Notify what opened and what resolved; record what was notified."""
        current = {incident.key: incident for incident in found}
        changed = False
        for key, incident in current.items():
            alert = _opened(incident)
            if key not in self.open and _notify(OPENED, alert, settings):
                self.open[key], changed = alert, True
        for key in [key for key in self.open if key not in current]:
            if _notify(RESOLVED, self.open[key], settings):
                del self.open[key]
                changed = True
        if changed:
            _write(self.path, self.open)


def body(event: str, alert: OpenAlert) -> dict[str, Any]:
    """The document sent: Slack's ``text`` line and the incident's fields."""
    environment = alert.key.split("/", 1)[0]
    mark = ":rotating_light:" if event == OPENED else ":white_check_mark:"
    title = alert.kind.replace("-", " ")
    text = f"{mark} [salam {environment}] {event}: {title} — {alert.subject}: {alert.summary}"
    return {
        "text": text,
        "source": "salam",
        "event": f"alert.{event}",
        "environment": environment,
        **asdict(alert),
    }


def _opened(incident: Incident) -> OpenAlert:
    kind = incident.kind.value
    return OpenAlert(incident.key, kind, incident.subject, incident.summary, stamp(now()))


def _notify(event: str, alert: OpenAlert, settings: Settings) -> bool:
    """Send on every channel set; whether all went out (True when none is set)."""
    document = body(event, alert)
    environment = document["environment"]
    ok = True
    if settings.webhook:
        ok &= _try(lambda: alerts.post(settings.webhook or "", document, what="alert webhook"))
    if settings.email and settings.smtp:
        subject = f"[salam] {environment}: {event} {alert.kind} {alert.subject}"
        ok &= _try(lambda: mail.send(settings.smtp or {}, settings.email, subject, document))
    log.info("%s: alert %s %s (%s)", environment, event, alert.key, "sent" if ok else "pending")
    return ok


def _try(send: Callable[[], object]) -> bool:
    try:
        send()
        return True
    except (alerts.AlertError, references.UnresolvedReference, RuntimeError) as exc:
        log.warning("alert not sent, will retry: %s", exc)  # worded without secrets
        return False


def _read(path: Path) -> dict[str, OpenAlert]:
    """The open alerts recorded in ``path`` ({} when there is none or it is unreadable)."""
    try:
        records = json.loads(path.read_text(encoding="utf-8"))["open"]
        return {record["key"]: OpenAlert(**record) for record in records}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("%s unreadable (%s): starting with no open alerts", path, exc)
        return {}


def _write(path: Path, open_alerts: Mapping[str, OpenAlert]) -> None:
    records = [asdict(open_alerts[key]) for key in sorted(open_alerts)]
    text = json.dumps({"open": records}, sort_keys=True, indent=2) + "\n"
    atomicfile.write(path, text.encode())
