"""The Kubernetes backend: one batch/v1 CronJob per ``kubernetes``-mode job.

Importing this package registers the backend (``@register("kubernetes")``). Modules:
:mod:`connection` (kubeconfig / in-cluster client and error wording), :mod:`render` (plan →
canonical spec → CronJob manifest), :mod:`normalize` (live object → canonical spec) and
:mod:`backend` (read with one labelled list call per namespace, apply with create / replace /
delete). Only this package imports the ``kubernetes`` client.
"""

from reconciler.backends.kubernetes import backend as backend

__all__ = ["backend"]
