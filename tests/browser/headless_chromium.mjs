// Debian's headless Chromium through playwright-core (no browser download), as the report checks use it.
import { chromium } from 'playwright-core';

export async function launch(userDataDir) {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1400, height: 1000 },
  });
}
