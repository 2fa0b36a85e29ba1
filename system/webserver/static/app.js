// The UI: one EventSource for live updates, fetch() for actions. No build step.
"use strict";

const $ = (sel) => document.querySelector(sel);
const state = { runs: new Map(), selected: null, series: [], charts: {}, source: null };
const fmt = new Intl.NumberFormat();

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new Error("The webserver is not reachable. Check that it is running (scripts/start.sh) and try again.");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || httpMessage(response.status));
  return data;
}

// An answer without the API's own message (a proxy's, say): what the user can do.
function httpMessage(status) {
  if (status === 401 || status === 403) return "Access denied: open the page with its ?token=... link again.";
  if (status >= 500) return "The server had a problem. Try again; if it persists, see the webserver's log.";
  return `The request was refused (HTTP ${status}).`;
}

// ---------------------------------------------------------------- runs list
function renderRuns() {
  const list = $("#runs");
  // the list is redrawn with every update: keep the keyboard's place in it
  const focused = list.contains(document.activeElement) ? document.activeElement.dataset.runId : null;
  list.replaceChildren();
  const runs = [...state.runs.values()].sort((a, b) => b.started_at - a.started_at);
  if (!runs.length) {
    list.innerHTML = '<li class="muted">no runs yet</li>';
    return;
  }
  for (const run of runs) {
    const item = document.createElement("li");
    item.dataset.runId = run.run_id;
    item.classList.toggle("selected", run.run_id === state.selected);
    const name = document.createElement("span");
    name.className = "run-name";
    name.textContent = run.topic;
    name.title = run.topic;
    const meta = document.createElement("span");
    meta.className = "run-meta";
    meta.textContent = runMeta(run);
    const badge = document.createElement("span");
    badge.className = `badge ${run.state}`;
    badge.textContent = run.state;
    item.append(name, badge, meta);
    // a button for the keyboard too: Tab reaches it, Enter or Space selects it
    item.tabIndex = 0;
    item.setAttribute("role", "button");
    if (run.run_id === state.selected) item.setAttribute("aria-current", "true");
    item.addEventListener("click", () => select(run.run_id));
    item.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" && event.key !== " ") return;
      event.preventDefault();
      select(run.run_id);
    });
    list.append(item);
    if (run.run_id === focused) item.focus({ preventScroll: true });
  }
}

// "14:02:31 · 3f9a1c2e": tells two runs of one topic apart
function runMeta(run) {
  const started = run.started_at ? new Date(run.started_at * 1000) : null;
  const today = started && started.toDateString() === new Date().toDateString();
  const time = { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false };
  const when = !started ? "" : today
    ? started.toLocaleTimeString(undefined, time)
    : started.toLocaleString(undefined, { month: "short", day: "numeric", ...time });
  return [when, run.run_id.slice(0, 8)].filter(Boolean).join(" · ");
}

// ---------------------------------------------------------------- charts
function chartWidth(element) {
  return Math.max(200, Math.floor(element.clientWidth || 480));
}

function chartOptions(title, color, yFormat, yRange) {
  const width = chartWidth($("#chart-unique"));
  return {
    width, height: 220, legend: { show: false }, cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false }, y: yRange ? { range: yRange } : {} },
    axes: [
      { label: "seconds", stroke: "#6b7385", grid: { stroke: "#eef0f3" } },
      { stroke: "#6b7385", grid: { stroke: "#eef0f3" }, values: (u, vals) => vals.map((v) => (v == null ? "" : yFormat(v))), size: 60 },
    ],
    series: [{}, { label: title, stroke: color, width: 2, fill: color + "22" }],
  };
}

// Duplicate rate of the items generated in the last interval (not since the start:
// that shows saturation), pre-filter drops included; null until an item arrived.
function intervalDuplicateRate(prev, point, last) {
  const [, , candidates, dups, prefiltered = 0] = point;
  const [, , pc = 0, pd = 0, pp = 0] = prev || [];
  const generated = candidates - pc + (prefiltered - pp);
  if (generated > 0) return (100 * (dups - pd + (prefiltered - pp))) / generated;
  return last;
}

