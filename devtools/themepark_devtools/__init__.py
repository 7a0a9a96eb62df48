"""What only the demo, the soak, the benchmark and the tests use: sample data and the soak run.

Kept out of plugins/ so that no Airflow process imports it.
"""
