/**
 * The admin dashboard: one self-contained page (inline CSS and vanilla JS,
 * nothing fetched but `dashboard/data`), kept as strings so the bundler
 * ships it inside the library with no build step and no CDN.
 *
 * Every value from the mesh reaches the page through `textContent` or an
 * attribute, never through HTML parsing: service names and rejection
 * reasons can come from a control plane. The CSP allows exactly this
 * script and this style, by hash, and connections to this origin.
 *
 * URLs are relative, so the page also works behind a path prefix
 * (`kubectl proxy`, an ingress).
 */
import { createHash } from 'node:crypto';
import { DASHBOARD_MATH } from './dashboard-math.js';

const STYLE = `
:root{--fg:#1b1f24;--muted:#5b6573;--bg:#fff;--line:#d8dde3;--head:#f3f5f7;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--c1:#0969da;--c2:#8250df;--c3:#bf3989}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9aa5b1;--bg:#0d1117;--line:#30363d;--head:#161b22;--ok:#3fb950;--warn:#d29922;--bad:#f85149;--c1:#58a6ff;--c2:#bc8cff;--c3:#f778ba}}
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:baseline;padding:.75rem 1.25rem;border-bottom:1px solid var(--line)}
h1{font-size:1.2rem;margin:0}
h2{font-size:1.05rem;margin:1.25rem 0 .5rem}
main{padding:0 1.25rem 1.5rem}
nav a{margin-right:.75rem;color:var(--c1)}
p{margin:0}
.note,.muted{color:var(--muted)}
table{border-collapse:collapse;margin:.25rem 0 1rem;min-width:40rem}
caption{text-align:left;font-weight:600;padding:.35rem 0}
th,td{border-bottom:1px solid var(--line);padding:.3rem .6rem;text-align:left;white-space:nowrap;vertical-align:middle}
thead th{background:var(--head);font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.cell{display:flex;align-items:center;gap:.5rem;justify-content:flex-end}
.ok{color:var(--ok)}.warn{color:var(--warn)}.bad{color:var(--bad);font-weight:600}
.badge{border:1px solid currentColor;border-radius:1rem;padding:0 .5rem}
svg.spark{width:120px;height:28px;display:block}
svg.spark path{fill:none;stroke-width:1.5;vector-effect:non-scaling-stroke}
.s0{stroke:var(--c1)}.s1{stroke:var(--c2)}.s2{stroke:var(--c3)}.serr{stroke:var(--bad)}
.legend span{margin-right:.6rem}.l0{color:var(--c1)}.l1{color:var(--c2)}.l2{color:var(--c3)}
`;

