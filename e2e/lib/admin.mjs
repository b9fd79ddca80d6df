// The staff side of the cinema, written the way an operator and a staff member work: the
// `create-staff` command of the binary, then the /admin forms filled by their labels and
// submitted with their buttons. Each step asserts that it arrived where a person would expect.

import assert from 'node:assert/strict';

const noShot = async () => {};

/**
 * Creates a staff account with the real binary, the password on standard input (as an
 * operator's script would pipe it). `role` is the staff role (`usher`, `box_office`,
 * `manager` or `admin`, the command's default). Returns what the command printed.
 */
export async function createStaff(app, person, { role = 'admin' } = {}) {
  const created = await app.run(
    ['create-staff', '--email', person.email, '--name', person.name, '--role', role, '--password-stdin'],
    { input: `${person.password}\n` },
  );
  assert.equal(created.code, 0, `create-staff failed:\n${created.output}`);
  assert.ok(created.output.includes(person.email), `create-staff names the account it created:\n${created.output}`);
  return created.output;
}

/**
 * The UTC instant (ms since the epoch) of a wall-clock time in an IANA time zone, the way
 * the server reads the admin's `datetime-local` field. Two rounds settle a DST edge.
 */
export function zonedTimeToUtc({ year, month, day, hour, minute }, timeZone) {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  const offsetAt = (instant) => {
    const parts = Object.fromEntries(format.formatToParts(new Date(instant)).map((p) => [p.type, p.value]));
    return Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second) - instant;
  };
  const first = wall - offsetAt(wall);
  return wall - offsetAt(first);
}

/** The calendar date (`YYYY-MM-DD`) of an instant in a time zone. */
export function dateIn(instant, timeZone) {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(new Date(instant));
}

/** `2:15 PM`, the way the app prints a time of day. */
export function clockText(hour, minute) {
  return `${((hour + 11) % 12) + 1}:${String(minute).padStart(2, '0')} ${hour < 12 ? 'AM' : 'PM'}`;
}

/**
 * Schedules a showtime through /admin/showtimes/new, from the admin's showtime list: the
 * first step picks the screen (its seat categories decide the price fields), the second
 * fills movie, local start, language, format and one price per category.
 * `prices` are rupees, used in order for the screen's categories (the last one repeats).
 * Returns { screenId, screenLabel, timeZone, startsAtMs, localDate, prices: [{ category, paise }] }.
 */
export async function scheduleShowtime(page, { movieTitle, screenIndex = 0, daysAhead, hour, minute, language, format = '2D', prices }, shot = noShot) {
  await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Showtimes', exact: true }).click();
  await page.waitForURL('**/admin/showtimes');
  await Promise.all([
    page.waitForURL('**/admin/showtimes/new'),
    page.getByRole('link', { name: 'Schedule a showtime' }).click(),
  ]);
  await shot(page, 'new-showtime-choose-screen');

  const screens = page.getByLabel('Screen', { exact: true });
  const options = await screens.locator('option').evaluateAll((all) => all
    .filter((o) => o.value)
    .map((o) => ({ value: o.value, label: o.textContent.trim() })));
  assert.ok(options.length > screenIndex, `the screen list has ${options.length} screens`);
  const screen = options[screenIndex];
  await screens.selectOption(screen.value);
  await Promise.all([
    page.waitForURL(`**/admin/showtimes/new?screen_id=${screen.value}`),
    page.getByRole('button', { name: 'Use this screen' }).click(),
  ]);

  const startsLabel = (await page.locator('label[for="starts_at"]').textContent()).trim();
  const timeZone = /local time, ([^)]+)\)/.exec(startsLabel)?.[1];
  assert.ok(timeZone, `the start field names the screen's time zone: "${startsLabel}"`);
  const localDate = dateIn(Date.now() + daysAhead * 86_400_000, timeZone);
  const [year, month, day] = localDate.split('-').map(Number);
  const startsAtMs = zonedTimeToUtc({ year, month, day, hour, minute }, timeZone);

  await page.getByLabel('Movie', { exact: true }).selectOption({ label: movieTitle });
  await page.getByLabel(/^Starts \(local time/).fill(`${localDate}T${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`);
  await page.getByLabel('Language', { exact: true }).fill(language);
  await page.getByLabel('Format', { exact: true }).selectOption(format);
  const priceGroup = page.getByRole('group', { name: /^Prices/ });
  const priceFields = priceGroup.getByRole('textbox');
  const count = await priceFields.count();
  assert.ok(count >= 1, 'the form asks for a price per seat category of the screen');
  const priced = [];
  for (let i = 0; i < count; i++) {
    const field = priceFields.nth(i);
    const rupees = prices[Math.min(i, prices.length - 1)];
    const category = (await priceGroup.locator(`label[for="${await field.getAttribute('id')}"]`).textContent()).trim();
    await field.fill(String(rupees));
    priced.push({ category, paise: Math.round(rupees * 100) });
  }
  await shot(page, 'new-showtime-filled');
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/admin/showtimes'),
    page.getByRole('button', { name: 'Schedule' }).click(),
  ]).catch(async (error) => {
    const problems = await page.locator('.field-error').allTextContents();
    throw new Error(`scheduling did not go back to the showtime list (field errors: ${JSON.stringify(problems)}): ${error.message}`);
  });
  const flash = page.locator('.flash').filter({ hasText: 'The showtime is scheduled.' });
  await assert.doesNotReject(flash.waitFor(), 'the showtime list confirms the new showtime');
  return { screenId: screen.value, screenLabel: screen.label, timeZone, startsAtMs, localDate, prices: priced };
}

