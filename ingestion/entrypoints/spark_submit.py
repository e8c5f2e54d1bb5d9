"""The script spark-submit runs: ``spark-submit … spark_submit.py run --config FILE``.

spark-submit puts this file's directory on ``sys.path``, so this directory holds only this file;
the project root (the working directory) is added so that ``ingestion`` imports.
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())
    sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    from ingestion import cli

    cli.main()
