// The seat map under pressure: two people racing for one seat, and a person who uses the
// keyboard only.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { camera, launchBrowser, newContext, quietProblems } from '../lib/browser.mjs';
import { assertLiveTotal } from '../lib/checks.mjs';
import { assertHeading, freeSeats, holdAndCheckout, openSomeSeatMap, signedInPerson } from '../lib/flows.mjs';
import { startApp, withServerLog } from '../lib/server.mjs';

let app;
let browser;

before(async () => {
  app = await startApp({ name: 'seats' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

test('two people race for the same seat: exactly one gets it, the other is told it was taken', { timeout: 120_000 }, () => withServerLog(app, async () => {
  const shot = camera('seat-race');
  console.log(`screenshots: ${shot.dir}`);
  const contexts = [await newContext(browser, app), await newContext(browser, app)];
  const [ravi, meera] = await Promise.all(contexts.map((c) => c.newPage()));
  await signedInPerson(ravi, app, 'ravi');
  await signedInPerson(meera, app, 'meera');

  const seatMapUrl = await openSomeSeatMap(ravi, app);
  await meera.goto(seatMapUrl);
  const label = freeSeats(ravi).first();
  const seatId = await label.getAttribute('data-seat');
  const seatName = await label.locator('input').getAttribute('aria-label');
  const seatIn = (page) => page.locator(`label.seat[data-seat="${seatId}"]`);
  await seatIn(ravi).click();
  await seatIn(meera).click();
  assert.ok(await seatIn(ravi).locator('input').isChecked());
  assert.ok(await seatIn(meera).locator('input').isChecked());
  await shot(ravi, 'ravi-selected');
  await shot(meera, 'meera-selected');

  // Both press the button at the same moment.
  const outcome = async (page) => {
    await page.locator('#hold-button').click();
    await page.locator('h1:has-text("Checkout"), #hold-error').first().waitFor();
    return (await page.locator('#hold-error').count()) ? 'refused' : 'checkout';
  };
  const results = await Promise.all([outcome(ravi), outcome(meera)]);
  console.log(`race for ${seatName}: ravi -> ${results[0]}, meera -> ${results[1]}`);
  assert.deepEqual([...results].sort(), ['checkout', 'refused'], 'exactly one of the two reaches checkout');

  const winner = results[0] === 'checkout' ? ravi : meera;
  const loser = winner === ravi ? meera : ravi;
  await shot(winner, 'winner-checkout');
  await shot(loser, 'loser-seat-map');
  assert.match(new URL(winner.url()).pathname, /^\/bookings\/[^/]+\/checkout$/);
  const message = await loser.locator('#hold-error').textContent();
  assert.match(message, /taken/i, `the refusal says the seat was taken: "${message}"`);
  assert.equal(await loser.locator('#hold-error').getAttribute('role'), 'alert');
  // The seat map came back with that seat shown as no longer available.
  const lost = seatIn(loser);
  assert.ok(await lost.locator('input').isDisabled(), `${seatName} can no longer be chosen by the loser`);
  assert.doesNotMatch(await lost.getAttribute('class'), /seat-available/, 'the lost seat is not drawn as available');
  assert.equal(await lost.locator('input').isChecked(), false, 'the lost seat is not left selected');

  for (const context of contexts) {
    // The refused hold answers 409 Conflict, which Chromium notes in the console.
    assert.deepEqual(quietProblems(context, { expected: [/status of 409/] }), []);
    await context.close();
  }
}));

test('keyboard only: Tab to a seat, Space selects it, Tab to the button, Enter holds', { timeout: 120_000 }, () => withServerLog(app, async () => {
  const shot = camera('keyboard');
  console.log(`screenshots: ${shot.dir}`);
  const context = await newContext(browser, app);
  const page = await context.newPage();
  await signedInPerson(page, app, 'keys');
  await openSomeSeatMap(page, app);

  const focused = () => page.evaluate(() => {
    const el = document.activeElement;
    return {
      tag: el?.tagName.toLowerCase(),
      id: el?.id || '',
      name: el?.getAttribute('name') || '',
      seat: el?.closest('label.seat')?.getAttribute('data-seat') || null,
      label: el?.getAttribute('aria-label') || el?.textContent?.trim() || '',
    };
  });
  // Start from the top of the page, like a person who just arrived.
  await page.locator('body').evaluate(() => document.activeElement?.blur());
  let presses = 0;
  let now = await focused();
  while (now.name !== 'seat_ids') {
    assert.ok(presses < 80, `no seat reached after ${presses} Tab presses (focus is on ${JSON.stringify(now)})`);
    await page.keyboard.press('Tab');
    presses += 1;
    now = await focused();
  }
  console.log(`first seat reached after ${presses} Tab presses: ${now.label}`);
  const label = page.locator(`label.seat[data-seat="${now.seat}"]`);
  const box = label.locator('input');
  // The focused seat must be visibly marked (WCAG 2.4.7): its number gets a ring that an
  // unfocused seat does not have.
  const ringOf = (seatLabel) => seatLabel.locator('.seat-number').evaluate((el) => {
    const style = getComputedStyle(el);
    return `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor} / ${style.boxShadow}`;
  });
  const focusedRing = await ringOf(label);
  const otherRing = await ringOf(page.locator(`label.seat:not([data-seat="${now.seat}"])`).first());
  assert.notEqual(focusedRing, otherRing, `the focused seat looks like any other seat (${focusedRing})`);
  assert.ok(!focusedRing.startsWith('none') || !focusedRing.endsWith('/ none'), `the focused seat shows no focus ring: ${focusedRing}`);
  await shot(page, 'seat-focused');

  await page.keyboard.press('Space');
  assert.ok(await box.isChecked(), 'Space selects the focused seat');
  assert.match(await label.getAttribute('class'), /seat-selected/, 'the selected seat is drawn as selected');
  await assertLiveTotal(page, [{ pricePaise: Number(await box.getAttribute('data-price')) }]);
  await shot(page, 'seat-selected');

  let toButton = 0;
  while ((await focused()).id !== 'hold-button') {
    assert.ok(toButton < 1000, 'the hold button cannot be reached with Tab');
    await page.keyboard.press('Tab');
    toButton += 1;
  }
  console.log(`hold button reached after ${toButton} more Tab presses`);
  await Promise.all([page.waitForURL('**/bookings/*/checkout'), page.keyboard.press('Enter')]);
  await assertHeading(page, 'Checkout');
  await shot(page, 'checkout');

  assert.deepEqual(quietProblems(context), []);
  await context.close();
}));

test('with JavaScript, a seat someone else holds turns unavailable on an open seat map without reloading', { timeout: 120_000 }, () => withServerLog(app, async () => {
  const shot = camera('live-seat-status');
  console.log(`screenshots: ${shot.dir}`);
  const contexts = [await newContext(browser, app), await newContext(browser, app)];
  const [watcher, booker] = await Promise.all(contexts.map((c) => c.newPage()));
  await signedInPerson(watcher, app, 'watcher');
  await signedInPerson(booker, app, 'booker');
  const seatMapUrl = await openSomeSeatMap(watcher, app);
  await booker.goto(seatMapUrl);

  // The watcher has chosen a seat; the booker holds that very seat.
  const label = freeSeats(watcher).first();
  const seatId = await label.getAttribute('data-seat');
  await label.click();
  await booker.locator(`label.seat[data-seat="${seatId}"]`).click();
  await holdAndCheckout(booker);

  // Within a few seconds (the map polls every 4 s) the watcher's map shows it taken.
  const box = watcher.locator(`label.seat[data-seat="${seatId}"] input`);
  await assert.doesNotReject(
    watcher.waitForFunction((el) => el.disabled && !el.checked, await box.elementHandle(), { timeout: 12_000 }),
    'the seat held elsewhere never became unavailable on the open seat map',
  );
  assert.doesNotMatch(await box.getAttribute('aria-label'), /available$/, 'its accessible name no longer says available');
  assert.match(await watcher.locator('#seat-updates').textContent(), /taken/i, 'the watcher is told the chosen seat was taken');
  await shot(watcher, 'seat-taken-elsewhere');

  for (const context of contexts) {
    assert.deepEqual(quietProblems(context), []);
    await context.close();
  }
}));
