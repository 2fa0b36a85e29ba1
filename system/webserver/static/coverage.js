// Completeness estimate and per-item support (issue 12), kept apart from app.js:
// app.js calls renderCoverage(run) with every run snapshot.
"use strict";

const coverageState = { sort: "newest" };

function pct(x) {
  return (100 * x).toFixed(x >= 0.995 || x < 0.1 ? 0 : 1) + "%";
}

// The coverage line beside the unique-attributes chart: estimate and its 95% interval.
function renderCoverageLine(run) {
  const line = document.querySelector("#coverage-line");
  if (!line) return;
  const e = run.coverage;
  if (!e) {
    line.textContent = "coverage: not enough requests yet";
    return;
  }
  line.textContent =
    `coverage ≈ ${pct(e.coverage)} (95% interval ${pct(e.coverage_low)}–${pct(e.coverage_high)}) ` +
    `of ~${Math.round(e.universe).toLocaleString()} reachable items`;
  line.title =
    `${e.found} found; estimated universe ${Math.round(e.universe_low)}–${Math.round(e.universe_high)} ` +
    `(iChao2 from ${e.requests} requests: ${e.q1} seen once, ${e.q2} twice); ` +
    `Good-Turing sample coverage ${pct(e.sample_coverage)}`;
}

// Support badges on the newest-attributes list, and sorting by support.
function renderSupport(run) {
  const list = document.querySelector("#attributes-list");
  if (!list || !run.support) return;
  const support = new Map(run.support.map(([text, sightings]) => [text, sightings]));
  for (const item of list.children) {
    const text = item.dataset.text ?? item.textContent;
    item.dataset.text = text;
    if (!support.has(text)) continue;
    const n = support.get(text);
    item.dataset.support = String(n);
    let badge = item.querySelector(".support");
    if (!badge) {
      badge = document.createElement("span");
      badge.className = "support";
      item.append(" ", badge);
    }
    badge.textContent = `×${n}`;
    badge.title = `returned by ${n} request${n === 1 ? "" : "s"}`;
  }
  sortAttributes(list);
}

function sortAttributes(list) {
  if (coverageState.sort !== "support") return;
  const items = [...list.children];
  items.sort((a, b) => Number(b.dataset.support || 0) - Number(a.dataset.support || 0));
  list.replaceChildren(...items);
}

function renderCoverage(run) {
  renderCoverageLine(run);
  renderSupport(run);
}

document.addEventListener("DOMContentLoaded", () => {
  const select = document.querySelector("#attributes-sort");
  if (!select) return;
  select.addEventListener("change", () => {
    coverageState.sort = select.value;
    const run = state.runs.get(state.selected);
    if (run) renderSupport(run);
  });
});
