// Page-level checks shared by the tests: layout on phones, and the live seat total.

import assert from 'node:assert/strict';
import { paiseOf } from './flows.mjs';

/**
 * The page itself must never scroll sideways on a phone; only the seat map may (it is its
 * own scroll box). On failure, names the elements that stick out.
 */
export async function assertNoHorizontalScroll(page, step) {
  const result = await page.evaluate(() => {
    const width = window.innerWidth;
    const scrollWidth = document.documentElement.scrollWidth;
    const offenders = [];
    if (scrollWidth > width) {
      for (const el of document.body.querySelectorAll('*')) {
        if (el.closest('.seat-map')) continue;
        const rect = el.getBoundingClientRect();
        if (rect.width > 0 && rect.right > width + 1) {
          const id = el.id ? `#${el.id}` : '';
          const cls = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
          offenders.push(`${el.tagName.toLowerCase()}${id}${cls} (right edge ${Math.round(rect.right)}px)`);
        }
        if (offenders.length >= 8) break;
      }
    }
    return { width, scrollWidth, offenders };
  });
  assert.ok(
    result.scrollWidth <= result.width,
    `${step} (${page.url()}): the page scrolls sideways on a ${result.width}px wide screen ` +
      `(scrollWidth ${result.scrollWidth}px); sticking out: ${result.offenders.join(', ') || '(nothing outside the seat map?)'}`,
  );
}

/** `#selection-total` shows the sum of the chosen seats' `data-price`, in rupees. */
export async function assertLiveTotal(page, seats) {
  const expected = seats.reduce((sum, s) => sum + s.pricePaise, 0);
  const total = page.locator('#selection-total');
  // The enhancement updates the total on `change`; give it a moment.
  await assert.doesNotReject(
    total.filter({ hasText: '₹' }).waitFor({ timeout: 5_000 }),
    'the live total (#selection-total) never showed an amount',
  );
  const text = await total.textContent();
  assert.equal(paiseOf(text), expected, `#selection-total says "${text}", the seats' data-price add up to ${expected} paise`);
  return text;
}
