// tiersim lab: controls from /api/scenario; each change posts its overrides to
// /api/run (one run at a time, the latest settings last) and redraws inline SVG.
"use strict";

const state = { controls: [], pending: null, busy: false, runs: 0 };
const SVG = "http://www.w3.org/2000/svg";

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

// The overrides: every control whose value differs from the scenario's own.
function overrides() {
  const set = [];
  for (const c of state.controls) {
    if (c.current !== c.value) set.push(c.key + "=" + c.current);
  }
  return set;
}

function buildControls(controls) {
  const box = document.getElementById("controls");
  controls.forEach((c, i) => {
    const row = el("div", { class: "control" });
    const id = "ctl-" + i;
    row.appendChild(el("label", { for: id }, c.label));
    c.current = c.value;
    let input;
    if (c.kind === "range") {
      input = el("input", {
        type: "range", id: id, min: 0, max: c.values.length - 1, step: 1,
        value: Math.max(0, c.values.indexOf(c.value)), "data-key": c.key,
      });
      const out = el("output", { for: id }, c.value);
      input.addEventListener("input", () => { out.textContent = c.values[input.value]; });
      input.addEventListener("change", () => {
        c.current = c.values[input.value];
        out.textContent = c.current;
        changed(row, c);
      });
      row.appendChild(input);
      row.appendChild(out);
    } else {
      input = el("select", { id: id, "data-key": c.key });
      for (const v of c.values) {
        const o = el("option", { value: v }, v);
        if (v === c.value) o.selected = true;
        input.appendChild(o);
      }
      input.addEventListener("change", () => { c.current = input.value; changed(row, c); });
      row.appendChild(input);
    }
    box.appendChild(row);
  });
  state.controls = controls;
}

function changed(row, c) {
  row.classList.toggle("changed", c.current !== c.value);
  request(overrides());
}

// One run at a time: a change during a run waits, and only the latest is sent.
function request(set) {
  state.pending = set;
  if (!state.busy) next();
}

async function next() {
  const set = state.pending;
  if (set === null) return;
  state.pending = null;
  state.busy = true;
  const status = document.getElementById("status");
  status.textContent = "running…";
  status.dataset.state = "running";
  try {
    const r = await fetch("/api/run", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ set: set }),
    });
    const body = await r.json();
    if (r.ok) {
      showError("");
      draw(body);
    } else {
      showError(body.error || ("HTTP " + r.status));
    }
  } catch (e) {
    showError("the server did not answer: " + e);
  }
  state.runs += 1;
  status.dataset.runs = String(state.runs);
  status.dataset.state = state.pending === null ? "done" : "running";
  status.textContent = "run " + state.runs + " done";
  state.busy = false;
  if (state.pending !== null) next();
}

function showError(text) {
  const e = document.getElementById("error");
  e.textContent = text;
  e.hidden = text === "";
}

function fmt(x, digits) {
  return x === null || x === undefined ? "–" : Number(x).toFixed(digits);
}

function draw(body) {
  const s = body.summary;
  const rps = document.getElementById("origin-rps");
  rps.dataset.value = String(s.origin.mean_rps);
  rps.textContent = fmt(s.origin.mean_rps, 1) + " req/s";
  document.getElementById("origin-requests").textContent = String(s.origin.requests);
  document.getElementById("latency-mean").textContent = fmt(s.latency_ms.mean, 3) + " ms";
  document.getElementById("latency-p99").textContent = fmt(s.latency_ms.p99, 3) + " ms";
  const cmd = document.getElementById("command");
  cmd.textContent = body.command;
  cmd.dataset.set = JSON.stringify(body.set);
  lineChart(document.getElementById("chart-origin"),
    body.timeseries.map((b) => [b.t_s, b.origin_rps]), "s", "req/s");
  const caches = s.layers.filter((l) => l.hit_ratio !== null && l.hit_ratio !== undefined);
  barChart(document.getElementById("chart-hits"),
    caches.map((l) => [l.name, l.hit_ratio]), 1, (v) => (100 * v).toFixed(1) + "%");
  const lat = s.latency_ms;
  barChart(document.getElementById("chart-latency"),
    [["p50", lat.p50], ["p90", lat.p90], ["p99", lat.p99], ["p99.9", lat.p999]],
    Math.max(lat.p999 || 0, 1e-9), (v) => fmt(v, 3));
}

const W = 640, H = 220, L = 60, R = 16, T = 12, B = 32;

function lineChart(box, points, xunit, yunit) {
  const g = svg("svg", { width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "img" });
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const x0 = xs.length ? Math.min(...xs) : 0, x1 = xs.length ? Math.max(...xs) : 1;
  const y1 = Math.max(1, ...ys);
  const px = (x) => L + (W - L - R) * (x1 > x0 ? (x - x0) / (x1 - x0) : 0.5);
  const py = (y) => H - B - (H - T - B) * (y / y1);
  g.appendChild(svg("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#888" }));
  g.appendChild(svg("line", { x1: L, y1: T, x2: L, y2: H - B, stroke: "#888" }));
  g.appendChild(svg("text", { x: L - 4, y: T + 10, "text-anchor": "end", "font-size": 11 }, fmt(y1, 0)));
  g.appendChild(svg("text", { x: L - 4, y: H - B, "text-anchor": "end", "font-size": 11 }, "0"));
  g.appendChild(svg("text", { x: L, y: H - 8, "font-size": 11 }, fmt(x0, 0) + " " + xunit));
  g.appendChild(svg("text", { x: W - R, y: H - 8, "text-anchor": "end", "font-size": 11 }, fmt(x1, 0) + " " + xunit));
  g.appendChild(svg("text", { x: L + 6, y: T + 10, "font-size": 11, fill: "#555" }, yunit));
  const d = points.map((p) => px(p[0]).toFixed(1) + "," + py(p[1]).toFixed(1)).join(" ");
  g.appendChild(svg("polyline", { points: d, fill: "none", stroke: "#c33", "stroke-width": 1.5, class: "series" }));
  box.replaceChildren(g);
}

function barChart(box, bars, max, label) {
  const h = 26 * bars.length + 10;
  const g = svg("svg", { width: W, height: h, viewBox: "0 0 " + W + " " + h, role: "img" });
  bars.forEach(([name, v], i) => {
    const y = 6 + 26 * i;
    const w = (W - 200) * Math.max(0, Math.min(1, (v || 0) / max));
    g.appendChild(svg("text", { x: 110, y: y + 15, "text-anchor": "end", "font-size": 12 }, name));
    g.appendChild(svg("rect", { x: 116, y: y, width: w.toFixed(1), height: 20, fill: "#36a", class: "bar" }));
    g.appendChild(svg("text", { x: 122 + w, y: y + 15, "font-size": 12 }, label(v || 0)));
  });
  box.replaceChildren(g);
}

async function start() {
  try {
    const r = await fetch("/api/scenario");
    const info = await r.json();
    document.getElementById("scenario").textContent = info.name;
    buildControls(info.controls);
    request([]);
  } catch (e) {
    showError("the server did not answer: " + e);
  }
}

start();
