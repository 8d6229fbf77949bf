// app.js — the SJE dashboard: one page, plain JavaScript, no library.
//
// It uses the REST API of the server that served it, with the same
// credentials as any client: an API key or bearer token typed once, kept
// in sessionStorage (this tab only), sent as "Authorization: Bearer".
// Never in a URL, never in a cookie. GET /whoami says which calls the
// key may make; actions it may not take are not shown (the server
// refuses them anyway).
//
// Pages are routes of the URL's fragment (#/jobs?state=FAILED, #/job/ID,
// #/run/ID, ...). The page is live: one long poll on GET /events
// (after=next&wait_s=25&limit=50, at most one every 0.7 s, skipping to
// the log's end when a batch is full) runs all the time, and each batch
// of events re-renders the page shown (at most once every 0.7 s), rather
// than re-reading every count on a timer.
//
// Every text from the server goes into the page as text (textContent,
// attribute values), never as HTML.
"use strict";

const KEY = "sje.key";
const STATES = ["PENDING", "SCHEDULED", "QUEUED", "RUNNING", "SUCCEEDED",
  "FAILED", "CANCELLED", "UPSTREAM_FAILED"];
const FINISHED = ["SUCCEEDED", "FAILED", "CANCELLED", "UPSTREAM_FAILED"];
const RETRYABLE = ["FAILED", "CANCELLED", "UPSTREAM_FAILED"];

let me = null;          // GET /whoami
let renderSeq = 0;      // the page render in progress; older ones stop
let lastEvents = [];    // the newest events seen, newest last
let liveNext = null;    // the long poll's position
let rerenderTimer = null;

// ---- small helpers ---------------------------------------------------

function h(tag, attrs, ...kids) {
  const svg = ["svg", "g", "rect", "line", "path", "text", "polyline",
    "title", "a"].includes(tag) && attrs && attrs.svg;
  const e = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag)
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "svg" || v === null || v === undefined || v === false) continue;
    if (k === "on") {
      for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
    } else if (k === "text") {
      e.textContent = v;
    } else {
      e.setAttribute(k, v === true ? "" : String(v));
    }
  }
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

function s(tag, attrs, ...kids) {
  return h(tag, Object.assign({ svg: true }, attrs), ...kids);
}

function stateBadge(st) {
  return h("span", { class: "state st-" + st, "data-state": st, text: st });
}

// timeEl shows an RFC 3339 instant in the viewer's local time, the UTC
// instant in its title.
function timeEl(iso) {
  if (!iso) return h("span", { class: "muted", text: "—" });
  const d = new Date(iso);
  if (isNaN(d)) return h("span", { text: iso });
  return h("time", { datetime: iso, title: d.toISOString() + " (UTC)",
    text: d.toLocaleString() });
}

function jobLink(id) {
  return h("a", { href: "#/job/" + encodeURIComponent(id), text: id });
}

function runLink(id) {
  return h("a", { href: "#/run/" + encodeURIComponent(id), text: id });
}

function pretty(v) {
  return h("pre", { text: v === undefined ? "null" : JSON.stringify(v, null, 2) });
}

function setStatus(msg, bad) {
  const el = document.getElementById("status");
  el.textContent = msg || "";
  el.classList.toggle("bad", !!bad);
  if (msg) {
    clearTimeout(setStatus.t);
    setStatus.t = setTimeout(() => { el.textContent = ""; }, 8000);
  }
}

function can(method) {
  return !!(me && me.can && me.can[method]);
}

// ---- the API -----------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    const e = body && body.error ? body.error : {};
    super(e.message || ("HTTP " + status));
    this.status = status;
    this.code = e.code || "";
  }
}

async function api(method, path, body) {
  const headers = {};
  const key = sessionStorage.getItem(KEY);
  if (key) headers["Authorization"] = "Bearer " + key;
  const init = { method, headers, cache: "no-store", credentials: "omit" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  const text = await r.text();
  let data = null;
  if (text && (r.headers.get("Content-Type") || "").startsWith("application/json")) {
    data = JSON.parse(text);
  } else {
    data = text;
  }
  if (!r.ok) {
    if (r.status === 401) showLogin("The server refused these credentials.");
    throw new ApiError(r.status, data);
  }
  return data;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, v);
  }
  const t = q.toString();
  return t ? "?" + t : "";
}

// ---- signing in --------------------------------------------------------

function showLogin(msg) {
  document.getElementById("login").hidden = false;
  document.getElementById("main").replaceChildren();
  document.getElementById("login-error").textContent = msg || "";
  document.getElementById("key").focus();
}

async function whoami() {
  try {
    me = await api("GET", "/whoami");
  } catch (e) {
    me = null;
    if (e.status !== 401) setStatus("Cannot reach the server: " + e.message, true);
    return false;
  }
  document.getElementById("login").hidden = true;
  document.getElementById("who").textContent = me.auth
    ? me.name + " (" + me.scopes.join(", ") + ")" : "no authentication";
  document.getElementById("logout").hidden = !me.auth;
  if (signedIn) { signedIn(); signedIn = null; }
  return true;
}

// ---- the live feed ---------------------------------------------------

let signedIn = null;     // resolves when whoami succeeds

