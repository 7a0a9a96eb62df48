"""Hourly ride and park statistics for a theme-park downtime tracker, run by Airflow.

The DAG in ``dags/`` is thin wiring; everything it does lives in this package so that it can be
imported, tested and benchmarked without a running Airflow.
"""
