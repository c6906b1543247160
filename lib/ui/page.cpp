#include "ui/page.hpp"

namespace aimo::ui {

std::string_view page_policy() {
    return "default-src 'none'; connect-src 'self'; img-src 'self' data:; "
           "style-src 'unsafe-inline'; script-src 'unsafe-inline'; base-uri 'none'; "
           "form-action 'none'; frame-ancestors 'none'";
}

// Plain HTML, CSS and script with no build step: what is written here is what the browser
// runs. Text says everything a colour says (a bar also reads "42% of $5.00"), so the page
// stays readable without colour; it follows the system's dark mode and fits 360 px.
std::string_view page_html() {
    static constexpr std::string_view html = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>aimo dashboard</title>
<link rel="icon" href="data:,">
<style>
:root { --bg: #fafafa; --fg: #1b1b1b; --muted: #666; --card: #fff; --line: #ddd;
        --bar: #3b6fd8; --bad: #b3261e; --ok: #1e7d32; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #121212; --fg: #e8e8e8; --muted: #a0a0a0; --card: #1e1e1e; --line: #333;
          --bar: #7aa2f7; --bad: #f28b82; --ok: #81c995; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
header { padding: 12px 16px; border-bottom: 1px solid var(--line); display: flex;
         flex-wrap: wrap; gap: 8px 24px; align-items: baseline; }
header h1 { font-size: 18px; margin: 0; }
.muted { color: var(--muted); }
#wallet, #balance { overflow-wrap: anywhere; }
main { display: grid; gap: 12px; padding: 12px; grid-template-columns: 1fr; }
@media (min-width: 900px) { main { grid-template-columns: 1fr 1fr; } .wide { grid-column: 1 / -1; } }
section { background: var(--card); border: 1px solid var(--line); border-radius: 6px;
          padding: 12px; min-width: 0; }
h2 { font-size: 15px; margin: 0 0 8px; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--line);
         white-space: nowrap; }
.scroll { overflow-x: auto; }
.bar { position: relative; height: 18px; background: var(--line); border-radius: 3px;
       min-width: 120px; }
.bar > span { position: absolute; inset: 0 auto 0 0; background: var(--bar); border-radius: 3px; }
.bar > em { position: relative; font-style: normal; font-size: 12px; padding-left: 4px; }
.bad { color: var(--bad); font-weight: 600; }
.ok { color: var(--ok); }
svg { width: 100%; height: 150px; display: block; }
#charts p { margin: 8px 0 2px; font-size: 12px; }
svg rect { fill: var(--bar); }
svg text { fill: var(--muted); font-size: 10px; }
.controls { display: flex; gap: 8px; flex-wrap: wrap; margin-bottom: 6px; }
select, input, button { font: inherit; }
form { display: flex; flex-wrap: wrap; gap: 6px; align-items: end; margin: 6px 0; }
form label { display: flex; flex-direction: column; font-size: 12px; }
input { width: 9em; }
#owner-token { font-family: monospace; word-break: break-all; }
</style>
</head>
<body>
<header>
  <h1>aimo</h1>
  <span id="wallet" class="muted"></span>
  <span id="balance" class="muted"></span>
  <span id="updated" class="muted" aria-live="polite">loading…</span>
</header>
<main>
  <section class="wide" id="agents-card">
    <h2>Agents</h2>
    <div class="scroll"><table id="agents"><thead><tr><th>Agent</th><th>Status</th>
      <th>Spent of budget</th><th>Requests/min</th><th>Tokens/min</th></tr></thead>
      <tbody></tbody></table></div>
    <p id="no-agents" class="muted" hidden>No agents: requests need no token here.</p>
  </section>
  <section id="providers-card">
    <h2>Providers</h2>
    <div class="scroll"><table id="providers"><thead><tr><th>Provider</th><th>Circuit</th>
      <th>In flight</th><th>Queued</th><th>By agent</th><th>Errors (1 h)</th><th>p50</th>
      <th>p95</th></tr></thead>
      <tbody></tbody></table></div>
  </section>
  <section id="cache-card">
    <h2>Response cache</h2>
    <p id="cache">No lookups yet.</p>
  </section>
  <section class="wide" id="charts">
    <h2>Spending and requests</h2>
    <div class="controls">
      <label>Range <select id="range"><option value="hour">last hour, by minute</option>
        <option value="month">last 30 days, by day</option></select></label>
      <label>By <select id="by"><option value="agent">agent</option>
        <option value="model">model</option></select></label>
    </div>
    <p class="muted" id="cost-caption">Spent, USD</p>
    <svg id="cost-chart" role="img" aria-label="spending over time"></svg>
    <p class="muted">Requests</p>
    <svg id="requests-chart" role="img" aria-label="requests over time"></svg>
    <div class="scroll"><table id="totals"><thead><tr><th id="totals-key">Agent</th>
      <th>Requests</th><th>Spent</th></tr></thead><tbody></tbody></table></div>
  </section>
  <section class="wide" id="owner-card" hidden>
    <h2>Owner actions</h2>
    <p class="muted">Each action is checked as <code>aimo agent</code> checks it and recorded in
      the audit trail (<code>aimo audit owner</code>).</p>
    <form id="owner-login" autocomplete="off"><label>Owner secret
      <input id="owner-secret" type="password" required></label></form>
    <form id="create-form"><label>New agent <input id="create-name" required></label>
      <label>Budget USD <input id="create-budget" inputmode="decimal" placeholder="none"></label>
      <button>Create</button></form>
    <form id="budget-form"><label>Agent <input id="budget-name" required></label>
      <label>New budget USD <input id="budget-value" required placeholder="5 or none"></label>
      <button>Change budget</button></form>
    <form id="revoke-form"><label>Agent <input id="revoke-name" required></label>
      <button>Revoke</button></form>
    <p id="owner-result" aria-live="polite"></p>
    <p id="owner-token"></p>
  </section>
  <section class="wide">
    <h2>Last 50 requests</h2>
    <div class="scroll"><table id="requests"><thead><tr><th>Time</th><th>Agent</th>
      <th>Model</th><th>Status</th><th>Tokens</th><th>Cost</th><th>Latency</th><th>Cache</th>
      </tr></thead><tbody></tbody></table></div>
  </section>
</main>
<script>
"use strict";
const token = new URLSearchParams(location.search).get("token");
const headers = token ? { Authorization: "Bearer " + token } : {};
const $ = (id) => document.getElementById(id);
const usd = (x) => "$" + (x < 0.01 && x > 0 ? x.toFixed(6) : x.toFixed(4));
function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}
function fill(tbody, rows) {
  tbody.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement("tr");
    tr.append(...cells);
    return tr;
  }));
}
function bar(value, limit, label) {
  const td = document.createElement("td");
  const div = document.createElement("div");
  div.className = "bar";
  const span = document.createElement("span");
  const em = document.createElement("em");
  if (limit === null) {
    em.textContent = label(value) + " (no limit)";
  } else {
    const share = limit > 0 ? Math.min(1, value / limit) : 1;
    span.style.width = (share * 100).toFixed(1) + "%";
    em.textContent = label(value) + " of " + label(limit) + " (" + Math.round(share * 100) + "%)";
  }
  div.append(span, em);
  td.append(div);
  return td;
}
async function get(path) {
  const res = await fetch(path, { headers });
  if (!res.ok) throw new Error(path + ": " + res.status);
  return res.json();
}
function chart(svg, buckets, values, label) {
  // Drawn at the width it is shown at, so bars and labels keep their proportions.
  const w = Math.max(200, Math.round(svg.getBoundingClientRect().width)), h = 150;
  const most = Math.max(...values, 0);
  const step = w / Math.max(1, values.length);
  const parts = values.map((v, i) => {
    const bh = most > 0 ? (v / most) * (h - 20) : 0;
    return `<rect x="${(i * step).toFixed(1)}" y="${(h - 14 - bh).toFixed(1)}" ` +
      `width="${Math.max(1, step - 1).toFixed(1)}" height="${bh.toFixed(1)}">` +
      `<title>${buckets[i]}: ${label(v)}</title></rect>`;
  });
  parts.push(`<text x="0" y="${h - 2}">${buckets[0] || ""}</text>`);
  parts.push(`<text x="${w}" y="${h - 2}" text-anchor="end">${buckets[buckets.length - 1] || ""}</text>`);
  parts.push(`<text x="0" y="10">${label(most)} max</text>`);
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.innerHTML = parts.join("");
}
async function refresh() {
  const [status, agents, requests, series] = await Promise.all([
    get("/api/aimo/status"), get("/api/aimo/agents"), get("/api/aimo/requests"),
    get(`/api/aimo/series?range=${$("range").value}&by=${$("by").value}`)]);
  if (status.wallet) $("wallet").textContent = "wallet " + status.wallet;
  $("owner-card").hidden = !status.owner_actions;
  if (status.wallet && Date.now() - balanceAsked > 30000) {
    balanceAsked = Date.now();
    get("/api/aimo/balance").then((b) => {
      $("balance").textContent = b.balance ? "balance " + b.balance : "balance unknown: " + b.error;
    }).catch(() => {});
  }
  $("no-agents").hidden = agents.length > 0;
  fill($("agents").tBodies[0], agents.map((a) => [
    cell(a.name), cell(a.state, a.state === "active" ? "ok" : "bad"),
    bar(a.spent_usd, a.budget_usd, usd),
    bar(a.last_minute.requests, a.rpm, String), bar(a.last_minute.tokens, a.tpm, String)]));
  fill($("providers").tBodies[0], status.providers.map((p) => [
    cell(p.provider), cell(p.circuit, p.circuit === "closed" ? "ok" : "bad"),
    cell(p.in_flight), cell(p.queued),
    cell(p.agents.map((a) => `${a.agent}: ${a.in_flight} out, ${a.queued} queued`).join("; ") || "–"),
    cell(p.last_hour.requests ? `${p.last_hour.errors} of ${p.last_hour.requests}` : "–"),
    cell(p.last_hour.requests ? p.last_hour.p50_ms.toFixed(1) + " ms" : "–"),
    cell(p.last_hour.requests ? p.last_hour.p95_ms.toFixed(1) + " ms" : "–")]));
  const c = series.cache;
  $("cache").textContent = c.lookups ? `${c.hits} hits of ${c.lookups} lookups (` +
    `${Math.round(100 * c.hits / c.lookups)}%), ${usd(c.saved_usd)} saved` : "No lookups yet.";
  const sum = (key) => series.buckets.map((_, i) =>
    series.series.reduce((s, line) => s + line[key][i], 0));
  chart($("cost-chart"), series.buckets, sum("cost_usd"), usd);
  chart($("requests-chart"), series.buckets, sum("requests"), (v) => v + " requests");
  $("totals-key").textContent = series.by === "agent" ? "Agent" : "Model";
  fill($("totals").tBodies[0], series.series.map((line) => [cell(line.key),
    cell(line.requests.reduce((a, b) => a + b, 0)),
    cell(usd(line.cost_usd.reduce((a, b) => a + b, 0)))]));
  fill($("requests").tBodies[0], requests.map((r) => [
    cell(r.time.replace("T", " ").slice(0, 19)), cell(r.agent), cell(r.model),
    cell(r.status, r.status >= 400 ? "bad" : ""),
    cell(r.prompt_tokens + r.completion_tokens), cell(usd(r.cost_usd)),
    cell(r.latency_ms.toFixed(1) + " ms"), cell(r.cache || "–")]));
  $("updated").textContent = "updated " + new Date().toLocaleTimeString();
}
let balanceAsked = 0;
// Owner actions: the secret goes in a header only this page's own requests can carry.
async function act(path, body) {
  const res = await fetch(path, { method: "POST", body: JSON.stringify(body), headers: {
    ...headers, "Content-Type": "application/json", "X-Aimo-Owner": $("owner-secret").value } });
  const answer = await res.json();
  if (!res.ok) throw new Error(answer.error ? answer.error.message : String(res.status));
  return answer;
}
function budget(text) {
  if (text.trim() === "" || text.trim() === "none") return null;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new Error(`budget '${text}' is not a sum of USD`);
  return value;
}
function ownerForm(id, run) {
  $(id).onsubmit = async (event) => {
    event.preventDefault();
    $("owner-token").textContent = "";
    try {
      if (!$("owner-secret").value) throw new Error("enter the owner secret first");
      $("owner-result").textContent = await run();
      refresh().catch(() => {});
    } catch (e) {
      $("owner-result").textContent = "refused: " + e.message;
    }
  };
}
ownerForm("create-form", async () => {
  const name = $("create-name").value;
  const answer = await act("/api/aimo/agents", { name, budget_usd: budget($("create-budget").value) });
  $("owner-token").textContent = "token (shown once): " + answer.token;
  return `agent ${name} created`;
});
ownerForm("budget-form", async () => {
  const name = $("budget-name").value;
  await act("/api/aimo/agents/" + encodeURIComponent(name), { budget_usd: budget($("budget-value").value) });
  return `budget of ${name} changed`;
});
ownerForm("revoke-form", async () => {
  const name = $("revoke-name").value;
  await act("/api/aimo/agents/" + encodeURIComponent(name) + "/revoke", {});
  return `agent ${name} revoked`;
});
async function loop() {
  try { await refresh(); } catch (e) { $("updated").textContent = "cannot update: " + e.message; }
  setTimeout(loop, 1000);
}
$("range").onchange = $("by").onchange = () => refresh().catch(() => {});
loop();
</script>
</body>
</html>
)html";
    return html;
}

} // namespace aimo::ui
