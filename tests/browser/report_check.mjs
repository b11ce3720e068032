// Open the static report in Debian's headless Chromium; print JSON with console errors,
// page errors, failed requests and how many plotly charts rendered; save a screenshot.
import { launch } from './headless_chromium.mjs';

const [, , url, screenshot, userDataDir] = process.argv;
const context = await launch(userDataDir);
const page = await context.newPage();
const consoleErrors = [], pageErrors = [], failed = [], external = [];
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
page.on('pageerror', (e) => pageErrors.push(String(e)));
page.on('requestfailed', (r) => failed.push(r.url()));
page.on('request', (r) => { if (!r.url().startsWith('file:')) external.push(r.url()); });
await page.goto(url, { waitUntil: 'load' });
await page.waitForFunction(() => document.querySelectorAll('.js-plotly-plot .main-svg').length > 0, null, { timeout: 20000 });
await page.waitForTimeout(500);
const result = await page.evaluate(() => ({
  charts: document.querySelectorAll('.js-plotly-plot').length,
  rendered: [...document.querySelectorAll('.js-plotly-plot')].filter((d) => d.querySelector('.main-svg')).length,
  // charts drawn wider than their card would be cut off
  overflowing: [...document.querySelectorAll('.js-plotly-plot')].filter((d) =>
    Number(d.querySelector('.main-svg')?.getAttribute('width')) > d.closest('.card').clientWidth).map((d) => d.id),
  title: document.title,
  tiles: [...document.querySelectorAll('#totals .tile')].map((t) => t.innerText.replace(/\s+/g, ' ')),
  rateRows: document.querySelectorAll('#rates tr').length - 1,
}));
await page.screenshot({ path: screenshot, fullPage: true });
await context.close();
console.log(JSON.stringify({ ...result, consoleErrors, pageErrors, failed, external }));
