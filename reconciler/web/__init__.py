"""Salam's web UI: server-rendered pages of every environment's schedules against git.

:mod:`~reconciler.web.snapshot` is the data (one read-only comparison of an environment),
:mod:`~reconciler.web.html` the escaping element builder every page uses, one module per page
(overview, environment, job, history), :mod:`~reconciler.web.routes` mounts them on the
controller's HTTP server (``reconcile serve``) or on a server of their own (``reconcile ui``),
and :mod:`~reconciler.web.security` holds what keeps them safe to expose.
"""