// The feed reads at most LIVE_BATCH events a request and at most one
// request every LIVE_PACE_MS: the page reads its state anew when events
// come, so it needs to know that something happened, not every event.
// While jobs run by the thousand a second, reading every event would
// cost the server more than the jobs do (their JSON), so a full batch
// skips to the log's end: the events skipped were committed before the
// re-render that follows, which reads their outcome.
const LIVE_BATCH = 50;
const LIVE_PACE_MS = 700;

async function live() {
  for (;;) {
    if (!me) {
      await new Promise((r) => { signedIn = r; });
      continue;
    }
    try {
      const t0 = Date.now();
      const first = liveNext === null;
      const p = first ? { from_now: "true", wait_s: 0 }
        : { after: liveNext, wait_s: 25, limit: LIVE_BATCH };
      const r = await api("GET", "/events" + query(p));
      liveNext = r.next;
      const evs = r.events || [];
      if (evs.length > 0) lastEvents = lastEvents.concat(evs).slice(-50);
      if (evs.length >= LIVE_BATCH) {
        const end = await api("GET", "/events" + query({ from_now: "true", wait_s: 0 }));
        liveNext = end.next;
      }
      // What happened before the feed's start is in the page once it
      // renders again from here; so is what the batch skipped.
      if (first || evs.length > 0) scheduleRerender();
      const rest = LIVE_PACE_MS - (Date.now() - t0);
      if (!first && rest > 0) await new Promise((res) => setTimeout(res, rest));
    } catch (e) {
      // A restart or a dropped connection: try again a little later.
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

// editing is true while the reader types into a field of the page: a
// live re-render would throw their input away, so it waits.
function editing() {
  const a = document.activeElement;
  return !!a && ["INPUT", "SELECT", "TEXTAREA"].includes(a.tagName) &&
    document.getElementById("main").contains(a);
}

function scheduleRerender() {
  if (rerenderTimer !== null) return;
  rerenderTimer = setTimeout(() => {
    rerenderTimer = null;
    if (editing()) {
      scheduleRerender();
      return;
    }
    render(true);
  }, 700);
}

// ---- routing -----------------------------------------------------------

function route() {
  const hash = location.hash.replace(/^#\/?/, "");
  const qi = hash.indexOf("?");
  const path = qi >= 0 ? hash.slice(0, qi) : hash;
  const params = new URLSearchParams(qi >= 0 ? hash.slice(qi + 1) : "");
  const parts = path.split("/").map(decodeURIComponent);
  return { page: parts[0] || "overview", id: parts[1] || "", params };
}

async function render(refresh) {
  if (!me) return;
  const seq = ++renderSeq;
  const r = route();
  for (const a of document.querySelectorAll("nav a")) {
    const cur = a.dataset.page === r.page ||
      (a.dataset.page === "jobs" && r.page === "job") ||
      (a.dataset.page === "runs" && r.page === "run");
    if (cur) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const pages = { overview, jobs, job, runs, run, functions, workers };
  const fn = pages[r.page] || overview;
  let view;
  try {
    view = await fn(r, refresh);
  } catch (e) {
    view = h("div", { class: "card error", role: "alert",
      text: (e.status ? e.status + " " : "") + e.message });
  }
  if (seq !== renderSeq || view === undefined) return; // a newer one ran
  const main = document.getElementById("main");
  // Keep the focus where it was across a live refresh.
  const focusId = document.activeElement && document.activeElement.id;
  main.replaceChildren(view);
  if (refresh && focusId) {
    const f = document.getElementById(focusId);
    if (f) f.focus();
  } else if (!refresh) {
    main.focus();
  }
}

// ---- confirmations -----------------------------------------------------

function confirmAction(text) {
  const d = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = text;
  return new Promise((resolve) => {
    d.addEventListener("close", () => resolve(d.returnValue === "ok"),
      { once: true });
    d.returnValue = "cancel";
    d.showModal();
    document.getElementById("confirm-no").focus();
  });
}

// action asks, calls, shows the outcome, and re-renders.
async function action(question, method, path, body, done) {
  if (!(await confirmAction(question))) {
    setStatus("Nothing done.");
    return;
  }
  try {
    const r = await api(method, path, body);
    setStatus(done(r));
  } catch (e) {
    setStatus("Refused: " + (e.status ? e.status + " " : "") + e.message, true);
  }
  render(true);
}

function actionButton(id, label, cls, fn) {
  return h("button", { type: "button", id, class: cls, on: { click: fn },
    text: label });
}

// ---- overview ----------------------------------------------------------

function fmtMs(v) {
  if (v === null || v === undefined || isNaN(v)) return "—";
  if (v === Infinity) return "> 1 h";
  if (v < 1000) return (v < 10 ? v.toFixed(1) : Math.round(v)) + " ms";
  return (v / 1000).toFixed(v < 10000 ? 2 : 0) + " s";
}

// quantileMs estimates a quantile of a Stats histogram (counts per
// bucket, the last one past the last bound) as its bucket's upper bound.
function quantileMs(hist, q) {
  const total = hist.reduce((a, x) => a + x.count, 0);
  if (total === 0) return null;
  const bounds = hist[0].bounds_ms;
  let acc = 0;
  for (let i = 0; i <= bounds.length; i++) {
    for (const x of hist) acc += x.counts[i] || 0;
    if (acc >= q * total) return i < bounds.length ? bounds[i] : Infinity;
  }
  return Infinity;
}

function tile(id, label, value) {
  return h("div", { class: "tile" },
    h("span", { class: "n", id, text: value }),
    h("span", { class: "l", text: label }));
}

async function overview() {
  const rows = {};   // function -> state -> n
  const totals = {};
  for (const st of STATES) totals[st] = 0;
  const add = (fn, st, n) => {
    rows[fn] = rows[fn] || {};
    rows[fn][st] = (rows[fn][st] || 0) + Number(n || 0);
    totals[st] += Number(n || 0);
  };
  let stats = null;
  if (can("Stats")) {
    stats = await api("GET", "/stats");
    for (const f of stats.functions || []) {
      add(f.function, "SCHEDULED", f.scheduled);
      add(f.function, "QUEUED", f.queued);
      add(f.function, "RUNNING", f.running);
      add(f.function, "SUCCEEDED", f.succeeded);
      add(f.function, "FAILED", f.failed);
      add(f.function, "CANCELLED", f.cancelled);
      add(f.function, "UPSTREAM_FAILED", f.upstream_failed);
    }
    totals.PENDING = Number(stats.pending || 0);
  } else {
    const fr = await api("GET", "/functions");
    for (const f of fr.functions || []) {
      add(f.name, "QUEUED", f.queued);
      add(f.name, "RUNNING", f.running);
    }
  }
  const view = h("div", {},
    h("h1", { text: "Overview" }),
    h("div", { class: "tiles", id: "state-tiles" },
      STATES.map((st) => tile("total-" + st, st, totals[st]))));
  const fns = Object.keys(rows).sort();
  const cols = STATES.filter((st) => st !== "PENDING");
  view.append(h("h2", { text: "Jobs by function and state" }),
    h("p", { class: "muted", text: stats
      ? "Unfinished jobs now; finished ones since the server started. PENDING jobs (waiting for parents) are counted above only."
      : "Queued and running jobs now (the other counts need the admin scope)." }),
    h("div", { class: "scroll" }, h("table", { id: "counts" },
      h("thead", {}, h("tr", {}, h("th", { text: "function" }),
        cols.map((st) => h("th", { class: "num", text: st })))),
      h("tbody", {}, fns.map((fn) => h("tr", { "data-function": fn },
        h("td", {}, h("a", { href: "#/jobs" + query({ function: fn }), text: fn })),
        cols.map((st) => h("td", { class: "num", "data-state": st,
          text: rows[fn][st] || 0 }))))))));

  if (stats) {
    const fs = stats.functions || [];
    const hour = stats.last_hour || [];
    const recent = hour.slice(-5);
    const perMin = recent.reduce((a, m) => a + Number(m.succeeded) + Number(m.failed), 0) / Math.max(1, recent.length);
    view.append(h("h2", { text: "Workers and latency" }),
      h("div", { class: "tiles" },
        tile("workers-online", "workers online", stats.workers || 0),
        tile("slots-busy", "slots busy", (stats.workers_busy_slots || 0) + " / " + (stats.worker_slots || 0)),
        tile("throughput", "attempts / min (last 5 min)", Math.round(perMin)),
        tile("run-p50", "run time p50 (≤)", fmtMs(quantileMs(fs.map((f) => f.run), 0.5))),
        tile("run-p95", "run time p95 (≤)", fmtMs(quantileMs(fs.map((f) => f.run), 0.95))),
        tile("wait-p95", "queue wait p95 (≤)", fmtMs(quantileMs(fs.map((f) => f.wait), 0.95))),
        tile("alerts-firing", "alerts firing", (stats.alerts_firing || []).length)),
      (stats.alerts_firing || []).length === 0 ? null : h("ul", { id: "alerts", class: "error" },
        stats.alerts_firing.map((a) => h("li", {}, h("strong", { text: a.name }), " — ", a.when))),
      h("p", { class: "muted", text: "Percentiles since the server started, as bucket bounds of its histograms." }),
      h("h2", { text: "The last hour" }), hourChart(hour));
  } else {
    view.append(h("p", { class: "muted",
      text: "Workers, slots, latencies and the last hour need the admin scope." }));
  }
  view.append(h("h2", { text: "Latest events" }),
    lastEvents.length === 0 ? h("p", { class: "muted", text: "None since this page opened." })
      : h("div", { class: "scroll" }, h("table", { id: "events" },
        h("tbody", {}, lastEvents.slice().reverse().slice(0, 15).map((e) =>
          h("tr", {}, h("td", {}, timeEl(e.at)), h("td", {}, jobLink(e.task_id)),
            h("td", { text: e.function }), h("td", {}, stateBadge(e.state))))))));
  return view;
}

// hourChart draws the last hour from the server's per-minute counts:
// bars of attempts ended (failed ones on top, red) and a line of the
// mean run time, each minute with its numbers in a title.
function hourChart(hour) {
  const w = 720, ht = 140, top = 10, bottom = 20;
  if (hour.length === 0) return h("p", { class: "muted", text: "No data." });
  const done = hour.map((m) => Number(m.succeeded) + Number(m.failed));
  const mean = hour.map((m, i) => done[i] ? Number(m.run_ms_sum) / done[i] : null);
  const maxDone = Math.max(1, ...done);
  const maxMean = Math.max(1, ...mean.filter((x) => x !== null));
  const bw = w / hour.length;
  const y = (v, max) => top + (ht - top - bottom) * (1 - v / max);
  const bars = hour.map((m, i) => {
    const ok = Number(m.succeeded), bad = Number(m.failed);
    const x = i * bw + 1;
    const local = new Date(m.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    return s("g", { class: "minute", "data-at": m.at, "data-done": done[i] },
      s("rect", { class: "span st-SUCCEEDED", x, width: bw - 2, y: y(ok + bad, maxDone),
        height: (ht - top - bottom) * ok / maxDone }),
      s("rect", { class: "span st-FAILED", x, width: bw - 2, y: y(bad, maxDone) - (ht - top - bottom) * ok / maxDone,
        height: (ht - top - bottom) * bad / maxDone }),
      s("title", { text: `${local} (${m.at} UTC): ${ok} succeeded, ${bad} other attempts, mean run ${fmtMs(mean[i])}, max ${fmtMs(Number(m.run_ms_max))}` }));
  });
  const pts = mean.map((v, i) => v === null ? null :
    `${(i * bw + bw / 2).toFixed(1)},${y(v, maxMean).toFixed(1)}`).filter((p) => p !== null);
  const t0 = new Date(hour[0].at), t1 = new Date(hour[hour.length - 1].at);
  return h("figure", {},
    s("svg", { class: "spark", id: "hour-chart", viewBox: `0 0 ${w} ${ht}`, width: w, role: "img",
      "aria-label": "attempts ended per minute and mean run time, the last hour" },
      bars,
      pts.length > 1 ? s("polyline", { class: "sparkline", points: pts.join(" ") }) : null,
      s("line", { class: "axis", x1: 0, x2: w, y1: ht - bottom, y2: ht - bottom }),
      s("text", { class: "lbl", x: 2, y: ht - 5, text: t0.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) }),
      s("text", { class: "lbl", x: w - 40, y: ht - 5, text: t1.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) })),
    h("figcaption", { class: "muted",
      text: `Bars: attempts ended per minute (most: ${maxDone}; red: not succeeded). Line: mean run time (most: ${fmtMs(maxMean)}). Kept in the server's memory since it started.` }));
}

// ---- jobs --------------------------------------------------------------

const FILTERS = ["state", "function", "label", "workflow_id", "worker",
  "after", "before", "parent"];
// What the bulk calls take of a filter (BulkRequest has no parent and no
// prefix).
const BULK_FILTERS = ["state", "function", "label", "workflow_id", "worker",
  "after", "before"];

function jobFilter(params) {
  const f = {};
  for (const k of FILTERS) {
    if (params.get(k)) f[k] = params.get(k);
  }
  return f;
}

function toIso(local) {
  if (!local) return "";
  const d = new Date(local);
  return isNaN(d) ? "" : d.toISOString();
}

function toLocalInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d)) return "";
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function filterForm(params) {
  const f = jobFilter(params);
  const field = (name, label, input) => h("label", { for: "f-" + name }, label, input);
  const form = h("form", { class: "filters card", id: "filters" },
    field("state", "state", h("select", { id: "f-state", name: "state" },
      h("option", { value: "", text: "any" }),
      STATES.map((st) => h("option", { value: st, selected: f.state === st, text: st })))),
    field("function", "function", h("input", { id: "f-function", name: "function", value: f.function || "", size: 14 })),
    field("label", "label k=v", h("input", { id: "f-label", name: "label", value: f.label || "", size: 12 })),
    field("workflow_id", "workflow run", h("input", { id: "f-workflow_id", name: "workflow_id", value: f.workflow_id || "", size: 14 })),
    field("worker", "worker", h("input", { id: "f-worker", name: "worker", value: f.worker || "", size: 10 })),
    field("after", "created from", h("input", { id: "f-after", name: "after", type: "datetime-local", value: toLocalInput(f.after) })),
    field("before", "created before", h("input", { id: "f-before", name: "before", type: "datetime-local", value: toLocalInput(f.before) })),
    field("q", "task_id starts with", h("input", { id: "f-q", name: "q", value: params.get("q") || "", size: 14 })),
    h("button", { type: "submit", id: "f-apply", class: "primary", text: "Apply" }));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const p = {};
    for (const k of ["state", "function", "label", "workflow_id", "worker", "q"]) {
      p[k] = form.elements[k].value.trim();
    }
    p.after = toIso(form.elements.after.value);
    p.before = toIso(form.elements.before.value);
    location.hash = "#/jobs" + query(p);
  });
  return form;
}

