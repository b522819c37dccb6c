// Headless Debian chromium through playwright-core, for loading reports as a user would. playwright-core
// never downloads a browser; this points it at the system one.
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface LoadedPage {
  page: Page;
  url: string;
  consoleErrors: string[];
  pageErrors: string[];
  /** Every request the page made, the document itself included. */
  requests: string[];
  close(): Promise<void>;
}

/** Opens a local file in a fresh context, recording console errors, page errors and every request. */
export async function openFile(browser: Browser, file: string, viewport = { width: 1280, height: 900 }): Promise<LoadedPage> {
  const context = await browser.newContext({ viewport, javaScriptEnabled: true });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') consoleErrors.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('request', (request) => requests.push(request.url()));
  const url = pathToFileURL(file).href;
  await page.goto(url, { waitUntil: 'load' });
  return { page, url, consoleErrors, pageErrors, requests, close: () => context.close() };
}
