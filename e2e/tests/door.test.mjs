// The door (/admin/checkin, issue #16) on an usher's phone: a moviegoer books two seats and
// gets the confirmation mail; the QR code attached to it becomes the video of a fake camera
// (ffmpeg turns the PNG into a Y4M clip that a second Chromium plays as its webcam); the
// usher scans it with "Scan with camera" and sees "Admit 2", then, the ticket still held up,
// "Already admitted". Without JavaScript, typing the booking code answers a page of its own.
// The door pages are audited like the others (axe-core WCAG 2.1 A/AA, the Nu Html Checker).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createStaff } from '../lib/admin.mjs';
import { formatViolations, runAxe, validateHtml } from '../lib/audit.mjs';
import { camera, launchBrowser, newContext, quietProblems } from '../lib/browser.mjs';
import { assertNoHorizontalScroll } from '../lib/checks.mjs';
import {
  chooseSeats, holdAndCheckout, logIn, newPerson, openSomeSeatMap, payOnDevGateway, signedInPerson,
} from '../lib/flows.mjs';
import { attachmentOf, waitForMail } from '../lib/mail.mjs';
import { REPO_ROOT, startApp, withServerLog } from '../lib/server.mjs';

const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const FFMPEG = process.env.FFMPEG_PATH || '/usr/bin/ffmpeg';
// The QR code decoder the door page vendors, to read the mailed PNG outside the app.
const JSQR_SOURCE = readFileSync(join(REPO_ROOT, 'static', 'js', 'vendor', 'jsQR.js'), 'utf8');

let app;
let browser; // the moviegoer's and the no-JavaScript usher's
let doorBrowser; // a Chromium whose camera plays the ticket's QR code
let usher; // { email, name, password }
let ticket; // { code, publicId, showtimeId, seats: [label], token, png, clip }
const audited = {}; // name -> { path, html?, violations }

/** `/admin/checkin?showtime=ID` for the booking's showtime. */
const doorPath = () => `/admin/checkin?showtime=${ticket.showtimeId}`;

/** Makes the Y4M clip a fake camera plays: the PNG, centred on white, 640x480, 10 fps. */
function qrClip(png, clip) {
  const made = spawnSync(FFMPEG, [
    '-y', '-loglevel', 'error', '-loop', '1', '-i', png,
    '-vf', 'scale=440:440:flags=neighbor,pad=640:480:(ow-iw)/2:(oh-ih)/2:color=white,format=yuv420p',
    '-r', '10', '-t', '3', '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', clip,
  ], { encoding: 'utf8' });
  if (made.error) throw new Error(`${FFMPEG} did not run (e2e/run installs it with apt): ${made.error.message}`);
  assert.equal(made.status, 0, `ffmpeg failed:\n${made.stderr}`);
  return statSync(clip).size;
}

/** Decodes a PNG's QR code with jsQR in a blank page (no app, no CSP). */
async function decodeQr(onBrowser, png) {
  const context = await onBrowser.newContext();
  try {
    const page = await context.newPage();
    await page.evaluate(JSQR_SOURCE);
    return await page.evaluate(async (dataUrl) => {
      const img = new Image();
      img.src = dataUrl;
      await img.decode();
      // A quiet zone of white around it, whatever the PNG has.
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth + 80;
      canvas.height = img.naturalHeight + 80;
      const g = canvas.getContext('2d');
      g.fillStyle = '#fff';
      g.fillRect(0, 0, canvas.width, canvas.height);
      g.drawImage(img, 40, 40);
      const pixels = g.getImageData(0, 0, canvas.width, canvas.height);
      return { width: img.naturalWidth, height: img.naturalHeight, text: window.jsQR(pixels.data, pixels.width, pixels.height)?.data ?? null };
    }, `data:image/png;base64,${png.toString('base64')}`);
  } finally {
    await context.close();
  }
}

/** Waits for `locator`; on a timeout, fails with what `describe()` says instead. */
async function waitOrExplain(locator, timeout, describe) {
  try {
    await locator.waitFor({ timeout });
  } catch (error) {
    assert.fail(`${await describe()} (${error.message.split('\n')[0]})`);
  }
}

/** The door's big answer: { className, headline, detail }. */
async function doorResult(page) {
  const result = page.locator('#door-result');
  return {
    className: await result.getAttribute('class'),
    headline: (await result.locator('.door-headline').textContent()).trim(),
    detail: ((await result.locator('.door-detail').first().textContent().catch(() => '')) || '').trim(),
  };
}