function jobRow(j) {
  return h("tr", { "data-task-id": j.task_id },
    h("td", {}, jobLink(j.task_id)),
    h("td", { text: j.function }),
    h("td", {}, stateBadge(j.state)),
    h("td", { class: "num", text: j.attempt + "/" + j.max_attempts }),
    h("td", {}, j.workflow_id ? runLink(j.workflow_id) : ""),
    h("td", { text: j.worker || "" }),
    h("td", {}, timeEl(j.created_at)),
    h("td", {}, timeEl(j.finished_at)));
}

async function jobs(r, refresh) {
  const f = jobFilter(r.params);
  const q = r.params.get("q") || "";
  const cursor = r.params.get("cursor") || "";
  const view = h("div", {}, h("h1", { text: "Jobs" }), filterForm(r.params));
  // Keep a deep page as it is, so that it does not move under the reader.
  if (refresh && cursor) return undefined;
  // The search box is the server's task_id_prefix filter (an index range:
  // as cheap as the other filters, at any depth).
  const listed = Object.assign({}, f, q ? { task_id_prefix: q } : {});
  let page = await api("GET", "/jobs" + query(Object.assign({ limit: 50, cursor }, listed)));
  const list = page.jobs.slice();
  // A label, or a prefix that very many jobs share, is read a bounded
  // stretch of jobs a request: a short page goes on by itself a little.
  for (let k = 0; k < 20 && list.length < 50 && page.next_cursor; k++) {
    page = await api("GET", "/jobs" + query(Object.assign(
      { limit: 50 - list.length, cursor: page.next_cursor }, listed)));
    list.push(...page.jobs);
  }
  const next = page.next_cursor;
  let note = "";
  if (q) note = `Task ids starting with "${q}", newest first.`;
  if (f.parent) note = `The children of ${f.parent}: the jobs that named it in depends_on.`;
  const bulk = h("div", { class: "actions" });
  const bf = {};
  for (const k of BULK_FILTERS) if (f[k]) bf[k] = f[k];
  // A bulk call cannot take a prefix or a parent: offered only without.
  if (Object.keys(bf).length > 0 && !q && !f.parent) {
    if (can("BulkRetry")) {
      bulk.append(actionButton("act-bulk-retry", "Re-run all matching", "",
        () => action("Re-run every FAILED, CANCELLED or UPSTREAM_FAILED job matching this filter?",
          "POST", "/jobs/retry", bf, (x) => `${x.matched} jobs will run again.`)));
    }
    if (can("BulkCancel")) {
      bulk.append(actionButton("act-bulk-cancel", "Cancel all matching", "danger",
        () => action("Cancel every unfinished job matching this filter?",
          "POST", "/jobs/cancel", bf, (x) => `${x.matched} jobs cancelled.`)));
    }
  }
  view.append(bulk);
  if (note) view.append(h("p", { class: "muted", text: note }));
  view.append(h("div", { class: "scroll" }, h("table", { id: "jobs" },
    h("thead", {}, h("tr", {}, ["task_id", "function", "state", "attempt",
      "workflow run", "worker", "created", "finished"].map((t) => h("th", { text: t })))),
    h("tbody", {}, list.map(jobRow)))));
  // Past those requests, a page may still be short, even empty.
  if (list.length === 0) {
    view.append(h("p", { class: "muted", id: "jobs-empty",
      text: next ? "No job on this page; older ones may match." : "No job matches." }));
  }
  {
    const base = Object.assign({}, f, q ? { q } : {});
    const pager = h("div", { class: "pager" });
    if (cursor) {
      pager.append(h("a", { href: "#/jobs" + query(base), id: "page-first", text: "« newest" }));
    }
    if (next) {
      pager.append(h("a", { href: "#/jobs" + query(Object.assign({ cursor: next }, base)),
        id: "page-next", text: "older »" }));
    }
    view.append(pager);
  }
  return view;
}

