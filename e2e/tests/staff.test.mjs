// Staff run the cinema from /admin: create a showtime, find a moviegoer's booking, refund it.
// The staff account is made the way an operator makes one (`moviebooking create-staff`), the
// moviegoer books and pays in a browser profile of their own, and the admin pages are
// audited like the public ones (axe-core WCAG 2.1 A/AA and the Nu Html Checker).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  clockText, createStaff, definitions, headerBadge, openAdminBooking, refundInFull,
  scheduleShowtime, tableUnder,
} from '../lib/admin.mjs';
import { formatViolations, runAxe, validateHtml } from '../lib/audit.mjs';
import { camera, launchBrowser, newContext, quietProblems } from '../lib/browser.mjs';
import {
  assertHeading, chooseSeats, freeSeats, holdAndCheckout, logIn, newPerson, openSomeSeatMap,
  payOnDevGateway, registerAndVerify, someMovie,
} from '../lib/flows.mjs';
import { waitForMail } from '../lib/mail.mjs';
import { startApp, withServerLog } from '../lib/server.mjs';

// The phone of pages.test.mjs: the layout (and so contrast, overlap, names) changes.
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

let app;
let browser;
let staff; // { email, name, password }
let staffContext; // a browser profile with the staff member logged in
let goer; // the moviegoer: { person, context, seatMapUrl, bookings: [{ url, path, code, seats, seatIds, total }] }
const audited = []; // admin pages for the audits: { name, path }
let confirmPage; // the refund confirmation (a POST answer): { path, html, violations }

/** What a booking page of the moviegoer says about it. */
async function bookingFacts(page, seatIds) {
  const code = (await page.locator('h1').first().textContent()).trim().replace(/^Booking\s+/, '');
  const details = await definitions(page);
  const money = await definitions(page, 'dl.price-breakdown');
  return {
    url: page.url(),
    path: new URL(page.url()).pathname,
    code,
    seats: details.Seats,
    total: money.Total,
    seatIds,
  };
}

