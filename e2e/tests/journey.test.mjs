// A moviegoer books tickets from sign-up to refund: on a desktop with JavaScript, with
// JavaScript turned off, on a phone, and after a declined payment.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { camera, launchBrowser, newContext, quietProblems } from '../lib/browser.mjs';
import { assertLiveTotal, assertNoHorizontalScroll } from '../lib/checks.mjs';
import {
  assertCheckoutBreakdown, assertConfirmed, assertHeading, assertQrLoads, chooseSeats,
  holdAndCheckout, logIn, newPerson, openFirstShowtime, openSomeSeatMap, payOnDevGateway,
  registerAndVerify, signedInPerson, someMovie,
} from '../lib/flows.mjs';
import { waitForMail } from '../lib/mail.mjs';
import { startApp, withServerLog } from '../lib/server.mjs';

let app;
let browser;

before(async () => {
  app = await startApp({ name: 'journey' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

test('desktop journey with JavaScript: sign up, search, choose seats, pay, ticket, cancel with refund', { timeout: 180_000 }, () => withServerLog(app, async () => {
  const shot = camera('journey-desktop');
  console.log(`screenshots: ${shot.dir}`);
  const context = await newContext(browser, app);
  const page = await context.newPage();
  const person = newPerson('desktop');

  await page.goto(app.baseUrl);
  await shot(page, 'home');
  await registerAndVerify(page, app, person, shot);
  await logIn(page, app, person, shot);

  // Search from the header, as a person who knows what they want to see.
  const movie = await someMovie(app);
  await page.locator('#site-search').fill(movie.title);
  await Promise.all([page.waitForURL('**/movies?*'), page.locator('#site-search').press('Enter')]);
  await assertHeading(page, movie.title);
  await shot(page, 'search-results');
  await Promise.all([
    page.waitForURL(`**/movies/${movie.slug}*`),
    page.locator('.movie-card h3 a', { hasText: movie.title }).first().click(),
  ]);
  await assertHeading(page, movie.title);
  await shot(page, 'movie-detail');

  await openFirstShowtime(page, shot);
  await shot(page, 'seat-map');
  const seats = await chooseSeats(page, 2, { how: 'click' });
  const totalText = await assertLiveTotal(page, seats);
  console.log(`chose ${seats.map((s) => s.name).join(' and ')}; live total "${totalText}"`);
  await shot(page, 'seats-chosen');

  await holdAndCheckout(page, shot);
  const { totalPaise } = await assertCheckoutBreakdown(page, seats);
  await assert.doesNotReject(page.locator('span.countdown').waitFor(), 'checkout shows how long the seats are held');

  const bookingUrl = await payOnDevGateway(page, shot);
  await assertQrLoads(page);
  const bookingPath = new URL(bookingUrl).pathname;

  const mail = await waitForMail(app.mailDir, { to: person.email, subject: 'Your tickets for' });
  assert.ok(mail.subject.includes(movie.title) || mail.text.includes(movie.title),
    `the confirmation mail names the movie: ${mail.subject}`);
  console.log(`confirmation mail: "${mail.subject}" (total ${totalPaise / 100} rupees)`);

  // My bookings lists it.
  await page.goto(`${app.baseUrl}/bookings`);
  await assert.doesNotReject(page.locator(`a[href="${bookingPath}"]`).first().waitFor(), 'My bookings links to the booking');
  await shot(page, 'my-bookings');

  // Cancel it: the confirmation dialog is accepted, and the money comes back.
  await page.goto(bookingUrl);
  page.once('dialog', (dialog) => dialog.accept());
  await Promise.all([
    page.waitForLoadState('load'),
    page.getByRole('button', { name: 'Cancel booking' }).click(),
  ]);
  const notice = page.locator('.flash, .alert').filter({ hasText: /refund/i }).first();
  await notice.waitFor();
  console.log(`after cancelling: "${(await notice.textContent()).trim()}"`);
  await shot(page, 'cancelled-refunded');
  const refundMail = await waitForMail(app.mailDir, { to: person.email, subject: /refund/i });
  console.log(`refund mail: "${refundMail.subject}"`);
  await page.goto(bookingUrl);
  const badge = page.locator('.page-header .badge').first();
  assert.match(await badge.getAttribute('class'), /badge-(refunded|cancelled)/, `after cancelling: ${await badge.textContent()}`);
  assert.equal(await page.locator('img[src$="qr.svg"]').count(), 0, 'a refunded booking no longer shows a ticket');

  assert.deepEqual(quietProblems(context), []);
  await context.close();
}));

test('booking with JavaScript turned off: the seat map is a plain form of checkboxes', { timeout: 120_000 }, () => withServerLog(app, async () => {
  const shot = camera('journey-no-javascript');
  console.log(`screenshots: ${shot.dir}`);
  const context = await newContext(browser, app, { javaScriptEnabled: false });
  const page = await context.newPage();
  const person = newPerson('nojs');
  await registerAndVerify(page, app, person, shot);
  await logIn(page, app, person, shot);

  const movie = await someMovie(app);
  await page.goto(`${app.baseUrl}/movies/${movie.slug}`);
  await openFirstShowtime(page, shot);
  assert.equal(await page.locator('#selection-total').textContent(), '', 'without JavaScript nothing fills in the live total');
  assert.ok(await page.locator('#hold-button').isEnabled(), 'the submit button works without JavaScript');
  const seats = await chooseSeats(page, 2, { how: 'check' });
  await shot(page, 'boxes-checked');
  await holdAndCheckout(page, shot);
  await assertCheckoutBreakdown(page, seats);
  await payOnDevGateway(page, shot);
  await assertConfirmed(page);

  assert.deepEqual(quietProblems(context), []);
  await context.close();
}));

test('phone journey at 390x844 with touch: every step fits the screen', { timeout: 180_000 }, () => withServerLog(app, async () => {
  const shot = camera('journey-phone');
  console.log(`screenshots: ${shot.dir}`);
  const context = await newContext(browser, app, {
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  const page = await context.newPage();
  // Every step: a screenshot, and the page must not scroll sideways.
  const step = async (onPage, name) => {
    await shot(onPage, name);
    await assertNoHorizontalScroll(onPage, name);
  };
  const person = newPerson('phone');

  await page.goto(app.baseUrl);
  await step(page, 'home');
  await registerAndVerify(page, app, person, step);
  await logIn(page, app, person, step);

  const movie = await someMovie(app);
  await page.locator('#site-search').fill(movie.title);
  await Promise.all([page.waitForURL('**/movies?*'), page.locator('#site-search').press('Enter')]);
  await step(page, 'search-results');
  await Promise.all([
    page.waitForURL(`**/movies/${movie.slug}*`),
    page.locator('.movie-card h3 a', { hasText: movie.title }).first().tap(),
  ]);
  await step(page, 'movie-detail');
  await openFirstShowtime(page, step);
  await step(page, 'seat-map');
  const seats = await chooseSeats(page, 2, { how: 'tap' });
  await assertLiveTotal(page, seats);
  await step(page, 'seats-chosen');
  // The summary with the button stays reachable on a small screen.
  await page.locator('#hold-button').scrollIntoViewIfNeeded();
  assert.ok(await page.locator('#hold-button').isVisible(), 'the hold button is visible on a phone');
  await holdAndCheckout(page, step);
  await assertCheckoutBreakdown(page, seats);
  await payOnDevGateway(page, step);
  await assertQrLoads(page);
  await page.goto(`${app.baseUrl}/bookings`);
  await step(page, 'my-bookings');

  assert.deepEqual(quietProblems(context), []);
  await context.close();
}));

test('a declined payment keeps the seats held, and paying again confirms', { timeout: 120_000 }, () => withServerLog(app, async () => {
  const shot = camera('payment-declined');
  console.log(`screenshots: ${shot.dir}`);
  const context = await newContext(browser, app);
  const page = await context.newPage();
  await signedInPerson(page, app, 'declined');
  await openSomeSeatMap(page, app);
  const seats = await chooseSeats(page, 1);
  await holdAndCheckout(page, shot);
  const checkout = page.url();

  await Promise.all([page.waitForURL('**/bookings/*/pay'), page.locator('#pay-button').click()]);
  await page.locator('#dev-fail').waitFor();
  await Promise.all([page.waitForURL('**/bookings/*/checkout'), page.locator('#dev-fail').click()]);
  assert.equal(page.url(), checkout, 'back on the same checkout');
  const message = page.locator('.flash-error, .alert-error').first();
  await message.waitFor();
  assert.match(await message.textContent(), /failed/i);
  assert.match(await message.textContent(), /still held/i);
  await shot(page, 'payment-failed');
  await assertCheckoutBreakdown(page, seats);

  await payOnDevGateway(page, shot);
  assert.deepEqual(quietProblems(context), []);
  await context.close();
}));
