// The report's drawing: the data is the JSON above; this script only lays it out.
"use strict";

const DATA = JSON.parse(document.getElementById("report-data").textContent);
const fmt = new Intl.NumberFormat();
const SVG = "http://www.w3.org/2000/svg";

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function append(parent, ...children) {
  parent.append(...children.filter((c) => c !== null && c !== undefined));
  return parent;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

const slug = (text) => String(text).toLowerCase().replace(/[^a-z0-9]+/g, "-");
const seconds = (s) => (s == null ? "–" : `${Number(s).toFixed(s < 10 ? 2 : 1)} s`);
const micros = (us) => (us >= 1e6 ? `${(us / 1e6).toFixed(2)} s` : us >= 1e3 ? `${(us / 1e3).toFixed(1)} ms` : `${Math.round(us)} µs`);

// ---------------------------------------------------------------- header
function renderHeader() {
  const verdict = document.getElementById("verdict");
  // a skip is not a failure: green unless a scenario failed or could not be judged
  verdict.className = `badge ${DATA.ok ? "passed" : "failed"}`;
  verdict.textContent = DATA.verdict;
  document.getElementById("meta").textContent = `tester ${DATA.version}`;
  const toc = document.getElementById("toc");
  for (const s of DATA.scenarios) toc.append(el("a", { href: `#scenario-${slug(s.name)}`, text: `${s.name}: ${s.status}` }));
}

// ---------------------------------------------------------------- one scenario
function renderScenario(s, index) {
  const section = el("section", { class: "scenario", id: `scenario-${slug(s.name)}`, "data-scenario": s.name });
  section.append(
    el("div", {}, el("h2", { text: s.name }), el("span", { class: `badge ${slug(s.status)}`, "data-testid": "status", text: s.status })),
    el("p", { class: "muted", text: s.description }),
    timings(s),
  );
  if (s.detail) section.append(el("h3", { text: "Evidence" }), el("pre", { class: "evidence", "data-testid": "evidence", text: s.detail }));
  if (s.notes.length) section.append(el("h3", { text: "Notes" }), el("ul", {}, ...s.notes.map((n) => el("li", { text: n }))));
  if (s.topics.length) section.append(el("h3", { text: "Topic runs" }), topicsTable(s.topics));
  if (s.curves.length) section.append(el("h3", { text: "Discovery" }), el("div", { class: "charts" }, ...s.curves.map(discoveryChart)));
  if (s.providers.length) section.append(el("h3", { text: "Provider split (LLM calls)" }), providerTable(s.providers));
  section.append(el("h3", { text: "Traces" }), traceViewer(s, index));
  section.append(el("h3", { text: "Artifacts" }), artifacts(s));
  return section;
}

function timings(s) {
  const items = [["total", seconds(s.duration_s)]];
  if (s.check_s != null) items.push(["run and checks", seconds(s.check_s)]);
  if (s.idle_s != null) items.push(["kept running", seconds(s.idle_s)]);
  items.push(["spans", fmt.format(s.traces.total)]);
  return el("dl", { class: "timings" }, ...items.map(([k, v]) => el("div", {}, el("dt", { text: k }), el("dd", { text: v }))));
}

function topicsTable(topics) {
  const keys = ["topic", "status", "unique", "resumed", "candidates", "duplicates", "batches", "llm_calls", "errors", "duration_s"];
  const head = el("tr", {}, ...keys.map((k) => el("th", { text: k.replace("_", " ") })));
  const rows = topics.map((t) => el("tr", {}, ...keys.map((k) => el("td", { text: typeof t[k] === "number" ? fmt.format(t[k]) : String(t[k] ?? "") }))));
  return el("div", { class: "table-wrap" }, el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows)));
}

function providerTable(providers) {
  const head = el("tr", {}, ...["provider", "calls", "share", "", "failed attempts", "tokens in", "tokens out"].map((k) => el("th", { text: k })));
  const rows = providers.map((p) => el("tr", { "data-provider": p.provider },
    el("td", { text: p.provider }), el("td", { text: fmt.format(p.calls) }),
    el("td", { text: `${(100 * p.share).toFixed(1)}%` }),
    el("td", {}, el("div", { class: "bar-track" }, el("div", { class: "bar-fill", style: `width:${(100 * p.share).toFixed(1)}%` }))),
    el("td", { text: fmt.format(p.errors) }), el("td", { text: fmt.format(p.input_tokens) }), el("td", { text: fmt.format(p.output_tokens) })));
  return el("div", { class: "table-wrap" }, el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows)));
}

// Paths as written, each linked relative to this page when the folder moves with it.
function artifacts(s) {
  const entries = [["work folder", s.workdir], ...Object.entries(s.artifacts)];
  return el("ul", { class: "muted" }, ...entries.map(([k, v]) => {
    const link = s.links[k];
    return el("li", {}, `${k}: `, link ? el("a", { href: link, text: v }) : v);
  }));
}