// ---- one job -------------------------------------------------------------

function timeline(attempts) {
  const spans = attempts.filter((a) => a.started_at);
  if (spans.length === 0) return h("p", { class: "muted", text: "No attempt has started." });
  const t = (x) => new Date(x).getTime();
  const now = Date.now();
  const t0 = Math.min(...spans.map((a) => t(a.started_at)));
  const t1 = Math.max(...spans.map((a) => a.finished_at ? t(a.finished_at) : now));
  const w = 600, row = 22, left = 30;
  const scale = (x) => left + (x - t0) / Math.max(1, t1 - t0) * (w - left - 10);
  return s("svg", { class: "timeline", id: "timeline", role: "img", width: w,
    viewBox: `0 0 ${w} ${spans.length * row + 24}`,
    "aria-label": "attempts on a time line" },
    spans.map((a, i) => {
      const x0 = scale(t(a.started_at));
      const x1 = Math.max(x0 + 3, scale(a.finished_at ? t(a.finished_at) : now));
      return s("g", { class: "attempt", "data-number": a.number },
        s("text", { class: "lbl", x: 2, y: i * row + 15, text: "#" + a.number }),
        s("rect", { class: "span st-" + (a.outcome || "RUNNING"), x: x0,
          y: i * row + 4, width: x1 - x0, height: row - 8 },
          s("title", { text: `attempt ${a.number} on ${a.worker || "?"}: ` +
            `${a.outcome || "running"} (${a.started_at} .. ${a.finished_at || "now"})` })));
    }),
    s("line", { class: "axis", x1: left, x2: w - 10, y1: spans.length * row + 4,
      y2: spans.length * row + 4 }),
    s("text", { class: "lbl", x: left, y: spans.length * row + 18,
      text: new Date(t0).toLocaleTimeString() }),
    s("text", { class: "lbl", x: w - 110, y: spans.length * row + 18,
      text: new Date(t1).toLocaleTimeString() }));
}

