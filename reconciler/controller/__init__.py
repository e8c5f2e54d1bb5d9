"""``reconcile serve``: the controller that keeps live state on the branch.

Per environment, a loop (:mod:`.loop`) fetches the git source (:mod:`.source`), renders the head
(or the revision an operator pinned with ``reconcile rollback --to``, :mod:`.pin`), diffs, and
applies or reports per the sync policy (:mod:`.policy`), always through
:func:`reconciler.engine.prepare` and :func:`reconciler.engine.apply`. Its state is a small
frozen status model (:mod:`.status`) served over HTTP (:mod:`.server`).
"""
