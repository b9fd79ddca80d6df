import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startApp } from './lib/server.mjs';
import { launchBrowser, newContext, quietProblems } from './lib/browser.mjs';
import * as f from './lib/flows.mjs';
const app = await startApp({ name: 'scratch' });
execFileSync('sqlite3', [app.dbPath], { input: readFileSync('/tmp/scratch/fixture.sql') });
const browser = await launchBrowser();
try {
  for (let round = 0; round < 3; round++) {
  const contexts = [await newContext(browser, app), await newContext(browser, app)];
  const [a, b] = await Promise.all(contexts.map(c => c.newPage()));
  await f.signedInPerson(a, app, 'a'); await f.signedInPerson(b, app, 'b');
  const url = app.baseUrl + '/showtimes/1/seats';
  await a.goto(url); await b.goto(url);
  const id = await f.freeSeats(a).first().getAttribute('data-seat');
  await a.locator(`label.seat[data-seat="${id}"]`).click();
  await b.locator(`label.seat[data-seat="${id}"]`).click();
  const outcome = async (page) => { await page.locator('#hold-button').click(); await page.locator('h1:has-text("Checkout"), #hold-error').first().waitFor(); return (await page.locator('#hold-error').count()) ? 'refused: ' + await page.locator('#hold-error').textContent() + ' ' + await page.locator(`label.seat[data-seat="${id}"]`).getAttribute('class') + ' disabled=' + await page.locator(`label.seat[data-seat="${id}"] input`).isDisabled(): 'checkout'; };
  console.log(await Promise.all([outcome(a), outcome(b)]));
  console.log(quietProblems(contexts[0]), quietProblems(contexts[1]));
  }
} catch (e) { console.log(e); console.log(app.logTail(20)); } finally { await browser.close(); await app.stop(); }
