"""The coverage view in Airflow's own UI (docs/COVERAGE.md): served by the real api-server of the stack,
guarded by Airflow's auth manager, and used in a real browser (Debian's chromium, driven by playwright)
down to a backfill created through Airflow's REST API that turns a gap into stats written.

The screenshot of the view is kept in ``$THEMEPARK_ARTIFACTS_DIR`` (default: .artifacts/ in the repo).
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from support import coverage_scenario
from themepark_devtools import browser
from themepark_hourly import db

DAG_ID = "themepark_hourly_aggregation"
PAGE = f"/themepark-coverage/dags/{DAG_ID}/coverage"
ROUTES = [PAGE, f"{PAGE}/grid.json", f"{PAGE}/cell?hour=2025-07-04T14:00:00Z", f"{PAGE}/coverage.js"]
SEEDED = {  # UTC hour of 2025-07-04 -> state (tests/support/coverage_scenario.py; 19:00 gets a queued run below)
    14: "ok",
    15: "late",
    16: "failed",
    17: "checks_failed",
    18: "gap",
    19: "running",
    13: "gap",
}
ARTIFACTS = Path(os.environ.get("THEMEPARK_ARTIFACTS_DIR") or Path(__file__).resolve().parents[2] / ".artifacts")


@pytest.fixture(scope="module")
def airflow_stack_users() -> dict[str, str]:
    # "nobody" may sign in and has no role: Airflow's auth manager gives them no DAG.
    return {"viewer": "viewer", "nobody": ""}


@pytest.fixture(scope="module")
def seeded(e2e_database):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRFLOW_CONN_THEMEPARK_DB", e2e_database.url)
        with db.connection() as conn:
            coverage_scenario.seed(conn)
    return e2e_database


@pytest.fixture(scope="module")
def stack(airflow_stack, seeded):
    airflow_stack.wait_for_dag()
    return airflow_stack


def _get(stack, path: str, user: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {stack.token_for(user)}"} if user else {}
    return httpx.get(stack.base_url + path, headers=headers, timeout=60)


def test_every_route_wants_a_signed_in_user_with_access_to_the_dag(stack):
    for path in ROUTES:
        anonymous, nobody, viewer = (_get(stack, path, user) for user in (None, "nobody", "viewer"))
        assert anonymous.status_code == 401, (path, anonymous.text)
        assert nobody.status_code == 403, (path, nobody.text)
        assert viewer.status_code == 200, (path, viewer.text)
    views = {(v["destination"], v["href"]) for p in stack.get("/api/v2/plugins")["plugins"] for v in p["external_views"]}
    assert ("dag", "themepark-coverage/dags/{DAG_ID}/coverage") in views
    assert ("nav", f"themepark-coverage/dags/{DAG_ID}/coverage") in views


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2025-13-01", "start: '2025-13-01' is not a date (YYYY-MM-DD)"),
        ("start=2024-01-01&end=2025-07-04", "end: the range 2024-01-01..2025-07-04 has 551 days; at most 366"),
        ("start=2025-07-04&end=2025-07-04&park=1%20OR%201%3D1", "park: '1 OR 1=1' is not a park id"),
        ("start=2025-07-04&end=2025-07-04&park=4242", "park: no park with id 4242 in table parks"),
        ("start=2025-07-04&end=2025-07-04&tz=CET", "tz: 'CET' is neither 'utc' nor 'park'"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(stack, query, message):
    answer = _get(stack, f"{PAGE}/grid.json?{query}", "viewer")
    assert (answer.status_code, answer.json()) == (400, {"detail": message})
    page = _get(stack, f"{PAGE}?{query}", "viewer")
    assert page.status_code == 400 and message.replace("'", "&#39;") in page.text
    cell = _get(stack, f"{PAGE}/cell?hour=2025-07-04T14:30:00Z", "viewer")
    assert cell.status_code == 400 and cell.json()["detail"].startswith("hour: ")


def test_the_default_range_ends_at_the_newest_snapshot_when_collecting_stopped(stack):
    grid = _get(stack, f"{PAGE}/grid.json", "viewer").json()
    # The sample day's last poll is on 2025-07-05 (UTC): the last 14 days up to it, said so.
    assert (grid["start"], grid["end"]) == ("2025-06-22", "2025-07-05")
    assert grid["note"] == "No snapshot since 2025-07-05: showing the 14 days up to it."
    asked = _get(stack, f"{PAGE}/grid.json?start=2026-01-01", "viewer").json()
    assert asked["start"] == "2026-01-01" and asked["note"] is None


def test_another_dag_gets_a_pointer_not_a_grid(stack):
    answer = _get(stack, "/themepark-coverage/dags/some_other_dag/coverage/grid.json", "admin")
    assert answer.status_code == 404 and DAG_ID in answer.json()["detail"]


def _cell(frame, hour: int):
    return frame.locator(f'button.cell[data-hour="2025-07-04T{hour:02d}:00:00Z"]')


def _sign_in(page, stack, user: str) -> None:
    page.goto(f"{stack.base_url}/dags/{DAG_ID}")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", stack.passwords[user])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/dags/{DAG_ID}")


def _open_tab(page):
    """The DAG's "Hourly coverage" tab, on the sample day: the view's frame."""
    page.get_by_role("link", name="Hourly coverage").click()
    frame = page.frame_locator("iframe").first
    frame.locator("input[name=start]").fill("2025-07-04")
    frame.locator("input[name=end]").fill("2025-07-04")
    frame.get_by_role("button", name="Show").click()
    frame.locator("#grid").wait_for()
    return frame


def test_the_view_shows_each_state_and_backfills_a_gap_in_a_real_browser(stack):
    from playwright.sync_api import expect, sync_playwright

    # The DAG is paused (as deployed): a run of 19:00 stays queued, an hour under way.
    assert stack.get_dag()["is_paused"]
    stack.trigger_run("2025-07-04T19:00:00Z")

    with sync_playwright() as pw:
        chromium = browser.launch(pw)
        try:
            page = chromium.new_page(viewport={"width": 1400, "height": 1000})
            _sign_in(page, stack, "admin")
            frame = _open_tab(page)
            expect(frame.locator("#timezone")).to_have_text("UTC")
            for hour, state in SEEDED.items():
                expect(_cell(frame, hour)).to_have_attribute("data-state", state)
            expect(_cell(frame, 15)).to_have_attribute("title", "2025-07-04 15:00–16:00 UTC: Redone for late snapshots. "
                                                       "redone 2025-07-04 21:06 UTC for 7 late snapshots")  # fmt: skip
            expect(frame.locator('[data-count="running"]')).to_have_text("1")

            # A cell's details: what the tables hold of it and its (missing) runs.
            _cell(frame, 18).click()
            details = frame.locator("#details")
            expect(details).to_contain_text("540 ride snapshots · 0 ride_hourly_stats rows")
            expect(details).to_contain_text("No Airflow run of this hour.")
            expect(details).to_contain_text("No aggregation_log row for this hour.")
            expect(frame.locator("#selection-info")).to_contain_text("1 hour selected, 2025-07-04T18:00:00Z")

            # Backfill the selected gap: Airflow's dry run first, then the backfill itself.
            frame.get_by_role("button", name="Backfill selected…").click()
            panel = frame.locator("#backfill-panel")
            expect(panel).to_contain_text("Airflow would run 1 hour")
            expect(panel).to_contain_text("The DAG is paused")
            stack.unpause()
            frame.get_by_role("button", name="Create backfill of 1 run").click()
            created = frame.locator("#backfill-created")
            expect(created).to_be_visible(timeout=30_000)
            backfill_id = created.get_attribute("data-backfill-id")
            backfill = stack.get(f"/api/v2/backfills/{backfill_id}")
            assert (backfill["dag_id"], backfill["from_date"][:19], backfill["to_date"][:19]) == (
                DAG_ID, "2025-07-04T18:00:00", "2025-07-04T18:00:00",
            )  # fmt: skip
            assert backfill["reprocess_behavior"] == "failed"
            # Created as the signed-in user: Airflow's audit log names them.
            events = stack.get("/api/v2/eventLogs", params={"dag_id": DAG_ID, "limit": 100})["event_logs"]
            assert any("backfill" in e["event"] and e["owner"] == "admin" for e in events), events

            # The grid refreshes by itself until the backfill is done: the gap turns to stats written.
            expect(_cell(frame, 18)).to_have_attribute("data-state", "ok", timeout=240_000)
            expect(_cell(frame, 19)).to_have_attribute("data-state", "ok", timeout=240_000)
            expect(_cell(frame, 13)).to_have_attribute("data-state", "gap")
            # The details shown are refreshed with the grid: the hour now has its run and rows.
            expect(details).not_to_contain_text("No Airflow run of this hour.", timeout=30_000)
            expect(details.locator("tr[data-log-id]")).to_have_count(1)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "coverage-view.png"))
            page.locator("iframe").first.screenshot(path=str(ARTIFACTS / "coverage-view-frame.png"))
            print(f"\ncoverage view screenshots: {ARTIFACTS}/coverage-view.png, coverage-view-frame.png")

            # Airflow's permissions decide: a viewer sees the grid and is refused the backfill.
            viewer = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            _sign_in(viewer, stack, "viewer")
            frame = _open_tab(viewer)
            expect(_cell(frame, 13)).to_have_attribute("data-state", "gap")
            _cell(frame, 13).click()
            frame.get_by_role("button", name="Backfill selected…").click()
            expect(frame.locator("#backfill-panel")).to_contain_text("Airflow refused the dry run: HTTP 403")
        finally:
            chromium.close()