function seriesData() {
  const t = [], unique = [], dupRate = [];
  let prev = null;
  for (const point of state.series) {
    t.push(point[0]);
    unique.push(point[1]);
    dupRate.push(intervalDuplicateRate(prev, point, dupRate.length ? dupRate[dupRate.length - 1] : null));
    prev = point;
  }
  return { unique: [t, unique], dups: [t, dupRate] };
}

function drawCharts() {
  if (typeof uPlot === "undefined") return;
  const data = seriesData();
  if (!state.charts.unique) {
    state.charts.unique = new uPlot(chartOptions("unique", "#2f6fed", (v) => fmt.format(v)), data.unique, $("#chart-unique"));
    state.charts.dups = new uPlot(chartOptions("duplicate %", "#d64545", (v) => v.toFixed(0) + "%", [0, 100]), data.dups, $("#chart-dups"));
  } else {
    state.charts.unique.setData(data.unique);
    state.charts.dups.setData(data.dups);
  }
}

function addPoint(run) {
  const c = run.counts;
  const point = [run.elapsed_s, c.unique, c.candidates, c.duplicates, c.prefiltered || 0];
  const last = state.series[state.series.length - 1];
  if (last && last[0] >= point[0]) return;
  state.series.push(point);
  drawCharts();
}

// ---------------------------------------------------------------- run view
function setCounter(name, text, sub) {
  $(`[data-counter="${name}"]`).textContent = text;
  const line = $(`[data-sub="${name}"]`);
  if (line) line.textContent = sub || "";
}

const percent = (rate) => (100 * rate).toFixed(1) + "%";

// A resumed run: the counter, the chart and unique/s all count this run's new
// attributes; the sub-line says how many the file holds.
function renderUnique(c) {
  const resumed = c.resumed > 0;
  $('[data-label="unique"]').textContent = resumed ? "Unique (new)" : "Unique";
  $("#chart-unique-title").textContent = resumed ? "Unique attributes (new this run)" : "Unique attributes";
  setCounter("unique", fmt.format(c.unique), resumed ? `${fmt.format(c.total_in_file)} in file, ${fmt.format(c.unique)} new` : "");
}

// Share of the generated items that were duplicates; the orchestrator-side rate
// (of the candidates it received) apart. Nothing before the first item.
function renderDuplicates(c) {
  const generated = c.generated ?? c.candidates;
  if (!generated) {
    setCounter("duplicate_rate", "–", "no items yet");
    return;
  }
  const rate = c.generated_duplicate_rate ?? c.duplicate_rate;
  // the orchestrator's rate only means something once a candidate reached it
  const sub = !c.prefiltered ? "" : c.candidates ? `${percent(c.duplicate_rate)} of those sent` : "none sent yet";
  setCounter("duplicate_rate", percent(rate), sub);
}

function renderRun(run) {
  $("#run").hidden = false;
  $("#empty").hidden = true;
  $("#run-topic").textContent = run.topic;
  const badge = $("#run-state");
  badge.className = `badge ${run.state}`;
  badge.textContent = run.state;
  $("#run-reason").textContent = run.reason || "";
  const c = run.counts;
  renderUnique(c);
  setCounter("candidates", fmt.format(c.candidates), c.prefiltered ? `${fmt.format(c.generated)} generated` : "");
  renderDuplicates(c);
  setCounter("requests", fmt.format(run.requests));
  setCounter("tokens", fmt.format(run.tokens));
  setCounter("rate", run.unique_per_s.toFixed(1));
  setCounter("elapsed", run.elapsed_s.toFixed(0) + " s");
  $("#attr-total").textContent = `(${fmt.format(c.total_in_file)} in file)`;
  $("#stop-button").disabled = run.state !== "running";
  $("#download-link").href = `/api/runs/${run.run_id}/attributes.txt`;
  if (run.producers) renderProducers(run.producers);
  if (typeof renderCoverage === "function") renderCoverage(run); // coverage.js
}