const SCRIPT = `'use strict';
${DASHBOARD_MATH}
var POLL_MS = 1000, WINDOW_MS = 5000, HISTORY_MS = 60000, QS = [0.5, 0.9, 0.99];
var snaps = new Map(), points = new Map(), lastState = '';
function $(id) { return document.getElementById(id); }
function el(tag, attrs, kids) {
  var e = document.createElement(tag);
  for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
  (kids || []).forEach(function (c) { e.append(c instanceof Node ? c : document.createTextNode(String(c))); });
  return e;
}
function svg(tag, attrs) {
  var e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (var k in attrs) e.setAttribute(k, attrs[k]);
  return e;
}
function num(v, unit) {
  if (v === null || v === undefined || !isFinite(v)) return '\\u2013';
  var d = v < 10 ? 2 : v < 100 ? 1 : 0;
  return v.toFixed(d) + (unit || '');
}
function pct(v) { return v === null ? '\\u2013' : (v * 100).toFixed(v < 0.1 ? 2 : 1) + ' %'; }
function spark(label, now, series) {
  var all = [];
  series.forEach(function (s) { s.pts.forEach(function (p) { if (p.v !== null && isFinite(p.v)) all.push(p.v); }); });
  var max = Math.max.apply(null, all.concat([0])) || 1;
  var desc = label + ', last 60 s: ' + series.map(function (s) {
    var last = s.pts.length ? s.pts[s.pts.length - 1].v : null;
    return (s.name ? s.name + ' ' : '') + 'now ' + s.fmt(last);
  }).join(', ') + ', peak ' + series[0].fmt(Math.max.apply(null, all.concat([0])));
  var g = svg('svg', { viewBox: '0 0 120 28', class: 'spark', role: 'img', 'aria-label': desc, 'data-points': String(all.length) });
  var t = svg('title', {}); t.textContent = desc; g.append(t);
  series.forEach(function (s) {
    var d = '', pen = 'M';
    s.pts.forEach(function (p) {
      if (p.v === null || !isFinite(p.v)) { pen = 'M'; return; }
      var x = 120 - (now - p.t) / HISTORY_MS * 120, y = 27 - p.v / max * 25;
      d += pen + x.toFixed(1) + ' ' + y.toFixed(1) + ' '; pen = 'L';
    });
    g.append(svg('path', { d: d || 'M0 27', class: s.cls }));
  });
  return g;
}
function track(data) {
  var now = data.time;
  data.services.forEach(function (s) {
    var key = s.direction + ' ' + s.name, list = snaps.get(key) || [];
    var cur = { t: now, requests: s.requests, errors: s.errors, buckets: s.buckets, le: data.le };
    if (list.length && list[list.length - 1].t >= now) return;
    list.push(cur);
    while (list.length > 2 && list[1].t <= now - WINDOW_MS) list.shift();
    snaps.set(key, list);
    var p = windowPoint(list[0], cur, QS);
    if (!p) return;
    var pts = points.get(key) || [];
    pts.push(p);
    while (pts.length && pts[0].t < now - HISTORY_MS) pts.shift();
    points.set(key, pts);
  });
}
function cell(field, text, cls) { return el('td', { 'data-field': field, class: cls || '' }, [text]); }
function chartCell(field, text, chart, cls) {
  return el('td', { class: 'num' }, [el('div', { class: 'cell' }, [el('span', { 'data-field': field, class: cls || '' }, [text]), chart])]);
}
function circuitCell(state) {
  var cls = state === 'open' ? 'bad' : state === 'half-open' ? 'warn' : state === 'closed' ? 'ok' : 'muted';
  return cell('circuit', state, cls);
}
function renderServices(data) {
  var breakers = new Map(), rows = new Map();
  data.clusters.forEach(function (c) {
    breakers.set(c.service, c.circuit);
    rows.set('outbound ' + c.service, { direction: 'outbound', name: c.service });
  });
  data.services.forEach(function (s) { rows.set(s.direction + ' ' + s.name, s); });
  var body = el('tbody');
  Array.from(rows.keys()).sort().forEach(function (key) {
    var s = rows.get(key), pts = points.get(key) || [], p = pts[pts.length - 1];
    var rate = p ? p.rps : null, err = p ? p.err : null;
    var errCls = err === null ? '' : err >= 0.05 ? 'bad' : err > 0 ? 'warn' : 'ok';
    var line = function (f) { return pts.map(function (x) { return { t: x.t, v: f(x) }; }); };
    var lat = QS.map(function (q, i) {
      return { name: 'p' + Math.round(q * 100), cls: 's' + i, fmt: function (v) { return num(v, ' ms'); }, pts: line(function (x) { return x.q[i]; }) };
    });
    body.append(el('tr', { 'data-key': key }, [
      el('th', { scope: 'row' }, [s.name]),
      cell('direction', s.direction),
      chartCell('rps', num(rate), spark('Requests per second', data.time, [{ cls: 's0', fmt: num, pts: line(function (x) { return x.rps; }) }])),
      chartCell('errors', pct(err), spark('Error rate', data.time, [{ cls: 'serr', fmt: pct, pts: line(function (x) { return x.err; }) }]), errCls),
      cell('p50', num(p && p.q[0]), 'num'), cell('p90', num(p && p.q[1]), 'num'), cell('p99', num(p && p.q[2]), 'num'),
      el('td', {}, [spark('Latency percentiles in ms', data.time, lat)]),
      s.direction === 'outbound' ? circuitCell(breakers.get(s.name) || 'none') : cell('circuit', 'n/a', 'muted'),
    ]));
  });
  if (!rows.size) body.append(el('tr', {}, [el('td', { colspan: '9', class: 'muted' }, ['No services or requests yet.'])]));
  $('services').tBodies[0].replaceWith(body);
}
function healthCell(e) {
  var cls = e.health === 'healthy' ? 'ok' : e.health === 'draining' ? 'warn' : 'bad';
  return cell('health', e.health, cls);
}
function ejectionCell(e, now) {
  if (!e.ejected) return cell('ejection', 'no', 'muted');
  var left = e.ejectedUntil === null ? '' : ' (' + Math.max(0, Math.ceil((e.ejectedUntil - now) / 1000)) + ' s left)';
  return cell('ejection', 'ejected' + left, 'bad');
}
function renderClusters(data) {
  var box = el('div', { id: 'clusters' });
  var head = ['Endpoint', 'Weight', 'Locality', 'Priority', 'Health', 'Ejection', 'In flight', 'EWMA'];
  data.clusters.forEach(function (c) {
    var cap = el('caption', {}, [c.service + (c.namespace ? '.' + c.namespace : '') + ' \\u00b7 ' + c.loadBalancer + ' \\u00b7 breaker: ', el('span', { class: c.circuit === 'open' ? 'bad' : c.circuit === 'half-open' ? 'warn' : '' }, [c.circuit])]);
    if (c.discoveryError) cap.append(el('div', { class: 'bad' }, ['discovery failing: ' + c.discoveryError]));
    var body = el('tbody');
    c.endpoints.forEach(function (e) {
      var loc = [e.region, e.zone].filter(Boolean).join(' / ') || '\\u2013';
      body.append(el('tr', { 'data-endpoint': e.address }, [
        el('th', { scope: 'row' }, [e.address]), cell('weight', e.warmth < 1 ? e.weight + ' (warming, ' + Math.round(e.warmth * 100) + '%)' : e.weight, 'num'), cell('locality', loc), cell('priority', e.priority, 'num'),
        healthCell(e), ejectionCell(e, data.time), cell('inflight', e.inFlight, 'num'), cell('ewma', num(e.ewmaMs, ' ms'), 'num'),
      ]));
    });
    if (c.endpointsOmitted) body.append(el('tr', {}, [el('td', { colspan: '8', class: 'muted' }, [c.endpointsOmitted + ' more endpoints not shown (see clusters)'])]));
    var thead = el('thead', {}, [el('tr', {}, head.map(function (h) { return el('th', { scope: 'col' }, [h]); }))]);
    box.append(el('table', { 'data-cluster': c.service }, [cap, thead, body]));
  });
  if (!data.clusters.length) box.append(el('p', { class: 'muted' }, ['No clusters.']));
  $('clusters').replaceWith(box);
}
function renderConfig(data) {
  var body = el('tbody');
  data.configChanges.slice().reverse().forEach(function (c) {
    body.append(el('tr', {}, [
      cell('time', new Date(c.time).toLocaleTimeString()), cell('source', c.source), cell('version', c.version, 'num'),
      cell('result', c.accepted ? 'accepted' : 'rejected', c.accepted ? 'ok' : 'bad'), cell('reason', c.error || ''),
    ]));
  });
  if (!data.configChanges.length) body.append(el('tr', {}, [el('td', { colspan: '5', class: 'muted' }, ['No config changes yet.'])]));
  $('config').tBodies[0].replaceWith(body);
}
function state(cls, text) {
  if (text === lastState) return;
  lastState = text;
  $('status').className = cls;
  $('status').textContent = text;
}
function render(data) {
  track(data);
  var r = $('ready');
  r.textContent = data.ready ? 'ready' : 'not ready';
  r.className = 'badge ' + (data.ready ? 'ok' : 'bad');
  $('updated').textContent = 'updated ' + new Date(data.time).toLocaleTimeString();
  renderServices(data); renderClusters(data); renderConfig(data);
}
function poll() {
  fetch('dashboard/data', { cache: 'no-store' }).then(function (res) {
    if (!res.ok) return res.text().then(function (t) { throw new Error(res.status + ' ' + t.trim()); });
    return res.json();
  }).then(function (data) {
    render(data); state('ok', 'live');
  }).catch(function (e) {
    state('bad', 'data unavailable: ' + e.message);
  }).finally(function () { setTimeout(poll, POLL_MS); });
}
poll();
`;