async function job(r) {
  const id = r.id;
  const j = await api("GET", "/status/" + encodeURIComponent(id));
  const view = h("div", {}, h("h1", {}, "Job ", h("code", { text: j.task_id }), " ",
    h("span", { id: "job-state" }, stateBadge(j.state))));

  const acts = h("div", { class: "actions", id: "job-actions" });
  const enc = encodeURIComponent(j.task_id);
  if (!FINISHED.includes(j.state) && can("Cancel")) {
    acts.append(actionButton("act-cancel", "Cancel", "danger", () =>
      action(`Cancel job ${j.task_id}?`, "POST", "/cancel/" + enc, undefined,
        (x) => x.cancel_requested ? "Cancel requested: it stops shortly." : "Cancelled.")));
  }
  if (RETRYABLE.includes(j.state) && can("Retry")) {
    acts.append(actionButton("act-retry", "Re-run", "primary", () =>
      action(`Run job ${j.task_id} again?`, "POST", "/retry/" + enc, {},
        (x) => `Re-run: it is ${x.state} now.`)));
  }
  if (FINISHED.includes(j.state) && can("DeleteJob")) {
    acts.append(actionButton("act-delete", "Delete", "danger", async () => {
      await action(`Delete job ${j.task_id} and its history?`, "DELETE", "/jobs/" + enc,
        undefined, () => {
          location.hash = "#/jobs";
          return `Deleted ${j.task_id}.`;
        });
    }));
  }
  view.append(acts);

  const pct = j.progress ? j.progress.percent || 0 : 0;
  view.append(h("div", { class: "card" }, h("dl", { class: "fields" },
    h("dt", { text: "function" }), h("dd", {}, h("a", { href: "#/jobs" + query({ function: j.function }), text: j.function })),
    h("dt", { text: "attempt" }), h("dd", { text: `${j.attempt} of ${j.max_attempts}` }),
    h("dt", { text: "priority" }), h("dd", { text: j.priority }),
    h("dt", { text: "worker" }), h("dd", { text: j.worker || "—" }),
    h("dt", { text: "workflow run" }), h("dd", {}, j.workflow_id ? runLink(j.workflow_id) : "—"),
    h("dt", { text: "labels" }), h("dd", { text: Object.entries(j.labels || {}).map(([k, v]) => k + "=" + v).join(", ") || "—" }),
    h("dt", { text: "created" }), h("dd", {}, timeEl(j.created_at)),
    h("dt", { text: "started" }), h("dd", {}, timeEl(j.started_at)),
    h("dt", { text: "finished" }), h("dd", {}, timeEl(j.finished_at)),
    h("dt", { text: "progress" }), h("dd", {},
      h("div", { class: "bar", role: "progressbar", "aria-valuenow": pct,
        "aria-valuemin": 0, "aria-valuemax": 100 }, progressSpan(pct)),
      (j.progress && j.progress.message) || ""),
    h("dt", { text: "cancel requested" }), h("dd", { text: j.cancel_requested ? "yes" : "no" }),
    h("dt", { text: "parents" }), h("dd", { id: "job-parents" },
      (j.depends_on || []).length ? j.depends_on.map((p, i) => [i ? ", " : "", jobLink(p)]) : "—"),
    h("dt", { text: "children" }), h("dd", { id: "job-children" }, await children(j)))));

  if (j.error) {
    view.append(h("h2", { text: "Error" }), h("div", { class: "card error", id: "job-error" },
      h("strong", { text: j.error.type + ": " }), j.error.message));
  }
  if (!FINISHED.includes(j.state)) {
    try {
      const ex = await api("GET", "/jobs/" + enc + "/explain");
      view.append(h("h2", { text: "Why it is " + j.state }),
        h("ul", { id: "job-explain" }, (ex.reasons || []).map((x) =>
          h("li", {}, h("code", { text: x.code }), " ", x.message))));
    } catch (e) { /* read-only data: skip what cannot be had */ }
  }
  view.append(h("h2", { text: "Attempts" }), timeline(j.attempts || []),
    h("div", { class: "scroll" }, h("table", { id: "attempts" },
      h("thead", {}, h("tr", {}, ["#", "worker", "started", "finished", "outcome", "error"].map((t) => h("th", { text: t })))),
      h("tbody", {}, (j.attempts || []).map((a) => h("tr", { class: "attempt-row" },
        h("td", { text: a.number }), h("td", { text: a.worker || "" }),
        h("td", {}, timeEl(a.started_at)), h("td", {}, timeEl(a.finished_at)),
        h("td", {}, a.outcome ? stateBadge(a.outcome) : ""),
        h("td", { text: a.error ? a.error.type + ": " + a.error.message : "" })))))));
  view.append(h("h2", { text: "Params" }), pretty(j.params),
    h("h2", { text: "Result" }), h("div", { id: "job-result" }, pretty(j.result)));
  try {
    const ev = await api("GET", "/events" + query({ task_id: j.task_id, after: 0, limit: 200 }));
    view.append(h("h2", { text: "Events" }), h("div", { class: "scroll" }, h("table", { id: "job-events" },
      h("tbody", {}, ev.events.map((e) => h("tr", {},
        h("td", { class: "num", text: e.seq }), h("td", {}, timeEl(e.at)),
        h("td", {}, stateBadge(e.state)), h("td", { text: "attempt " + e.attempt }),
        h("td", { text: e.worker || "" }),
        h("td", { text: e.error ? e.error.message : "" })))))));
  } catch (e) { /* events may have been purged */ }
  return view;
}

