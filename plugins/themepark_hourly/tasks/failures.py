"""Which errors Airflow's retries can cure and which fail a task at once, and recording the error for `log`."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from themepark_hourly import aggregation, checks, config, db_errors, hours, migrations
from themepark_hourly.tasks import xcom

log = logging.getLogger("themepark_hourly")

F = TypeVar("F", bound=Callable[..., Any])


def is_permanent(exc: BaseException) -> bool:
    """Whether retrying the task cannot help: the input, the hour or a setting is wrong.

    Connection loss, deadlocks and lock timeouts are transient and keep Airflow's retries.
    """
    permanent = (
        hours.IntervalError,
        hours.HourNotSettled,
        config.ConfigError,
        aggregation.RefusedHour,
        checks.ChecksFailed,
    )
    if isinstance(exc, permanent):
        return True
    if db_errors.error_code(exc) in db_errors.NOT_ALLOWED or db_errors.error_code(exc.__cause__) in db_errors.NOT_ALLOWED:
        return True
    if isinstance(exc, migrations.MigrationError):
        cause = db_errors.error_code(exc.__cause__) if exc.__cause__ is not None else None
        return cause not in db_errors.CONNECTION_LOST and cause not in db_errors.RETRYABLE
    return False


def reports_errors(task_id: str) -> Callable[[F], F]:
    """Push the task's error to XCom before it fails, so that `log` can name the cause.

    A permanent error fails the task at once (AirflowFailException: no retries), so it reaches
    the UI and alerts in seconds rather than after minutes of back-off.
    """

    def wrap(func: F) -> F:
        @functools.wraps(func)
        def run(context: Mapping[str, Any]) -> Any:
            try:
                return func(context)
            except Exception as exc:
                from airflow.sdk.exceptions import AirflowRescheduleException

                if isinstance(exc, AirflowRescheduleException):
                    raise  # waiting for the hour to settle: not an error
                ti = context.get("ti")
                if ti is not None:
                    try:
                        ti.xcom_push(key=xcom.ERROR, value=f"{type(exc).__name__}: {exc}")
                    except Exception:  # noqa: BLE001 - the original error matters more
                        log.warning("could not record the error of %s in XCom", task_id)
                if is_permanent(exc):
                    from airflow.sdk.exceptions import AirflowFailException

                    raise AirflowFailException(f"{type(exc).__name__}: {exc} (not retried)") from exc
                raise

        return run  # type: ignore[return-value]

    return wrap