/**
 * Finds a booking by its code through the search form of /admin/bookings and opens it.
 * Returns the admin page's path (/admin/bookings/{public_id}).
 */
export async function openAdminBooking(page, code, shot = noShot) {
  await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Bookings', exact: true }).click();
  await page.waitForURL('**/admin/bookings');
  await page.getByLabel('Code', { exact: true }).fill(code);
  await Promise.all([
    page.waitForURL('**/admin/bookings?*'),
    page.locator('#main').getByRole('button', { name: 'Search', exact: true }).click(),
  ]);
  const rows = page.locator('table tbody tr');
  assert.equal(await rows.count(), 1, `searching the code ${code} finds exactly one booking`);
  await shot(page, 'booking-search');
  await Promise.all([
    page.waitForURL(/\/admin\/bookings\/[^/?]+$/),
    rows.first().getByRole('link', { name: code, exact: true }).click(),
  ]);
  const h1 = (await page.locator('h1').first().textContent()).trim();
  assert.equal(h1, `Booking ${code}`, `the admin booking page is about ${code}`);
  return new URL(page.url()).pathname;
}

/** A `dl.details` (or any definition list) of the page as { term: text }. */
export async function definitions(page, selector = 'dl.details') {
  return page.locator(selector).first().evaluate((dl) => {
    const out = {};
    for (const dt of dl.querySelectorAll('dt')) {
      out[dt.textContent.replace(/\s+/g, ' ').trim()] = (dt.nextElementSibling?.textContent || '').replace(/\s+/g, ' ').trim();
    }
    return out;
  });
}

/** The cell texts of the first table after a heading whose text is `heading`, row by row. */
export async function tableUnder(page, heading) {
  const section = page.locator('section').filter({ has: page.getByRole('heading', { name: heading, exact: true }) }).last();
  return section.locator('table tbody tr').evaluateAll((rows) => rows.map((tr) =>
    [...tr.querySelectorAll('td')].map((td) => td.textContent.replace(/\s+/g, ' ').trim())));
}

/** The status badge next to the page's heading: { text, className }. */
export async function headerBadge(page) {
  const badge = page.locator('.page-header .badge').first();
  return { text: (await badge.textContent()).trim(), className: await badge.getAttribute('class') };
}

/**
 * Refunds the open admin booking page in full: types the reason, presses "Refund in full…",
 * reads the confirmation step, and confirms. `onConfirm(page, html)` may inspect the
 * confirmation page (with the HTML the server sent) first. Returns the confirmation's text.
 */
export async function refundInFull(page, reason, shot = noShot, { onConfirm } = {}) {
  const bookingPath = new URL(page.url()).pathname;
  await page.getByLabel('Reason for the full refund').fill(reason);
  await shot(page, 'refund-reason');
  const [confirmation] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === `${bookingPath}/refund`),
    page.getByRole('button', { name: 'Refund in full…' }).click(),
  ]);
  assert.equal(confirmation.status(), 200, 'the first press asks for confirmation');
  await page.waitForLoadState('load');
  const h1 = (await page.locator('h1').first().textContent()).trim();
  assert.match(h1, /^Refund booking \S+ in full\?$/, `the confirmation step asks first (heading "${h1}")`);
  const message = (await page.locator('.alert').first().textContent()).trim();
  await shot(page, 'refund-confirm');
  if (onConfirm) await onConfirm(page, await confirmation.text());
  await Promise.all([
    page.waitForURL((url) => url.pathname === bookingPath),
    page.getByRole('button', { name: 'Refund in full', exact: true }).click(),
  ]);
  return message;
}
