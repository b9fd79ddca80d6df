// Audits of whole pages: axe-core (WCAG 2.1 A/AA), the Nu Html Checker, and page weight.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));

const require = createRequire(import.meta.url);

/** The axe-core source, evaluated in the page (the CSP forbids injecting a <script>). */
export const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/**
 * Runs axe on the current page. `page.evaluate(source)` goes through the DevTools protocol,
 * which the page's Content-Security-Policy does not govern, unlike `addScriptTag` (an
 * inline <script> the CSP blocks).
 */
export async function runAxe(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.evaluate(axeSource);
  }
  return page.evaluate(async (tags) => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: tags },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      tags: v.tags.filter((t) => t.startsWith('wcag')),
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html, summary: n.failureSummary })),
    }));
  }, WCAG_TAGS);
}

/** axe violations as text a person can act on. */
export function formatViolations(pageName, url, violations) {
  const lines = [];
  for (const v of violations) {
    lines.push(`[${pageName}] ${url}\n  ${v.id} (${v.impact}; ${v.tags.join(', ')}): ${v.help}\n  ${v.helpUrl}`);
    for (const n of v.nodes.slice(0, 5)) {
      lines.push(`    at ${n.target}\n      ${n.html.slice(0, 200)}\n      ${(n.summary || '').replace(/\n/g, '\n      ')}`);
    }
    if (v.nodes.length > 5) lines.push(`    ... and ${v.nodes.length - 5} more elements`);
  }
  return lines.join('\n');
}

export const VNU_JAR = resolve(HERE, '..', 'node_modules', 'vnu-jar', 'build', 'dist', 'vnu.jar');

/**
 * Validates several HTML documents in one Java run (`--errors-only`). `docs` maps a page name
 * to its HTML. Returns { name: [ "line N: message (extract)" ] } for the pages with errors.
 */
export function validateHtml(docs) {
  const dir = mkdtempSync(join(tmpdir(), 'moviebooking-vnu-'));
  try {
    const files = {};
    for (const [name, html] of Object.entries(docs)) {
      const file = join(dir, `${name}.html`);
      writeFileSync(file, html);
      files[`file:${file}`] = name;
    }
    const run = spawnSync('java', ['-jar', VNU_JAR, '--errors-only', '--format', 'json', ...Object.keys(files).map((f) => f.slice(5))], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (run.error) throw run.error;
    let report;
    try {
      report = JSON.parse(run.stderr || run.stdout);
    } catch {
      throw new Error(`vnu.jar did not answer with JSON (exit ${run.status}):\n${run.stderr}\n${run.stdout}`);
    }
    const errors = {};
    for (const m of report.messages) {
      if (m.type !== 'error' && !(m.type === 'non-document-error')) continue;
      const name = files[m.url] ?? Object.entries(files).find(([u]) => m.url?.endsWith(u.slice(5)))?.[1] ?? m.url;
      (errors[name] ??= []).push(`line ${m.lastLine ?? '?'}: ${m.message}${m.extract ? ` (…${m.extract.replace(/\s+/g, ' ').trim()}…)` : ''}`);
    }
    return errors;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Loads `url` in a new page of `context` and adds up what went over the wire, images aside:
 * every response's encoded body plus headers. Routing is on for every context (to block
 * third parties), which turns the HTTP cache off: each page is weighed as a first visit.
 */
export async function weighPage(context, url) {
  const page = await context.newPage();
  const entries = [];
  const pending = [];
  page.on('requestfinished', (request) => {
    pending.push((async () => {
      const response = await request.response();
      if (!response) return;
      const headers = await response.allHeaders();
      const type = request.resourceType();
      const contentType = headers['content-type'] || '';
      let bytes;
      try {
        const sizes = await request.sizes();
        bytes = sizes.responseBodySize + sizes.responseHeadersSize;
      } catch {
        bytes = Number(headers['content-length'] || (await response.body()).length);
      }
      entries.push({ url: request.url(), type, contentType, bytes, image: type === 'image' || contentType.startsWith('image/') });
    })());
  });
  await page.goto(url, { waitUntil: 'networkidle' });
  await Promise.all(pending);
  await page.close();
  const counted = entries.filter((e) => !e.image);
  return {
    url,
    bytes: counted.reduce((sum, e) => sum + e.bytes, 0),
    imageBytes: entries.filter((e) => e.image).reduce((sum, e) => sum + e.bytes, 0),
    entries,
  };
}
