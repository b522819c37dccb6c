// Times how long headless Chromium takes to open a local HTML file: the system's /usr/bin/chromium through
// playwright-core (which never downloads a browser). The browser is started once and warmed on about:blank,
// so its own start-up is not counted; each file opens in a fresh context.

import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export interface PageOpen {
  /** Wall time from navigation start to the 'load' event, as the bench saw it. */
  loadMs: number;
  /** The page's own navigation timing: DOMContentLoaded end and load end, from its time origin. */
  domContentLoadedMs: number | null;
  loadEventMs: number | null;
  firstContentfulPaintMs: number | null;
  pageErrors: number;
}

export interface PageOpener {
  open(file: string): Promise<PageOpen>;
  close(): Promise<void>;
}

/** Starts Chromium for timing page opens, or undefined (with the reason on stderr) when there is none. */
export async function startPageOpener(): Promise<PageOpener | undefined> {
  if (!existsSync(CHROMIUM)) {
    process.stderr.write(`bench: ${CHROMIUM} not found; report.html open times are not measured (apt-get install chromium)\n`);
    return undefined;
  }
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const warm = await browser.newPage();
  await warm.goto('about:blank');
  await warm.close();
  return {
    async open(file) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      try {
        const page = await context.newPage();
        let pageErrors = 0;
        page.on('pageerror', () => pageErrors++);
        const started = performance.now();
        await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 120_000 });
        const loadMs = performance.now() - started;
        // A string, not a function: this project's types have no DOM, and the code runs in the page.
        const timing = (await page.evaluate(`(() => {
          const nav = performance.getEntriesByType('navigation')[0];
          const paint = performance.getEntriesByName('first-contentful-paint')[0];
          return { domContentLoadedMs: nav ? nav.domContentLoadedEventEnd : null, loadEventMs: nav ? nav.loadEventEnd : null, firstContentfulPaintMs: paint ? paint.startTime : null };
        })()`)) as Pick<PageOpen, 'domContentLoadedMs' | 'loadEventMs' | 'firstContentfulPaintMs'>;
        return { loadMs, ...timing, pageErrors };
      } finally {
        await context.close();
      }
    },
    close: () => browser.close(),
  };
}
