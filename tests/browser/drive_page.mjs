// Drive Debian's chromium (playwright-core, no browser download) through a list of steps.
// usage: node drive_page.mjs '<json: {url, steps:[{eval}|{click}|{wait}|{waitFor}|{goto}]}>'
// prints JSON: {requests: [{url, method, body}], console: [...], results: [...]}
// options: profile (a browser profile folder kept between runs: a returning visitor),
// proxy ({"https://shop.example.com": "http://127.0.0.1:8123"}: a site's addresses served locally)
import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const plan = JSON.parse(process.argv[2]); // {url, steps, failEvents?}
const userDataDir = plan.profile || fs.mkdtempSync(path.join(os.tmpdir(), "polku-chromium-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"],
});
const out = { requests: [], failed: [], console: [], results: [] };
try {
  const page = await context.newPage();
  page.on("console", (m) => out.console.push(m.text()));
  page.on("pageerror", (e) => out.console.push("pageerror: " + e.message));
  context.on("request", (r) => {
    if (r.url().includes("/v1/")) out.requests.push({ url: r.url(), method: r.method(), body: r.postData() });
  });
  for (const [from, to] of Object.entries(plan.proxy || {})) {
    await context.route(from + "/**", async (route) => {
      const req = route.request();
      const answer = await fetch(to + req.url().slice(from.length), { method: req.method(), headers: req.headers(),
        body: ["GET", "HEAD"].includes(req.method()) ? undefined : req.postDataBuffer(), redirect: "manual" });
      const headers = Object.fromEntries([...answer.headers].filter(([k]) => !["content-encoding", "content-length"].includes(k)));
      return route.fulfill({ status: answer.status, headers, body: Buffer.from(await answer.arrayBuffer()) });
    });
  }
  let failures = plan.failEvents || 0; // answer the first N POSTs to /v1/events with 503
  if (failures) {
    await context.route("**/v1/events?*", async (route) => {  // polku.js sends ?site_key=...
      if (route.request().method() === "POST" && failures > 0) {
        failures -= 1;
        out.failed.push(route.request().postData());
        return route.fulfill({ status: 503, body: "{}" });
      }
      return route.continue();
    });
  }
  await page.goto(plan.url);
  for (const step of plan.steps) {
    if (step.eval) out.results.push(await page.evaluate(step.eval));
    if (step.click) await page.click(step.click);
    if (step.wait) await page.waitForTimeout(step.wait);
    if (step.waitFor) await page.waitForFunction(step.waitFor, null, { timeout: 10000 });
    if (step.goto) await page.goto(step.goto);
    if (step.offline !== undefined) await context.setOffline(step.offline);
  }
} finally {
  await context.close();
  if (!plan.profile) fs.rmSync(userDataDir, { recursive: true, force: true });
}
console.log(JSON.stringify(out));