before(async () => {
  app = await startApp({ name: 'staff' });
  browser = await launchBrowser();
  await withServerLog(app, async () => {
    // 1. A staff account, the way an operator creates one.
    staff = newPerson('staff');
    const said = await createStaff(app, staff);
    console.log(`create-staff: ${said.trim()}`);

    // 2. A moviegoer books and pays twice in their own browser: the first booking is refunded
    //    by staff below, the second stays confirmed so its admin page (with the refund form)
    //    is audited too.
    const context = await newContext(browser, app);
    const page = await context.newPage();
    const person = newPerson('goer');
    await registerAndVerify(page, app, person);
    await logIn(page, app, person);
    const seatMapUrl = await openSomeSeatMap(page, app);
    const bookings = [];
    for (const skip of [0, 2]) {
      if (skip) await page.goto(seatMapUrl);
      const seats = await chooseSeats(page, 2, { skip });
      await holdAndCheckout(page);
      await payOnDevGateway(page);
      bookings.push(await bookingFacts(page, seats.map((s) => s.id)));
    }
    goer = { person, context, seatMapUrl, bookings };
    console.log(`moviegoer booked ${bookings.map((b) => `${b.code} (${b.seats}, ${b.total})`).join(' and ')}`);

    staffContext = await newContext(browser, app);
    const staffPage = await staffContext.newPage();
    await logIn(staffPage, app, staff);
    await staffPage.close();
    audited.push(
      { name: 'dashboard', path: '/admin' },
      { name: 'showtime-new', path: '/admin/showtimes/new' },
      { name: 'bookings-search', path: `/admin/bookings?code=${encodeURIComponent(bookings[1].code)}` },
      { name: 'booking-confirmed', path: `/admin${bookings[1].path}` },
    );
  });
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

test('staff: log in as staff, create a showtime, see a booking, refund it', { timeout: 240_000 }, () => withServerLog(app, async () => {
  const shot = camera('staff');
  console.log(`screenshots: ${shot.dir}`);
  const [booking] = goer.bookings;
  const admin = await staffContext.newPage();

  // 3. Staff see "Admin" in the header, and it leads to the dashboard.
  await admin.goto(app.baseUrl);
  await Promise.all([
    admin.waitForURL((url) => url.pathname === '/admin'),
    admin.getByRole('link', { name: 'Admin', exact: true }).click(),
  ]);
  await assertHeading(admin, 'Dashboard');
  assert.match(await admin.title(), /Admin dashboard/);
  for (const id of ['stat-today-bookings', 'stat-week-bookings']) {
    const text = await admin.locator(`#${id}`).textContent();
    assert.match(text, /^\d+ bookings$/, `#${id} counts bookings: "${text}"`);
  }
  // "Today" is the UTC day, which may have begun after the moviegoer paid; the week has not.
  assert.ok(Number(/^\d+/.exec(await admin.locator('#stat-week-bookings').textContent())[0]) >= goer.bookings.length,
    'the last 7 days\' bookings include the moviegoer\'s two');
  await shot(admin, 'dashboard');

  // 4. A showtime for a demo movie on a screen, past the demo's week (so it clashes with
  //    nothing), priced per seat category.
  const movie = await someMovie(app);
  const moviePage = await staffContext.newPage();
  await moviePage.goto(`${app.baseUrl}/movies/${movie.slug}?city=all`);
  const language = (await moviePage.locator('ul.chips[aria-label="Languages"] li').first().textContent()).trim();
  await moviePage.close();
  const hour = 14;
  const minute = 15;
  const created = await scheduleShowtime(admin, {
    movieTitle: movie.title, daysAhead: 9, hour, minute, language, format: '2D', prices: [180, 260.5, 410],
  }, shot);
  const when = clockText(hour, minute);
  console.log(`scheduled ${movie.title} (${language}) on ${created.screenLabel} at ${created.localDate} ${when} ` +
    `${created.timeZone} = ${new Date(created.startsAtMs).toISOString()}; prices ${JSON.stringify(created.prices)}`);
  audited.push({ name: 'showtime-new-screen', path: `/admin/showtimes/new?screen_id=${created.screenId}` });

  // The list starts today; the staff member asks for the week of the new showtime.
  const utcDate = new Date(created.startsAtMs).toISOString().slice(0, 10);
  await admin.getByLabel(/^From/).fill(utcDate);
  await Promise.all([admin.waitForURL('**/admin/showtimes?*'), admin.getByRole('button', { name: 'Show' }).click()]);
  const row = admin.locator('table tbody tr').filter({ hasText: movie.title }).filter({ hasText: when });
  assert.equal(await row.count(), 1, `the showtime list of the week from ${utcDate} shows the new showtime once`);
  const showtimeId = /^showtime-(\d+)$/.exec(await row.getAttribute('id'))?.[1];
  assert.ok(showtimeId, 'the row carries the showtime id');
  const cells = await row.locator('td').allTextContents();
  assert.equal(cells[3].trim(), '0', `no bookings yet: ${JSON.stringify(cells)}`);
  assert.ok(created.screenLabel.startsWith(cells[2].split(' · ')[0]), `the row names the theatre of ${created.screenLabel}: ${cells[2]}`);
  await shot(admin, 'showtime-listed');
  // The week of the new showtime, not this week: the demo's hundreds of rows make a phone
  // screenshot of the default list too slow for the audit, and add nothing it checks.
  audited.push({ name: 'showtimes-week', path: `/admin/showtimes?date=${utcDate}` });

  // On the movie's public page, a visitor sees it; its seat map has every seat free, at the
  // prices staff typed.
  const visitor = await newContext(browser, app);
  const pub = await visitor.newPage();
  await pub.goto(`${app.baseUrl}/movies/${movie.slug}?city=all`);
  const pill = pub.locator(`a.showtime-pill[href="/showtimes/${showtimeId}/seats"]`);
  assert.equal(await pill.count(), 1, `the movie page links the new showtime ${showtimeId}`);
  const datetime = await pill.locator('time').getAttribute('datetime');
  assert.equal(Date.parse(datetime), created.startsAtMs, `the pill's time ${datetime} is the time staff scheduled`);
  assert.equal((await pill.locator('time').textContent()).trim(), when);
  assert.match(await pill.getAttribute('aria-label'), new RegExp(`${language}`));
  await pill.scrollIntoViewIfNeeded();
  await shot(pub, 'public-movie-page');
  await Promise.all([pub.waitForURL(`**/showtimes/${showtimeId}/seats`), pill.click()]);
  await pub.locator('#seat-form').waitFor();
  const seatBoxes = pub.locator('input[name="seat_ids"]');
  const total = await seatBoxes.count();
  assert.ok(total > 0, 'the new showtime has a seat map');
  assert.equal(await freeSeats(pub).count(), total, 'every seat of the new showtime is available');
  assert.equal(await pub.locator('#main > .alert-info').count(), 0, 'the new showtime is open for booking');
  const seatPrices = new Set(await seatBoxes.evaluateAll((boxes) => boxes.map((b) => Number(b.dataset.price))));
  const typed = new Set(created.prices.map((p) => p.paise));
  for (const price of seatPrices) assert.ok(typed.has(price), `seat price ${price} paise is one staff typed (${[...typed]})`);
  console.log(`new showtime ${showtimeId}: ${total} seats, all free, priced ${[...seatPrices].join(', ')} paise`);
  await shot(pub, 'public-seat-map');
  assert.deepEqual(quietProblems(visitor), []);
  await visitor.close();

  // 5. The moviegoer's booking, found by its code: seats, amount, Confirmed.
  await admin.goto(`${app.baseUrl}/admin`);
  const adminPath = await openAdminBooking(admin, booking.code, shot);
  assert.equal(adminPath, `/admin${booking.path}`, 'the admin page of a booking is its public id under /admin');
  const facts = await definitions(admin);
  assert.equal(facts.Moviegoer, goer.person.email);
  assert.equal(facts.Total, booking.total, 'staff see the amount the moviegoer paid');
  const seatRows = await tableUnder(admin, 'Seats');
  assert.deepEqual(seatRows.map((r) => r[0]).sort(), booking.seats.split(/,\s*/).sort(), `the seats: ${JSON.stringify(seatRows)}`);
  const badge = await headerBadge(admin);
  assert.match(badge.className, /badge-confirmed/);
  assert.equal(badge.text.toLowerCase(), 'confirmed');
  const payments = await tableUnder(admin, 'Payments');
  assert.equal(payments.length, 1, `one payment: ${JSON.stringify(payments)}`);
  assert.equal(payments[0][1], booking.total, 'the payment is the total');
  await shot(admin, 'booking-confirmed');

  // 6. Refund it with a reason, through the confirmation step.
  const reason = 'Projector fault: show could not go ahead for this row';
  const confirmText = await refundInFull(admin, reason, shot, {
    onConfirm: async (onPage, html) => {
      confirmPage = { path: `POST ${adminPath}/refund`, html, violations: await runAxe(onPage) };
    },
  });
  assert.ok(confirmText.includes(booking.total) && confirmText.includes(goer.person.email) && confirmText.includes(reason),
    `the confirmation says how much goes back to whom, and why: "${confirmText}"`);
  await assert.doesNotReject(
    admin.locator('.flash').filter({ hasText: `Booking ${booking.code} is refunded.` }).waitFor(),
    'the booking page says it is refunded');
  const refunded = await headerBadge(admin);
  assert.match(refunded.className, /badge-refunded/, `after the refund: ${refunded.text}`);
  const refunds = await tableUnder(admin, 'Refunds');
  assert.equal(refunds.length, 1, `one refund: ${JSON.stringify(refunds)}`);
  assert.equal(refunds[0][0], booking.total, 'refunded in full');
  assert.equal(refunds[0][1], reason, 'the reason is kept');
  assert.equal(await admin.getByLabel('Reason for the full refund').count(), 0, 'a refunded booking cannot be refunded again');
  await shot(admin, 'booking-refunded');
  audited.push({ name: 'booking-refunded', path: adminPath });

  // The moviegoer sees it: Refunded, the seats free again, and a mail.
  const mine = await goer.context.newPage();
  await mine.goto(booking.url);
  const theirs = await headerBadge(mine);
  assert.equal(theirs.text, 'Refunded');
  assert.match(theirs.className, /badge-refunded/);
  assert.equal(await mine.locator('img[src$="qr.svg"]').count(), 0, 'a refunded booking no longer shows a ticket');
  await shot(mine, 'moviegoer-booking-refunded');
  const mail = await waitForMail(app.mailDir, { to: goer.person.email, subject: /refund/i });
  assert.ok(mail.subject.includes(booking.code), `the refund mail names the booking: ${mail.subject}`);
  assert.ok(mail.subject.includes(booking.total) || mail.text.includes(booking.total), `the refund mail says how much: ${mail.subject}`);
  assert.ok(mail.text.includes(booking.url), 'the refund mail links the booking');
  console.log(`refund mail: "${mail.subject}"`);
  await mine.goto(goer.seatMapUrl);
  for (const id of booking.seatIds) {
    const box = mine.locator(`input[name="seat_ids"][value="${id}"]`);
    assert.equal(await box.isDisabled(), false, `seat ${await box.getAttribute('aria-label')} is available again`);
  }
  for (const id of goer.bookings[1].seatIds) {
    assert.equal(await mine.locator(`input[name="seat_ids"][value="${id}"]`).isDisabled(), true,
      'the other, still confirmed booking keeps its seats');
  }
  await shot(mine, 'seats-available-again');

  // 7. A moviegoer is not staff: no Admin link, and /admin does not exist for them.
  await mine.goto(app.baseUrl);
  assert.equal(await mine.getByRole('link', { name: 'Admin', exact: true }).count(), 0, 'no Admin link for a moviegoer');
  for (const path of ['/admin', adminPath, '/admin/showtimes/new']) {
    const response = await mine.goto(app.baseUrl + path);
    assert.equal(response.status(), 404, `a moviegoer gets 404 on ${path}`);
  }
  // With a valid CSRF token of their own, so that only the staff check can refuse it.
  await mine.goto(goer.bookings[1].url);
  const csrf = await mine.locator('input[name="csrf_token"]').first().inputValue();
  const post = await goer.context.request.post(`${app.baseUrl}/admin${goer.bookings[1].path}/refund`, {
    form: { csrf_token: csrf, reason: 'not staff', confirm: 'yes' },
    headers: { origin: new URL(app.baseUrl).origin },
    maxRedirects: 0,
  });
  assert.equal(post.status(), 404, 'a moviegoer\'s refund POST is a 404 too');
  await shot(mine, 'moviegoer-admin-404');
  await mine.close();

  assert.deepEqual(quietProblems(goer.context, { expected: [/status of 404/] }), []);
  assert.deepEqual(quietProblems(staffContext), []);
  await admin.close();
}));

test('accessibility: no axe-core WCAG 2.1 A/AA violations on the admin pages, on a desktop and a phone', { timeout: 180_000 }, async () => {
  const shot = camera('staff-accessibility');
  console.log(`screenshots: ${shot.dir}`);
  const phone = await newContext(browser, app, { ...PHONE, storageState: await staffContext.storageState() });
  const report = [];
  for (const { name, path } of audited) {
    for (const [device, ctx] of [['desktop', staffContext], ['phone', phone]]) {
      const page = await ctx.newPage();
      const response = await page.goto(app.baseUrl + path);
      assert.equal(response.status(), 200, `${name} (${path}) answers 200`);
      await shot(page, `${name}-${device}`);
      const violations = await runAxe(page);
      console.log(`axe ${name.padEnd(19)} ${device.padEnd(7)} ${path}: ${violations.length ? violations.map((v) => `${v.id} x${v.nodes.length}`).join(', ') : 'no violations'}`);
      if (violations.length) report.push(formatViolations(`${name}, ${device}`, path, violations));
      await page.close();
    }
  }
  await phone.close();
  if (confirmPage) {
      console.log(`axe refund-confirm ${confirmPage.path}: ${confirmPage.violations.length ? confirmPage.violations.map((v) => `${v.id} x${v.nodes.length}`).join(', ') : 'no violations'}`);
    if (confirmPage.violations.length) report.push(formatViolations('refund-confirm', confirmPage.path, confirmPage.violations));
  }
  assert.ok(report.length === 0, `axe-core found WCAG 2.1 A/AA violations:\n${report.join('\n\n')}`);
  assert.ok(confirmPage, 'the refund confirmation was audited during the staff test');
});

test('markup: the Nu Html Checker reports no errors on the admin pages', { timeout: 120_000 }, async (t) => {
  const docs = {};
  const where = {};
  for (const { name, path } of audited) {
    const response = await staffContext.request.get(app.baseUrl + path, { maxRedirects: 0 });
    assert.equal(response.status(), 200, `${name} (${path}) answers 200`);
    assert.match(response.headers()['content-type'] || '', /^text\/html/);
    docs[name] = await response.text();
    where[name] = path;
  }
  if (confirmPage) {
    docs['refund-confirm'] = confirmPage.html;
    where['refund-confirm'] = confirmPage.path;
  }
  const started = Date.now();
  const errors = validateHtml(docs);
  console.log(`vnu checked ${Object.keys(docs).length} admin pages in ${Date.now() - started} ms`);
  for (const name of Object.keys(docs)) {
    await t.test(`${name} ${where[name]}`, () => {
      const list = errors[name] || [];
      assert.ok(list.length === 0, `the Nu Html Checker found errors in ${name} (${where[name]}):\n  ${list.join('\n  ')}`);
    });
  }
});