function progressSpan(pct) {
  const sp = h("span");
  sp.style.width = Math.max(0, Math.min(100, pct)) + "%"; // CSSOM: CSP-safe
  return sp;
}

// children are the jobs that named this one in depends_on, newest first
// (GET /jobs?parent=: an index of their own), the first page of them.
async function children(j) {
  const page = await api("GET", "/jobs" + query({ parent: j.task_id, limit: 50 }));
  if (page.jobs.length === 0) return "—";
  const links = page.jobs.map((k, i) => [i ? ", " : "", jobLink(k.task_id)]);
  if (page.next_cursor) {
    links.push(" ", h("a", { href: "#/jobs" + query({ parent: j.task_id }),
      id: "job-children-all", text: "all children »" }));
  }
  return links;
}

// ---- workflow runs --------------------------------------------------------

async function runs(r, refresh) {
  const cursor = r.params.get("cursor") || "";
  if (refresh && cursor) return undefined; // a deep page stays as it is
  const page = await api("GET", "/workflows/runs" + query({ limit: 50, cursor }));
  const form = h("form", { class: "filters card", id: "run-form" },
    h("label", { for: "run-id" }, "workflow run id", h("input", { id: "run-id", size: 30 })),
    h("button", { type: "submit", class: "primary", text: "Open" }));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const v = document.getElementById("run-id").value.trim();
    if (v) location.hash = "#/run/" + encodeURIComponent(v);
  });
  const pager = h("div", { class: "pager" });
  if (cursor) pager.append(h("a", { href: "#/runs", id: "runs-first", text: "« newest" }));
  if (page.next_cursor) {
    pager.append(h("a", { href: "#/runs" + query({ cursor: page.next_cursor }),
      id: "runs-next", text: "older »" }));
  }
  return h("div", {}, h("h1", { text: "Workflow runs" }), form,
    page.runs.length === 0 ? h("p", { class: "muted", id: "runs-empty", text: "No workflow run is stored." }) :
      h("div", { class: "scroll" }, h("table", { id: "runs" },
        h("thead", {}, h("tr", {}, ["run", "workflow", "state", "steps finished", "created"]
          .map((t) => h("th", { text: t })))),
        h("tbody", {}, page.runs.map((x) => h("tr", { "data-run-id": x.workflow_id },
          h("td", {}, runLink(x.workflow_id)), h("td", { text: x.workflow || "" }),
          h("td", {}, stateBadge(x.state)),
          h("td", { class: "num", text: `${x.steps_finished || 0}/${x.step_count || 0}` }),
          h("td", {}, timeEl(x.created_at))))))),
    pager);
}

