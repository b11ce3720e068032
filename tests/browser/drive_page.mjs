// Drive Debian's chromium (playwright-core, no browser download) through a list of steps.
// usage: node drive_page.mjs '<json: {url, steps:[{eval}|{click}|{wait}|{waitFor}|{goto}]}>'
// prints JSON: {requests: [{url, method, body}], console: [...], results: [...]}
import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const plan = JSON.parse(process.argv[2]);
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "polku-chromium-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"],
});
const out = { requests: [], console: [], results: [] };
try {
  const page = await context.newPage();
  page.on("console", (m) => out.console.push(m.text()));
  page.on("pageerror", (e) => out.console.push("pageerror: " + e.message));
  context.on("request", (r) => {
    if (r.url().includes("/v1/")) out.requests.push({ url: r.url(), method: r.method(), body: r.postData() });
  });
  await page.goto(plan.url);
  for (const step of plan.steps) {
    if (step.eval) out.results.push(await page.evaluate(step.eval));
    if (step.click) await page.click(step.click);
    if (step.wait) await page.waitForTimeout(step.wait);
    if (step.waitFor) await page.waitForFunction(step.waitFor, null, { timeout: 10000 });
    if (step.goto) await page.goto(step.goto);
  }
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
console.log(JSON.stringify(out));