/** Types a code into the door form and submits it; returns the POST's answer. */
async function typeCode(page, code) {
  await page.getByLabel('Booking code').fill(code);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/admin/checkin'),
    page.waitForEvent('load'), // of the answer page, not the one the form was on
    page.getByRole('button', { name: 'Check ticket' }).click(),
  ]);
  return response;
}

before(async () => {
  // Doors open 60 minutes before a showtime by default; the demo's showtimes are hours away.
  app = await startApp({ name: 'door', env: { CHECKIN_OPENS_MINUTES: '100000' } });
  browser = await launchBrowser();
  await withServerLog(app, async () => {
    // 1. An usher, the way an operator makes one.
    usher = newPerson('usher');
    const said = await createStaff(app, usher, { role: 'usher' });
    console.log(`create-staff: ${said.trim()}`);

    // 2. A moviegoer books two seats on a phone and pays.
    const context = await newContext(browser, app, PHONE);
    const page = await context.newPage();
    const person = await signedInPerson(page, app, 'doorgoer');
    const seatMapUrl = await openSomeSeatMap(page, app);
    const showtimeId = /\/showtimes\/(\d+)\/seats/.exec(seatMapUrl)[1];
    await chooseSeats(page, 2, { how: 'tap' });
    await holdAndCheckout(page);
    const bookingUrl = await payOnDevGateway(page);
    const code = (await page.locator('h1').first().textContent()).trim().replace(/^Booking\s+/, '');
    assert.match(code, /^[A-Z0-9]{8}$/, `an 8-character booking code: "${code}"`);
    const publicId = /\/bookings\/([^/?]+)$/.exec(new URL(bookingUrl).pathname)[1];

    // Its ticket token, as the API gives it to its owner.
    const api = await context.request.get(`${app.baseUrl}/api/v1/bookings/${publicId}`, { headers: { accept: 'application/json' } });
    assert.equal(api.status(), 200, 'the owner reads the booking from the API');
    const booking = await api.json();
    assert.equal(booking.code, code);
    assert.equal(String(booking.showtime_id), showtimeId);
    assert.match(booking.ticket_token || '', /^MB1\.[^.]+\.[^.]+$/, `ticket_token: ${booking.ticket_token}`);
    assert.equal(booking.seats.length, 2);
    assert.deepEqual(quietProblems(context), []);
    await context.close();

    // 3. The confirmation mail carries the ticket as a PNG QR code.
    const mail = await waitForMail(app.mailDir, { to: person.email, subject: 'Your tickets for' });
    const attachment = attachmentOf(mail, 'image/png');
    assert.equal(attachment.data.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'the attachment is a PNG');
    const png = join(app.dir, 'ticket-qr.png');
    writeFileSync(png, attachment.data);
    const decoded = await decodeQr(browser, attachment.data);
    assert.equal(decoded.text, booking.ticket_token, `the mailed QR code (${decoded.width}x${decoded.height}) is the booking's ticket token`);

    // 4. ...which ffmpeg turns into the clip a fake camera plays.
    const clip = join(app.dir, 'ticket-qr.y4m');
    const bytes = qrClip(png, clip);
    assert.equal(readFileSync(clip).subarray(0, 10).toString('latin1'), 'YUV4MPEG2 ', 'ffmpeg wrote a Y4M clip');
    console.log(`booking ${code} (${booking.seats.map((s) => s.label).join(', ')}) for showtime ${showtimeId}; ` +
      `QR ${attachment.filename || '(no name)'} ${attachment.data.length} bytes ${decoded.width}x${decoded.height} -> ${clip} (${bytes} bytes)`);
    ticket = { code, publicId, showtimeId, seats: booking.seats.map((s) => s.label), token: booking.ticket_token, png, clip };

    doorBrowser = await launchBrowser({
      extraArgs: [
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-video-capture=${clip}`,
      ],
    });
  });
});

after(async () => {
  await doorBrowser?.close();
  await browser?.close();
  await app?.stop();
});

test('door with the camera: the mailed QR code admits 2, the same code again is already admitted', { timeout: 180_000 }, () => withServerLog(app, async () => {
  const shot = camera('door-camera');
  console.log(`screenshots: ${shot.dir}`);
  const context = await newContext(doorBrowser, app, PHONE);
  const page = await context.newPage();
  await logIn(page, app, usher, shot);

  const response = await page.goto(app.baseUrl + doorPath());
  assert.equal(response.status(), 200, 'an usher may open the door');
  assert.match(response.headers()['permissions-policy'] || '', /camera=\(self\)/, 'the door page may use the camera');
  assert.equal(await page.locator('#door').getAttribute('data-showtime'), ticket.showtimeId);
  const admittedBefore = Number(await page.locator('#door-admitted').textContent());
  const sold = Number(await page.locator('#door-sold').textContent());
  assert.ok(sold >= 1, `the counter counts the booking as sold (${admittedBefore} admitted of ${sold})`);
  const scan = page.getByRole('button', { name: 'Scan with camera' });
  await scan.waitFor();
  await assertNoHorizontalScroll(page, 'door');
  await shot(page, 'door');
  const detector = await page.evaluate(async () => {
    if (!('BarcodeDetector' in window)) return 'no BarcodeDetector';
    try { return `BarcodeDetector formats: ${(await window.BarcodeDetector.getSupportedFormats()).join(', ') || 'none'}`; } catch (e) { return `BarcodeDetector: ${e}`; }
  });
  console.log(`this Chromium: ${detector}`);

  await scan.click();
  const video = page.locator('#door-video');
  await video.waitFor();
  await page.waitForFunction(() => document.getElementById('door-video').videoWidth > 0, null, { timeout: 10_000 });

  // Admitted: green, two seats.
  const ok = page.locator('#door-result.door-ok');
  await waitOrExplain(ok.filter({ hasText: 'Admit 2' }), 15_000,
    async () => `the scan never admitted: #door-result is ${JSON.stringify(await page.locator('#door-result').evaluate((el) => ({ hidden: el.hidden, className: el.className, text: el.textContent })))}, ` +
      `camera status "${await page.locator('#door-camera-status').textContent()}"`);
  const admitted = await doorResult(page);
  assert.equal(admitted.headline, `Admit 2 — ${ticket.seats.join(', ')}`);
  assert.ok(admitted.detail.includes(ticket.code), `the answer names the booking: "${admitted.detail}"`);
  assert.equal(Number(await page.locator('#door-admitted').textContent()), admittedBefore + 1, 'the counter counts the admission');
  assert.ok(await page.getByRole('button', { name: 'Undo' }).isVisible(), 'an admission can be undone');
  await shot(page, 'scanned-admit');
  console.log(`first scan: ${admitted.headline} (${admitted.detail})`);

  // The same ticket still in front of the camera: scanned again after 4 seconds, red.
  const bad = page.locator('#door-result.door-bad');
  await waitOrExplain(bad.filter({ hasText: 'Already admitted' }), 15_000,
    async () => `the second scan never came: #door-result says "${await page.locator('#door-result').textContent()}"`);
  const again = await doorResult(page);
  assert.match(again.headline, new RegExp(`^Already admitted \\d{1,2}:\\d{2} [AP]M by ${usher.name}$`));
  assert.ok(again.detail.includes(ticket.code), `the answer names the booking: "${again.detail}"`);
  assert.equal(Number(await page.locator('#door-admitted').textContent()), admittedBefore + 1, 'a second scan admits nobody');
  await assertNoHorizontalScroll(page, 'door after two scans');
  await shot(page, 'scanned-already-admitted');
  console.log(`second scan: ${again.headline}`);

  // The page with a result, as axe sees it on this phone.
  audited['door-camera-result'] = { path: `${doorPath()} (after two scans)`, violations: await runAxe(page) };
  // The check-in API answers an admitted ticket with 409, which Chromium logs.
  assert.deepEqual(quietProblems(context, { expected: [/status of 409 \(Conflict\)/] }), []);
  await context.close();
}));

test('door without JavaScript: the typed code is already admitted, a wrong one is not a ticket', { timeout: 120_000 }, () => withServerLog(app, async () => {
  assert.ok(ticket, 'the booking was made');
  const shot = camera('door-no-javascript');
  console.log(`screenshots: ${shot.dir}`);
  const context = await newContext(browser, app, { ...PHONE, javaScriptEnabled: false });
  const page = await context.newPage();
  await logIn(page, app, usher, shot);
  const shown = await page.goto(app.baseUrl + doorPath());
  audited['door-showtime'] = { path: doorPath(), html: await shown.text() };
  assert.equal(await page.locator('#door-scan').isVisible(), false, 'no camera button without JavaScript');
  assert.equal(await page.locator('#door-result').isVisible(), false, 'no answer before a code is typed');
  await shot(page, 'door');

  // The booking the camera admitted, typed in lower case as an usher might.
  const already = await typeCode(page, ticket.code.toLowerCase());
  assert.equal(already.status(), 409, 'an admitted ticket answers 409');
  const answer = await doorResult(page);
  assert.match(answer.className, /\bdoor-bad\b/);
  assert.match(answer.headline, new RegExp(`^Already admitted \\d{1,2}:\\d{2} [AP]M by ${usher.name}$`));
  assert.ok(answer.detail.includes(ticket.code), `the answer names the booking: "${answer.detail}"`);
  assert.equal(await page.getByLabel('Booking code').inputValue(), ticket.code.toLowerCase(), 'a refused code stays in the field');
  await assertNoHorizontalScroll(page, 'already admitted');
  await shot(page, 'typed-already-admitted');
  audited['door-typed-409'] = { path: `POST /admin/checkin (${ticket.code})`, html: await already.text(), code: ticket.code };

  // A code that is no booking's.
  const wrong = ticket.code.startsWith('ZZ') ? 'YYYYYYYY' : 'ZZZZZZZZ';
  const refused = await typeCode(page, wrong);
  assert.equal(refused.status(), 422, 'a wrong code answers 422');
  const notTicket = await doorResult(page);
  assert.equal(notTicket.headline, 'Not a valid ticket');
  assert.match(notTicket.className, /\bdoor-bad\b/);
  await shot(page, 'typed-not-a-ticket');
  audited['door-typed-422'] = { path: `POST /admin/checkin (${wrong})`, html: await refused.text(), code: wrong };

  // The picker: which showtime this door admits, by theatre.
  const theatre = await page.locator('#theatre').inputValue();
  assert.ok(theatre, 'the door knows the theatre of its showtime');
  const picker = await page.goto(`${app.baseUrl}/admin/checkin?theatre=${theatre}`);
  assert.equal(picker.status(), 200);
  assert.ok(await page.locator(`a[href="/admin/checkin?showtime=${ticket.showtimeId}"]`).count() <= 1);
  assert.equal(await page.locator('#door-form').count(), 0, 'no code form before a showtime is chosen');
  await assertNoHorizontalScroll(page, 'picker');
  await shot(page, 'picker');
  audited['door-picker'] = { path: `/admin/checkin?theatre=${theatre}`, html: await picker.text() };
  assert.deepEqual(quietProblems(context, { expected: [/status of 409/, /status of 422/] }), []);
  await context.close();
}));

test('accessibility: no axe-core WCAG 2.1 A/AA violations on the door at 390x844', { timeout: 120_000 }, async () => {
  assert.ok(audited['door-camera-result'] && audited['door-picker'], 'the door tests ran first');
  const shot = camera('door-accessibility');
  // axe runs in the page, so in a phone with JavaScript: the door of the showtime, the
  // picker, and the answer pages of the form (posted with form.submit(), which door.js does
  // not intercept, so the page is the server's answer, then enhanced as usual).
  const context = await newContext(browser, app, PHONE);
  const page = await context.newPage();
  await logIn(page, app, usher);
  for (const name of ['door-showtime', 'door-typed-409', 'door-typed-422', 'door-picker']) {
    const { code } = audited[name];
    await page.goto(app.baseUrl + (code ? doorPath() : audited[name].path));
    if (code) {
      await page.getByLabel('Booking code').fill(code);
      await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/admin/checkin'),
        page.waitForEvent('load'),
        page.locator('#door-form').evaluate((form) => form.submit()),
      ]);
      assert.ok(await page.locator('#door-result').isVisible(), `${name}: the answer is shown`);
    }
    await shot(page, name);
    audited[name].violations = await runAxe(page);
  }
  await context.close();
  const report = [];
  for (const [name, { path, violations }] of Object.entries(audited)) {
    console.log(`axe ${name.padEnd(20)} ${path}: ${violations.length ? violations.map((v) => `${v.id} x${v.nodes.length}`).join(', ') : 'no violations'}`);
    if (violations.length) report.push(formatViolations(name, path, violations));
  }
  assert.ok(report.length === 0, `axe-core found WCAG 2.1 A/AA violations:\n${report.join('\n\n')}`);
});

test('markup: the Nu Html Checker reports no errors on the door pages', { timeout: 120_000 }, async (t) => {
  const docs = Object.fromEntries(Object.entries(audited).filter(([, a]) => a.html).map(([name, a]) => [name, a.html]));
  assert.ok(Object.keys(docs).length >= 4, `the door pages were fetched: ${Object.keys(docs)}`);
  const errors = validateHtml(docs);
  for (const name of Object.keys(docs)) {
    await t.test(`${name} ${audited[name].path}`, () => {
      const list = errors[name] || [];
      assert.ok(list.length === 0, `the Nu Html Checker found errors in ${name} (${audited[name].path}):\n  ${list.join('\n  ')}`);
    });
  }
});
