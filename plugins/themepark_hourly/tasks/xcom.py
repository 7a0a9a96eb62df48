"""The XCom keys the tasks hand each other (besides a task's return value)."""

from __future__ import annotations

# A task's error, pushed before it fails, so that `log` can name the cause.
ERROR = "error"
# Which step of a task failed, when that is not the task itself ("check").
FAILED_STEP = "failed_step"
# What a task wrote before a later step of it failed (aggregate_parks' rows when a check fails).
COMMITTED = "committed"
# migrate's own results (started_at, newest snapshot ids): its return value is the branch choice.
MIGRATED = "migrated"
