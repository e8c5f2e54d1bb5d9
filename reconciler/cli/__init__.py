"""The ``reconcile`` command line: :mod:`app` wires the commands, one module per command."""
