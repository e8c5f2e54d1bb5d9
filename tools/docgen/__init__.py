"""The reference-page generator: ``python -m tools.docgen [--check]`` from the project root.

:mod:`tools.docgen.config_reference` renders ``docs/reference/configuration.md`` from the JSON
schemas, :mod:`tools.docgen.cli_reference` renders ``docs/reference/cli.md`` from the
``reconcile`` and ``ingest`` typer apps, :mod:`tools.docgen.pages` compares both with the
committed pages and writes them, and :mod:`tools.docgen.__main__` is the command. CI runs
``python -m tools.docgen --check`` (exit 4 naming each stale page); nothing at runtime imports
this package.
"""
