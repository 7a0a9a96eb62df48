// The coverage view's behaviour: select cells, show a cell's details, backfill the selection
// through Airflow's own REST API (as the signed-in user: the browser sends the UI's cookie), and
// refresh the grid while hours are under way. No build step: plain browser JavaScript.
"use strict";

(() => {
  const body = document.body;
  const base = body.dataset.airflowBase || "";
  const dagId = body.dataset.dagId;
  const park = body.dataset.park || "";
  const needsBackfill = (body.dataset.needsBackfill || "").split(",");
  const statusEl = document.getElementById("status");
  const selected = new Set();
  const REFRESH_MS = 5000;
  const MAX_REFRESHES = 120; // ten minutes: a paused DAG's queued run would keep it going for ever
  let refreshes = 0;
  let refreshTimer = null;
  let activeBackfill = null;
  let shownHour = null; // the hour whose details are shown: refreshed with the grid

  function say(text, isError = false) {
    statusEl.textContent = text;
    statusEl.classList.toggle("error", isError);
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value !== null && value !== undefined) node.setAttribute(key, value);
    }
    for (const child of children) node.append(child instanceof Node ? child : String(child ?? ""));
    return node;
  }

  // Requests end, one way or another: a hung server shows as an error, never as a page that waits.
  async function call(url, options = {}, timeoutMs = 30000) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const response = await fetch(url, { credentials: "same-origin", signal: abort.signal, ...options });
      const text = await response.text();
      let data = null;
      try { data = text ? JSON.parse(text) : null; } catch { data = text; }
      if (!response.ok) {
        const detail = data && data.detail ? (typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail)) : text;
        throw new Error(`HTTP ${response.status}: ${detail}`);
      }
      return data;
    } catch (err) {
      if (err.name === "AbortError") throw new Error(`no answer from ${url} within ${timeoutMs / 1000} s`);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  const cells = () => Array.from(document.querySelectorAll("button.cell"));

  function showSelection() {
    for (const cell of cells()) {
      const on = selected.has(cell.dataset.hour);
      cell.classList.toggle("selected", on);
      cell.setAttribute("aria-pressed", on ? "true" : "false");
    }
    const hours = Array.from(selected).sort();
    const info = document.getElementById("selection-info");
    const button = document.getElementById("backfill");
    if (!info || !button) return;
    button.disabled = hours.length === 0;
    info.textContent = hours.length === 0
      ? "Click cells to select them and see their details."
      : `${hours.length} hour${hours.length > 1 ? "s" : ""} selected, ${hours[0]} to ${hours[hours.length - 1]} (UTC)`;
  }

  function range() {
    const hours = Array.from(selected).sort();
    return { from: hours[0], to: hours[hours.length - 1] };
  }

  function fmt(value) {
    return value ? value.replace("T", " ").replace(":00Z", " UTC").replace("Z", " UTC") : "–";
  }

  async function showDetails(hour) {
    shownHour = hour;
    const details = document.getElementById("details");
    details.setAttribute("aria-busy", "true");
    details.replaceChildren(el("p", {}, `Loading ${fmt(hour)}…`));
    try {
      const query = new URLSearchParams({ hour });
      if (park) query.set("park", park);
      const data = await call(`coverage/cell?${query}`);
      const parts = [
        el("h2", { style: "font-size:15px;margin:0 0 6px" }, `${fmt(data.hour)} – one hour`),
        el("p", {}, `${data.ride_snapshots} ride snapshots · ${data.ride_hourly_stats_rows} ride_hourly_stats rows · ${data.park_hourly_stats_rows} park_hourly_stats rows${park ? " (this park)" : ""}`),
      ];
      const runs = data.airflow_runs.map((r) => el("li", {}, el("a", { href: r.url, target: "_top" }, r.run_id), ` ${r.state} (${r.run_type})`));
      parts.push(el("p", {}, runs.length ? "Airflow runs of this hour:" : "No Airflow run of this hour."));
      if (runs.length) parts.push(el("ul", {}, ...runs));
      if (data.log.length) {
        const head = el("tr", {}, ...["log_id", "status", "reason", "run", "completed", "attempts", "rides/parks", "error"].map((h) => el("th", {}, h)));
        const rows = data.log.map((r) => el("tr", { "data-log-id": r.log_id },
          el("td", {}, r.log_id), el("td", {}, r.status + (r.last_failed_task && r.status === "failed" ? ` (${r.last_failed_task})` : "")),
          el("td", {}, r.reason + (r.late_snapshots !== null ? `, ${r.late_snapshots} late` : "")),
          el("td", {}, r.url ? el("a", { href: r.url, target: "_top" }, r.run_id) : r.run_id),
          el("td", {}, fmt(r.completed_at)), el("td", {}, `${r.attempts} (${r.failed_attempts} failed)`),
          el("td", {}, `${r.rides_processed}/${r.parks_processed}`), el("td", {}, r.error ? el("pre", {}, r.error) : "")));
        parts.push(el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows)));
      } else {
        parts.push(el("p", {}, "No aggregation_log row for this hour."));
      }
      details.replaceChildren(...parts);
    } catch (err) {
      details.replaceChildren(el("p", { class: "error" }, `Could not load ${fmt(hour)}: ${err.message}`));
    } finally {
      details.removeAttribute("aria-busy");
    }
  }

  function bindGrid() {
    for (const cell of cells()) {
      cell.addEventListener("click", () => {
        if (cell.dataset.state === "future") return;
        const hour = cell.dataset.hour;
        if (selected.has(hour)) selected.delete(hour); else selected.add(hour);
        showSelection();
        showDetails(hour);
      });
    }
    showSelection();
  }

  // What a backfill of the selection must reprocess: "completed" as soon as one selected hour's own
  // run succeeded (a late-data redo failed after it), else "failed" (failed runs and hours without one).
  function reprocessOf(hours) {
    const byHour = new Map(cells().map((c) => [c.dataset.hour, c.dataset.reprocess]));
    return hours.some((h) => byHour.get(h) === "completed") ? "completed" : "failed";
  }

  function backfillBody() {
    const { from, to } = range();
    return JSON.stringify({
      dag_id: dagId, from_date: from, to_date: to, reprocess_behavior: reprocessOf(Array.from(selected)),
      max_active_runs: 10, run_backwards: false,
    });
  }

  async function proposeBackfill() {
    const panel = document.getElementById("backfill-panel");
    const { from, to } = range();
    // The backfill created is the one dry-run and confirmed, whatever is clicked meanwhile.
    const body = backfillBody();
    const reprocess = JSON.parse(body).reprocess_behavior;
    panel.hidden = false;
    panel.setAttribute("aria-busy", "true");
    panel.replaceChildren(el("p", {}, "Asking Airflow which runs a backfill would create…"));
    try {
      const [dry, dag] = await Promise.all([
        call(`${base}/api/v2/backfills/dry_run`, { method: "POST", headers: { "Content-Type": "application/json" }, body }),
        call(`${base}/api/v2/dags/${encodeURIComponent(dagId)}`),
      ]);
      const n = dry.total_entries;
      const confirm = el("button", { type: "button", class: "primary", id: "confirm-backfill" }, `Create backfill of ${n} run${n === 1 ? "" : "s"}`);
      const cancel = el("button", { type: "button" }, "Cancel");
      cancel.addEventListener("click", () => { panel.hidden = true; });
      confirm.addEventListener("click", () => createBackfill(confirm, body));
      confirm.disabled = n === 0;
      const which = reprocess === "completed"
        ? "every hour in between, its run succeeded or not (a selected hour's run succeeded before its late-data redo failed)"
        : "those with no run or a failed one (hours in between whose run succeeded are kept)";
      const parts = [el("p", {}, `From ${fmt(from)} to ${fmt(to)}, Airflow would run ${n} hour${n === 1 ? "" : "s"}: ${which}.`)];
      if (n === 0) parts.push(el("p", { class: "error" }, "Nothing to run: Airflow has a successful run of each of these hours. Clear a run in Airflow to redo it."));
      if (dag.is_paused) parts.push(el("p", { class: "error" }, `The DAG is paused: the backfill's runs will wait until it is unpaused.`));
      parts.push(el("div", { class: "toolbar" }, confirm, cancel));
      panel.replaceChildren(...parts);
    } catch (err) {
      panel.replaceChildren(el("p", { class: "error" }, `Airflow refused the dry run: ${err.message}`));
    } finally {
      panel.removeAttribute("aria-busy");
    }
  }

  async function createBackfill(button, body) {
    const panel = document.getElementById("backfill-panel");
    button.disabled = true;
    try {
      const created = await call(`${base}/api/v2/backfills`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
      activeBackfill = created.id;
      panel.replaceChildren(el("p", { id: "backfill-created", "data-backfill-id": created.id },
        `Backfill ${created.id} created in Airflow (${fmt(created.from_date)} to ${fmt(created.to_date)}). This grid refreshes until it completes. `,
        el("a", { href: `${base}/dags/${encodeURIComponent(dagId)}`, target: "_top" }, "See its runs")));
      selected.clear();
      showSelection();
      scheduleRefresh();
    } catch (err) {
      button.disabled = false;
      panel.append(el("p", { class: "error" }, `Airflow refused the backfill: ${err.message}`));
    }
  }

  async function backfillDone() {
    if (activeBackfill === null) return true;
    const backfill = await call(`${base}/api/v2/backfills/${activeBackfill}`);
    if (backfill.completed_at) activeBackfill = null;
    return activeBackfill === null;
  }

  async function refresh() {
    refreshTimer = null;
    try {
      const html = await call(window.location.href, {}, 30000);
      const fresh = new DOMParser().parseFromString(html, "text/html");
      for (const id of ["grid", "legend"]) {
        const now = document.getElementById(id);
        const next = fresh.getElementById(id);
        if (now && next) now.replaceWith(next);
      }
      bindGrid();
      if (shownHour) showDetails(shownHour);
      const waitingFor = activeBackfill;
      const done = await backfillDone();
      const running = cells().some((c) => c.dataset.state === "running");
      if (running) say("Hours under way: refreshing every 5 s…");
      else if (!done) say(`Airflow has not marked backfill ${waitingFor} complete yet: refreshing every 5 s…`);
      else say(`Up to date (${new Date().toISOString().slice(11, 19)} UTC).`);
      if (!done || running) scheduleRefresh();
    } catch (err) {
      say(`Refreshing failed: ${err.message}. Retrying.`, true);
      scheduleRefresh(REFRESH_MS * 2);
    }
  }

  function scheduleRefresh(delay = REFRESH_MS) {
    if (refreshTimer !== null) return;
    if (refreshes >= MAX_REFRESHES) {
      say("Stopped refreshing after ten minutes: reload the page to see where things are.");
      return;
    }
    refreshes += 1;
    refreshTimer = setTimeout(refresh, delay);
  }

  const form = document.getElementById("range-form");
  form.addEventListener("submit", () => {
    form.setAttribute("aria-busy", "true");
    say("Loading…");
  });

  if (document.getElementById("grid")) {
    document.getElementById("select-needed").addEventListener("click", () => {
      for (const cell of cells()) if (needsBackfill.includes(cell.dataset.state)) selected.add(cell.dataset.hour);
      showSelection();
    });
    document.getElementById("clear-selection").addEventListener("click", () => { selected.clear(); showSelection(); });
    document.getElementById("backfill").addEventListener("click", proposeBackfill);
    bindGrid();
    if (cells().some((c) => c.dataset.state === "running")) scheduleRefresh();
  }
})();
