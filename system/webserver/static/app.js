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
  const response = await fetch(path, init);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `${response.status} ${response.statusText}`);
  return data;
}

// ---------------------------------------------------------------- runs list
function renderRuns() {
  const list = $("#runs");
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
    name.textContent = run.topic;
    const badge = document.createElement("span");
    badge.className = `badge ${run.state}`;
    badge.textContent = run.state;
    item.append(name, badge);
    item.addEventListener("click", () => select(run.run_id));
    list.append(item);
  }
}

// ---------------------------------------------------------------- charts
function chartOptions(title, color, yFormat) {
  const width = Math.max(280, $("#chart-unique").clientWidth || 480);
  return {
    width, height: 220, legend: { show: false }, cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false } },
    axes: [
      { label: "seconds", stroke: "#6b7385", grid: { stroke: "#eef0f3" } },
      { stroke: "#6b7385", grid: { stroke: "#eef0f3" }, values: (u, vals) => vals.map(yFormat), size: 60 },
    ],
    series: [{}, { label: title, stroke: color, width: 2, fill: color + "22" }],
  };
}

function seriesData() {
  const t = [], unique = [], dupRate = [];
  let prev = null;
  for (const [time, u, candidates, dups] of state.series) {
    t.push(time);
    unique.push(u);
    // duplicate rate over the last interval, not since the start: shows saturation
    const dc = prev ? candidates - prev[2] : candidates;
    const dd = prev ? dups - prev[3] : dups;
    dupRate.push(dc > 0 ? (100 * dd) / dc : (dupRate.length ? dupRate[dupRate.length - 1] : 0));
    prev = [time, u, candidates, dups];
  }
  return { unique: [t, unique], dups: [t, dupRate] };
}

function drawCharts() {
  if (typeof uPlot === "undefined") return;
  const data = seriesData();
  if (!state.charts.unique) {
    state.charts.unique = new uPlot(chartOptions("unique", "#2f6fed", (v) => fmt.format(v)), data.unique, $("#chart-unique"));
    state.charts.dups = new uPlot(chartOptions("duplicate %", "#d64545", (v) => v.toFixed(0) + "%"), data.dups, $("#chart-dups"));
  } else {
    state.charts.unique.setData(data.unique);
    state.charts.dups.setData(data.dups);
  }
}

function addPoint(run) {
  const c = run.counts;
  const point = [run.elapsed_s, c.unique, c.candidates, c.duplicates];
  const last = state.series[state.series.length - 1];
  if (last && last[0] >= point[0]) return;
  state.series.push(point);
  drawCharts();
}

// ---------------------------------------------------------------- run view
function setCounter(name, text) {
  $(`[data-counter="${name}"]`).textContent = text;
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
  setCounter("unique", fmt.format(c.total_in_file));
  setCounter("candidates", fmt.format(c.candidates));
  setCounter("duplicate_rate", (100 * c.duplicate_rate).toFixed(1) + "%");
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
    chart.setSize({ width: Math.max(280, chart.root.parentElement.clientWidth - 4), height: 220 });
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
    setConnection(err.message, "pill-bad");
  }
}

init();