function renderProducers(producers) {
  const body = $("#producers-table tbody");
  body.replaceChildren();
  for (const p of producers) {
    const row = document.createElement("tr");
    for (const value of [p.producer_id, p.state, p.provider, p.batches, p.new, p.errors ?? 0, p.restarts]) {
      const cell = document.createElement("td");
      cell.textContent = typeof value === "number" ? fmt.format(value) : value;
      row.append(cell);
    }
    body.append(row);
  }
}

function addAttributes(items, fresh) {
  const list = $("#attributes-list");
  for (const text of items) {
    const item = document.createElement("li");
    item.textContent = text;
    if (fresh) item.className = "fresh";
    list.prepend(item);
  }
  while (list.children.length > 100) list.lastElementChild.remove();
}

async function select(runId) {
  state.selected = runId;
  state.series = [];
  $("#attributes-list").replaceChildren();
  renderRuns();
  const view = await api("GET", `/api/runs/${runId}/series`);
  if (state.selected !== runId) return;
  state.series = view.series || [];
  const run = view.run || (await api("GET", `/api/runs/${runId}`));
  state.runs.set(runId, run);
  renderRun(run);
  drawCharts();
  addAttributes(view.recent || [], false);
  if (!(view.recent || []).length) {
    const page = await api("GET", `/api/runs/${runId}/attributes?offset=${Math.max(0, run.counts.total_in_file - 100)}&limit=100`);
    addAttributes(page.items, false);
  }
  // the badges: a finished run sends no more snapshots to bring them
  if (typeof renderCoverage === "function") renderCoverage(run);
}

// ---------------------------------------------------------------- live events
function connect() {
  const source = new EventSource("/api/events");
  state.source = source;
  source.addEventListener("open", () => setConnection("live", "pill-ok"));
  source.addEventListener("error", () => setConnection("reconnecting…", "pill-wait"));
  source.addEventListener("run", (event) => {
    const run = JSON.parse(event.data).data;
    const known = state.runs.get(run.run_id);
    state.runs.set(run.run_id, { ...known, ...run });
    renderRuns();
    if (run.run_id === state.selected) {
      renderRun(run);
      addPoint(run);
    }
  });
  source.addEventListener("attributes", (event) => {
    const message = JSON.parse(event.data);
    if (message.run_id === state.selected) addAttributes(message.data.items, true);
  });
}

function setConnection(text, cls) {
  const pill = $("#connection");
  pill.textContent = text;
  pill.className = `pill ${cls}`;
}

// ---------------------------------------------------------------- actions
$("#start-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = $("#form-error");
  error.hidden = true;
  const form = new FormData(event.target);
  const body = {
    topic: form.get("topic").trim(),
    producers: Number(form.get("producers")),
    request_size: Number(form.get("request_size")),
    provider: form.get("provider"),
    iterations: form.get("iterations") ? Number(form.get("iterations")) : null,
  };
  $("#start-button").disabled = true;
  try {
    const run = await api("POST", "/api/runs", body);
    state.runs.set(run.run_id, run);
    await select(run.run_id);
  } catch (err) {
    error.textContent = err.message;
    error.hidden = false;
  } finally {
    $("#start-button").disabled = false;
  }
});

$("#stop-button").addEventListener("click", async () => {
  if (!state.selected) return;
  $("#stop-button").disabled = true;
  try {
    renderRun(await api("POST", `/api/runs/${state.selected}/stop`));
  } catch (err) {
    $("#run-reason").textContent = err.message;
  }
});

window.addEventListener("resize", () => {
  for (const chart of Object.values(state.charts)) {
    chart.setSize({ width: chartWidth(chart.root.parentElement), height: 220 });
  }
});

async function init() {
  connect();
  try {
    const { runs } = await api("GET", "/api/runs");
    for (const run of runs) state.runs.set(run.run_id, run);
    renderRuns();
    if (runs.length) await select(runs.sort((a, b) => b.started_at - a.started_at)[0].run_id);
  } catch (err) {
    setConnection("offline", "pill-bad");
    $("#connection").title = err.message;
    const error = $("#form-error");
    error.textContent = err.message;
    error.hidden = false;
  }
}

init();
