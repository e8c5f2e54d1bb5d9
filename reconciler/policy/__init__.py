"""Policies as code: Salam's Rego policies (``policies/``) evaluated with regopy (rego-cpp).

The reconcile loop (:mod:`reconciler.engine`) and ``reconcile validate`` call :func:`enforce`
after rendering: a deny blocks with a :class:`ConfigError` (exit 3), a warn is returned to be
shown; ``reconcile policy test`` calls :func:`run_tests`. Inside: :mod:`.files` (where the
policies and their per-environment ``data.params`` live), :mod:`.rego` (the engine wrapper and
the compiled-bundle cache), :mod:`.evaluation` (inputs, deny/warn/exception → diagnostics) and
:mod:`.testing` (the policies' own tests). Everything fails with :class:`PolicyError`.
"""

from __future__ import annotations

from reconciler.policy.evaluation import check, enforce, evaluate
from reconciler.policy.files import PolicyError, load_params, policy_dir
from reconciler.policy.rego import clear_cache
from reconciler.policy.testing import PolicyTestResult, run_tests

__all__ = [
    "PolicyError",
    "PolicyTestResult",
    "check",
    "clear_cache",
    "enforce",
    "evaluate",
    "load_params",
    "policy_dir",
    "run_tests",
]
