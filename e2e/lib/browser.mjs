// Debian's Chromium driven by playwright-core, sealed off from the outside world: every
// request that is not for the app under test is aborted and recorded, so a test can prove
// that a page pulls in no third-party script, font or beacon.

import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** The exact switches CI runs Chromium with (besides a fresh --user-data-dir). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches Chromium. playwright-core gives every launch a fresh, temporary
 * `--user-data-dir` of its own (and refuses one in `args`), which is what we want.
 * `extraArgs` are added after CI's flags (the door test's fake camera, for one).
 */
export async function launchBrowser({ extraArgs = [] } = {}) {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_FLAGS, ...extraArgs],
  });
}

/** The command line the browser process really runs with, as chrome://version shows it. */
export async function browserCommandLine(browser) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto('chrome://version');
    return (await page.textContent('#command_line')) || '';
  } finally {
    await context.close();
  }
}

/**
 * A browser context (one person's browser profile) that may only talk to `app`.
 * `context.log` records what happened on it: requests, blocked requests, console errors and
 * uncaught page errors, for `assertQuiet`.
 */
export async function newContext(browser, app, options = {}) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    locale: 'en-IN',
    timezoneId: 'Asia/Kolkata',
    ...options,
  });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(20_000);
  const origin = new URL(app.baseUrl).origin;
  const log = { blocked: [], requests: [], consoleErrors: [], pageErrors: [] };
  context.log = log;

  await context.route('**', (route) => {
    const request = route.request();
    const url = request.url();
    if (url.startsWith(`${origin}/`) || url === origin) return route.continue();
    log.blocked.push({ url, type: request.resourceType(), page: request.frame()?.url?.() ?? '' });
    return route.abort('blockedbyclient');
  });

  const watch = (page) => {
    page.on('request', (request) => {
      log.requests.push({ url: request.url(), type: request.resourceType(), page: page.url() });
    });
    page.on('console', (message) => {
      if (message.type() === 'error') log.consoleErrors.push({ page: page.url(), text: message.text() });
    });
    page.on('pageerror', (error) => log.pageErrors.push({ page: page.url(), text: String(error) }));
  };
  context.on('page', watch);
  return context;
}

/**
 * What went wrong quietly in a context: third-party requests, uncaught script errors and
 * console errors (CSP violations and failed loads show up there). `expected` lists patterns
 * of console errors the test provoked on purpose (a 409 page after losing a seat race).
 */
export function quietProblems(context, { expected = [] } = {}) {
  const { blocked, consoleErrors, pageErrors } = context.log;
  const problems = [];
  for (const b of blocked) problems.push(`blocked third-party ${b.type} request ${b.url} (from ${b.page})`);
  for (const e of pageErrors) problems.push(`uncaught script error on ${e.page}: ${e.text}`);
  for (const e of consoleErrors) {
    if (!expected.some((pattern) => pattern.test(e.text))) problems.push(`console error on ${e.page}: ${e.text}`);
  }
  return problems;
}

export const SCREENSHOT_ROOT = resolve(HERE, '..', 'screenshots');

/**
 * A screenshot camera for one test: `await shot(page, 'checkout')` writes
 * e2e/screenshots/<test>/NN-checkout.png (full page). The folder is emptied first.
 */
export function camera(testName) {
  const dir = join(SCREENSHOT_ROOT, testName);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let n = 0;
  const shot = async (page, step) => {
    n += 1;
    const file = join(dir, `${String(n).padStart(2, '0')}-${step}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  };
  shot.dir = dir;
  return shot;
}
