"""Policies as code: Salam's Rego policies (``policies/``) evaluated with regopy (rego-cpp).

The reconcile loop (:mod:`reconciler.engine`) and ``reconcile validate`` call :func:`decide`
(or :func:`enforce`, its warnings only) after rendering: a deny raises :class:`PolicyDenied`, a
:class:`ConfigError` (exit 3) whose diagnostics point at the offending key; warnings and the
waivers applied are returned on a :class:`PolicyReport`. ``reconcile policy test`` calls
:func:`run_tests`. Inside: :mod:`.files` (where the policies and their per-environment
``data.params`` live), :mod:`.rego` (the engine wrapper and the compiled-bundle cache),
:mod:`.evaluation` (inputs, deny/warn/exception → diagnostics), :mod:`.locations` (a finding's
``path`` → file:line:column) and :mod:`.testing` (the policies' own tests). The engine failing
(a broken policy file, an evaluation error, a result that is not JSON) raises
:class:`PolicyError` naming the rule and file: exit 1, never a policy decision.
"""

from __future__ import annotations

from reconciler.policy.evaluation import (
    AppliedWaiver,
    PolicyDenied,
    PolicyReport,
    check,
    decide,
    enforce,
    evaluate,
)
from reconciler.policy.files import PolicyError, load_params, policy_dir
from reconciler.policy.rego import clear_cache
from reconciler.policy.testing import PolicyTestResult, run_tests

__all__ = [
    "AppliedWaiver",
    "PolicyDenied",
    "PolicyError",
    "PolicyReport",
    "PolicyTestResult",
    "check",
    "clear_cache",
    "decide",
    "enforce",
    "evaluate",
    "load_params",
    "policy_dir",
    "run_tests",
]
