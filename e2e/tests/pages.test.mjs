// Every main page, audited three ways: accessibility (axe-core, WCAG 2.1 A and AA), markup
// (the Nu Html Checker) and weight (bytes over the wire, third-party scripts).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { formatViolations, runAxe, validateHtml, weighPage } from '../lib/audit.mjs';
import { camera, launchBrowser, newContext } from '../lib/browser.mjs';
import {
  assertHeading, chooseSeats, holdAndCheckout, openSomeSeatMap, payOnDevGateway, signedInPerson,
  someMovie,
} from '../lib/flows.mjs';
import { startFakeRazorpay } from '../lib/fake-razorpay.mjs';
import { startApp, withServerLog } from '../lib/server.mjs';

const WEIGHT_LIMIT = 150 * 1024;
// The one script from elsewhere the app may ever load, and only on a Razorpay checkout.
const RAZORPAY_CHECKOUT_JS = 'https://checkout.razorpay.com/v1/checkout.js';

let app;
let browser;
let visitor; // a browser context with nobody logged in
let member; // a logged-in moviegoer with a confirmed and a pending booking
const pages = []; // { name, path, context }
// The development payment gateway answers a POST, so it is audited during the set-up.
let gateway; // { path, html, violations }

before(async () => {
  app = await startApp({ name: 'pages' });
  browser = await launchBrowser();
  visitor = await newContext(browser, app);
  member = await newContext(browser, app);
  await withServerLog(app, async () => {
    const page = await member.newPage();
    await signedInPerson(page, app, 'audit');
    const seatMapUrl = await openSomeSeatMap(page, app);
    await chooseSeats(page, 2);
    await holdAndCheckout(page);
    const bookingUrl = await payOnDevGateway(page, undefined, {
      onGateway: async (onPage, html) => {
        gateway = { path: `POST ${new URL(onPage.url()).pathname}`, html, violations: await runAxe(onPage) };
      },
    });
    await page.goto(seatMapUrl);
    await chooseSeats(page, 1);
    await holdAndCheckout(page);
    const checkoutUrl = page.url();
    await page.close();

    const { slug } = await someMovie(app);
    const path = (url) => new URL(url).pathname + new URL(url).search;
    pages.push(
      { name: 'home', path: '/', context: visitor },
      { name: 'movie-list', path: '/movies', context: visitor },
      { name: 'movie-detail', path: `/movies/${slug}`, context: visitor },
      { name: 'login', path: '/accounts/login', context: visitor },
      { name: 'register', path: '/accounts/register', context: visitor },
      { name: 'seat-map', path: path(seatMapUrl), context: member },
      { name: 'checkout', path: path(checkoutUrl), context: member },
      { name: 'booking', path: path(bookingUrl), context: member },
      { name: 'my-bookings', path: '/bookings', context: member },
    );
  });
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

test('accessibility: no axe-core WCAG 2.1 A/AA violations on the main pages, on a desktop and a phone', { timeout: 180_000 }, async () => {
  const shot = camera('accessibility');
  console.log(`screenshots: ${shot.dir}`);
  const report = [];
  // The same people on a 390 px phone: the layout (and so contrast, overlap, names) changes.
  const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
  const phoneOf = new Map();
  for (const context of [visitor, member]) {
    phoneOf.set(context, await newContext(browser, app, { ...phone, storageState: await context.storageState() }));
  }
  for (const { name, path, context } of pages) {
    for (const [device, ctx] of [['desktop', context], ['phone', phoneOf.get(context)]]) {
      const page = await ctx.newPage();
      const response = await page.goto(app.baseUrl + path);
      assert.equal(response.status(), 200, `${name} (${path}) answers 200`);
      await shot(page, `${name}-${device}`);
      const violations = await runAxe(page);
      console.log(`axe ${name.padEnd(13)} ${device.padEnd(7)} ${path}: ${violations.length ? violations.map((v) => `${v.id} x${v.nodes.length}`).join(', ') : 'no violations'}`);
      if (violations.length) report.push(formatViolations(`${name}, ${device}`, path, violations));
      await page.close();
    }
  }
  for (const ctx of phoneOf.values()) await ctx.close();
  console.log(`axe payment-gateway ${gateway.path}: ${gateway.violations.length ? gateway.violations.map((v) => `${v.id} x${v.nodes.length}`).join(', ') : 'no violations'}`);
  if (gateway.violations.length) report.push(formatViolations('payment-gateway', gateway.path, gateway.violations));
  assert.ok(report.length === 0, `axe-core found WCAG 2.1 A/AA violations:\n${report.join('\n\n')}`);
});

// The admin pages are checked with axe and the Nu Html Checker in staff.test.mjs, which logs a
// staff member in first.

test('markup: the Nu Html Checker reports no errors on the main pages', { timeout: 120_000 }, async (t) => {
  const docs = {};
  const where = { 'payment-gateway': gateway.path };
  for (const { name, path, context } of pages) {
    const response = await context.request.get(app.baseUrl + path, { maxRedirects: 0 });
    assert.equal(response.status(), 200, `${name} (${path}) answers 200`);
    assert.match(response.headers()['content-type'] || '', /^text\/html/);
    docs[name] = await response.text();
    where[name] = path;
  }
  docs['payment-gateway'] = gateway.html;
  // One Java start for all pages; then one verdict per page.
  const started = Date.now();
  const errors = validateHtml(docs);
  console.log(`vnu checked ${Object.keys(docs).length} pages in ${Date.now() - started} ms`);
  for (const name of Object.keys(docs)) {
    await t.test(`${name} ${where[name]}`, () => {
      const list = errors[name] || [];
      assert.ok(list.length === 0, `the Nu Html Checker found errors in ${name} (${where[name]}):\n  ${list.join('\n  ')}`);
    });
  }
});

test('page weight: under 150 KB without images, and no third-party script', { timeout: 120_000 }, async () => {
  const origin = new URL(app.baseUrl).origin;
  const heavy = [];
  for (const { name, path, context } of pages) {
    const weight = await weighPage(context, app.baseUrl + path);
    const parts = weight.entries.filter((e) => !e.image).map((e) => `${new URL(e.url).pathname} ${e.bytes}`).join(', ');
    console.log(`weight ${name.padEnd(13)} ${(weight.bytes / 1024).toFixed(1).padStart(6)} KB (+ ${(weight.imageBytes / 1024).toFixed(1)} KB images): ${parts}`);
    if (weight.bytes >= WEIGHT_LIMIT) heavy.push(`${name} (${path}): ${weight.bytes} bytes: ${parts}`);
    const foreign = weight.entries.filter((e) => e.type === 'script' && !e.url.startsWith(`${origin}/`));
    assert.deepEqual(foreign.map((e) => e.url), [], `${name} loads no script from elsewhere`);
  }
  assert.deepEqual(heavy, [], `pages of ${WEIGHT_LIMIT} bytes or more (images not counted)`);

  // Across everything every context of this file ever asked for (the booking set-up too):
  const all = [visitor, member].flatMap((c) => [...c.log.requests, ...c.log.blocked]);
  const thirdPartyScripts = all.filter((r) => r.type === 'script' && !r.url.startsWith(`${origin}/`));
  for (const script of thirdPartyScripts) {
    assert.equal(script.url, RAZORPAY_CHECKOUT_JS, `unexpected third-party script ${script.url} on ${script.page}`);
    assert.match(script.page, /\/bookings\/[^/]+\/(checkout|pay)/, `Razorpay Checkout loaded outside a checkout page: ${script.page}`);
  }
  // In development there are no Razorpay keys, so not even Razorpay's script.
  assert.deepEqual(thirdPartyScripts.map((s) => `${s.url} on ${s.page}`), [], 'no third-party script in development');
  const blocked = [visitor, member].flatMap((c) => c.log.blocked);
  assert.deepEqual(blocked.map((b) => `${b.type} ${b.url} from ${b.page}`), [], 'no request left this machine');
});

test('with Razorpay keys, Checkout\'s script is the only third-party script, and only on the pay page', { timeout: 120_000 }, async () => {
  const razorpay = await startFakeRazorpay();
  const live = await startApp({
    name: 'razorpay',
    env: {
      RAZORPAY_KEY_ID: 'rzp_test_e2e000000000',
      RAZORPAY_KEY_SECRET: 'e2e-key-secret-not-real',
      RAZORPAY_WEBHOOK_SECRET: 'e2e-webhook-secret-not-real',
      RAZORPAY_API_BASE: razorpay.apiBase,
    },
  });
  const context = await newContext(browser, live);
  try {
    await withServerLog(live, async () => {
      const shot = camera('razorpay-checkout');
      const page = await context.newPage();
      await signedInPerson(page, live, 'rzp');
      await page.goto(live.baseUrl);
      await openSomeSeatMap(page, live);
      await chooseSeats(page, 1);
      await holdAndCheckout(page, shot);
      await Promise.all([page.waitForURL('**/bookings/*/pay'), page.locator('#pay-button').click()]);
      await assertHeading(page, 'Pay');
      await page.waitForLoadState('networkidle');
      await shot(page, 'razorpay-pay-page');
      assert.equal(razorpay.orders.length, 1, 'one Razorpay order was created for the booking');
      assert.equal(await page.locator('#razorpay-open').count(), 1, 'the Razorpay pay button is there');

      const origin = new URL(live.baseUrl).origin;
      const foreign = [...context.log.requests, ...context.log.blocked]
        .filter((r) => !r.url.startsWith(`${origin}/`))
        .map((r) => ({ url: r.url, type: r.type, page: new URL(r.page || 'about:blank').pathname }));
      const unique = [...new Map(foreign.map((r) => [`${r.url} ${r.page}`, r])).values()];
      console.log(`third-party requests: ${JSON.stringify(unique)}`);
      assert.ok(unique.length >= 1, 'the pay page asks for Razorpay Checkout');
      for (const r of unique) {
        assert.equal(r.url, RAZORPAY_CHECKOUT_JS, `unexpected third-party request ${r.url} (${r.type})`);
        assert.equal(r.type, 'script');
        assert.match(r.page, /^\/bookings\/[^/]+\/pay$/, 'Checkout is loaded only on the pay page');
      }
    });
  } finally {
    await context.close();
    await live.stop();
    await razorpay.stop();
  }
});