// layout places the steps in columns by depth (the longest path from a
// step without parents in the run), in submission order within a column.
function layout(steps) {
  const byId = new Map(steps.map((x) => [x.task_id, x]));
  const depth = new Map();
  const visit = (id, guard) => {
    if (depth.has(id)) return depth.get(id);
    if (guard > steps.length) return 0; // a cycle cannot be, but be safe
    const st = byId.get(id);
    let d = 0;
    for (const p of st.depends_on || []) {
      if (byId.has(p)) d = Math.max(d, visit(p, guard + 1) + 1);
    }
    depth.set(id, d);
    return d;
  };
  const cols = [];
  for (const st of steps) {
    const d = visit(st.task_id, 0);
    (cols[d] = cols[d] || []).push(st);
  }
  const pos = new Map();
  cols.forEach((col, x) => col.forEach((st, y) => pos.set(st.task_id, { x, y })));
  return { pos, cols };
}

async function run(r) {
  const id = r.id;
  const run = await api("GET", "/workflows/runs/" + encodeURIComponent(id));
  const { pos, cols } = layout(run.steps);
  const W = 170, H = 36, GX = 60, GY = 22;
  const width = Math.max(1, cols.length) * (W + GX);
  const height = Math.max(1, ...cols.map((c) => c.length)) * (H + GY);
  const px = (p) => p.x * (W + GX) + 10;
  const py = (p) => p.y * (H + GY) + 10;
  const edges = [];
  for (const st of run.steps) {
    for (const p of st.depends_on || []) {
      if (!pos.has(p)) continue;
      const a = pos.get(p), b = pos.get(st.task_id);
      const x1 = px(a) + W, y1 = py(a) + H / 2, x2 = px(b), y2 = py(b) + H / 2;
      edges.push(s("path", { class: "edge",
        d: `M${x1},${y1} C${x1 + GX / 2},${y1} ${x2 - GX / 2},${y2} ${x2},${y2}` }));
    }
  }
  const short = (t) => t.startsWith(id + ".") ? t.slice(id.length + 1) : t;
  const nodes = run.steps.map((st) => {
    const p = pos.get(st.task_id);
    const a = s("a", { href: "#/job/" + encodeURIComponent(st.task_id) },
      s("g", { class: "node st-" + st.state, "data-task-id": st.task_id,
        "data-state": st.state },
        s("rect", { x: px(p), y: py(p), width: W, height: H }),
        s("text", { x: px(p) + 8, y: py(p) + 15, text: short(st.task_id).slice(0, 22) }),
        s("text", { x: px(p) + 8, y: py(p) + 29, text: st.state }),
        s("title", { text: `${st.task_id}: ${st.function}, ${st.state}` })));
    return a;
  });
  const cancelBtn = run.state === "RUNNING" && can("CancelWorkflowRun")
    ? actionButton("act-run-cancel", "Cancel the run", "danger", () =>
      action(`Cancel every unfinished step of run ${id}?`, "POST",
        "/workflows/runs/" + encodeURIComponent(id) + "/cancel", undefined,
        (x) => `${x.matched} steps cancelled.`)) : null;
  return h("div", {},
    h("h1", {}, "Workflow run ", h("code", { text: id }), " ",
      h("span", { id: "run-state" }, stateBadge(run.state))),
    h("p", { class: "muted" }, "workflow ", h("strong", { text: run.workflow || "—" }),
      " · ", h("a", { href: "#/jobs" + query({ workflow_id: id }), text: "its jobs" })),
    h("div", { class: "actions" }, cancelBtn),
    h("div", { class: "scroll" }, s("svg", { class: "dag", id: "dag",
      viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
      "aria-label": "the run's steps and their dependencies" }, edges, nodes)));
}

