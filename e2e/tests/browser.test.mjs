// The test browser itself: started with exactly the switches CI needs, and sealed off so
// that nothing but the app under test is ever fetched.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CHROMIUM_FLAGS, browserCommandLine, launchBrowser, newContext } from '../lib/browser.mjs';
import { runAxe, validateHtml } from '../lib/audit.mjs';
import { startApp } from '../lib/server.mjs';

let app;
let browser;

before(async () => {
  app = await startApp({ name: 'browser' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

test('Chromium runs with the CI switches and a fresh profile', async () => {
  const commandLine = await browserCommandLine(browser);
  const switches = commandLine.trim().split(/\s+/);
  for (const flag of CHROMIUM_FLAGS) {
    assert.ok(switches.includes(flag), `${flag} missing from the command line: ${commandLine}`);
  }
  const profile = switches.find((s) => s.startsWith('--user-data-dir='));
  assert.ok(profile, `no --user-data-dir: ${commandLine}`);
  console.log(`Chromium ${browser.version()}, profile ${profile.slice('--user-data-dir='.length)}`);
});

test('the browser reaches the app and nothing else', async () => {
  const context = await newContext(browser, app);
  const page = await context.newPage();
  const home = await page.goto(app.baseUrl);
  assert.equal(home.status(), 200);
  await assert.rejects(page.goto('https://www.example.com/'), /ERR_BLOCKED_BY_CLIENT/);
  assert.deepEqual(context.log.blocked.map((b) => b.url), ['https://www.example.com/']);
  const csp = home.headers()['content-security-policy'] || '';
  assert.match(csp, /script-src 'self'/, 'pages forbid inline and foreign scripts');
  await context.close();
});

test('the audit tools really find problems (axe runs under the app\'s CSP; vnu reports errors)', { timeout: 60_000 }, async () => {
  const context = await newContext(browser, app);
  const page = await context.newPage();
  await page.goto(app.baseUrl);
  assert.deepEqual(await runAxe(page), [], 'the home page starts clean');
  // Break the page on purpose: an image without a text alternative.
  await page.evaluate(() => {
    const img = document.createElement('img');
    img.src = '/static/img/favicon.svg';
    document.querySelector('main').append(img);
  });
  const violations = await runAxe(page);
  assert.deepEqual(violations.map((v) => v.id), ['image-alt']);
  await context.close();

  const errors = validateHtml({
    good: '<!doctype html><html lang="en"><head><title>ok</title></head><body><p>fine</p></body></html>',
    bad: '<!doctype html><html lang="en"><head><title>bad</title></head><body><div><p>open</span></body></html>',
  });
  assert.deepEqual(Object.keys(errors), ['bad'], JSON.stringify(errors));
});
