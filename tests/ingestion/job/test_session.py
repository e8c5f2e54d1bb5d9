"""A session the job builds itself gets the environment's jars and py-files, as spark-submit's
``--jars`` and ``--py-files`` give them to the plan's command."""

from __future__ import annotations

from ingestion.job import session


def test_built_sessions_get_the_environments_jars_and_py_files() -> None:
    settings = {"spark": {"jars": ["a.jar", "b.jar"], "py_files": ["deps/helpers.zip"]}}

    conf = session.conf(settings, {})

    assert conf["spark.jars"] == "a.jar,b.jar"
    assert conf["spark.submit.pyFiles"] == "deps/helpers.zip"