// ---------------------------------------------------------------- discovery chart
// Unique attributes over time (left axis) and, when the run estimated it, coverage
// with its interval (right axis, 0-100%).
function discoveryChart(curve) {
  const W = 520, H = 240, L = 56, R = curve.coverage.length ? 48 : 16, T = 14, B = 34;
  const xs = [...curve.unique.map((p) => p[0]), ...curve.coverage.map((p) => p[0]), curve.duration_s || 0];
  const xMax = Math.max(1e-3, ...xs);
  const yMax = Math.max(1, ...curve.unique.map((p) => p[1]));
  const x = (t) => L + ((W - L - R) * t) / xMax;
  const y = (v) => H - B - ((H - T - B) * v) / yMax;
  const yc = (c) => H - B - (H - T - B) * Math.min(1, Math.max(0, c));
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `discovery curve of ${curve.topic}` });
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4, ty = y(v);
    chart.append(svg("line", { x1: L, x2: W - R, y1: ty, y2: ty, stroke: "#eef0f3" }));
    const label = svg("text", { x: L - 6, y: ty + 4, "text-anchor": "end", "font-size": 11, fill: "#6b7385" });
    label.textContent = fmt.format(Math.round(v));
    chart.append(label);
    if (curve.coverage.length) {
      const c = svg("text", { x: W - R + 6, y: yc(i / 4) + 4, "font-size": 11, fill: "#c27c0e" });
      c.textContent = `${i * 25}%`;
      chart.append(c);
    }
  }
  for (let i = 0; i <= 4; i++) {
    const t = (xMax * i) / 4;
    const label = svg("text", { x: x(t), y: H - B + 16, "text-anchor": "middle", "font-size": 11, fill: "#6b7385" });
    label.textContent = `${t.toFixed(t < 10 ? 1 : 0)}s`;
    chart.append(label);
  }
  const band = curve.coverage.filter((p) => p[2] != null && p[3] != null);
  if (band.length) {
    const top = band.map((p) => `${x(p[0])},${yc(p[3])}`), bottom = band.map((p) => `${x(p[0])},${yc(p[2])}`).reverse();
    chart.append(svg("polygon", { points: [...top, ...bottom].join(" "), fill: "#c27c0e22", "data-series": "coverage-interval" }));
  }
  if (curve.coverage.length) {
    chart.append(svg("polyline", { points: curve.coverage.map((p) => `${x(p[0])},${yc(p[1])}`).join(" "), fill: "none", stroke: "#c27c0e", "stroke-width": 2, "stroke-dasharray": "5 3", "data-series": "coverage" }));
  }
  chart.append(svg("polyline", { points: curve.unique.map((p) => `${x(p[0])},${y(p[1])}`).join(" "), fill: "none", stroke: "#2f6fed", "stroke-width": 2, "data-series": "unique" }));
  const last = curve.unique[curve.unique.length - 1][1];
  const legend = el("div", { class: "legend" },
    el("span", {}, el("span", { class: "swatch", style: "background:#2f6fed" }), `unique attributes (${fmt.format(last)} new${curve.resumed ? `, ${fmt.format(curve.resumed)} resumed` : ""})`));
  if (curve.coverage.length) {
    const c = curve.coverage[curve.coverage.length - 1];
    legend.append(el("span", {}, el("span", { class: "swatch", style: "background:#c27c0e" }), `estimated coverage (${(100 * c[1]).toFixed(0)}% at the end)`));
  }
  return el("div", { class: "chart", "data-testid": "discovery" },
    el("div", { class: "muted", text: `${curve.topic} · ${curve.status || "?"} · ${seconds(curve.duration_s)} · trace ${curve.trace_id.slice(0, 12)}` }),
    chart, legend);
}

// ---------------------------------------------------------------- traces
function groupTraces(spans) {
  const traces = new Map();
  for (const span of spans) {
    if (!traces.has(span.t)) traces.set(span.t, []);
    traces.get(span.t).push(span);
  }
  const list = [...traces.entries()].map(([id, items]) => {
    const ids = new Set(items.map((s) => s.id));
    const roots = items.filter((s) => !s.p || !ids.has(s.p));
    const root = roots.find((s) => !s.p) || roots[0];
    const start = Math.min(...items.map((s) => s.st)), end = Math.max(...items.map((s) => s.st + s.d));
    return { id, spans: items, root, start, end, errors: items.filter((s) => s.s === "ERROR").length };
  });
  return list.sort((a, b) => b.spans.length - a.spans.length);
}

// Depth-first, children by start time; spans whose parent is missing count as roots.
function treeOrder(trace) {
  const byParent = new Map(), ids = new Set(trace.spans.map((s) => s.id));
  for (const s of trace.spans) {
    const key = s.p && ids.has(s.p) ? s.p : "";
    if (!byParent.has(key)) byParent.set(key, []);
    byParent.get(key).push(s);
  }
  for (const list of byParent.values()) list.sort((a, b) => a.st - b.st);
  const out = [], stack = (byParent.get("") || []).slice().reverse().map((s) => [s, 0]);
  while (stack.length) {
    const [span, depth] = stack.pop();
    out.push([span, depth]);
    for (const child of (byParent.get(span.id) || []).slice().reverse()) stack.push([child, depth + 1]);
  }
  return out;
}

