// Drives aimo's /ui in Debian's headless Chromium through playwright-core and prints what a
// person would see, as JSON, for tests/e2e/dashboard_test.cpp to judge.
// Env: AIMO_ORIGIN, AIMO_TOKEN (an agent's), AIMO_OWNER (the owner secret, or empty),
// AIMO_SHOTS (directory for the screenshots), AIMO_SHOT_PREFIX, AIMO_BEYOND_LOOPBACK (set: aimo
// listens beyond loopback, so the page needs the token).
"use strict";
const { chromium } = require("playwright-core");
const path = require("path");

const origin = process.env.AIMO_ORIGIN;
const token = process.env.AIMO_TOKEN;
const owner = process.env.AIMO_OWNER || "";
const shot = (name) => path.join(process.env.AIMO_SHOTS, process.env.AIMO_SHOT_PREFIX + name);

async function chat() {
  const res = await fetch(origin + "/v1/chat/completions", {
    method: "POST",
    headers: { Authorization: "Bearer " + token, "Content-Type": "application/json" },
    body: JSON.stringify({ model: "deepseek/deepseek-v3.2", max_tokens: 10,
                           messages: [{ role: "user", content: "from the browser test" }] }),
  });
  await res.text();
  return res.status;
}

(async () => {
  const out = { errors: [], off_origin: [] };
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    // Without the background-networking flags Chromium tries Google's hosts at start.
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    // The one refusal the test provokes on purpose (a wrong owner secret) is not an error.
    let refusalExpected = false;
    page.on("console", (m) => {
      if (m.type() !== "error") return;
      if (refusalExpected && m.text().includes("403")) { refusalExpected = false; return; }
      out.errors.push(m.text());
    });
    page.on("pageerror", (e) => out.errors.push(String(e)));
    page.on("request", (r) => {
      if (!r.url().startsWith(origin + "/")) out.off_origin.push(r.url());
    });
    if (process.env.AIMO_BEYOND_LOOPBACK) {
      // aimo listens beyond loopback: the page without a token is refused, with one it works.
      const refused = await page.goto(origin + "/ui");
      out.refused_status = refused.status();
      out.refused_text = await page.textContent("body");
      // Chromium reports the refused document itself as a failed load: not the page's error.
      out.errors = out.errors.filter((e) => !e.includes("401"));
      await page.goto(origin + "/ui?token=" + token);
    } else {
      await page.goto(origin + "/ui");
    }
    await page.waitForFunction(() =>
      document.getElementById("updated").textContent.startsWith("updated") &&
      document.querySelectorAll("#agents tbody tr").length > 0, null, { timeout: 10000 });

    out.title = await page.title();
    out.agents = await page.$$eval("#agents tbody tr", (rows) =>
      rows.map((r) => Array.from(r.cells, (c) => c.textContent)));
    out.bar_width = await page.$eval("#agents tbody tr .bar > span", (s) => s.style.width);
    out.cost_bars = await page.$$eval("#cost-chart rect", (rects) =>
      rects.filter((r) => Number(r.getAttribute("height")) > 0).length);
    out.request_bars = await page.$$eval("#requests-chart rect", (rects) =>
      rects.filter((r) => Number(r.getAttribute("height")) > 0).length);
    out.totals = await page.$$eval("#totals tbody tr", (rows) =>
      rows.map((r) => Array.from(r.cells, (c) => c.textContent)));
    out.providers = await page.$$eval("#providers tbody tr", (rows) =>
      rows.map((r) => Array.from(r.cells, (c) => c.textContent)));
    out.wallet = await page.textContent("#wallet");
    await page.waitForFunction(() => document.getElementById("balance").textContent !== "",
                               null, { timeout: 5000 });
    out.balance = await page.textContent("#balance");
    out.owner_visible = await page.isVisible("#owner-card");

    // A request finishes while the page is open: its row appears without a reload.
    const before = await page.$$eval("#requests tbody tr", (rows) => rows.length);
    const started = Date.now();
    out.new_request_status = await chat();
    await page.waitForFunction((n) => document.querySelectorAll("#requests tbody tr").length > n,
                               before, { timeout: 10000 });
    out.update_ms = Date.now() - started;
    out.requests_shown = await page.$$eval("#requests tbody tr", (rows) => rows.length);
    out.requests_before = before;

    if (owner) {
      refusalExpected = true;
      await page.fill("#owner-secret", "aimo_owner_wrong");
      await page.fill("#create-name", "web");
      await page.click("#create-form button");
      await page.waitForFunction(() =>
        document.getElementById("owner-result").textContent !== "", null, { timeout: 5000 });
      out.wrong_secret = await page.textContent("#owner-result");
      await page.fill("#owner-secret", owner);
      await page.fill("#create-budget", "2.5");
      await page.click("#create-form button");
      await page.waitForFunction(() =>
        document.getElementById("owner-result").textContent.includes("created"), null,
        { timeout: 5000 });
      out.created = await page.textContent("#owner-result");
      out.created_token = await page.textContent("#owner-token");
      await page.waitForFunction(() => Array.from(document.querySelectorAll("#agents tbody tr"))
        .some((r) => r.cells[0].textContent === "web"), null, { timeout: 5000 });
      await page.fill("#revoke-name", "web");
      await page.click("#revoke-form button");
      await page.waitForFunction(() => Array.from(document.querySelectorAll("#agents tbody tr"))
        .some((r) => r.cells[0].textContent === "web" && r.cells[1].textContent === "revoked"),
        null, { timeout: 5000 });
      out.revoked = await page.textContent("#owner-result");
    }

    await page.screenshot({ path: shot("1280.png"), fullPage: true });
    await page.setViewportSize({ width: 360, height: 800 });
    // The charts are drawn at their width on the next refresh.
    const stamp = await page.textContent("#updated");
    await page.waitForFunction((s) => document.getElementById("updated").textContent !== s,
                               stamp, { timeout: 5000 });
    out.narrow_overflow = await page.evaluate(() =>
      document.documentElement.scrollWidth - document.documentElement.clientWidth);
    await page.screenshot({ path: shot("360.png"), fullPage: true });
    const background = () => getComputedStyle(document.body).backgroundColor;
    out.light_background = await page.evaluate(background);
    await page.emulateMedia({ colorScheme: "dark" });
    out.dark_background = await page.evaluate(background);
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(out));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
