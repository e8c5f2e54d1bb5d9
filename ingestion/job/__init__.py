"""The Spark ingestion job: extract over JDBC, load Parquet, commit one Iceberg snapshot per table.

Stages (each failure is named by its stage): ``config`` → ``credentials`` → ``session`` →
``window`` → ``extract`` → ``load`` → ``commit`` → ``events``. See :mod:`ingestion.job.runner`.
"""
