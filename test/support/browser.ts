/**
 * The system Chromium for browser tests (Debian's `chromium`, driven by playwright-core; playwright's
 * own browser download is never used), and a watcher that records what a page requested and every
 * sign of trouble: failed requests, HTTP errors, page errors and console errors (CSP violations
 * are reported there).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/** The browser, or undefined when Chromium is not installed (`requireChromium` then fails the test). */
export const launchChromium = async (): Promise<Browser | undefined> =>
  existsSync(CHROMIUM) ? chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }) : undefined;

export const requireChromium = (browser: Browser | undefined): Browser => {
  if (browser === undefined) {
    throw new Error(`${CHROMIUM} is missing: this test drives the system Chromium (install the "chromium" package, e.g. apt-get install chromium); playwright's own browser download is never used.`);
  }
  return browser;
};

export interface PageWatch {
  /** Every URL the page requested (WebSockets included). */
  readonly requested: string[];
  /** Everything that went wrong, one line each: a passing test expects none. */
  readonly problems: string[];
}

export const watchPage = (page: Page): PageWatch => {
  const requested: string[] = [];
  const problems: string[] = [];
  page.on('request', (request) => requested.push(request.url()));
  page.on('websocket', (socket) => requested.push(socket.url()));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} (${request.failure()?.errorText ?? '?'})`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  return { requested, problems };
};
