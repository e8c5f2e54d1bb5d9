"""The controller as its Deployment runs it, from the image: the init container's clone command
(taken from manifests/base/controller.yaml, with its git settings) fetches the config from a git
host, and ``reconcile serve`` syncs dev from that clone and follows a new commit — as the image's
user, with the volume the Deployment mounts at /var/lib/salam. No cluster runs here, so the
controller syncs dev's crontab file target instead of Kubernetes CronJobs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ROOT
from tests.release.test_image import succeed
from tools.release import chroot

VOLUME = Path("var/lib/salam")  # the Deployment's `work` volume, owned by its fsGroup
GIT_HOST = "/srv/salam/git-host/config.git"
CRON_FILE = VOLUME / "checkout/.salam/cron/salam-dev.cron"
JOB = "environments/dev/jobs/subscriptions.yaml"  # dev's plain_cron job
# the git host: the image's embedded config committed and served as a bare repository
HOST_SETUP = f"""set -e
cd /srv/salam && git init -q -b main && git add environments policies
git -c user.name=ci -c user.email=ci@salam.invalid commit -q -m config
git clone -q --bare /srv/salam {GIT_HOST}
"""
NEW_COMMIT = f"""set -e
cd /srv/salam && sed -i 's/expression: "0 \\* \\* \\* \\*"/expression: "20 \\* \\* \\* \\*"/' {JOB}
git -c user.name=ci -c user.email=ci@salam.invalid commit -q -am "subscriptions at :20"
git push -q {GIT_HOST} main
"""


def controller_deployment() -> dict[str, Any]:
    documents = yaml.safe_load_all((ROOT / "manifests/base/controller.yaml").read_text())
    return next(d for d in documents if d and d["kind"] == "Deployment")


def env_of(container: dict[str, Any], **overrides: str) -> list[str]:
    values = {e["name"]: e["value"] for e in container["env"]} | overrides
    return [f"{name}={value}" for name, value in values.items()]


def test_the_controller_clones_syncs_and_follows_git_inside_the_image(
    bundle: chroot.Bundle,
) -> None:
    pod = controller_deployment()["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == bundle.uid  # the manifest runs the image's user
    volume = bundle.rootfs / VOLUME
    volume.mkdir(parents=True, exist_ok=True)
    os.chown(volume, bundle.uid, bundle.gid)
    succeed(bundle, "sh", "-c", HOST_SETUP)

    clone = pod["initContainers"][0]
    env = env_of(clone, GIT_URL=f"file://{GIT_HOST}")
    cloned = bundle.run(clone["command"], 120, env=env)
    assert cloned.returncode == 0, cloned.stderr
    assert (volume / "checkout/.git").is_dir()

    controller = pod["containers"][0]
    serve = ["reconcile", "serve", "--env", "dev", "--once", "--root", "/var/lib/salam/checkout",
             "--backend", "crontab", "--set", "sync.mode=apply"]  # fmt: skip
    assert serve[:2] == controller["command"][:2]
    synced = bundle.run(serve, 300, env=env_of(controller))
    assert synced.returncode == 0, synced.stdout + synced.stderr
    lines = (bundle.rootfs / CRON_FILE).read_text()  # hourly at :00 in Kolkata: :30 on a UTC host
    assert (
        "\n30 * * * * cd " in lines and "--config environments/dev/jobs/subscriptions.yaml" in lines
    )

    succeed(bundle, "sh", "-c", NEW_COMMIT)
    followed = bundle.run(serve, 300, env=env_of(controller))
    assert followed.returncode == 0, followed.stdout + followed.stderr
    lines = (bundle.rootfs / CRON_FILE).read_text()
    assert "\n50 * * * * cd " in lines and "\n30 * * * * cd " not in lines  # :20 in Kolkata