const BODY = `<header>
<h1>proxyless admin</h1>
<span id="ready" class="badge">\u2026</span>
<span id="status" role="status" aria-live="polite">connecting\u2026</span>
<span id="updated" class="muted"></span>
<nav aria-label="Raw endpoints"><a href="metrics">metrics</a><a href="clusters">clusters</a><a href="clusters?format=text">clusters (text)</a><a href="config_dump">config_dump</a><a href="readyz">readyz</a></nav>
</header>
<main>
<section aria-labelledby="h-services">
<h2 id="h-services">Services</h2>
<p class="note">Rates and percentiles over the last 5 s, estimated from histogram bucket deltas; charts cover the last 60 s. <span class="legend">Latency chart: <span class="l0">p50</span><span class="l1">p90</span><span class="l2">p99</span></span></p>
<table id="services">
<thead><tr><th scope="col">Service</th><th scope="col">Direction</th><th scope="col">Requests/s</th><th scope="col">Errors</th><th scope="col">p50</th><th scope="col">p90</th><th scope="col">p99</th><th scope="col">Latency</th><th scope="col">Breaker</th></tr></thead>
<tbody></tbody>
</table>
</section>
<section aria-labelledby="h-endpoints">
<h2 id="h-endpoints">Endpoints</h2>
<div id="clusters"></div>
</section>
<section aria-labelledby="h-config">
<h2 id="h-config">Config changes</h2>
<table id="config">
<thead><tr><th scope="col">Time</th><th scope="col">Source</th><th scope="col">Version</th><th scope="col">Result</th><th scope="col">Reason</th></tr></thead>
<tbody></tbody>
</table>
</section>
</main>`;

export interface DashboardPage {
  readonly html: string;
  /** The Content-Security-Policy the page is served with. */
  readonly csp: string;
}

let page: DashboardPage | undefined;

/** Built on first use (hashing the script), then reused. */
export function dashboardPage(): DashboardPage {
  page ??= build();
  return page;
}

function build(): DashboardPage {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>proxyless admin</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
${BODY}
<script>${SCRIPT}</script>
</body>
</html>
`;
  const csp = [
    "default-src 'none'",
    `script-src '${sha256(SCRIPT)}'`,
    `style-src '${sha256(STYLE)}'`,
    "connect-src 'self'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, csp };
}

function sha256(text: string): string {
  return `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;
}
