"""Salam's build and dev tools, run from a checkout with ``python -m tools.<tool>``.

Not part of the installed distribution (pyproject's package list holds ``ingestion*`` and
``reconciler*`` only) and imported by neither: :mod:`tools.docgen` regenerates the reference
pages, :mod:`tools.progress` shows the main command's steps. This file imports nothing, so
``python -m tools.progress`` runs on a Python without the project installed.
"""
