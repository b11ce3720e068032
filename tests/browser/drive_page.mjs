// Drive Debian's chromium (playwright-core, no browser download) through a list of steps.
// usage: node drive_page.mjs '<json: {url, steps:[{eval}|{click}|{wait}|{waitFor}|{goto}]}>'
// prints JSON: {requests: [{url, method, body}], console: [...], results: [...]}
import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const plan = JSON.parse(process.argv[2]); // {url, steps, failEvents?}
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "polku-chromium-"));
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
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
console.log(JSON.stringify(out));
