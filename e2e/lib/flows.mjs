// The steps of the moviegoer's journey, written the way a person does them in the browser:
// fill the visible form fields, press the buttons by their names, follow links in mail.
// Each step asserts that it arrived where a person would expect to.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { findLink, waitForMail } from './mail.mjs';

const noShot = async () => {};

/** A new person's details; the email is unique per call. */
export function newPerson(label = 'e2e') {
  const id = randomBytes(4).toString('hex');
  return {
    name: `Asha ${label} ${id}`,
    email: `${label}-${id}@example.com`,
    password: `popcorn-balcony-${id}`,
  };
}

/** Money as shown on pages ("₹1,250.00") in paise. */
export function paiseOf(text) {
  const match = /₹\s*([\d,]+(?:\.\d{1,2})?)/.exec(text || '');
  assert.ok(match, `no rupee amount in ${JSON.stringify(text)}`);
  const [whole, fraction = '0'] = match[1].replace(/,/g, '').split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
}

/** Signs up through the form, opens the verification mail and follows its link. */
export async function registerAndVerify(page, app, person, shot = noShot) {
  await page.goto(`${app.baseUrl}/accounts/register`);
  await page.getByLabel('Your name').fill(person.name);
  await page.getByLabel('Email', { exact: true }).fill(person.email);
  await page.getByLabel('Password', { exact: true }).fill(person.password);
  await page.getByLabel('Confirm password').fill(person.password);
  await shot(page, 'register-filled');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL('**/accounts/verify/sent');
  await shot(page, 'check-your-inbox');

  const mail = await waitForMail(app.mailDir, { to: person.email });
  const link = findLink(mail, `${app.baseUrl}/accounts/verify?`);
  await page.goto(link);
  await assertHeading(page, 'Email confirmed');
  await shot(page, 'email-confirmed');
  return mail;
}

/** Logs in through the login form; lands on `next` (or the home page). */
export async function logIn(page, app, person, shot = noShot, next = '') {
  const query = next ? `?next=${encodeURIComponent(next)}` : '';
  await page.goto(`${app.baseUrl}/accounts/login${query}`);
  await page.getByLabel('Email', { exact: true }).fill(person.email);
  await page.getByLabel('Password', { exact: true }).fill(person.password);
  await shot(page, 'login-filled');
  await Promise.all([
    page.waitForURL((url) => !url.pathname.startsWith('/accounts/login')),
    page.getByRole('button', { name: 'Log in' }).click(),
  ]);
  await page.getByRole('button', { name: 'Log out' }).waitFor();
  await shot(page, 'logged-in');
}

/** A fresh account, verified and logged in, in `page`'s browser context. */
export async function signedInPerson(page, app, label) {
  const person = newPerson(label);
  await registerAndVerify(page, app, person);
  await logIn(page, app, person);
  return person;
}

export async function assertHeading(page, text) {
  const h1 = page.locator('h1').first();
  await h1.waitFor();
  const actual = (await h1.textContent()).trim();
  assert.ok(actual.includes(text), `expected the page heading to say "${text}" but it says "${actual}" (${page.url()})`);
}

/**
 * A movie that is showing: { slug, title }, the first card of the home page's "Now showing"
 * (else of the movie list) whose page has a showtime to click.
 */