// The attributes a search looks at: the span's and its events' (an attempt's error.type).
const searchable = (s) => [Object.entries(s.a), ...s.e.map((e) => Object.entries(e.a))].flat();
const text = (v) => (typeof v === "object" ? JSON.stringify(v) : String(v)).toLowerCase();

// "chat" matches names (of spans and events), services and attribute text; "key=value"
// an attribute, of the span or of one of its events, whose whole value is value.
function matcher(query) {
  const q = query.trim().toLowerCase();
  if (!q) return null;
  const eq = q.indexOf("=");
  if (eq > 0) {
    const key = q.slice(0, eq).trim(), want = q.slice(eq + 1).trim();
    return (s) => searchable(s).some(([k, v]) => k.toLowerCase() === key && text(v) === want);
  }
  return (s) => s.n.toLowerCase().includes(q) || s.sv.toLowerCase().includes(q)
    || s.e.some((e) => e.n.toLowerCase().includes(q))
    || searchable(s).some(([k, v]) => k.toLowerCase().includes(q) || text(v).includes(q));
}

function traceViewer(s, index) {
  const box = el("div", { class: "traces" });
  const traces = groupTraces(s.traces.spans);
  if (!traces.length) {
    box.append(el("p", { class: "muted", text: "No spans were received." }));
    return box;
  }
  const select = el("select", { "aria-label": "trace", "data-testid": "trace-select" },
    ...traces.map((t, i) => el("option", { value: String(i), text: `${t.root.n} (${t.root.sv}) · ${t.spans.length} spans · ${micros(t.end - t.start)}${t.errors ? ` · ${t.errors} errors` : ""} · ${t.id.slice(0, 12)}` })));
  const search = el("input", { type: "search", placeholder: "search: span or event name, or attribute=value", "aria-label": "search spans", "data-testid": "trace-search" });
  const count = el("span", { class: "muted", "data-testid": "match-count" });
  const waterfall = el("div", { class: "waterfall", "data-testid": "waterfall" });
  const details = el("div", { class: "details", "data-testid": "span-details" });
  const cut = s.traces.cut ? el("p", { class: "muted", text: `Only the first ${fmt.format(s.traces.spans.length)} of ${fmt.format(s.traces.total)} spans are in this report; traces.otlp.json has all.` }) : null;
  append(box, el("div", { class: "trace-tools" }, select, search, count), cut, waterfall, details);

  const draw = () => {
    const trace = traces[Number(select.value)];
    const match = matcher(search.value);
    const span = Math.max(1, trace.end - trace.start);
    const frag = document.createDocumentFragment();
    let hits = 0;
    for (const [sp, depth] of treeOrder(trace)) {
      const hit = match ? match(sp) : false;
      if (match && !hit) continue;
      hits += hit;
      const left = (100 * (sp.st - trace.start)) / span, width = Math.max(0.15, (100 * sp.d) / span);
      const row = el("div", { class: `wf-row${hit ? " hit" : ""}${sp.s === "ERROR" ? " error" : ""}`, "data-span-id": sp.id, title: `${sp.n} · ${micros(sp.d)}` },
        el("div", { class: "wf-name", style: `padding-left:${0.4 + 0.9 * (match ? 0 : depth)}rem` }, sp.n, el("span", { class: "svc", text: sp.sv })),
        el("div", { class: "wf-lane" },
          el("div", { class: `wf-bar ${slug(sp.sv)}${sp.s === "ERROR" ? " error" : ""}`, style: `left:${left}%;width:${width}%` }),
          el("span", { class: "wf-dur", style: left > 70 ? `right:${100 - left + 0.5}%` : `left:${Math.min(99, left + width) + 0.5}%`, text: micros(sp.d) })));
      row.addEventListener("click", () => {
        waterfall.querySelectorAll(".selected").forEach((r) => r.classList.remove("selected"));
        row.classList.add("selected");
        showDetails(details, sp, trace);
      });
      frag.append(row);
    }
    waterfall.replaceChildren(frag);
    count.textContent = match ? `${hits} of ${trace.spans.length} spans match` : `${trace.spans.length} spans`;
  };
  select.addEventListener("change", () => { details.replaceChildren(); draw(); });
  search.addEventListener("input", draw);
  draw();
  return box;
}

function showDetails(box, span, trace) {
  const rows = [
    ["name", span.n], ["service", span.sv], ["kind", span.k], ["status", span.s + (span.m ? `: ${span.m}` : "")],
    ["start", `+${micros(span.st - trace.start)}`], ["duration", micros(span.d)],
    ["span id", span.id], ["parent", span.p || "(root)"],
    ...Object.entries(span.a).map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v) : String(v)]),
    ...span.l.map((l) => ["link", `${l.t} / ${l.id}`]),
    ...span.e.map((e) => [`event +${micros(e.t - span.st)}`, `${e.n} ${JSON.stringify(e.a)}`]),
  ];
  box.replaceChildren(el("table", {}, el("tbody", {}, ...rows.map(([k, v]) => el("tr", {}, el("td", { text: k }), el("td", { text: v }))))));
}

renderHeader();
const main = document.getElementById("report");
DATA.scenarios.forEach((s, i) => main.append(renderScenario(s, i)));