// ---- functions and workers ------------------------------------------------

async function functions() {
  const r = await api("GET", "/functions");
  const rows = (r.functions || []).map((f) => {
    const enc = encodeURIComponent(f.name);
    const btn = !can("SetFunction") ? null : f.paused
      ? actionButton("act-resume-" + f.name, "Resume", "primary", () =>
        action(`Resume ${f.name}? Its queued jobs start again.`, "POST",
          `/functions/${enc}/resume`, undefined, () => `${f.name} resumed.`))
      : actionButton("act-pause-" + f.name, "Pause", "", () =>
        action(`Pause ${f.name}? Nothing new of it starts; submits are still accepted.`,
          "POST", `/functions/${enc}/pause`, undefined, () => `${f.name} paused.`));
    return h("tr", { "data-function": f.name },
      h("td", {}, h("a", { href: "#/jobs" + query({ function: f.name }), text: f.name })),
      h("td", { class: "num", text: f.queued || 0 }),
      h("td", { class: "num", text: f.running || 0 }),
      h("td", { text: f.paused ? "paused" : "" }),
      h("td", { text: f.concurrency ? f.concurrency : "—" }),
      h("td", { text: f.rate || "—" }),
      h("td", { text: (f.workers || []).join ? f.workers.join(", ") : f.workers }),
      h("td", {}, btn));
  });
  return h("div", {}, h("h1", { text: "Functions" }),
    h("div", { class: "scroll" }, h("table", { id: "functions" },
      h("thead", {}, h("tr", {}, ["function", "queued", "running", "paused",
        "concurrency", "rate", "workers", ""].map((t) => h("th", { text: t })))),
      h("tbody", {}, rows))));
}

async function workers() {
  if (!can("ListWorkers")) {
    return h("div", {}, h("h1", { text: "Workers" }),
      h("p", { class: "muted", text: "Listing workers needs the admin scope." }));
  }
  const r = await api("GET", "/workers");
  return h("div", {}, h("h1", { text: "Workers" }),
    h("div", { class: "scroll" }, h("table", { id: "workers" },
      h("thead", {}, h("tr", {}, ["name", "slots", "busy", "labels",
        "last heartbeat", "functions"].map((t) => h("th", { text: t })))),
      h("tbody", {}, (r.workers || []).map((w) => h("tr", { "data-worker": w.name },
        h("td", {}, h("a", { href: "#/jobs" + query({ worker: w.name }), text: w.name })),
        h("td", { class: "num", text: w.slots }),
        h("td", { class: "num", text: w.busy }),
        h("td", { text: Object.entries(w.labels || {}).map(([k, v]) => k + "=" + v).join(", ") }),
        h("td", {}, timeEl(w.last_seen)),
        h("td", { text: (w.functions || []).join(", ") })))))));
}

// ---- start -----------------------------------------------------------------

async function start() {
  document.getElementById("login").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = document.getElementById("key").value.trim();
    if (!v) return;
    sessionStorage.setItem(KEY, v);
    document.getElementById("key").value = "";
    if (await whoami()) render(false);
  });
  document.getElementById("logout").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    me = null;
    showLogin("");
  });
  window.addEventListener("hashchange", () => render(false));
  if (await whoami()) render(false);
  live();
}

document.addEventListener("DOMContentLoaded", start);
