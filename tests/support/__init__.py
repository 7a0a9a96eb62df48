"""Helpers of the tests (not tests themselves): databases on the test server, the reference
aggregation, a tracker to write snapshots, the TouringPlans fixture, the end-to-end sample day.

Imported as ``support.<module>`` (tests/ is on pytest's pythonpath).
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
