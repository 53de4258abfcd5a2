// The status page: one self-contained HTML document (inline style and script, no external
// assets; the Content-Security-Policy forbids any) that polls /ui/status.json and draws the node,
// its peers, keys, memory and an inline SVG chart of operations per second.

import { createHash } from "node:crypto";

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:12px 20px;display:flex;gap:16px;align-items:baseline;flex-wrap:wrap}
header h1{font-size:18px;margin:0}header a{color:#9cc3ff}
main{padding:16px 20px;display:grid;gap:16px;grid-template-columns:repeat(auto-fit,minmax(170px,1fr))}
.card{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:12px}
.card h2{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:#5b6475;margin:0 0 6px}
.big{font-size:24px;font-weight:600}.wide{grid-column:1/-1}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:4px 8px;border-bottom:1px solid #eef0f4}
.ok{color:#137333}.bad{color:#b3261e}svg{width:100%;height:140px;display:block}
#error{color:#b3261e}.axis{font-size:12px;color:#5b6475}`;

const SCRIPT = `
const $ = (id) => document.getElementById(id);
const units = ["B", "KiB", "MiB", "GiB", "TiB"];
function bytes(n) { let i = 0; while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; } return (i ? n.toFixed(1) : n) + " " + units[i]; }
function duration(s) { const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60); return (d ? d + "d " : "") + (d || h ? h + "h " : "") + m + "m " + (s % 60) + "s"; }
function figure(id, value, text) { const el = $(id); el.dataset.value = String(value); el.textContent = text; }
function rows(id, items, cells) {
  const body = $(id); body.replaceChildren();
  for (const item of items) { const tr = document.createElement("tr"); for (const [text, cls] of cells(item)) { const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; tr.append(td); } body.append(tr); }
}
function chart(series) {
  // Right-aligned on a window of at least one minute, so a young node's line grows from the right.
  const svg = $("ops-chart"), rates = series.rates, w = 600, h = 140, max = Math.max(1, ...rates);
  const slots = Math.max(60, rates.length), step = w / (slots - 1), first = slots - rates.length;
  const points = rates.map((r, i) => ((first + i) * step).toFixed(1) + "," + (h - 4 - (r / max) * (h - 12)).toFixed(1)).join(" ");
  svg.querySelector("polyline").setAttribute("points", points);
  svg.dataset.samples = String(rates.length);
  $("ops-max").textContent = max.toFixed(1);
  const now = rates.length ? rates[rates.length - 1] : 0;
  figure("ops-now", now, now.toFixed(1) + " ops/s");
  const seconds = slots * series.intervalSeconds;
  $("ops-window").textContent = seconds < 120 ? seconds + " s" : Math.round(seconds / 60) + " min";
}
async function refresh() {
  try {
    const res = await fetch("/ui/status.json", { cache: "no-store" });
    const s = await res.json();
    $("node").textContent = s.node.address; $("version").textContent = s.node.version;
    figure("uptime", s.node.uptimeSeconds, duration(s.node.uptimeSeconds));
    figure("keys", s.keys, s.keys.toLocaleString("en"));
    figure("bytes-used", s.bytesUsed, bytes(s.bytesUsed));
    figure("rss", s.memory.rss, bytes(s.memory.rss));
    figure("heap", s.memory.heapUsed, bytes(s.memory.heapUsed));
    figure("commands", s.commands, s.commands.toLocaleString("en"));
    const reads = s.hits + s.misses;
    figure("hit-rate", reads ? s.hits / reads : 0, reads ? (100 * s.hits / reads).toFixed(1) + " %" : "–");
    figure("connections", Object.values(s.connections).reduce((a, b) => a + b, 0), Object.entries(s.connections).map(([k, v]) => k + " " + v).join(", ") || "–");
    rows("peers", s.peers, (p) => [[p.address], [p.ok ? "answering" : "not answering", p.ok ? "ok" : "bad"], [p.message || ""]]);
    $("no-peers").hidden = s.peers.length > 0;
    $("peers-table").hidden = s.peers.length === 0;
    rows("backends", s.readThrough, (b) => [[b.name], [b.state, b.state === "down" ? "bad" : "ok"], [String(b.requests)], [String(b.hits)], [String(b.failures)]]);
    $("backends-card").hidden = s.readThrough.length === 0;
    chart(s.opsPerSecond);
    $("updated").textContent = "updated " + new Date().toLocaleTimeString("en-GB");
    $("error").textContent = "";
    document.body.dataset.loaded = "1";
  } catch (e) { $("error").textContent = "status unavailable: " + e; }
}
refresh(); setInterval(refresh, 2000);`;

/** CSP hash of the inline script, so the page runs it and nothing else. */
const SCRIPT_HASH = createHash("sha256").update(SCRIPT).digest("base64");

export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `script-src 'sha256-${SCRIPT_HASH}'`,
  "style-src 'unsafe-inline'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>owlcache status</title><link rel="icon" href="data:,"><style>${STYLE}</style></head>
<body>
<header><h1>owlcache</h1><span>node <b id="node">…</b></span><span>version <span id="version">…</span></span>
<span>up <span id="uptime">…</span></span><span id="updated"></span>
<nav><a href="/swagger">API docs</a> · <a href="/swagger/json">OpenAPI</a> · <a href="/health">/health</a> · <a href="/metrics">/metrics</a></nav></header>
<p id="error"></p>
<main>
<section class="card"><h2>Keys</h2><div class="big" id="keys">…</div></section>
<section class="card"><h2>Data held</h2><div class="big" id="bytes-used">…</div></section>
<section class="card"><h2>Memory (RSS)</h2><div class="big" id="rss">…</div><div>heap <span id="heap">…</span></div></section>
<section class="card"><h2>Commands</h2><div class="big" id="commands">…</div><div>hit rate <span id="hit-rate">…</span></div></section>
<section class="card"><h2>Connections</h2><div class="big" id="connections">…</div></section>
<section class="card wide"><h2>Operations per second, last <span id="ops-window">…</span> — now <span id="ops-now">…</span></h2>
<div class="axis">top of chart: <span id="ops-max">…</span> ops/s</div>
<svg id="ops-chart" viewBox="0 0 600 140" preserveAspectRatio="none" role="img" aria-label="operations per second">
<rect width="600" height="140" fill="#fbfcfd"/><polyline fill="none" stroke="#2f6fde" stroke-width="2" vector-effect="non-scaling-stroke" points=""/></svg></section>
<section class="card wide"><h2>Peers</h2><p id="no-peers">No peers: this node runs on its own.</p>
<table id="peers-table" hidden><thead><tr><th>address</th><th>state</th><th></th></tr></thead><tbody id="peers"></tbody></table></section>
<section class="card wide" id="backends-card" hidden><h2>Read-through backends</h2>
<table><thead><tr><th>backend</th><th>state</th><th>requests</th><th>hits</th><th>failures</th></tr></thead><tbody id="backends"></tbody></table></section>
</main>
<script>${SCRIPT}</script>
</body></html>
`;
