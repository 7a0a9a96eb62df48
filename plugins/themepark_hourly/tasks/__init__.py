"""The bodies of the DAG's tasks: one module per task, named by its task id, and what they share.

Kept out of the DAG file so that the scheduler's frequent parsing imports nothing heavy: the DAG
file imports a task's module inside the task. Every task states the hour and its counts in its log.

- ``migrate``, ``aggregate_rides``, ``aggregate_parks`` (with the hour's checks), ``late_data``,
  ``log``: the task bodies.
- ``failures``: which errors Airflow retries and which fail a task at once.
- ``run_hour``: which hour a run aggregates, and waiting for it to settle.
- ``params``: the run's params and whether it searches for late data.
- ``xcom``: what the tasks hand each other.
- ``outcome``: the run's outcome from its task states and XCom, for ``log``.
- ``assets``: the asset events of a successful run.
"""
