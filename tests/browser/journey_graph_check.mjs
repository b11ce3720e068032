// Open a page with journey graphs (inline SVG) in Debian's headless Chromium and measure every
// label with the real font: print JSON with the labels that leave their box (or the canvas),
// console and page errors, and how many graphs and labels were measured.
import { launch } from './headless_chromium.mjs';

const [, , url, userDataDir] = process.argv;
const context = await launch(userDataDir);
const page = await context.newPage();
const consoleErrors = [], pageErrors = [];
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
page.on('pageerror', (e) => pageErrors.push(String(e)));
await page.goto(url, { waitUntil: 'load' });
const result = await page.evaluate(() => {
  const outside = [];
  let labels = 0;
  const graphs = [...document.querySelectorAll('.journey-graph svg')];
  for (const svg of graphs) {
    const journey = svg.closest('.journey-graph').dataset.journey;
    const [vx, vy, vw, vh] = svg.getAttribute('viewBox').split(' ').map(Number);
    const rects = [...svg.querySelectorAll('rect')].map((r) => r.getBBox());
    for (const t of svg.querySelectorAll('text')) {
      labels += 1;
      const b = t.getBBox();
      const x = Number(t.getAttribute('x')), y = Number(t.getAttribute('y'));
      let frame = { x: vx, y: vy, width: vw, height: vh };
      if (t.getAttribute('text-anchor') === 'middle') {
        frame = rects.find((r) => r.x <= x && x <= r.x + r.width && r.y < y && y <= r.y + r.height);
        if (!frame) { outside.push({ journey, text: t.textContent, why: 'in no box' }); continue; }
      }
      if (b.x < frame.x || b.x + b.width > frame.x + frame.width || b.y < frame.y || b.y + b.height > frame.y + frame.height) {
        outside.push({ journey, text: t.textContent, box: [frame.x, frame.y, frame.width, frame.height],
                       label: [b.x, b.y, b.width, b.height] });
      }
    }
  }
  return { graphs: graphs.length, labels, outside };
});
await context.close();
console.log(JSON.stringify({ ...result, consoleErrors, pageErrors }));