export async function someMovie(app) {
  const cards = (html) => [...html.matchAll(/<h3[^>]*>\s*<a href="\/movies\/([a-z0-9-]+)"[^>]*>([^<]+)<\/a>/g)]
    .map((m) => ({ slug: m[1], title: m[2].trim().replace(/&amp;/g, '&').replace(/&#39;|&#x27;/g, "'") }));
  const text = async (path) => (await fetch(app.baseUrl + path)).text();
  const candidates = [...cards(await text('/')), ...cards(await text('/movies'))];
  assert.ok(candidates.length, 'neither the home page nor the movie list shows a movie: is the demo catalogue seeded?');
  for (const movie of candidates) {
    if ((await text(`/movies/${movie.slug}?city=all`)).includes('class="showtime-pill" href=')) return movie;
  }
  assert.fail(`none of the movies ${candidates.map((m) => m.slug).join(', ')} has a showtime to book`);
}

/**
 * From a movie page, opens a showtime's seat map by clicking its time (all cities when the
 * chosen city has none). Skips showtimes that start within `minHoursAhead` hours (a booking
 * must stay cancellable), are closed for booking, or have too few free seats.
 */
export async function openFirstShowtime(page, shot = noShot, { seatsNeeded = 2, minHoursAhead = 3 } = {}) {
  if ((await page.locator('a.showtime-pill').count()) === 0) {
    const all = page.getByRole('link', { name: 'All cities' }).first();
    assert.ok(await all.count(), `no showtime on ${page.url()} and no "All cities" link`);
    await all.click();
    await page.locator('a.showtime-pill').first().waitFor();
  }
  await shot(page, 'movie-showtimes');
  const movieUrl = page.url();
  const earliest = Date.now() + minHoursAhead * 3600_000;
  const candidates = (await page.locator('a.showtime-pill').evaluateAll((pills) => pills.map((a) => ({
    href: a.getAttribute('href'),
    startsAt: Date.parse(a.querySelector('time')?.getAttribute('datetime') || ''),
  })))).filter((c) => !(c.startsAt < earliest)).slice(0, 6);
  assert.ok(candidates.length, `no showtime on ${movieUrl} starts ${minHoursAhead} hours or more from now`);
  for (const [i, { href }] of candidates.entries()) {
    if (i > 0) await page.goto(movieUrl);
    await Promise.all([
      page.waitForURL('**/showtimes/*/seats'),
      page.locator(`a.showtime-pill[href="${href}"]`).first().click(),
    ]);
    await page.locator('#seat-form').waitFor();
    const closed = await page.locator('#main > .alert-info').count();
    if (!closed && (await freeSeats(page).count()) >= seatsNeeded) return page.url();
  }
  assert.fail(`none of the showtimes ${candidates.map((c) => c.href).join(', ')} on ${movieUrl} can be booked`);
}

/** Goes straight to the seat map of some showtime of the demo catalogue. */
export async function openSomeSeatMap(page, app) {
  const { slug } = await someMovie(app);
  await page.goto(`${app.baseUrl}/movies/${slug}?city=all`);
  return openFirstShowtime(page);
}

/** The seat labels (`label.seat`) whose checkbox can be chosen, in page order. */
export function freeSeats(page) {
  return page.locator('label.seat:has(input[name="seat_ids"]:not([disabled]))');
}

/**
 * Picks `n` free seats (skipping the first `skip`) and returns their ids and prices.
 * `how` is 'click' (mouse), 'tap' (touch) or 'check' (no JavaScript: the checkbox itself).
 */
export async function chooseSeats(page, n, { skip = 0, how = 'click' } = {}) {
  const chosen = [];
  const free = freeSeats(page);
  const count = await free.count();
  assert.ok(count >= skip + n, `only ${count} free seats on ${page.url()}`);
  for (let i = skip; i < skip + n; i++) {
    const label = free.nth(i);
    const box = label.locator('input[name="seat_ids"]');
    const seat = {
      id: await box.getAttribute('value'),
      pricePaise: Number(await box.getAttribute('data-price')),
      name: await box.getAttribute('aria-label'),
    };
    if (how === 'tap') await label.tap();
    else if (how === 'check') await box.check({ force: true });
    else await label.click();
    assert.ok(await box.isChecked(), `seat ${seat.name} is not selected after ${how}`);
    chosen.push(seat);
  }
  return chosen;
}

/** Submits the seat map and expects the checkout page; returns the booking's id. */
export async function holdAndCheckout(page, shot = noShot) {
  await Promise.all([
    page.waitForURL('**/bookings/*/checkout'),
    page.locator('#hold-button').click(),
  ]);
  await assertHeading(page, 'Checkout');
  await shot(page, 'checkout');
  return /\/bookings\/([^/]+)\/checkout/.exec(new URL(page.url()).pathname)[1];
}

/** The rows of a `dl.price-breakdown` as [{ term, paise }]. */
export async function priceBreakdown(page) {
  const rows = await page.locator('dl.price-breakdown').first().evaluate((dl) => {
    const out = [];
    for (const dt of dl.querySelectorAll('dt')) {
      const dd = dt.nextElementSibling;
      out.push({ term: dt.textContent.replace(/\s+/g, ' ').trim(), value: dd ? dd.textContent.trim() : '' });
    }
    return out;
  });
  return rows.map((r) => ({ term: r.term, paise: paiseOf(r.value), text: r.value }));
}

/**
 * Checks the checkout's price breakdown against the chosen seats: one line per seat with its
 * price, a convenience fee, GST on the fee, and a total that adds up.
 */
export async function assertCheckoutBreakdown(page, seats) {
  const rows = await priceBreakdown(page);
  const seatRows = rows.filter((r) => /^Seat\b/.test(r.term));
  const fee = rows.find((r) => /convenience fee/i.test(r.term));
  const tax = rows.find((r) => /gst/i.test(r.term));
  const total = rows.find((r) => /^total/i.test(r.term));
  const seen = JSON.stringify(rows);
  assert.equal(seatRows.length, seats.length, `one price line per seat expected: ${seen}`);
  assert.deepEqual(seatRows.map((r) => r.paise).sort(), seats.map((s) => s.pricePaise).sort(), `seat prices: ${seen}`);
  assert.ok(fee && tax && total, `fee, GST and total lines expected: ${seen}`);
  const seatsSum = seats.reduce((sum, s) => sum + s.pricePaise, 0);
  assert.equal(total.paise, seatsSum + fee.paise + tax.paise, `total must add up: ${seen}`);
  const pay = await page.locator('#pay-button').textContent();
  assert.equal(paiseOf(pay), total.paise, `the Pay button shows the total (${pay})`);
  return { rows, totalPaise: total.paise };
}

/**
 * Pays on the checkout page through the development payment gateway and expects the
 * confirmed booking page; returns its URL. `onGateway(page, html)` may inspect the gateway
 * page (with the HTML the server sent) before paying.
 */
export async function payOnDevGateway(page, shot = noShot, { onGateway } = {}) {
  const [gateway] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && /\/bookings\/[^/]+\/pay$/.test(new URL(r.url()).pathname)),
    page.waitForURL((url) => !url.pathname.endsWith('/checkout')),
    page.locator('#pay-button').click(),
  ]);
  await page.locator('#dev-pay').waitFor();
  await shot(page, 'development-gateway');
  if (onGateway) await onGateway(page, await gateway.text());
  await Promise.all([
    page.waitForURL(/\/bookings\/[^/]+$/),
    page.locator('#dev-pay').click(),
  ]);
  await assertConfirmed(page);
  await shot(page, 'booking-confirmed');
  return page.url();
}

export async function assertConfirmed(page) {
  await assertHeading(page, 'Booking');
  const badge = page.locator('.page-header .badge').first();
  assert.match(await badge.getAttribute('class'), /badge-confirmed/, `booking badge: ${await badge.textContent()}`);
}

/** The QR image on a confirmed booking page must really load as an SVG. */
export async function assertQrLoads(page) {
  const img = page.locator('img[src$="qr.svg"]');
  await img.waitFor();
  const src = await img.getAttribute('src');
  assert.ok(src && (await img.getAttribute('alt')), 'the QR image needs an alt text');
  const loaded = await img.evaluate(async (el) => {
    if (!el.complete) await new Promise((ok) => { el.onload = ok; el.onerror = ok; });
    return el.naturalWidth;
  });
  assert.ok(loaded > 0, `the QR image ${src} did not load`);
  const response = await page.request.get(new URL(src, page.url()).href);
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-type'] || '', /^image\/svg\+xml/);
  assert.match(await response.text(), /<svg[\s>]/);
}
